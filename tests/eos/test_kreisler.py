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
        dynsys.kreisler_scan(dynsys.SecondOrderRegression.random(2, 2, sigma_z=1, sigma_J=1,
                                                                 seed=0), [[0, 0]], [3.0])
    with pytest.raises(ValueError, match="starts"):
        dynsys.kreisler_scan(dynsys.ScalarNetwork(2), [1.0, 2.0, 3.0], [3.0])
