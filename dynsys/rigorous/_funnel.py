"""Set-oriented reuse of proofs: lattice cells of the plane proved once, reused by every orbit.

Orbits of the rescaled plane map funnel: starts all over a region follow the same channel to
the solution set. So instead of following every set to the terminal set, the cells of a dyadic
lattice are proved one after another, those whose orbits are shortest first, and a set whose
enclosure lies inside cells proved *before* is done (its orbits are orbits from proved cells).
The order makes the argument well founded: cell ``n`` uses only cells ``0 .. n-1``, which
:func:`dynsys.verify_certificate` re-checks in ball arithmetic (docs/math.md, section 8).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .._numba import njit

@dataclasses.dataclass
class ProvedCells:
    """Cells ``[p0 + i h, p0 + (i+1) h] x [q0 + j h, q0 + (j+1) h]`` of a dyadic lattice
    (``h = 2^-level``, the origin a multiple of h, so every edge is an exact float) with the
    order in which each was proved (``order[i, j]``, -1 if not) and its limit enclosure of
    ``lr x sharpness`` (``limit[i, j]``, already padded and inside the target)."""

    origin: tuple[float, float]
    h: float
    order: np.ndarray
    limit: np.ndarray
    target: tuple[float, float]
    count: int = 0

    @classmethod
    def empty(cls, bounds, level: int, target) -> "ProvedCells":
        """Return an empty lattice covering ``bounds = (p_lo, p_hi, q_lo, q_hi)``."""
        h = math.ldexp(1.0, -int(level))
        p0 = math.floor(bounds[0] / h) * h
        q0 = math.floor(bounds[2] / h) * h
        n_p = int(math.floor((bounds[1] - p0) / h)) + 1
        n_q = int(math.floor((bounds[3] - q0) / h)) + 1
        return cls((p0, q0), h, np.full((n_p, n_q), -1, np.int64),
                   np.full((n_p, n_q, 2), np.nan), (float(target[0]), float(target[1])))

    def cell(self, i: int, j: int) -> tuple[float, float, float, float]:
        """Return the plane box of cell ``(i, j)`` (exact)."""
        p0, q0 = self.origin
        h = self.h
        return (p0 + i * h, p0 + (i + 1) * h, q0 + j * h, q0 + (j + 1) * h)

    def index(self, box) -> tuple[int, int] | None:
        """Return ``(i, j)`` if ``box`` is exactly a cell of the lattice, else None."""
        i = (box[0] - self.origin[0]) / self.h
        j = (box[2] - self.origin[1]) / self.h
        if i != int(i) or j != int(j):
            return None
        i, j = int(i), int(j)
        if not (0 <= i < self.order.shape[0] and 0 <= j < self.order.shape[1]):
            return None
        return (i, j) if tuple(self.cell(i, j)) == tuple(box) else None

    def proved_cells(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return ``(boxes (n, 4), limits (n, 2), ij (n, 2))`` of the proved cells in proof order."""
        ij = np.argwhere(self.order >= 0)
        ij = ij[np.argsort(self.order[ij[:, 0], ij[:, 1]])]
        p0, q0 = self.origin
        h = self.h
        boxes = np.stack([p0 + ij[:, 0] * h, p0 + (ij[:, 0] + 1) * h,
                          q0 + ij[:, 1] * h, q0 + (ij[:, 1] + 1) * h], axis=-1)
        return boxes.reshape(-1, 4), self.limit[ij[:, 0], ij[:, 1]].reshape(-1, 2), ij


@njit
def _plain_step(p, q, eps):
    x = 0.5 * (p - q)
    return (1.0 - x) ** 2 * p, (1.0 + eps * x) ** 2 * q


@njit
def orbit_ranks(starts, eps, origin, h, n_p, n_q, terminal_x, max_steps, radius, target_lo,
                target_hi):
    """Return ``rank (n_p, n_q)``: for each lattice cell visited by a float orbit from a start
    (rows ``(p, q)``) whose limit lies in the target, the fewest steps left from it to the
    stable part of the terminal set (``|x| <= terminal_x``, ``p + eps q < 2``); cells next to a
    visited cell get its rank plus one; -1 for cells never visited. A heuristic order only:
    the proof does not depend on it."""
    big = np.int64(1) << 62
    rank = np.full((n_p, n_q), big, dtype=np.int64)
    for n in range(starts.shape[0]):
        p, q = starts[n, 0], starts[n, 1]
        length = -1
        for k in range(max_steps):
            if abs(0.5 * (p - q)) <= terminal_x and p + eps * q < 2.0 - terminal_x:
                length = k
                break
            p, q = _plain_step(p, q, eps)
            if not (abs(p) <= radius and abs(q) <= radius):
                break
        if length < 0:
            continue
        for k in range(max_steps):
            if abs(0.5 * (p - q)) <= 1e-12:
                break
            p, q = _plain_step(p, q, eps)
        lim = 0.5 * (1.0 + eps) * (p + q)
        if not (target_lo < lim < target_hi):
            continue
        p, q = starts[n, 0], starts[n, 1]
        for k in range(length + 1):
            i = int(np.floor((p - origin[0]) / h))
            j = int(np.floor((q - origin[1]) / h))
            for di in range(-1, 2):
                for dj in range(-1, 2):
                    a, b = i + di, j + dj
                    if 0 <= a < n_p and 0 <= b < n_q:
                        r = length - k + (0 if di == 0 and dj == 0 else 1)
                        if r < rank[a, b]:
                            rank[a, b] = r
            p, q = _plain_step(p, q, eps)
    for a in range(n_p):
        for b in range(n_q):
            if rank[a, b] == big:
                rank[a, b] = -1
    return rank


__all__ = ["ProvedCells", "orbit_ranks"]
