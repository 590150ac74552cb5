"""Set-oriented reuse of proved lattice cells: same verdicts, well-founded order, re-checked."""

import dataclasses

import numpy as np
import pytest

import dynsys
from dynsys.rigorous import ProofBudget
from dynsys.rigorous._funnel import ProvedCells
from dynsys.rigorous._lohner import PIECE_PROVED, prove_cells
from dynsys.rigorous._pq import _LEMMA_PAD, RescaledPlaneKernel

EPS = 0.05
TARGET = (1.95, 2.0)
BUDGET = ProofBudget()
S_STAR = 1.9727262 / (1 + EPS)      # the common limit of p and q from the default region


@pytest.fixture(scope="module")
def patch():
    """Lattice cells of side 2^-10 around the limit point, proved one after another."""
    cells = ProvedCells.empty((0.0, 4.0, 0.0, 4.0), 10, TARGET)
    i0 = int(S_STAR / cells.h)
    ij = np.array([(i, j) for i in range(i0 - 3, i0 + 4) for j in range(i0 - 3, i0 + 4)],
                  dtype=np.int64)
    n = len(ij)
    status = np.full(n, -1, np.int64)
    cells.count = int(prove_cells(
        ij, EPS, *TARGET, BUDGET.split_width, BUDGET.max_pieces, BUDGET.max_split_depth,
        BUDGET.max_steps, BUDGET.terminal_x, BUDGET.enclosure_tol, BUDGET.radius, cells.order,
        cells.limit, np.asarray(cells.origin), cells.h, 0, _LEMMA_PAD, status,
        np.zeros(n, np.int64), np.zeros(n, np.int64)))
    assert cells.count >= 10
    return cells


def _boxes(patch):
    """Sub-boxes of proved cells, boxes near the patch, and a catapulting box."""
    boxes, lims = [], []
    b, lim, _ = patch.proved_cells()
    for k in (0, len(b) // 2, len(b) - 1):
        p0, p1, q0, q1 = b[k]
        w = (p1 - p0) / 4
        boxes.append((p0 + w, p1 - w, q0 + w, q1 - w))
        lims.append(lim[k])
    boxes.append((1.64, 1.6401, 2.478, 2.4781))              # far from the patch, funnels in
    boxes.append((S_STAR + 0.004, S_STAR + 0.0041, S_STAR - 0.002, S_STAR - 0.0019))
    k = RescaledPlaneKernel(EPS)
    cat = k.plane_box(((2.2490, 2.2493), (9.1854, 9.1857)), (0.70940, 0.70946))
    boxes.append(cat)                                         # holds a catapulting start
    return np.array(boxes), lims


def test_reuse_gives_the_same_verdicts_as_the_plain_path(patch):
    k = RescaledPlaneKernel(EPS)
    boxes, lims = _boxes(patch)
    plain = k.enclose(boxes, TARGET, BUDGET)
    fast = k.enclose(boxes, TARGET, BUDGET, cache=patch)
    assert list(plain["piece_status"] == PIECE_PROVED) == list(fast["piece_status"] == PIECE_PROVED)
    assert (plain["piece_status"][:5] == PIECE_PROVED).all()
    assert plain["piece_status"][5] != PIECE_PROVED
    for i in range(5):
        # both enclose the same limits: the enclosures meet, and lie in the target
        a, b = plain["limit"][i], fast["limit"][i]
        assert max(a[0], b[0]) <= min(a[1], b[1])
        assert TARGET[0] <= b[0] <= b[1] <= TARGET[1]
    # sub-boxes of proved cells are done at once, with the cell's enclosure
    for i in range(3):
        assert fast["steps"][i] == 0 and plain["steps"][i] > 0
        assert lims[i][0] <= fast["limit"][i][0] <= fast["limit"][i][1] <= lims[i][1]


def test_a_cell_rests_only_on_cells_proved_before_it(patch):
    """With max_order 0 no cell may be used: a sub-box of a proved cell is enclosed afresh."""
    k = RescaledPlaneKernel(EPS)
    boxes, _ = _boxes(patch)
    none_before = dataclasses.replace(patch, count=0)
    res = k.enclose(boxes[:1], TARGET, BUDGET, cache=none_before)
    assert res["steps"][0] > 0
    # the proof order is a permutation of 0 .. count-1
    order = patch.order[patch.order >= 0]
    assert sorted(order) == list(range(patch.count))


def test_cells_are_exact_dyadic_boxes(patch):
    b, _, ij = patch.proved_cells()
    for box, (i, j) in zip(b[:5], ij[:5]):
        assert patch.index(tuple(box)) == (i, j)
        assert box[1] - box[0] == patch.h == 2.0 ** -10


@pytest.fixture(scope="module")
def reused():
    pytest.importorskip("flint")
    return dynsys.certify_region(dynsys.QuadraticRegression2D(EPS),
                                 ((1.6, 1.6003), (8.8, 8.8003)), (0.64, 0.64003), 0.05,
                                 budget=ProofBudget(reuse=True, cell_level=10))


def test_certificate_with_reuse_is_proved_and_verified(reused):
    assert reused.proved and reused.cells is not None and reused.cells.count > 0
    ds = reused.to_dataset()
    assert ds.sizes["cell"] == reused.cells.count
    v = dynsys.verify_certificate(reused)
    assert v.accepted, v.problems
    assert v.n_cells == reused.cells.count and v.n_cells_reproved == v.n_cells


def test_tampered_cells_are_rejected(reused):
    cells = dataclasses.replace(reused.cells, limit=reused.cells.limit.copy())
    ok = cells.order >= 0
    cells.limit[ok] = 1.95            # every reused cell claims a limit of exactly 1.95
    bad = dataclasses.replace(reused, cells=cells)
    v = dynsys.verify_certificate(bad)
    assert not v.accepted and any("cell" in p for p in v.problems)
