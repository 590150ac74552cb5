"""Re-check a certificate through a second code path: ball arithmetic (python-flint)."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .. import _validate as check
from ..rigorous import ProofStatus, gfs_lower, reprove_box, require_flint


@dataclasses.dataclass(frozen=True)
class Verification:
    """Result of :func:`verify_certificate`: ``accepted`` and why, what was re-proved."""

    accepted: bool
    problems: tuple
    covered: bool
    n_boxes: int
    n_reproved: int
    sampled: bool
    seed: int
    wall_time: float
    n_cells: int = 0
    n_cells_reproved: int = 0

    def __bool__(self) -> bool:
        return self.accepted

    def summary(self) -> str:
        """Return a one-line account."""
        what = (f"re-proved a seeded sample of {self.n_reproved} of {self.n_boxes} proved boxes "
                f"(seed {self.seed})" if self.sampled else
                f"re-proved all {self.n_reproved} proved boxes")
        if self.n_cells:
            what += (f", and {self.n_cells_reproved} of the {self.n_cells} lattice cells it "
                     f"reuses")
        verdict = "accepted" if self.accepted else "rejected: " + "; ".join(self.problems[:3])
        return f"{verdict}; cover {'checked' if self.covered else 'not complete'}; {what} " \
               f"in ball arithmetic ({self.wall_time:.1f} s)"


def _image_may_meet(box, U, lr_interval, eps, flint, target=0.0) -> bool:
    """Ball-arithmetic test: False only when the box (of the plane, or of ``(p, q, e)`` with a
    nonzero target) provably misses the image."""
    (a_lo, a_hi), (b_lo, b_hi) = U

    def sq(lo, hi):
        lo_b, hi_b = flint.arb(lo), flint.arb(hi)
        if lo >= 0:
            return lo_b * lo_b, hi_b * hi_b
        if hi <= 0:
            return hi_b * hi_b, lo_b * lo_b
        m = flint.arb(max(-lo, hi))
        return flint.arb(0), m * m

    s1, s2 = sq(a_lo, a_hi), sq(b_lo, b_hi)
    e = flint.arb(eps)
    lows = [flint.arb(lr_interval[0])]
    highs = [flint.arb(lr_interval[1])]
    lows.append(flint.arb(box[0]) / s1[1])
    lows.append(flint.arb(box[2]) / (e * s2[1]))
    if not s1[0] <= 0:
        highs.append(flint.arb(box[1]) / s1[0])
    if not s2[0] <= 0:
        highs.append(flint.arb(box[3]) / (e * s2[0]))
    if len(box) > 4 and target != 0:
        ends = (box[4], box[5]) if target > 0 else (box[5], box[4])
        lows.append(flint.arb(ends[0]) / target)
        highs.append(flint.arb(ends[1]) / target)
    # disjoint only if some lower bound certainly exceeds some upper bound
    return not any(lo > hi for lo in lows for hi in highs)


def _covered(boxes, U, lr_interval, eps, hull, max_depth, flint, target=0.0) -> bool:
    """Whether the union of ``boxes`` (rows ``(lo_0, hi_0, lo_1, hi_1, ...)``) provably
    contains the image of U x lr_interval."""
    if not len(boxes):
        return False
    dims = boxes.shape[1] // 2
    # start from the cover's bounding box, after checking (in balls) that it holds the image
    bbox = tuple(float(boxes[:, 2 * k].min()) if h == 0 else float(boxes[:, 2 * k + 1].max())
                 for k in range(dims) for h in range(2))
    if not all(hull[2 * k] >= bbox[2 * k] and hull[2 * k + 1] <= bbox[2 * k + 1]
               for k in range(dims)):
        return False
    # split a box not inside one cover box at an edge of a cover box that cuts it (the one
    # nearest its middle), so the recursion follows the cover's own edges wherever they lie
    # (bisection at midpoints never resolves an edge that is not a dyadic point of the bounding
    # box); a box that meets the image, lies in no cover box and is cut by no edge is a gap
    stack = [bbox]
    pops = 0
    limit = 64 * len(boxes) + 1000 * (max_depth + 1)
    while stack:
        pops += 1
        if pops > limit:
            return False
        b = stack.pop()
        if not _image_may_meet(b, U, lr_interval, eps, flint, target):
            continue
        inside = np.ones(len(boxes), bool)
        over = np.ones(len(boxes), bool)
        for k in range(dims):
            inside &= (boxes[:, 2 * k] <= b[2 * k]) & (boxes[:, 2 * k + 1] >= b[2 * k + 1])
            over &= (boxes[:, 2 * k] < b[2 * k + 1]) & (boxes[:, 2 * k + 1] > b[2 * k])
        if inside.any():
            continue
        ob = boxes[over]
        # cut the widest side that an edge of a cover box cuts (the first of equal ones)
        best = None
        for k in range(dims):
            lo, hi = b[2 * k], b[2 * k + 1]
            cuts = ob[:, 2 * k:2 * k + 2].ravel()
            cuts = cuts[(cuts > lo) & (cuts < hi)]
            if len(cuts) and (best is None or hi - lo > best[1]):
                best = (k, hi - lo, float(cuts[np.argmin(np.abs(cuts - 0.5 * (lo + hi)))]))
        if best is None:
            return False
        k, _, m = best
        stack += [b[:2 * k] + (b[2 * k], m) + b[2 * k + 2:],
                  b[:2 * k] + (m, b[2 * k + 1]) + b[2 * k + 2:]]
    return True


def _plane_hull(U, lr_interval, eps, flint, target=0.0):
    """Balls enclosing the extreme values of p and q (and e = lr x target, if nonzero) over
    the region."""
    (a_lo, a_hi), (b_lo, b_hi) = U
    m1 = max(abs(a_lo), abs(a_hi))
    m2 = max(abs(b_lo), abs(b_hi))
    n1 = 0.0 if a_lo <= 0 <= a_hi else min(abs(a_lo), abs(a_hi))
    n2 = 0.0 if b_lo <= 0 <= b_hi else min(abs(b_lo), abs(b_hi))
    l_lo, l_hi = flint.arb(lr_interval[0]), flint.arb(lr_interval[1])
    e = flint.arb(eps)
    p = (l_lo * flint.arb(n1) ** 2, l_hi * flint.arb(m1) ** 2)
    q = (e * l_lo * flint.arb(n2) ** 2, e * l_hi * flint.arb(m2) ** 2)
    if target == 0:
        return (p[0], p[1], q[0], q[1])
    ends = sorted([l_lo * target, l_hi * target], key=lambda b: float(b.mid()))
    return (p[0], p[1], q[0], q[1], ends[0], ends[1])


def verify_certificate(cert, *, sample: int | None = None, seed: int = 0,
                       max_ratio: float = 10.0, split_width: float | None = None
                       ) -> Verification:
    """Return a :class:`Verification` of ``cert`` by an independent code path.

    Checks, in ball arithmetic (FLINT's arb through python-flint; ``pip install
    'dynsys[rigorous]'``), that (1) the boxes claimed proved cover the image of the region when
    the certificate claims the whole region, (2) every claimed limit enclosure lies in
    ``[2 - delta, 2]`` and the region's enclosure contains them all, (3) the gradient-flow
    sharpness condition holds on every proved box, and (4) each proved box re-proves: a fresh
    enclosure in balls reaches the terminal set with a limit enclosure *inside* the claimed one.
    (4) runs on every proved box unless ``sample`` is given, or unless re-proving all would take
    more than ``max_ratio`` times the proof's wall time (estimated on the first boxes); then a
    seeded random sample of ``sample`` boxes (default 32) is re-proved and the result says so.

    Sets wider than ``split_width`` are bisected in the re-proof (default: the smaller of the
    proof's split width and 2e-3). Any width is rigorous; the default is not the proof's own
    because a wide set's parallelogram holds plane points outside the true image, and after a
    split a piece may hold only such points, whose orbits converge elsewhere: the re-proof then
    fails (conservatively) where the proof, split differently, succeeded (README, issue 10).

    Examples
    --------
    >>> import dynsys
    >>> cert = dynsys.certify_region(dynsys.QuadraticRegression2D(0.05),
    ...                              ((1.6, 1.6001), (8.8, 8.8001)), (0.64, 0.64001), 0.05)
    >>> dynsys.verify_certificate(cert).accepted
    True
    """
    from ._certify import Certificate

    if not isinstance(cert, Certificate):
        raise TypeError(f"cert must be a Certificate returned by dynsys.certify_region, got "
                        f"{type(cert).__name__}")
    flint = require_flint()
    start = time.perf_counter()
    if sample is not None:
        sample = check.integer("sample", sample, minimum=1)
    seed = check.integer("seed", seed, minimum=0)
    max_ratio = check.real("max_ratio", max_ratio, positive=True)
    if split_width is None:
        split_width = min(float(cert.budget.split_width), 2e-3)
    split_width = check.real("split_width", split_width, positive=True)
    kernel = cert.kernel
    eps = float(kernel.eps)
    target = float(getattr(kernel, "target", 0.0))
    problems = []
    status = np.asarray(cert.status)
    proved = np.flatnonzero(status == int(ProofStatus.PROVED))
    boxes = np.asarray(cert.boxes, dtype=float)
    lo_t, hi_t = 2.0 - cert.delta, 2.0
    prec = flint.ctx.prec
    flint.ctx.prec = 256          # products of a few doubles are then exact
    try:
        hull = _plane_hull(cert.U, cert.lr_interval, eps, flint, target)
    finally:
        flint.ctx.prec = prec
    covered = False
    if boxes.ndim != 2 or boxes.shape[1] != (4 if target == 0 else 6):
        problems.append(f"boxes of shape {boxes.shape}: expected (n, {4 if target == 0 else 6})")
        boxes = np.zeros((0, 4 if target == 0 else 6))
        proved = proved[:0]
    if cert.verdict != "proved":
        problems.append(f"the certificate does not claim a proof (verdict {cert.verdict})")
    else:
        covered = _covered(boxes[proved], cert.U, cert.lr_interval, eps, hull,
                           int(np.max(cert.depth, initial=0)) + 16, flint, target)
        if not covered:
            problems.append("the proved boxes do not cover the region")
        enc = cert.enclosure
        if len(proved) and not (enc[0] <= np.min(cert.limit[proved, 0])
                                and enc[1] >= np.max(cert.limit[proved, 1])):
            problems.append("the region's enclosure does not contain the boxes' enclosures")
    for i in proved:
        lo, hi = cert.limit[i]
        if not (flint.arb(lo) >= lo_t and flint.arb(hi) <= hi_t and lo <= hi):
            problems.append(f"box {i}: claimed limit [{lo}, {hi}] not inside [2 - delta, 2]")
        g = gfs_lower(boxes[i], eps)
        if g is None or not g > 2:
            problems.append(f"box {i}: gradient-flow sharpness not past the edge")
    b = cert.budget
    # lattice cells proved for reuse: each rests on the cells proved before it
    cells = None
    cell_boxes, cell_limits = cert.lemma_cells()
    if cert.cells is not None:
        cells = {"origin": cert.cells.origin, "h": cert.cells.h, "order": cert.cells.order,
                 "limit": cert.cells.limit}
        for n, (lo, hi) in enumerate(cell_limits):
            if not (flint.arb(lo) >= lo_t and flint.arb(hi) <= hi_t and lo <= hi):
                problems.append(f"cell {n}: claimed limit [{lo}, {hi}] not inside "
                                f"[2 - delta, 2]")

    def reprove_cell(n) -> bool:
        box = tuple(cell_boxes[n])
        claimed = (float(cell_limits[n, 0]), float(cell_limits[n, 1]))
        ok, lim, why = reprove_box(box, eps, (lo_t, hi_t), split_width=split_width,
                                   max_pieces=4 * b.max_pieces, max_steps=b.max_steps,
                                   terminal_x=b.terminal_x, radius=b.radius, cells=cells,
                                   max_order=n, claimed=claimed)
        if not ok:
            problems.append(f"cell {n}: re-proof failed ({why})")
            return False
        if not (claimed[0] <= lim[0] and lim[1] <= claimed[1]):
            problems.append(f"cell {n}: re-proved limit {lim} not inside the claimed one")
            return False
        return True

    def reprove(i) -> bool:
        claimed = (float(cert.limit[i, 0]), float(cert.limit[i, 1]))
        ok, lim, why = reprove_box(tuple(boxes[i]), eps, (lo_t, hi_t),
                                   split_width=split_width, max_pieces=4 * b.max_pieces,
                                   max_steps=b.max_steps, terminal_x=b.terminal_x,
                                   radius=b.radius, cells=cells,
                                   max_order=len(cell_limits), claimed=claimed)
        if not ok:
            problems.append(f"box {i}: re-proof failed ({why})")
            return False
        if not (claimed[0] <= lim[0] and lim[1] <= claimed[1]):
            problems.append(f"box {i}: re-proved limit {lim} not inside the claimed "
                            f"[{cert.limit[i, 0]}, {cert.limit[i, 1]}]")
            return False
        return True

    order = np.random.default_rng(seed).permutation(proved)
    sampled = sample is not None and sample < len(proved)
    todo = order[:sample] if sampled else order
    done = 0
    for i in todo:
        reprove(i)
        done += 1
        if sample is None and done == 4 and len(todo) > 8:
            per_box = (time.perf_counter() - start) / done
            if per_box * len(todo) > max_ratio * max(cert.wall_time, 1.0):
                sampled = True
                todo = order[:32]
                for j in todo[done:]:
                    reprove(j)
                    done += 1
                break
    n_cells = len(cell_limits)
    cell_order = np.random.default_rng(seed + 1).permutation(n_cells)
    cell_todo = cell_order if (not sampled or n_cells <= (sample or 32)) \
        else cell_order[:(sample or 32)]
    cells_done = 0
    for n in cell_todo:
        reprove_cell(int(n))
        cells_done += 1
    sampled = sampled or cells_done < n_cells
    return Verification(accepted=not problems, problems=tuple(problems), covered=covered,
                        n_boxes=len(proved), n_reproved=done, sampled=sampled, seed=seed,
                        wall_time=time.perf_counter() - start, n_cells=n_cells,
                        n_cells_reproved=cells_done)
