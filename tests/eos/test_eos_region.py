"""eos_region: the region of Theorem 1, checked point by point with an independent method."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import dynsys
from dynsys.eos import largest_box


@pytest.fixture(scope="module")
def region():
    model = dynsys.QuadraticRegression2D(0.05)
    return dynsys.eos_region(model, lr_range=dynsys.linspace(0.8, 1.2, 5), grid=((0.05, 2.0, 28), (3.0, 14.0, 28)),
                             n_check=60, refine=2, seed=1, prove=False)


def test_region_is_non_empty_and_certified(region):
    assert not region.empty
    (lo, hi) = region.lr_interval
    assert 0.8 <= lo <= hi <= 1.2
    assert region.certificate["n_failed"] == 0 and region.certificate["n_checked"] >= 60
    assert region.delta == pytest.approx(0.05)


def test_sampled_points_reach_the_edge_by_plain_iteration(region):
    """Independent check with dynsys.trajectory (the compiled loop, not the certifier)."""
    model = dynsys.QuadraticRegression2D(0.05)
    rng = np.random.default_rng(7)
    (a1, b1), (a2, b2) = region.U.bounds.values()
    lo, hi = region.lr_interval
    for _ in range(25):
        theta0 = np.array([rng.uniform(a1, b1), rng.uniform(a2, b2)])
        lr = rng.uniform(lo, hi)
        ds = dynsys.trajectory(model, theta0, lr=lr, steps=300_000)
        assert int(ds.outcome) == dynsys.Outcome.BOUNDED
        assert abs(float(ds.residual[-1, 0])) < 1e-9
        scaled = lr * float(ds.sharpness[-1])
        assert 2 - region.delta <= scaled <= 2, (theta0, lr, scaled)
        assert lr * float(dynsys.gfs_sharpness(model, theta0)) > 2


def test_dataset_labels(region):
    ds = region.dataset
    assert ds.eos.dims == ("lr", "theta_1", "theta_2")
    assert ds.in_U.dims == ("theta_1", "theta_2") and bool(ds.in_U.any())
    assert ds.attrs["certificate_n_failed"] == 0
    # the box lies inside the EoS set on every grid slice of its lr interval
    lo, hi = region.lr_interval
    inside = ds.eos.sel(lr=slice(lo, hi)).where(ds.in_U)
    assert bool((inside.fillna(1) == 1).all())


def test_symmetric_images_are_regions_too(region):
    model = dynsys.QuadraticRegression2D(0.05)
    (a1, b1), (a2, b2) = region.U.bounds.values()
    theta0 = np.array([-(a1 + b1) / 2, -(a2 + b2) / 2])
    lr = float(np.mean(region.lr_interval))
    ds = dynsys.trajectory(model, theta0, lr=lr, steps=300_000)
    assert 2 - region.delta <= lr * float(ds.sharpness[-1]) <= 2


def test_bad_input():
    model = dynsys.QuadraticRegression2D(0.05)
    with pytest.raises(TypeError, match="model"):
        dynsys.eos_region(dynsys.ScalarNetwork(3))
    with pytest.raises(ValueError, match="delta"):
        dynsys.eos_region(model, delta=-0.1)
    with pytest.raises(ValueError, match="lr_range"):
        dynsys.eos_region(model, lr_range=[])
    with pytest.raises(ValueError, match="grid"):
        dynsys.eos_region(model, grid=((1.0, 0.0, 4), (0.0, 1.0, 4)))
    with pytest.raises(TypeError, match="delta"):
        dynsys.eos_region(dynsys.Model.from_loss(lambda t: (t[0] * t[1] - 1) ** 2, dim=2))


def _brute_force(mask, min_size):
    best = 0
    k_n, r_n, c_n = mask.shape
    for k0 in range(k_n):
        for k1 in range(k0 + min_size[0] - 1, k_n):
            inter = mask[k0:k1 + 1].all(0)
            for r0 in range(r_n):
                for r1 in range(r0 + min_size[1] - 1, r_n):
                    run = 0
                    for ok in inter[r0:r1 + 1].all(0):
                        run = run + 1 if ok else 0
                        if run >= min_size[2]:
                            best = max(best, run * (r1 - r0 + 1) * (k1 - k0 + 1))
    return best


@settings(max_examples=60, deadline=None)
@given(arrays(bool, st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6))),
       st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3)))
def test_largest_box_is_exact(mask, min_size):
    cells, box = largest_box(mask, min_size)
    assert cells == _brute_force(mask, min_size)
    if box is not None:
        assert mask[box].all() and mask[box].size == cells


def test_critical_eps_brackets_the_vanishing_of_the_region():
    """At fixed delta the region must vanish near eps_c ~ 2 delta (leading order), a bit below
    it because the O(eps^2) correction adds to the offset."""
    ds = dynsys.offset_root_eps(0.05, eps_values=[0.03, 0.06, 0.12], bisections=3, grid_n=40,
                                 lr_range=dynsys.linspace(0.9, 1.1, 4), n_check=20)
    lo, hi = ds.attrs["eps_c_bracket"]
    assert bool(ds.non_empty.sel(eps=0.03)) and not bool(ds.non_empty.sel(eps=0.12))
    assert 0.06 <= lo < hi <= 0.12
    assert ds.attrs["eps_c"] < ds.attrs["predicted_eps_c"] == pytest.approx(0.1)
    assert ds.attrs["eps_c_uncertainty"] == pytest.approx((hi - lo) / 2)
