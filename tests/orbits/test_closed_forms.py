"""Fixed points, cycles and multipliers against closed forms (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.orbits import STABILITY


def henon_fixed_points(a, b):
    disc = np.sqrt((1 - b) ** 2 + 4 * a)
    xs = np.array([(-(1 - b) - disc) / (2 * a), (-(1 - b) + disc) / (2 * a)])
    return np.stack([xs, b * xs], axis=-1)


def henon_two_cycle(a, b):
    """x solves a^2 x^2 - a (1 - b) x + (1 - b)^2 - a = 0 (both roots: the two phases)."""
    x = np.sort(np.roots([a * a, -a * (1 - b), (1 - b) ** 2 - a]).real)
    return np.stack([x, b * x[::-1]], axis=-1)        # y_1 = b x_2, y_2 = b x_1


def henon_multipliers(a, b, points):
    """Eigenvalues of the product of Jacobians [[-2 a x, 1], [b, 0]] along the cycle."""
    prod = np.eye(2)
    for x in points:
        prod = np.array([[-2 * a * x[0], 1.0], [b, 0.0]]) @ prod
    return np.sort_complex(np.linalg.eigvals(prod))


def test_henon_fixed_points_and_multipliers():
    a, b = 1.4, 0.3
    ds = dynsys.fixed_points(dynsys.maps.henon(a, b), bounds=[(-3, 3), (-3, 3)])
    expected = henon_fixed_points(a, b)
    assert ds.sizes["point"] == 2
    np.testing.assert_allclose(ds.x.values, expected, rtol=0, atol=1e-14)
    for i in range(2):
        np.testing.assert_allclose(np.sort_complex(ds.multipliers.values[i]),
                                   henon_multipliers(a, b, expected[i:i + 1]), atol=1e-13)
    # both are saddles: one multiplier outside, one inside the unit circle
    assert [STABILITY[c] for c in ds.stability.values] == ["saddle", "saddle"]
    assert not ds.stable.any()
    assert (ds.family == -1).all()
    # multipliers are sorted by decreasing modulus
    assert np.all(np.diff(np.abs(ds.multipliers.values), axis=1) <= 0)
    assert ds.attrs["newton_starts"] == 128 and ds.attrs["seed"] == 0      # first round
    assert ds.attrs["complete"] == 1 and ds.attrs["seed_rounds"] >= 3


def test_henon_two_cycle_closed_form():
    a, b = 1.4, 0.3
    ds = dynsys.periodic_orbits(dynsys.maps.henon(a, b), 2, bounds=[(-3, 3), (-3, 3)])
    assert ds.period.values.tolist() == [1, 1, 2]
    two = ds.isel(orbit=2)
    expected = henon_two_cycle(a, b)
    np.testing.assert_allclose(two.x.values, expected, rtol=0, atol=1e-14)
    np.testing.assert_allclose(np.sort_complex(two.multipliers.values),
                               henon_multipliers(a, b, expected), rtol=1e-12)
    # closed-form Jacobian product: trace 4 a^2 x1 x2 + 2 b, determinant b^2
    mu = two.multipliers.values
    np.testing.assert_allclose(mu.prod().real, b * b, rtol=1e-12)
    np.testing.assert_allclose(mu.sum().real, 4 * a * a * expected[0, 0] * expected[1, 0] + 2 * b,
                               rtol=1e-12)
    np.testing.assert_allclose(ds.x.values[:2, 0], henon_fixed_points(a, b), atol=1e-14)


def test_henon_below_flip_has_no_two_cycle():
    # the 2-cycle exists only for a > 3 (1 - b)^2 / 4 = 0.3675
    ds = dynsys.periodic_orbits(dynsys.maps.henon(0.3, 0.3), 2, bounds=[(-4, 4), (-4, 4)])
    assert ds.period.values.tolist() == [1, 1]


@pytest.mark.parametrize("r", [3.05, 3.2, 3.4, 1 + np.sqrt(6) - 0.01])
def test_logistic_fixed_points_and_two_cycle(r):
    m = dynsys.maps.logistic(r)
    fp = dynsys.fixed_points(m, bounds=(-0.5, 1.5))
    np.testing.assert_allclose(fp.x.values[:, 0], [0.0, 1 - 1 / r], atol=1e-15)
    np.testing.assert_allclose(fp.multipliers.values[:, 0].real, [r, 2 - r], rtol=1e-13)
    assert fp.stable.values.tolist() == [False, False]           # r > 3: both unstable
    ds = dynsys.periodic_orbits(m, 2, bounds=(-0.5, 1.5))
    cyc = ds.where(ds.period == 2, drop=True)
    assert cyc.sizes["orbit"] == 1
    root = np.sqrt((r + 1) * (r - 3))
    np.testing.assert_allclose(cyc.x.values[0, :, 0], [(r + 1 - root) / (2 * r),
                                                       (r + 1 + root) / (2 * r)], atol=1e-14)
    np.testing.assert_allclose(cyc.multipliers.values[0, 0], 4 + 2 * r - r * r, atol=1e-12)
    assert bool(cyc.stable[0])                         # stable for 3 < r < 1 + sqrt(6)


def test_logistic_two_cycle_unstable_beyond_second_flip():
    r = 3.5
    ds = dynsys.periodic_orbits(dynsys.maps.logistic(r), 2, bounds=(0, 1))
    cyc = ds.where(ds.period == 2, drop=True)
    np.testing.assert_allclose(cyc.multipliers.values[0, 0], 4 + 2 * r - r * r, atol=1e-12)
    assert not bool(cyc.stable[0])
    assert STABILITY[int(cyc.stability[0])] == "repeller"


def test_multipliers_and_jacobian_helpers():
    h = dynsys.maps.henon(1.4, 0.3)
    cyc = henon_two_cycle(1.4, 0.3)
    mu = dynsys.multipliers(h, cyc, period=2)
    np.testing.assert_allclose(mu[0], mu[1], rtol=1e-12)      # same for every phase
    jac = dynsys.jacobian(h, np.zeros((3, 4, 2)))
    assert jac.shape == (3, 4, 2, 2)
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    theta = np.array([1.0, 2.0])
    np.testing.assert_allclose(dynsys.jacobian(model, theta, lr=0.3),
                               np.eye(2) - 0.3 * model.hessian(theta), rtol=1e-14)
    with pytest.raises(TypeError, match="lr"):
        dynsys.jacobian(model, theta)


def test_classify_tolerance_band():
    codes = dynsys.classify([[1 + 1e-12, 0.5], [1 + 1e-6, 0.5], [1j * 0.999, 0.2]], tol=1e-9)
    assert [STABILITY[c] for c in codes] == ["non_hyperbolic", "saddle", "stable"]
    assert dynsys.classify([[np.nan, 0.5]]).tolist() == [3]
