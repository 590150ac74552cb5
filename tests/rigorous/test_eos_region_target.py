"""eos_region with a nonzero target: what it proves, what it reports, and what it refuses."""

import dataclasses

import numpy as np
import pytest

import dynsys
from dynsys.eos._proved_box import SEARCH_BUDGET
from dynsys.eos._region_check import limit_sharpness_by_iteration

pytest.importorskip("flint")

E = 0.5
MT = dynsys.QuadraticRegression2D(0.05, target=E)
#: a box budget that ends every proof of the search before its time budget (deterministic)
SMALL = dataclasses.replace(SEARCH_BUDGET, max_boxes=4, time=600.0)


def _region(model, **kw):
    return dynsys.eos_region(model, lr_range=dynsys.linspace(0.55, 0.75, 3),
                             grid=((1.0, 2.4, 10), (8.2, 9.4, 10)), n_check=20,
                             check_steps=100_000, refine=0, search_steps=0, progress=False,
                             proof_budget=SMALL, **kw)


@pytest.fixture(scope="module")
def region():
    return _region(MT)


def test_small_region_with_a_target_is_proved_in_p_q_e(region):
    r = region
    assert r.proved and not r.empty
    cert = r.proof
    assert cert.boxes.shape[1] == 6 and cert.kernel.target == E
    # the certificate proves exactly the region returned
    assert cert.U == tuple(r.U.bounds.values()) and cert.lr_interval == r.lr_interval
    # its e range covers lr x target over the step sizes
    assert cert.boxes[:, 4].min() <= E * r.lr_interval[0]
    assert cert.boxes[:, 5].max() >= E * r.lr_interval[1]
    lo, hi = cert.enclosure
    assert 2 - r.delta <= lo <= hi <= 2
    # the search ran within its box budget: deterministic, nothing cut by time
    assert r.search["time_limited"] is False
    assert not any("time budget" in t[5] for t in r.search["trials"])


def test_returned_box_lies_inside_the_candidate(region):
    r = region
    (c1, c2) = r.candidate["U"].values()
    (u1, u2) = r.U.bounds.values()
    cl, ch = r.candidate["lr_interval"]
    assert c1[0] <= u1[0] < u1[1] <= c1[1] and c2[0] <= u2[0] < u2[1] <= c2[1]
    assert cl <= r.lr_interval[0] < r.lr_interval[1] <= ch
    assert 0 < r.volume_fraction() <= 1


def test_enclosure_contains_plain_gd_limits(region):
    r = region
    lo, hi = r.proof.enclosure
    rng = np.random.default_rng(3)
    (a1, b1), (a2, b2) = r.U.bounds.values()
    n = 6
    theta = np.stack([rng.uniform(a1, b1, n), rng.uniform(a2, b2, n)], axis=-1)
    lr = rng.uniform(*r.lr_interval, n)
    ok, sharp = limit_sharpness_by_iteration(MT, theta, lr)
    assert ok.all()
    scaled = lr * sharp
    assert np.all((lo - 1e-12 <= scaled) & (scaled <= hi + 1e-12)), (scaled, lo, hi)
    # the limit is on the solution set of the target: theta_1^2 - eps theta_2^2 = 2 E; and the
    # target-0 model's limit from the same start is elsewhere (the target matters)
    ds = dynsys.trajectory(MT, theta[0], lr=float(lr[0]), steps=200_000)
    t = ds.theta[-1].values
    assert abs(0.5 * (t[0] ** 2 - 0.05 * t[1] ** 2) - E) < 1e-9
    ok0, s0 = limit_sharpness_by_iteration(dynsys.QuadraticRegression2D(0.05), theta[:1], lr[:1])
    assert not (ok0[0] and lo <= lr[0] * s0[0] <= hi)


def test_dataset_and_summary_carry_the_target(region):
    ds = region.dataset
    assert ds.attrs["target"] == E and ds.attrs["param_target"] == E
    assert "e)" in ds.attrs["proof_space"] and ds.attrs["search_time_limited"] == 0
    assert ds.attrs["proved"] == 1
    assert "target 0.5" in region.summary()
    zero = dynsys.eos_region(dynsys.QuadraticRegression2D(0.05), prove=False, n_check=5,
                             lr_range=dynsys.linspace(0.55, 0.75, 3),
                             grid=((1.0, 2.4, 10), (8.2, 9.4, 10)), refine=0,
                             check_steps=100_000, progress=False)
    assert zero.dataset.attrs["target"] == 0.0 and "target" not in zero.summary()


def test_proof_cover_draws_the_slice_at_lr(region):
    cert = region.proof
    lr = float(np.mean(cert.lr_interval))
    fig = dynsys.plot.proof_cover(cert, lr=lr)
    ax = fig.axes[0]
    e = lr * E
    shown = int(np.sum((cert.boxes[:, 4] <= e) & (e <= cert.boxes[:, 5])))
    assert len(ax.patches) == shown + 1          # the boxes meeting the slice, and U
    # the view is in theta_2 (about 8.7), not in e (about 0.3)
    assert ax.get_ylim()[0] > 8.0
    # a slice no box meets draws U alone
    fig = dynsys.plot.proof_cover(cert, lr=0.9)
    assert len(fig.axes[0].patches) == 1


def test_negative_target_is_reported_not_proved_and_not_tried():
    m = dynsys.QuadraticRegression2D(0.05, target=-0.5)
    r = _region(m)
    assert not r.proved and r.empty and r.proof is None
    assert r.candidate is not None and r.search["trials"] == []
    assert "negative target" in r.search["skipped"]
    assert "negative target" in r.summary() and "target -0.5" in r.summary()
    assert r.dataset.attrs["proved"] == 0 and "search_skipped" in r.dataset.attrs
    # certify_region agrees: a box of the candidate is not proved
    (c1, c2) = r.candidate["U"].values()
    t1, t2, lr = np.mean(c1), np.mean(c2), float(np.mean(r.candidate["lr_interval"]))
    cert = dynsys.certify_region(m, ((t1, t1 * 1.0001), (t2, t2 * 1.0001)), (lr, lr * 1.0001),
                                 r.delta, budget=dataclasses.replace(SMALL, max_depth=1))
    assert not cert.proved
