"""The largest proved box about a centre: geometric growth of the scale, then bisection."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..rigorous import ProofBudget
from ._certify import certify_region

#: the proof budget of the search (and of eos_region's proof): cover boxes and split sets of side
#: 1.6e-2 in the rescaled plane. The library default (1e-3) splits a set into hundreds of
#: pieces; at eps = 0.05 a relative 3e-3 box costs 0.07 s this way against 17 s (README, issue 10)
SEARCH_BUDGET = ProofBudget(max_boxes=2000, time=60.0, initial_width=1.6e-2,
                            split_width=1.6e-2)


def scaled_box(centre, lo, hi, h):
    """Return ``(lo, hi)`` of the box ``centre (1 +- h)`` (every axis, relative half-width h)
    intersected with ``[lo, hi]`` (rows lr, theta_1, theta_2)."""
    centre = np.asarray(centre, float)
    half = np.abs(centre) * h
    return np.maximum(centre - half, lo), np.minimum(centre + half, hi)


def _prove(model, box_lo, box_hi, delta, budget, seed):
    return certify_region(model, ((box_lo[1], box_hi[1]), (box_lo[2], box_hi[2])),
                          (box_lo[0], box_hi[0]), delta, budget=budget, seed=seed,
                          stop_on_refute=True)


def largest_proved_box(model, lo, hi, delta, centres, *, budget: ProofBudget | None = None,
                       h0: float = 1e-3, growth: float = 2.0, bisections: int = 3,
                       seed: int = 0):
    """Return ``(lo, hi, certificate, trials)``: the largest box of the search that
    :func:`certify_region` proved, or ``(None, None, None, trials)`` if none.

    The search (deterministic: it depends only on its arguments). Boxes are
    ``centre (1 +- h)`` along every axis (lr, theta_1, theta_2; the same relative half-width
    ``h`` on each, so that the box's image in the rescaled plane, which sets the cost, is
    balanced), intersected with the candidate ``[lo, hi]``. For the first centre of
    ``centres`` whose box at ``h0`` is proved, ``h`` is multiplied by ``growth`` while the box
    is proved (and is not yet the whole candidate; the first box at a centre gets a tenth of
    the box budget, so that a centre with long transients is given up quickly), then the interval between the last proved
    and the first unproved ``h`` is bisected ``bisections`` times (in log h), each step a
    proof. Each proof runs with ``budget`` (cover boxes, time; ``stop_on_refute``): a box the
    budget cannot prove counts as not proved. Boxes grow about a fixed centre, so every box
    tried contains the smaller ones; the box returned is the largest proved, and its
    certificate is the proof. ``trials`` lists ``(centre index, h, verdict, boxes, seconds,
    exhausted)``, ``exhausted`` the certificate's note of a budget that ended the proof (``""``
    for none).
    """
    budget = SEARCH_BUDGET if budget is None else budget
    # the first box at a centre is small: a centre it does not prove within a tenth of the
    # box budget is given up (its orbits' transient is long) and the next centre is tried
    probe = dataclasses.replace(budget, max_boxes=max(1, budget.max_boxes // 10))
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    trials = []
    full = None
    # the scale at which the box is the whole candidate (no axis left to grow)
    for k, centre in enumerate(centres):
        centre = np.asarray(centre, float)
        full = float(np.max(np.maximum(centre - lo, hi - centre) / np.abs(centre)))

        def attempt(h, first=False):
            b_lo, b_hi = scaled_box(centre, lo, hi, h)
            cert = _prove(model, b_lo, b_hi, delta, probe if first else budget, seed)
            trials.append((k, float(h), cert.verdict, len(cert.status), cert.wall_time,
                           cert.exhausted))
            return (b_lo, b_hi, cert) if cert.proved else None

        best = attempt(min(h0, full), first=True)
        if best is None:
            continue
        good, bad = min(h0, full), None
        while good < full:
            h = min(good * growth, full)
            res = attempt(h)
            if res is None:
                bad = h
                break
            good, best = h, res
        if bad is not None:
            for _ in range(bisections):
                h = math.sqrt(good * bad)
                res = attempt(h)
                if res is None:
                    bad = h
                else:
                    good, best = h, res
        return best[0], best[1], best[2], trials
    return None, None, None, trials
