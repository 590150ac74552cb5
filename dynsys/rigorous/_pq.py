"""The interval kernel of the 2-D model with target 0: its reduction to the rescaled plane."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._funnel import ProvedCells, orbit_ranks
from ._lohner import MAX_CELLS, enclose_boxes, prove_cells


def _dn(x: float) -> float:
    return math.nextafter(x, -math.inf)


def _upf(x: float) -> float:
    return math.nextafter(x, math.inf)


def _sq_range(lo: float, hi: float) -> tuple[float, float]:
    """Rigorous bounds of {t^2 : t in [lo, hi]}."""
    if lo >= 0:
        return _dn(lo * lo), _upf(hi * hi)
    if hi <= 0:
        return _dn(hi * hi), _upf(lo * lo)
    m = max(-lo, hi)
    return 0.0, _upf(m * m)


#: relative padding of each limit enclosure from the terminal lemma (room for the re-check in ball
#: arithmetic, whose enclosures are about as wide)
_LEMMA_PAD = 2.0


_NO_CACHE = (np.zeros((0, 0), np.int64), np.zeros((0, 0, 2)), np.zeros(2), 1.0, 0, 0,
             _LEMMA_PAD)


def _cache_args(cache):
    """The cache arguments of the compiled kernels (an empty lattice for no cache)."""
    if cache is None:
        return _NO_CACHE
    return (cache.order, cache.limit, np.asarray(cache.origin, float), float(cache.h),
            int(cache.count), MAX_CELLS, _LEMMA_PAD)


@dataclasses.dataclass(frozen=True)
class RescaledPlaneKernel:
    """Interval kernel of GD on ``z = (theta_1^2 - eps theta_2^2)/2`` (target 0).

    With ``p = lr theta_1^2`` and ``q = eps lr theta_2^2`` one GD step is
    ``(p, q) -> ((1 - x)^2 p, (1 + eps x)^2 q)``, ``x = (p - q)/2``, which does not involve the
    step size, and ``lr x sharpness`` at a limit ``p = q = s`` is ``(1 + eps) s``. So a box of
    starts times an interval of step sizes maps to a region of the plane, and one enclosure
    there covers every step size at once. This object provides what :func:`dynsys.certify_region`
    needs from a model (see the ``interval_kernel`` hook of :class:`dynsys.Model`):

    1. ``plane_box(U, lr_interval)``: a rectangle of the plane that contains the image;
    2. ``may_meet(boxes, U, lr_interval)``: for each plane box, False only when it provably
       misses the image (so dropping it loses no start);
    3. ``starts(box, U, lr_interval, rng, n)``: concrete starts ``(theta_1, theta_2, lr)`` in the
       region whose image lies in a plane box (for refutations by plain iteration);
    4. ``enclose(boxes, target, budget)``: the compiled Lohner enclosure of every plane box.
    """

    eps: float
    name: str = "rescaled_plane"

    def plane_box(self, U, lr_interval) -> tuple[float, float, float, float]:
        """Return ``(p_lo, p_hi, q_lo, q_hi)`` containing the image of U x lr_interval."""
        (a_lo, a_hi), (b_lo, b_hi) = U
        l_lo, l_hi = lr_interval
        s1 = _sq_range(a_lo, a_hi)
        s2 = _sq_range(b_lo, b_hi)
        p = (_dn(l_lo * s1[0]), _upf(l_hi * s1[1]))
        q = (_dn(_dn(self.eps * l_lo) * s2[0]), _upf(_upf(self.eps * l_hi) * s2[1]))
        return p[0], p[1], q[0], q[1]

    def _lr_window(self, box, U, lr_interval) -> tuple[float, float]:
        """An interval of step sizes containing every lr for which some start of U maps into
        the plane box (outward rounded; empty when lo > hi)."""
        (a_lo, a_hi), (b_lo, b_hi) = U
        s1 = _sq_range(a_lo, a_hi)
        s2 = _sq_range(b_lo, b_hi)
        plo, phi, qlo, qhi = box
        lo, hi = float(lr_interval[0]), float(lr_interval[1])
        if s1[1] > 0:
            lo = max(lo, _dn(plo / s1[1]))
        if s1[0] > 0:
            hi = min(hi, _upf(phi / s1[0]))
        if s2[1] > 0:
            lo = max(lo, _dn(qlo / _upf(self.eps * s2[1])))
        if s2[0] > 0 and self.eps > 0:
            hi = min(hi, _upf(qhi / _dn(self.eps * s2[0])))
        return lo, hi

    def may_meet(self, boxes, U, lr_interval) -> np.ndarray:
        """Return, per plane box, False only when it provably misses the image."""
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
        out = np.empty(len(boxes), dtype=bool)
        for i, box in enumerate(boxes):
            lo, hi = self._lr_window(box, U, lr_interval)
            out[i] = lo <= hi
        return out

    def starts(self, box, U, lr_interval, rng, n: int) -> np.ndarray:
        """Return up to ``n`` starts ``(theta_1, theta_2, lr)`` of the region (in the quadrant of
        U's upper corner) whose plane image lies in ``box``; fewer when the box barely meets it."""
        (a_lo, a_hi), (b_lo, b_hi) = U
        lo, hi = self._lr_window(box, U, lr_interval)
        if not lo <= hi:
            return np.empty((0, 3))
        lo, hi = max(lo, lr_interval[0]), min(hi, lr_interval[1])
        lr = rng.uniform(lo, hi, size=4 * n) if hi > lo else np.full(4 * n, lo)
        p = rng.uniform(box[0], box[1], size=4 * n)
        q = rng.uniform(box[2], box[3], size=4 * n)
        sign1 = 1.0 if a_hi > 0 else -1.0
        sign2 = 1.0 if b_hi > 0 else -1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            t1 = sign1 * np.sqrt(np.maximum(p, 0) / lr)
            t2 = sign2 * np.sqrt(np.maximum(q, 0) / (self.eps * lr))
        inside = ((t1 >= a_lo) & (t1 <= a_hi) & (t2 >= b_lo) & (t2 <= b_hi)
                  & (lr >= lr_interval[0]) & (lr <= lr_interval[1]))
        return np.stack([t1, t2, lr], axis=-1)[inside][:n]

    def enclose(self, boxes, target, budget, cache=None) -> dict[str, np.ndarray]:
        """Return the Lohner enclosure of every plane box (see ``enclose_box``); with
        ``cache`` (a :class:`~dynsys.rigorous._funnel.ProvedCells`) a set may also end inside
        proved cells."""
        boxes, ebox = self._pq_and_e(boxes)
        n = len(boxes)
        out = {"piece_status": np.zeros(n, np.int64), "terminal_step": np.zeros(n, np.int64),
               "limit": np.zeros((n, 2)), "pieces": np.zeros(n, np.int64),
               "depth": np.zeros(n, np.int64), "steps": np.zeros(n, np.int64)}
        if n:
            enclose_boxes(boxes, self.eps, ebox, float(target[0]), float(target[1]),
                          budget.split_width, budget.max_pieces, budget.max_split_depth,
                          budget.max_steps, budget.terminal_x, budget.enclosure_tol,
                          budget.radius, out["piece_status"], out["terminal_step"],
                          out["limit"], out["pieces"], out["depth"], out["steps"],
                          *_cache_args(cache))
        return out

    def _pq_and_e(self, boxes):
        """The plane boxes (n, 4) and the intervals (n, 2) of ``e = lr x target`` (here 0)."""
        boxes = np.ascontiguousarray(boxes, dtype=float).reshape(-1, 4)
        return boxes, np.zeros((len(boxes), 2))

    def gfs_lr_sharpness_lower(self, box) -> float:
        """Return a lower bound of ``lr x`` (gradient-flow-solution sharpness) over the plane
        box: ``(1 + eps) (p^eps q)^(1/(1+eps))``, increasing in p and q, at the lower corner.

        Computed in floating point and lowered by a relative 1e-12 (log and exp are accurate to
        a few ulp, far inside that margin); :func:`dynsys.verify_certificate` re-checks it in
        ball arithmetic.
        """
        p, q = box[0], box[2]
        if p <= 0 or q <= 0:
            return 0.0
        e = self.eps
        val = (1 + e) * math.exp((e * math.log(p) + math.log(q)) / (1 + e))
        return val * (1 - 1e-12)

    def lattice(self, U, lr_interval, target, level: int) -> ProvedCells:
        """Return an empty lattice of side ``2^-level`` around the image and the solution set
        it flows to (``p, q`` from 0 to the image's largest value, plus a margin)."""
        p_lo, p_hi, q_lo, q_hi = self.plane_box(U, lr_interval)
        top = max(p_hi, q_hi, 2.0) * 1.25
        return ProvedCells.empty((0.0, top, 0.0, top), level, target)

    def cover_cells(self, cells: ProvedCells, U, lr_interval) -> np.ndarray:
        """Return the indices ``(i, j)`` of the lattice cells that may meet the image."""
        p_lo, p_hi, q_lo, q_hi = self.plane_box(U, lr_interval)
        p0, q0 = cells.origin
        h = cells.h
        i0, i1 = int((p_lo - p0) // h), int((p_hi - p0) // h)
        j0, j1 = int((q_lo - q0) // h), int((q_hi - q0) // h)
        ij = np.array([(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)],
                      dtype=np.int64).reshape(-1, 2)
        boxes = [cells.cell(i, j) for i, j in ij]
        keep = self.may_meet(boxes, U, lr_interval) if len(boxes) else np.zeros(0, bool)
        return ij[keep]

    def prove_lattice(self, cells: ProvedCells, starts_ij: np.ndarray, budget,
                      deadline: float | None = None, chunk: int = 512) -> dict:
        """Prove lattice cells, shortest orbits first, reusing proved cells (in place).

        The cells ranked are those visited by float orbits from the centres of ``starts_ij``
        (and their neighbours) that end in the target; the cells already in the terminal set
        (rank below ``budget.cell_terminal_rank``) are enclosed first with the full budget, then
        all ranked cells in increasing rank with a small budget (``budget.cell_steps`` steps,
        ``budget.cell_pieces`` pieces), each allowed to end in cells proved before it, in
        rounds while a round proves new cells. Stops at ``deadline`` (a
        ``time.perf_counter`` value). The order and budgets only affect speed: every proved
        cell rests on the cells proved before it. Returns counts and timings.
        """
        import time
        t0 = time.perf_counter()
        p0, q0 = cells.origin
        h = cells.h
        centres = np.stack([p0 + (starts_ij[:, 0] + 0.5) * h,
                            q0 + (starts_ij[:, 1] + 0.5) * h], axis=-1).reshape(-1, 2)
        rank = orbit_ranks(centres, self.eps, np.asarray(cells.origin, float), h,
                           cells.order.shape[0], cells.order.shape[1], budget.terminal_x,
                           budget.max_steps, budget.radius, cells.target[0],
                           cells.target[1])
        ij = np.argwhere(rank >= 0)
        r = rank[ij[:, 0], ij[:, 1]]
        order = np.argsort(r, kind="stable")
        ij, r = ij[order].astype(np.int64), r[order]
        t_rank = time.perf_counter() - t0
        stats = {"ranked": len(ij), "enclosed": 0, "steps": 0, "rounds": 0,
                 "rank_time": t_rank}
        # a whole cell is not split before its first step (its hull is h plus rounding): with
        # a split width of exactly h, no round proved a new cell
        split = max(budget.split_width, 1.5 * h)

        def run(todo, pieces, steps, split_width):
            status = np.full(len(todo), -1, np.int64)
            nsteps = np.zeros(len(todo), np.int64)
            npieces = np.zeros(len(todo), np.int64)
            for a in range(0, len(todo), chunk):
                if deadline is not None and time.perf_counter() > deadline:
                    break
                sl = slice(a, a + chunk)
                cells.count = int(prove_cells(
                    todo[sl], self.eps, cells.target[0], cells.target[1], split_width,
                    pieces, budget.max_split_depth, steps, budget.terminal_x,
                    budget.enclosure_tol, budget.radius, cells.order, cells.limit,
                    np.asarray(cells.origin, float), h, cells.count, _LEMMA_PAD,
                    status[sl], nsteps[sl], npieces[sl]))
                stats["enclosed"] += len(todo[sl])
            stats["steps"] += int(nsteps.sum())

        terminal = r < budget.cell_terminal_rank
        run(ij[terminal], budget.max_pieces, budget.max_steps, budget.split_width)
        before = -1
        while cells.count > before and stats["rounds"] < budget.cell_rounds:
            if deadline is not None and time.perf_counter() > deadline:
                break
            before = cells.count
            todo = ij[cells.order[ij[:, 0], ij[:, 1]] < 0]
            run(todo, budget.cell_pieces, budget.cell_steps, split)
            stats["rounds"] += 1
        stats["proved"] = cells.count
        stats["time"] = time.perf_counter() - t0
        return stats


@dataclasses.dataclass(frozen=True)
class RescaledSpaceKernel(RescaledPlaneKernel):
    """Interval kernel of GD on ``z = (theta_1^2 - eps theta_2^2)/2 - target``.

    With ``p = lr theta_1^2``, ``q = eps lr theta_2^2`` and ``e = lr x target`` (constant along
    an orbit) one GD step is ``(p, q) -> ((1 - x)^2 p, (1 + eps x)^2 q)``, ``x = (p - q)/2 - e``,
    and ``lr x sharpness`` at a limit (``x = 0``, ``sigma = (p + q)/2``) is
    ``(1 + eps) sigma + (1 - eps) e``. So the region maps to the space of ``(p, q, e)``; its
    boxes are ``(p_lo, p_hi, q_lo, q_hi, e_lo, e_hi)``, and each is enclosed by the compiled
    plane kernel with ``e`` an interval parameter (docs/math.md, section 8). Same protocol as
    :class:`RescaledPlaneKernel` (items 1 to 4, boxes of six numbers), without the lattice of
    proved cells (``prove_lattice`` is None: ``budget.reuse`` has no effect yet).
    """

    target: float = 0.0
    name: str = "rescaled_space"
    prove_lattice = None

    def plane_box(self, U, lr_interval) -> tuple:
        """Return ``(p_lo, p_hi, q_lo, q_hi, e_lo, e_hi)`` containing the image of U x
        lr_interval."""
        p_lo, p_hi, q_lo, q_hi = super().plane_box(U, lr_interval)
        a, b = self.target * lr_interval[0], self.target * lr_interval[1]
        return p_lo, p_hi, q_lo, q_hi, _dn(min(a, b)), _upf(max(a, b))

    def _lr_window(self, box, U, lr_interval) -> tuple[float, float]:
        lo, hi = super()._lr_window(box[:4], U, lr_interval)
        E = self.target
        if len(box) > 4 and E != 0.0:
            a, b = (box[4], box[5]) if E > 0 else (box[5], box[4])
            lo = max(lo, _dn(a / E))
            hi = min(hi, _upf(b / E))
        return lo, hi

    def may_meet(self, boxes, U, lr_interval) -> np.ndarray:
        """Return, per box of the space, False only when it provably misses the image."""
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 6)
        lo_hi = [self._lr_window(box, U, lr_interval) for box in boxes]
        return np.array([lo <= hi for lo, hi in lo_hi], dtype=bool)

    def _pq_and_e(self, boxes):
        boxes = np.asarray(boxes, dtype=float).reshape(-1, 6)
        return np.ascontiguousarray(boxes[:, :4]), np.ascontiguousarray(boxes[:, 4:])

    def gfs_lr_sharpness_lower(self, box) -> float:
        """Return a lower bound of ``lr x`` (gradient-flow-solution sharpness) over the box.

        The flow keeps ``C = p^eps q`` and ends where ``x = 0``, i.e. ``p = q + 2e``, with
        ``lr x sharpness = (1 + eps) q + 2e``, ``q`` the root of ``(q + 2e)^eps q = C``. That
        value grows with ``C`` (so with ``p`` and ``q``) and, for ``e >= 0``, with ``e`` (its
        derivative in ``e`` is ``2 - 2 eps (1 + eps) q/((1 + eps) q + 2e) > 0``): the lower
        corner gives the bound. Boxes with ``e_lo < 0`` get 0 (not proved). The root is found
        by bisection in floating point, lowered by a relative 1e-10, and re-checked in ball
        arithmetic by :func:`dynsys.verify_certificate`.
        """
        p, q, e = box[0], box[2], box[4]
        if p <= 0 or q <= 0 or e < 0:
            return 0.0
        return gfs_root(p, q, e, self.eps) * (1 - 1e-10)


def gfs_root(p: float, q: float, e: float, eps: float) -> float:
    """Return ``(1 + eps) r + 2e`` with ``r > 0`` the root of ``eps log(r + 2e) + log r =
    eps log p + log q`` (float bisection; ``e >= 0``)."""
    c = eps * math.log(p) + math.log(q)
    lo, hi = 0.0, max(p, q) + 1.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        if mid > 0 and eps * math.log(mid + 2 * e) + math.log(mid) < c:
            lo = mid
        else:
            hi = mid
    return (1 + eps) * lo + 2 * e
