"""Prove a region box by box: a cover of its image, each box enclosed, refuted or left open."""

from __future__ import annotations

import dataclasses
import itertools
import time

import numpy as np

from .._outcomes import FlagTable
from ._lohner import PIECE_BUDGET, PIECE_ESCAPED, PIECE_LIMIT_OUTSIDE, PIECE_PROVED


class ProofStatus(FlagTable):
    """What a proof established about one box of a cover."""

    #: every start of the box shows the property (rigorous enclosure)
    PROVED = 0
    #: a concrete start of the box fails it (found by plain iteration)
    REFUTED = 1
    #: neither: the enclosure failed and no failing start was found, or a budget ran out
    UNDECIDED = 2


@dataclasses.dataclass(frozen=True)
class ProofBudget:
    """Budgets and tuning of a proof.

    ``max_boxes`` (cover boxes enclosed in all) and ``time`` (seconds, checked between batches)
    end a proof early: boxes not finished are reported ``undecided``. ``max_depth`` bounds the
    bisection of cover boxes. Inside one cover box: sets wider than ``split_width`` (in the
    plane) are bisected, at most ``max_pieces`` pieces and ``max_split_depth`` halvings, each
    followed for at most ``max_steps`` steps; the terminal lemma is tried once
    ``|x| <= terminal_x``, and a terminal set is followed until its drift bound is below
    ``enclosure_tol``; sets leaving ``|p|, |q| <= radius`` count as escaped.
    ``initial_width`` is the side of the first cover boxes.

    With ``reuse``, cells of a dyadic lattice of side ``2^-cell_level`` along the orbits are
    proved first (for at most ``reuse_time`` of the time budget; the cells already terminal
    with the full budget, the rest in rounds of at most ``cell_rounds`` with ``cell_steps`` steps
    and ``cell_pieces`` pieces; cells with rank below ``cell_terminal_rank`` count as terminal),
    and every set that lands inside proved cells is done. Off by default: see the README
    (issue 10) for what it gains and what it does not yet.
    """

    max_boxes: int = 200_000
    time: float = 600.0
    max_depth: int = 12
    initial_width: float = 4e-3
    split_width: float = 1e-3
    max_pieces: int = 512
    max_split_depth: int = 40
    max_steps: int = 50_000
    terminal_x: float = 1e-3
    enclosure_tol: float = 1e-9
    radius: float = 1e4
    n_refute: int = 12
    reuse: bool = False
    reuse_time: float = 0.5
    cell_level: int = 8
    cell_pieces: int = 16
    cell_steps: int = 60
    cell_terminal_rank: int = 60
    cell_rounds: int = 6

    def __post_init__(self):
        for name in ("max_boxes", "max_depth", "max_pieces", "max_split_depth", "max_steps",
                     "n_refute", "cell_level", "cell_pieces", "cell_steps",
                     "cell_terminal_rank", "cell_rounds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"budget.{name} must be a positive integer, got {value!r}")
        for name in ("time", "initial_width", "split_width", "terminal_x", "enclosure_tol",
                     "radius", "reuse_time"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
                    or not np.isfinite(value) or value <= 0:
                raise ValueError(f"budget.{name} must be a positive finite number, got {value!r}")


def _split(box):
    """Bisect a box ``(lo_0, hi_0, lo_1, hi_1, ...)`` across its longest side (the first of
    equal ones)."""
    box = tuple(box)
    widths = [box[2 * k + 1] - box[2 * k] for k in range(len(box) // 2)]
    k = int(np.argmax(widths))
    lo, hi = box[2 * k], box[2 * k + 1]
    m = 0.5 * (lo + hi)
    return box[:2 * k] + (lo, m) + box[2 * k + 2:], box[:2 * k] + (m, hi) + box[2 * k + 2:]


def initial_cover(hull, width: float) -> list[tuple]:
    """Return the hull ``(lo_0, hi_0, lo_1, hi_1, ...)`` cut into a grid of boxes of side at
    most ``width`` (the first axis outermost)."""
    edges = []
    for k in range(len(hull) // 2):
        lo, hi = hull[2 * k], hull[2 * k + 1]
        n = max(1, int(np.ceil((hi - lo) / width)))
        ed = np.linspace(lo, hi, n + 1)
        ed[0], ed[-1] = lo, hi
        edges.append(ed)
    return [tuple(v for k, i in enumerate(idx) for v in (edges[k][i], edges[k][i + 1]))
            for idx in itertools.product(*[range(len(ed) - 1) for ed in edges])]


def prove_cover(kernel, U, lr_interval, target, budget: ProofBudget, *, is_failure,
                gfs_floor=None, refine_refuted: bool = False, seed: int = 0,
                progress=None, stop_on_refute: bool = False) -> dict:
    """Return the boxes of a cover of the image of ``U x lr_interval`` with their status.

    Each plane box that may meet the image is enclosed by ``kernel.enclose``; it is *proved*
    when every piece of it became terminal with the limit enclosure inside ``target`` (and, if
    ``gfs_floor`` is given, the kernel's lower bound of lr x GFS sharpness on it exceeds that
    floor). Otherwise concrete starts of the region in the box are iterated and tested with
    ``is_failure(starts) -> bool array``: a failing one *refutes* the box (and is recorded);
    with none, the box is bisected, down to ``budget.max_depth`` halvings, below which it is
    *undecided*. Refuted boxes are bisected further only with ``refine_refuted`` (to map where
    the property fails). Boxes left when a budget runs out (or, with ``stop_on_refute``, once a
    box is refuted) are undecided.
    """
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    cells, funnel = None, {}
    if budget.reuse and getattr(kernel, "prove_lattice", None) is not None:
        # set-oriented reuse: prove lattice cells along the orbits first (docs/math.md,
        # section 8); a cover box whose enclosure lands in proved cells is then done
        cells = kernel.lattice(U, lr_interval, target, budget.cell_level)
        funnel = kernel.prove_lattice(cells, kernel.cover_cells(cells, U, lr_interval), budget,
                                      deadline=start + budget.reuse_time * budget.time)
    hull = kernel.plane_box(U, lr_interval)
    pending = [(b, 0) for b in initial_cover(hull, budget.initial_width)]
    meets = kernel.may_meet([b for b, _ in pending], U, lr_interval) if pending else []
    pending = [pb for pb, m in zip(pending, meets) if m]
    rows: list[dict] = []
    enclosed = 0
    exhausted = ""
    chunk = 64
    while pending:
        if enclosed >= budget.max_boxes:
            exhausted = f"box budget ({budget.max_boxes} boxes) ran out"
            break
        if time.perf_counter() - start > budget.time:
            exhausted = f"time budget ({budget.time:g} s) ran out"
            break
        if stop_on_refute and any(r["status"] == ProofStatus.REFUTED for r in rows):
            exhausted = "stopped at the first refuted box"
            break
        batch, pending = pending[:chunk], pending[chunk:]
        res = kernel.enclose(np.array([b for b, _ in batch]), target, budget, cache=cells)
        enclosed += len(batch)
        children = []
        for i, (box, depth) in enumerate(batch):
            code = int(res["piece_status"][i])
            row = {"box": box, "depth": depth, "terminal_step": int(res["terminal_step"][i]),
                   "limit": tuple(res["limit"][i]), "pieces": int(res["pieces"][i]),
                   "failing_start": (np.nan, np.nan, np.nan), "reason": ""}
            gfs_ok = gfs_floor is None or kernel.gfs_lr_sharpness_lower(box) > gfs_floor
            if code == PIECE_PROVED and gfs_ok:
                row["status"] = ProofStatus.PROVED
                rows.append(row)
                continue
            row["reason"] = {PIECE_PROVED: "gradient-flow sharpness not proved past the edge",
                             PIECE_LIMIT_OUTSIDE: "limit enclosure outside the target",
                             PIECE_ESCAPED: "enclosure escaped",
                             PIECE_BUDGET: "enclosure budget ran out"}[code]
            row["limit"] = (np.nan, np.nan)
            starts = kernel.starts(box, U, lr_interval, rng, budget.n_refute)
            bad = is_failure(starts) if len(starts) else np.zeros(0, bool)
            if bad.any():
                row["status"] = ProofStatus.REFUTED
                row["failing_start"] = tuple(float(v) for v in starts[np.argmax(bad)])
                if refine_refuted and depth < budget.max_depth:
                    children.extend((c, depth + 1) for c in _split(box))
                    continue
                rows.append(row)
                continue
            if depth < budget.max_depth:
                children.extend((c, depth + 1) for c in _split(box))
                continue
            row["status"] = ProofStatus.UNDECIDED
            row["reason"] += f"; no failing start among {len(starts)} tried at maximum depth"
            rows.append(row)
        if children:
            keep = kernel.may_meet([c for c, _ in children], U, lr_interval)
            pending = [c for c, k in zip(children, keep) if k] + pending
        if progress is not None:
            progress(len(rows), len(rows) + len(pending))
    for box, depth in pending:
        rows.append({"box": box, "depth": depth, "terminal_step": 0, "limit": (np.nan, np.nan),
                     "pieces": 0, "failing_start": (np.nan, np.nan, np.nan),
                     "status": ProofStatus.UNDECIDED, "reason": exhausted})
    return {"rows": rows, "hull": hull, "wall_time": time.perf_counter() - start,
            "exhausted": exhausted, "enclosed": enclosed, "cells": cells, "funnel": funnel}
