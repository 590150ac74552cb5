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

import itertools
import math

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
        # the same columns as arrays (grown by doubling), so that a search is one numpy pass
        # over the table instead of a Python loop (tables of many fixed points: a user loss
        # whose minima form a continuum has one per converged cell)
        self._n = 0
        self._kind = np.empty(16, dtype=np.int64)
        self._period = np.empty(16, dtype=np.int64)
        self._point = np.empty((16, dim))
        self._scale = np.empty(16)
        self._last = np.empty(16)
        self._recent = np.empty((16, dim))
        # a spatial hash of the fixed points and cycles, so that a match is looked up among
        # the few attractors near a point instead of scanning the table (see _near)
        self._cells: dict = {}
        self._levels: set = set()
        self._wild: list[int] = []           # attractors with a non-finite point (no cell)
        # the ids given to the quantised keys of label_chunk at the current parameter value,
        # so that a key met again in a later chunk takes the id its first cell took, as it
        # would in one chunk (ids independent of the chunk size)
        self.keys: dict = {}
        self.keys_value: float | None = None

    def __len__(self) -> int:
        return len(self.kind)

    def _same(self, kind: int, period: int) -> np.ndarray:
        n = self._n
        return (self._kind[:n] == kind) & (self._period[:n] == period)

    # The hash: an attractor with scale ``s = 1 + max|point|`` in ``[2^L, 2^(L+1))`` matches
    # points within ``match_tol s < h_L = match_tol 2^(L+1)`` (Chebyshev distance); it is filed
    # at level L under the 3^k cells of side ``h_L`` (over the first k <= 2 components) around
    # its own, so a point that matches it falls in one of them: a query looks up its own cell
    # at each level present. The exact test then runs on those candidates only, with the
    # arithmetic of a scan, so the ids are those of a scan of the whole table.
    _HASHED = 2

    def _cell(self, level: int, point):
        h = self.match_tol * 2.0 ** (level + 1) * (1.0 + 1e-9)
        cell = []
        for v in point[:self._HASHED]:
            q = v / h
            if not math.isfinite(q):
                return None
            cell.append(math.floor(q))
        return tuple(cell)

    def _file(self, i: int, kind: int, period: int, point: np.ndarray) -> None:
        scale = float(self._scale[i])
        cell = None
        if math.isfinite(scale):
            level = math.frexp(scale)[1] - 1          # 2^level <= scale < 2^(level + 1)
            cell = self._cell(level, point.tolist())
        if cell is None:
            self._wild.append(i)
            return
        self._levels.add(level)
        for off in itertools.product((-1, 0, 1), repeat=len(cell)):
            key = (kind, period, level) + tuple(c + o for c, o in zip(cell, off))
            self._cells.setdefault(key, []).append(i)

    def _near(self, kind: int, period: int, point: np.ndarray) -> int | None:
        """Return the first attractor (in id order) of this kind and period that ``point``
        matches (-1: none), looked up in the hash; None if the point has no cell."""
        x = point.tolist()
        found = list(self._wild)
        for level in self._levels:
            cell = self._cell(level, x)
            if cell is None:
                return None
            found += self._cells.get((kind, period, level) + cell, ())
        for i in sorted(set(found)):
            if self._kind[i] != kind or self._period[i] != period:
                continue
            # max_c |p_c - x_c| <= tol scale, as the scan computes it (a NaN never matches)
            r = self.match_tol * self._scale[i]
            if all(abs(pc - xc) <= r for pc, xc in zip(self._point[i].tolist(), x)):
                return i
        return -1

    def _find(self, kind: int, period: int, point: np.ndarray, value: float) -> int:
        """Return the first attractor (in id order) of this kind and period that ``point``
        matches, else :meth:`_continue`'s choice."""
        if kind in (FIXED_POINT, CYCLE):
            hit = self._near(kind, period, point)
            if hit is not None:
                return hit if hit >= 0 else self._continue(kind, period, point)
        same = self._same(kind, period)
        if kind == FAMILY:
            hits = same
        elif kind == CHAOTIC_SET:
            hits = same & (np.asarray(self.value[:self._n]) == value)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                dist = np.max(np.abs(self._point[:self._n] - point), axis=1)
            hits = same & (dist <= self.match_tol * self._scale[:self._n])
        if hits.any():
            return int(np.argmax(hits))
        return self._continue(kind, period, point)

    def _continue(self, kind: int, period: int, point: np.ndarray) -> int:
        """Return the nearest same-kind attractor met at the previous value only, or -1."""
        if kind not in (FIXED_POINT, CYCLE) or self._previous is None or self._n == 0:
            return -1
        cand = self._same(kind, period) & (self._last[:self._n] == self._previous)
        if not cand.any():
            return -1
        with np.errstate(invalid="ignore", over="ignore"):
            dist = np.max(np.abs(self._recent[:self._n] - point), axis=1)
        dist = np.where(cand & ~np.isnan(dist), dist, np.inf)
        best = int(np.argmin(dist))          # the first of the nearest, as a strict < scan
        return best if dist[best] < np.inf else -1

    def _grow(self) -> None:
        for name in ("_kind", "_period", "_point", "_scale", "_last", "_recent"):
            old = getattr(self, name)
            new = np.empty((2 * old.shape[0],) + old.shape[1:], dtype=old.dtype)
            new[:old.shape[0]] = old
            setattr(self, name, new)

    def add(self, kind: int, period: int, point: np.ndarray, value: float) -> int:
        """Return the id of the matching attractor, adding it if it is new."""
        value = float(value)
        if value != self._current:
            self._previous, self._current = self._current, value
        point = np.asarray(point, dtype=float)
        found = self._find(kind, period, point, value)
        if found >= 0:
            self.last[found] = value
            self.recent[found] = point.copy()
            self._last[found] = value
            self._recent[found] = point
            return found
        self.kind.append(int(kind))
        self.period.append(int(period))
        self.point.append(point.copy())
        self.value.append(float(value))
        self.last.append(value)
        self.recent.append(point.copy())
        if self._n == self._kind.shape[0]:
            self._grow()
        i = self._n
        self._kind[i], self._period[i] = int(kind), int(period)
        self._point[i] = point
        self._scale[i] = 1.0 + np.max(np.abs(point))
        self._last[i] = value
        self._recent[i] = point
        self._n += 1
        if kind in (FIXED_POINT, CYCLE):
            self._file(i, int(kind), int(period), point)
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
    chaos = outcome == Outcome.CHAOTIC
    # the family and the chaotic set are single candidates, added at their first cell among
    # the fixed points and cycles (so that new ids are numbered in cell order, and a chunk
    # split gives the ids of one chunk)
    single = []
    if fam.any():
        first = int(np.flatnonzero(fam)[0])
        single.append((first, fam, FAMILY, 1, final[first]))
    if chaos.any():
        first = int(np.flatnonzero(chaos)[0])
        single.append((first, chaos, CHAOTIC_SET, 0, final[first]))
    single.sort(key=lambda c: c[0])

    def add_single(before):
        while single and single[0][0] < before:
            _, where, kind, per, point = single.pop(0)
            ids[where] = table.add(kind, per, point, value)

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
        uniq, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)        # candidates in order of first cell, deterministic
        local = np.empty(first.size, dtype=np.int32)
        if table.keys_value != float(value):
            table.keys, table.keys_value = {}, float(value)
        seen = table.keys
        for u in order:
            cell = int(sel[first[u]])
            add_single(cell)
            # a key met in an earlier chunk (same value) keeps the id its first cell took
            # there, as in one chunk
            key = uniq[u].tobytes()
            hit = seen.get(key)
            if hit is None:
                kind = FIXED_POINT if outcome[cell] == Outcome.CONVERGED else CYCLE
                hit = seen[key] = table.add(kind, int(period[cell]), rep[cell], value)
            local[u] = hit
        ids[sel] = local[inverse.ravel()]
    add_single(outcome.size)
    return ids
