"""Naming attractors: one id per attractor, the same across the grid and the parameter sweep.

Each chunk yields candidates: the zero-loss family (regression models), fixed points and cycles
(each cycle by its minimal period and its lexicographically smallest point), and one chaotic set
per parameter value. Candidates are merged into one table in the canonical chunk order, so ids do
not depend on which worker finished first, and a resumed sweep numbers them like a fresh one.

Across parameter values attractors are *continued*: a fixed point or cycle that matches no known
one by location takes the id of the nearest attractor of the same kind and period that was met
at the previous parameter value of the sweep and not yet at this one (greedy matching by
distance, as Attractors.jl matches attractors across parameters), so an attractor that moves with
the parameter keeps its id; one that appears gets a new id.
"""

from __future__ import annotations

import numpy as np

from .._outcomes import FlagTable, Outcome


class AttractorKind(FlagTable):
    """What kind of attractor an id of a basin map names."""

    FIXED_POINT = 0
    CYCLE = 1
    FAMILY = 2       # a non-isolated family of fixed points (the zero-loss set of a model)
    CHAOTIC = 3


FIXED_POINT, CYCLE, FAMILY, CHAOTIC_SET = (int(k) for k in AttractorKind)


class AttractorTable:
    """The attractors met so far: kind, period, representative point, first parameter value."""

    def __init__(self, dim: int, match_tol: float):
        self.dim = dim
        self.match_tol = match_tol
        self.kind: list[int] = []
        self.period: list[int] = []
        self.point: list[np.ndarray] = []
        self.value: list[float] = []
        self.last: list[float] = []          # the last parameter value where each was met
        self.recent: list[np.ndarray] = []   # and its point there (followed for continuation)
        self._current: float | None = None
        self._previous: float | None = None

    def __len__(self) -> int:
        return len(self.kind)

    def _find(self, kind: int, period: int, point: np.ndarray, value: float) -> int:
        for i in range(len(self.kind)):
            if self.kind[i] != kind or self.period[i] != period:
                continue
            if kind == FAMILY:
                return i
            if kind == CHAOTIC_SET:
                if self.value[i] == value:
                    return i
                continue
            ref = self.point[i]
            scale = 1.0 + np.max(np.abs(ref))
            if np.max(np.abs(point - ref)) <= self.match_tol * scale:
                return i
        return self._continue(kind, period, point)

    def _continue(self, kind: int, period: int, point: np.ndarray) -> int:
        """Return the nearest same-kind attractor met at the previous value only, or -1."""
        if kind not in (FIXED_POINT, CYCLE) or self._previous is None:
            return -1
        best, best_distance = -1, np.inf
        for i in range(len(self.kind)):
            if (self.kind[i] == kind and self.period[i] == period
                    and self.last[i] == self._previous):
                distance = np.max(np.abs(point - self.recent[i]))
                if distance < best_distance:
                    best, best_distance = i, distance
        return best

    def add(self, kind: int, period: int, point: np.ndarray, value: float) -> int:
        """Return the id of the matching attractor, adding it if it is new."""
        value = float(value)
        if value != self._current:
            self._previous, self._current = self._current, value
        found = self._find(kind, period, point, value)
        if found >= 0:
            self.last[found] = value
            self.recent[found] = np.asarray(point, dtype=float).copy()
            return found
        self.kind.append(int(kind))
        self.period.append(int(period))
        self.point.append(np.asarray(point, dtype=float).copy())
        self.value.append(float(value))
        self.last.append(value)
        self.recent.append(np.asarray(point, dtype=float).copy())
        return len(self.kind) - 1

    def arrays(self) -> dict:
        n = len(self.kind)
        return {
            "kind": np.asarray(self.kind, dtype=np.int8).reshape(n),
            "period": np.asarray(self.period, dtype=np.int16).reshape(n),
            "point": np.asarray(self.point, dtype=float).reshape(n, self.dim),
            "value": np.asarray(self.value, dtype=float).reshape(n),
        }


def label_chunk(table: AttractorTable, value: float, outcome: np.ndarray, period: np.ndarray,
                final: np.ndarray, family: np.ndarray, cycles) -> np.ndarray:
    """Return the attractor ids of a chunk's cells (-1: none), updating ``period`` in place to
    minimal periods and ``table`` with new attractors.

    ``cycles(final_rows, detected_periods) -> (periods, canonical points)`` reduces cycles.
    """
    ids = np.full(outcome.shape, -1, dtype=np.int32)
    fam = family & (outcome == Outcome.CONVERGED)
    if fam.any():
        first = np.flatnonzero(fam)[0]
        ids[fam] = table.add(FAMILY, 1, final[first], value)
    fixed = (outcome == Outcome.CONVERGED) & ~fam
    cyc = outcome == Outcome.PERIODIC
    rep = final
    if cyc.any():
        rep = final.copy()        # canonical points of cycles replace their final states
        where = np.flatnonzero(cyc)
        minimal, points = cycles(final[where], period[where])
        period[where] = minimal
        rep[where] = points
    sel = np.flatnonzero(fixed | cyc)
    if sel.size:
        quantum = table.match_tol
        with np.errstate(all="ignore"):
            scale = 1.0 + np.max(np.abs(rep[sel]), axis=1, keepdims=True)
            keys = np.round(rep[sel] / (quantum * scale)).astype(np.int64)
        keys = np.column_stack([period[sel].astype(np.int64), keys])
        _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)        # candidates in order of first cell, deterministic
        local = np.empty(first.size, dtype=np.int32)
        for u in order:
            cell = sel[first[u]]
            kind = FIXED_POINT if outcome[cell] == Outcome.CONVERGED else CYCLE
            local[u] = table.add(kind, int(period[cell]), rep[cell], value)
        ids[sel] = local[inverse.ravel()]
    chaos = outcome == Outcome.CHAOTIC
    if chaos.any():
        first = np.flatnonzero(chaos)[0]
        ids[chaos] = table.add(CHAOTIC_SET, 0, final[first], value)
    return ids
