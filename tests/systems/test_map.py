"""The Map protocol: vectorisation, numerical Jacobians, parameters, bad input."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


def test_numerical_jacobian_accuracy(rng):
    """Numerical Jacobian of Henon (no analytic one given) within 1e-8 of the analytic one."""
    ref = dynsys.maps.henon(1.4, 0.3)
    numeric = dynsys.Map(lambda x, a, b: np.array([1 - a * x[0] ** 2 + x[1], b * x[0]]),
                         dim=2, params={"a": 1.4, "b": 0.3})
    x = rng.uniform(-2, 2, (50, 2))
    assert not numeric.has_analytic_jacobian
    np.testing.assert_allclose(numeric.jacobian(x), ref.jacobian(x), rtol=0, atol=1e-9)


def test_pointwise_function_is_vectorised(rng):
    calls = []

    def step(x, r):
        calls.append(np.shape(x))
        if np.ndim(x) != 1:
            raise ValueError("one point only")
        return r * x * (1 - x)

    m = dynsys.Map(step, dim=1, params={"r": 3.0})
    x = rng.uniform(0, 1, (4, 3, 1))
    np.testing.assert_allclose(m.step(x), 3.0 * x * (1 - x), rtol=1e-15)
    assert m._step.vectorized is False


def test_batched_function_is_detected(rng):
    m = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.0})
    m.step(rng.uniform(0, 1, (5, 1)))
    assert m._step.vectorized is True


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="dim"):
        dynsys.Map(lambda x: x, dim=0)
    with pytest.raises(TypeError, match="step"):
        dynsys.Map("not callable", dim=1)
    with pytest.raises(TypeError, match="jacobian"):
        dynsys.Map(lambda x: x, 3.0, dim=1)
    with pytest.raises(ValueError, match="params"):
        dynsys.Map(lambda x, r: x, dim=1, params={"r": float("nan")})
    with pytest.raises(TypeError, match="params"):
        dynsys.Map(lambda x: x, dim=1, params=[1.0])


def test_wrong_output_shape_is_reported():
    m = dynsys.Map(lambda x: np.zeros(3), dim=2)
    with pytest.raises(ValueError, match="step returned shape"):
        m.step(np.zeros(2))


def test_iterate_matches_repeated_steps():
    m = dynsys.maps.logistic(3.3)
    x = np.array([0.2])
    for _ in range(5):
        x = m.step(x)
    np.testing.assert_allclose(m.iterate([0.2], 5), x, rtol=1e-15)


def test_gd_map_lr_validation():
    model = dynsys.QuadraticRegression2D(0.1)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="lr"):
            dynsys.gd_map(model, bad)
    with pytest.raises(ValueError, match="lr"):
        dynsys.gd_map(model, 1.0).with_params(lr=-0.5)
    with pytest.raises(TypeError, match="model"):
        dynsys.gd_map("model", 1.0)


def test_gd_map_flips_at_two_over_h():
    """GD on L = h x^2 / 2 has multiplier 1 - lr h: -1 exactly at lr = 2/h."""
    h = 3.0
    model = dynsys.Model.from_loss(lambda t: 0.5 * h * t[..., 0] ** 2,
                                   grad=lambda t: h * t, hessian=lambda t: h * np.ones(
                                       t.shape[:-1] + (1, 1)), dim=1)
    jac = dynsys.gd_map(model, 2 / h).jacobian([0.0])
    assert jac[0, 0] == pytest.approx(-1.0, abs=1e-15)
