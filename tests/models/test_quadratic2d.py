"""The 2-D model of Agarwala et al. against the closed forms of docs/math.md section 3."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys


def test_gd_step_equals_closed_form_on_batches(rng):
    for eps, target, lr in [(0.1, 0.0, 1.0), (0.01, 0.7, 0.3), (0.2, -1.0, 2.5)]:
        model = dynsys.QuadraticRegression2D(eps, target)
        theta = rng.normal(size=(7, 5, 2)) * [2.0, 4.0]
        z = 0.5 * (theta[..., 0] ** 2 - eps * theta[..., 1] ** 2) - target
        expected = np.stack([(1 - lr * z) * theta[..., 0], (1 + eps * lr * z) * theta[..., 1]], -1)
        np.testing.assert_allclose(dynsys.gd_map(model, lr).step(theta), expected,
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(model.ntk_eigenvalue(theta),
                                   theta[..., 0] ** 2 + eps ** 2 * theta[..., 1] ** 2, rtol=1e-13)
        np.testing.assert_allclose(model.residual(theta)[..., 0], z, rtol=1e-13, atol=1e-14)


def test_zero_residual_sharpness_equals_ntk_eigenvalue(rng):
    model = dynsys.QuadraticRegression2D(0.05, 1.0)
    theta2 = rng.normal(size=20) * 3
    theta1 = np.sqrt(2 * 1.0 + 0.05 * theta2 ** 2)           # z = 0
    theta = np.stack([theta1, theta2], -1)
    np.testing.assert_allclose(model.residual(theta), 0, atol=1e-14)
    np.testing.assert_allclose(model.sharpness(theta), model.ntk_eigenvalue(theta), rtol=1e-12)


@settings(max_examples=30, deadline=None)
@given(lr=st.floats(0.2, 2.0), lr2=st.floats(0.2, 2.0), eta_e=st.floats(-0.5, 0.9),
       t1=st.floats(-2.0, 2.0), t2=st.floats(-6.0, 6.0), eps=st.sampled_from([0.01, 0.05, 0.1]))
def test_scaling_symmetry_along_trajectories(lr, lr2, eta_e, t1, t2, eps):
    """(theta0, eta, E) and (sqrt(eta/eta') theta0, eta', eta E/eta') have the same p, q, x."""
    theta0 = np.array([t1, t2])
    a = dynsys.trajectory(dynsys.QuadraticRegression2D(eps, eta_e / lr), theta0, lr=lr, steps=300)
    b = dynsys.trajectory(dynsys.QuadraticRegression2D(eps, eta_e / lr2),
                          np.sqrt(lr / lr2) * theta0, lr=lr2, steps=300)
    assert int(a.outcome) == int(b.outcome)
    ok = np.isfinite(a.theta.values).all(-1) & (np.abs(a.theta.values) < 1e6).all(-1)
    scaled = np.sqrt(lr2 / lr) * b.theta.values[ok]
    np.testing.assert_allclose(scaled, a.theta.values[ok], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(lr * a.ntk_eigenvalue.values[ok], lr2 * b.ntk_eigenvalue.values[ok],
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("eps", [0.01, 0.02, 0.04])
@pytest.mark.parametrize("eta_e", [0.0, 0.3, 0.6])
def test_progressive_sharpening_then_edge_of_stability(eps, eta_e):
    """From a start whose gradient-flow limit is sharper than 2/lr, the NTK eigenvalue rises
    past 2/lr and GD settles at lr lambda_inf = 2 - eps (1 - lr E)/2 + O(eps^2)."""
    lr = 1.0
    model = dynsys.QuadraticRegression2D(eps, eta_e / lr)
    theta0 = np.array([0.3, np.sqrt(2.5 / eps)])   # eps theta_2^2 = 2.5: the flow ends past 2/lr
    ds = dynsys.trajectory(model, theta0, lr=lr, steps=400_000)
    lam = ds.ntk_eigenvalue.values
    assert int(ds.outcome) == dynsys.Outcome.BOUNDED
    assert lr * lam[0] < 2                                  # starts below the edge
    assert lr * lam.max() > 2                               # progressive sharpening past it
    assert abs(float(ds.residual[-1, 0])) < 1e-10           # converged
    limit = lr * lam[-1]
    predicted = 2 - eps * (1 - eta_e) / 2
    assert limit < 2
    assert abs(limit - predicted) < 4 * eps ** 2, (limit, predicted)


def test_bad_parameters():
    with pytest.raises(ValueError, match="eps"):
        dynsys.QuadraticRegression2D(-0.1)
    with pytest.raises(ValueError, match="eps"):
        dynsys.QuadraticRegression2D(float("nan"))
    with pytest.raises(TypeError, match="eps"):
        dynsys.QuadraticRegression2D("0.1")
    with pytest.raises(ValueError, match="target"):
        dynsys.QuadraticRegression2D(0.1, float("inf"))
