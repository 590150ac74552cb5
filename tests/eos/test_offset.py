"""The limit offset: leading-order formula, linear shrinking of the relative error, the fit."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


def test_relative_error_shrinks_linearly_in_eps():
    eps = np.array([1e-3, 2e-3, 4e-3, 8e-3])
    ds = dynsys.limit_offset(eps, [0.0, 0.5], lr_gfs=[2.5, 3.0])
    assert bool((ds.outcome == 0).all())
    rel = ds.relative_error.values                            # (eps, target, start)
    assert np.all(np.abs(rel) < 0.02)                         # agrees at leading order
    slope = rel / eps[:, None, None]                          # rel / eps ~ constant 2C/(1-E)
    np.testing.assert_allclose(slope, np.broadcast_to(slope[:1], slope.shape), rtol=0.02)
    # universal: the start does not matter
    assert float(ds.start_spread.max()) < 1e-5


def test_fit_recovers_coefficient():
    ds = dynsys.limit_offset([1e-3, 2e-3, 4e-3, 8e-3], [0.5], lr_gfs=[3.0])
    fit = dynsys.fit_offset(ds)
    c, se = float(fit.coefficient[0]), float(fit.coefficient_se[0])
    assert se < 1e-3
    assert c == pytest.approx(21.5 / 64, abs=5e-4)          # (1 - E)(27 - 11 E)/32 at E = 1/2


def test_scaling_symmetry_of_the_limit():
    # outcome at (theta0, lr, E) equals that at (sqrt(lr/lr') theta0, lr', lr E/lr')
    m1 = dynsys.QuadraticRegression2D(0.02, 0.4)
    th = dynsys.eos_start(m1, 1.0, [2.7])
    r1 = dynsys.limit_sharpness(m1, th, 1.0)
    m2 = dynsys.QuadraticRegression2D(0.02, 0.4 / 0.25)
    r2 = dynsys.limit_sharpness(m2, th * np.sqrt(1.0 / 0.25), 0.25)
    np.testing.assert_allclose(r1.lr_sharpness, r2.lr_sharpness, rtol=1e-9)


def test_eos_start_inverts_gfs():
    m = dynsys.QuadraticRegression2D(0.03, -0.2)
    th = dynsys.eos_start(m, 0.5, [2.2, 3.0], theta_1=[0.2, 1.0])
    np.testing.assert_allclose(0.5 * dynsys.gfs_sharpness(m, th), [2.2, 3.0], rtol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match="lr_target"):
        dynsys.limit_offset([0.01], [1.2])
    with pytest.raises(ValueError, match="lr_gfs"):
        dynsys.limit_offset([0.01], [0.0], lr_gfs=[1.5])
    with pytest.raises(ValueError, match="eps"):
        dynsys.limit_offset([-0.01], [0.0])
    with pytest.raises(TypeError, match="model"):
        dynsys.eos_start(dynsys.ScalarNetwork(2), 1.0, [3.0])
    with pytest.raises(ValueError, match="lr"):
        dynsys.limit_sharpness(dynsys.QuadraticRegression2D(0.1), [[1.0, 1.0]], -1.0)
    with pytest.raises(TypeError, match="limit_offset"):
        dynsys.fit_offset(None)
