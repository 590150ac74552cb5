"""GFS sharpness along GD: monotone at the edge of stability, increases only when explained."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_scalar_networks_gfs_non_increasing_at_eos(depth):
    rng = np.random.default_rng(depth)
    net = dynsys.ScalarNetwork(depth, 1.0, 1.0)
    starts = np.abs(rng.normal(size=(10, depth))) * 1.3
    ds = dynsys.kreisler_scan(net, starts, [2.1, 2.4], steps=3000)
    calm = (ds.eos == 1) & (ds.growth_steps == 0)
    assert int(calm.sum()) >= 3
    # phi never increases in these EoS runs ...
    assert float(ds.max_increase.where(calm).max()) <= 1e-10
    # ... while the loss and the sharpness oscillate
    assert bool((ds.loss_oscillations.where(calm) > 0).any())
    assert bool((ds.sharpness_oscillations.where(calm) > 0).any())
    assert int(ds.unexplained_increases.sum()) == 0


def test_increases_happen_only_under_the_growth_condition():
    rng = np.random.default_rng(5)
    net = dynsys.ScalarNetwork(2, 1.0, 1.0)
    ds = dynsys.kreisler_scan(net, rng.normal(size=(12, 2)) * 1.3, [2.4, 3.0], steps=2000)
    assert ds.attrs["runs_increasing_eos"] >= 1          # increases exist (violent starts) ...
    assert ds.attrs["unexplained_increases"] == 0         # ... all with an imbalance growing


def test_qr2d_threshold_decides_increase():
    eps = 0.05
    xc = dynsys.qr2d_increase_threshold(eps)
    assert (xc - 1) ** eps * (1 + eps * xc) == pytest.approx(1.0, abs=1e-13)
    m = dynsys.QuadraticRegression2D(eps, 0.0)
    b = 12.0
    for x, grows in ((xc - 0.02, False), (xc + 0.02, True), (0.7, False), (-3.0, False)):
        a = np.sqrt(2 * x + eps * b * b)                  # lr = 1, z = x
        before = dynsys.gfs_sharpness(m, [a, b])
        after = dynsys.gfs_sharpness(m, dynsys.gd_map(m, 1.0).step([a, b]))
        assert (after > before) == grows


def test_gfs_trajectory_fields():
    ds = dynsys.gfs_trajectory(dynsys.ScalarNetwork(3), [1.5, 0.6, 1.2], lr=0.4, steps=50)
    assert ds.gfs_sharpness.dims == ("step",)
    assert float(ds.gfs_increase.min()) >= 0
    with pytest.raises(TypeError, match="model"):
        dynsys.kreisler_scan("not a model", [[0, 0]], [3.0])
    with pytest.raises(ValueError, match="starts"):
        dynsys.kreisler_scan(dynsys.ScalarNetwork(2), [1.0, 2.0, 3.0], [3.0])


@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2])
def test_both_branches_of_the_2d_growth_condition(eps):
    """g(x) = |1 - x|^eps |1 + eps x| is 1 at x_c and at x_-; one GD step from lr z beyond
    either raises the GFS sharpness, from just inside lowers it."""
    upper = dynsys.qr2d_increase_threshold(eps)
    lower = dynsys.qr2d_increase_threshold(eps, "lower")
    for x in (upper, lower):
        assert abs(eps * np.log(abs(1 - x)) + np.log(abs(1 + eps * x))) < 1e-12
    assert lower < -1 / eps < 0 < 1 < upper
    m = dynsys.QuadraticRegression2D(eps, 0.0)
    for x, grows in ((upper * 1.05, True), (upper * 0.95, False), (lower * 1.05, True),
                     (lower * 0.95, False)):
        if x > 0:                                       # z = x at lr = 1
            start = np.array([np.sqrt(2 * x + eps), 1.0])
        else:
            start = np.array([0.5, np.sqrt((0.25 - 2 * x) / eps)])
        step = dynsys.gd_map(m, 1.0).step(start)
        phi0, phi1 = dynsys.gfs_sharpness(m, np.stack([start, step]))
        assert (phi1 > phi0) == grows, (x, phi0, phi1)
        ds = dynsys.gfs_trajectory(m, start, lr=1.0, steps=1)
        assert int(ds.growth_possible[0]) == int(grows)


def test_runs_are_classified_eos_catapult_diverged():
    net = dynsys.ScalarNetwork(2)
    starts = [[1.5, 0.6], [2.0, 0.3], [0.9, -1.2]]
    ds = dynsys.kreisler_scan(net, starts, [1.5, 2.2, 3.0, 40.0], steps=3000, delta=0.1)
    cls = ds.run_class.values
    final = ds.final_lr_sharpness.values
    assert ds.run_class.attrs["flag_meanings"] == "eos catapult diverged undecided below_edge"
    eos, cat = cls == dynsys.eos.RunClass.EOS, cls == dynsys.eos.RunClass.CATAPULT
    assert np.all((final[eos] >= 1.9) & (final[eos] <= 2.0))
    assert np.all(final[cat] < 1.9)
    assert np.all(cls[:, 0] == dynsys.eos.RunClass.BELOW_EDGE)
    assert np.all(cls[:, -1] == dynsys.eos.RunClass.DIVERGED)   # lr phi0 = 40
    assert np.array_equal(ds.eos.values == 1, eos)
    total = sum(ds.attrs[f"runs_{c.name.lower()}"] for c in dynsys.eos.RunClass)
    assert total == cls.size
