"""The constrained trajectory (projected GD onto the stable set) and the paper's prediction."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.eos import (
    constrained_trajectory,
    edge_geometry,
    project_stable_set,
    self_stabilisation_tracking,
    third_derivative,
)


def _random_model(D=5, P=50, seed=0, decay=0.4):
    # the study's model (analyses/self_stabilisation.py): output weights decay^a
    r = dynsys.SecondOrderRegression.random(D, P, sigma_z=1.0, sigma_J=1 / np.sqrt(P),
                                            sigma_Q=1 / np.sqrt(P), seed=seed)
    w = decay ** np.arange(D)
    return dynsys.SecondOrderRegression(3 * r.z0, r.J0 * w[:, None], r.Q * w[:, None, None])


def _sign_aligned_g(model, theta, u_ref):
    e = edge_geometry(model, theta)
    return e["g"] * np.sign(e["u"] @ u_ref)


def test_derivatives_match_differences(rng):
    m = dynsys.SecondOrderRegression.random(3, 6, sigma_z=1.0, sigma_J=1.0, seed=2)
    generic = dynsys.Model.from_loss(m.loss, m.grad, m.hessian, dim=6)
    theta = 0.5 * rng.normal(size=6)
    np.testing.assert_allclose(third_derivative(m, theta), third_derivative(generic, theta),
                               atol=1e-7)
    e, eg = edge_geometry(m, theta), edge_geometry(generic, theta)
    np.testing.assert_allclose(e["grad_g"], eg["grad_g"], rtol=1e-6, atol=1e-7)
    # independent: directional derivatives of S and of g = grad L . u by central differences
    d, h = rng.normal(size=6), 1e-6
    fd_S = (m.sharpness(theta + h * d) - m.sharpness(theta - h * d)) / (2 * h)
    fd_g = (_sign_aligned_g(m, theta + h * d, e["u"])
            - _sign_aligned_g(m, theta - h * d, e["u"])) / (2 * h)
    assert e["grad_S"] @ d == pytest.approx(float(fd_S), rel=1e-6)
    assert e["grad_g"] @ d == pytest.approx(fd_g, rel=1e-5)


def test_projection_onto_the_stable_set():
    m = _random_model()
    lr = 0.04
    tr = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=760)
    # a point past the edge (lr S > 2): the sharpness constraint must become active
    p = tr.theta.values[760]
    assert lr * float(m.sharpness(p)) > 2
    q = project_stable_set(m, p, lr, variant="nearest_point")
    e = edge_geometry(m, q)
    assert e["S"] == pytest.approx(2 / lr, rel=1e-9)
    assert abs(e["g"]) < 1e-8
    # KKT: q - p lies in the span of the constraint normals, so q is a nearest point
    A = np.stack([e["grad_g"], e["grad_S"]], axis=1)
    coef, *_ = np.linalg.lstsq(A, q - p, rcond=None)
    # (Gauss-Newton stops on the constraint values, so normality holds to ~1e-6)
    assert np.linalg.norm(A @ coef - (q - p)) < 1e-5 * np.linalg.norm(q - p)
    # idempotent, and a batch gives the same points
    np.testing.assert_allclose(project_stable_set(m, q, lr, variant="nearest_point"), q,
                               atol=1e-10)
    batch = project_stable_set(m, np.stack([p, q]), lr, variant="nearest_point")
    np.testing.assert_allclose(batch, np.stack([q, q]), atol=1e-9)
    # the 2-D model: grad L . u is proportional to z, so M is the minimum curve with S <= 2/lr
    m2 = dynsys.QuadraticRegression2D(0.1)
    q2 = project_stable_set(m2, [1.5, 4.0], 1.0, variant="nearest_point")
    assert abs(float(m2.residual(q2)[0])) < 1e-10 and float(m2.sharpness(q2)) < 2


def test_constrained_trajectory_is_projected_gd():
    m = _random_model()
    lr = 0.04
    start = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=740).theta.values[740]
    ct = constrained_trajectory(m, start, lr, steps=5, variant="nearest_point")
    th = ct.theta.values
    for t in range(5):
        step = th[t] - lr * m.grad(th[t])
        np.testing.assert_allclose(project_stable_set(m, step, lr, variant="nearest_point"),
                                   th[t + 1], atol=1e-9)
        np.testing.assert_allclose(ct.projection_shift.values[t], th[t + 1] - step, atol=1e-12)
    assert np.all(ct.active.values == 1)
    np.testing.assert_allclose(lr * ct.sharpness.values, 2.0, rtol=1e-9)
    assert np.all(ct.alpha.values > 0)                   # sharpening is being held back
    assert ct.active.attrs["flag_meanings"]


def test_prediction_tracks_gd_where_the_assumptions_hold():
    # D = 5, P = 50 random second-order model started on GD's path at lr S = 1.9: sustained
    # progressive sharpening (alpha > 0) and |u . grad S| / |grad S| < 0.1 all along.
    m = _random_model()
    lr = 0.04
    tr = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=800)
    k = int(np.argmax(lr * tr.sharpness.values > 1.9))
    ds = self_stabilisation_tracking(m, tr.theta.values[k], lr, steps=800,
                                     variant="projection_shift")
    assert float(ds.alpha.min()) > 0 and float(ds.cos_u_grad_S.max()) < 0.1
    assert np.all(ds.active.values[100:] == 1)          # on the edge after the first steps
    # the first cycle (progressive sharpening past 2/lr, up to the blow-up) is tracked to 2%
    err = lr / 2 * np.abs(ds.sharpness_pred - ds.sharpness_true).values
    assert err[:100].max() < 0.02
    a = ds.attrs
    assert a["window_stop"] - a["window_start"] > 200      # several whole cycles
    # time averages over whole cycles: <x^2> ~ 2 alpha / beta, predicted <x^2>, <S>
    assert a["mean_x2_true"] == pytest.approx(a["mean_two_alpha_over_beta"], rel=0.25)
    assert a["mean_x2_pred"] == pytest.approx(a["mean_x2_true"], rel=0.3)
    assert a["mean_sharpness_pred"] == pytest.approx(a["mean_sharpness_true"], rel=0.08)
    assert 0.8 < lr * a["mean_sharpness_true"] / 2 < 1.0    # GD hovers just below the edge


def test_two_d_model_has_no_room_for_the_paper_setting():
    # In 2-D, M is the minimum curve: theta+ is a fixed point (alpha = 0) and grad S is
    # almost parallel to u, so the predicted <x^2> = 2 alpha / beta is 0.
    m = dynsys.QuadraticRegression2D(0.01, 0.0)
    ds = self_stabilisation_tracking(m, [1.2, np.sqrt(2.3 / 0.01)], 1.0, steps=50,
                                     variant="projection_shift")
    assert float(np.abs(ds.alpha).max()) < 1e-12
    assert float(ds.cos_u_grad_S.min()) > 0.99
    assert float((ds.beta_perp / ds.beta).max()) < 0.01
    th = ds.theta_constrained.values
    np.testing.assert_allclose(th, np.broadcast_to(th[0], th.shape), rtol=1e-12)


def test_authors_projection_is_the_default_and_reaches_the_stable_set():
    m = _random_model()
    lr = 0.04
    p = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=760).theta.values[760]
    q = project_stable_set(m, p, lr, n_project=10)
    np.testing.assert_array_equal(q, dynsys.eos.project_authors(m, p, lr, n_project=10)[0])
    e = edge_geometry(m, q)
    assert abs(e["g"]) < 1e-12 * np.linalg.norm(e["grad_L"]) * e["S"]
    # the fixed point of the authors' step: S lands at 2/lr up to the second-order error of
    # one linearised sharpness step along grad S_perp (not the nearest point of M)
    assert abs(lr * e["S"] - 2) < 1e-4
    near = project_stable_set(m, p, lr, variant="nearest_point")
    assert np.linalg.norm(q - near) < 0.05 * np.linalg.norm(q - p)


def test_authors_constrained_trajectory_is_projected_gd():
    m = _random_model()
    lr = 0.04
    start = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=740).theta.values[740]
    ct = constrained_trajectory(m, start, lr, steps=5)
    assert ct.attrs["variant"] == "authors" and int(ct.status) == 0
    th = ct.theta.values
    for t in range(5):
        step = th[t] - lr * m.grad(th[t])
        np.testing.assert_allclose(project_stable_set(m, step, lr), th[t + 1], rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(ct.projection_shift.values[t], th[t + 1] - step, atol=1e-12)
    assert np.all(ct.active.values[1:] == 1) and np.all(ct.alpha.values > 0)
    np.testing.assert_allclose(lr * ct.sharpness.values, 2.0, atol=1e-3)
    np.testing.assert_allclose(ct.delta2, 2 * ct.alpha / ct.beta, rtol=1e-14)
    np.testing.assert_array_equal(ct.beta, ct.beta_perp)


def test_authors_tracking_is_the_default():
    # same model and start as the projection-shift test above, fewer steps: the authors'
    # recurrence (stable_set_tracking) with window statistics; it tracks the first rise past
    # the edge (its phase then drifts from GD's: README, issue 12)
    m = _random_model()
    lr = 0.04
    tr = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=800)
    k = int(np.argmax(lr * tr.sharpness.values > 1.9))
    ds = self_stabilisation_tracking(m, tr.theta.values[k], lr, steps=60)
    ref = dynsys.eos.stable_set_tracking(m, tr.theta.values[k], lr, steps=60)
    assert ds.attrs["variant"] == "authors"
    for key in ("x_true", "x_pred", "sharpness_pred", "loss_pred", "delta2"):
        np.testing.assert_array_equal(ds[key], ref[key])
    np.testing.assert_array_equal(ds.two_alpha_over_beta, ds.delta2)
    err = lr / 2 * np.abs(ds.sharpness_pred - ds.sharpness_true).values
    assert err[:40].max() < 0.05
    a = ds.attrs
    assert a["tracked_steps"] == 61 and 0 <= a["window_start"] < a["window_stop"] <= 61
    w = slice(a["window_start"], a["window_stop"])
    assert a["mean_x2_true"] == pytest.approx(float(np.mean(ds.x_true[w] ** 2)), rel=1e-12)
    np.testing.assert_allclose(ds.theta.values[0], tr.theta.values[k])


def test_bad_input():
    m = dynsys.QuadraticRegression2D(0.1)
    with pytest.raises(ValueError, match="lr"):
        project_stable_set(m, [1.5, 4.0], -1.0)
    with pytest.raises(ValueError, match="theta"):
        project_stable_set(m, [1.5, 4.0, 1.0], 1.0)
    with pytest.raises(TypeError, match="model"):
        constrained_trajectory("m", [1.0, 1.0], 1.0, steps=3)
    with pytest.raises(ValueError, match="steps"):
        constrained_trajectory(m, [1.5, 4.0], 1.0, steps=0)
    with pytest.raises(ValueError, match="theta0"):
        self_stabilisation_tracking(m, [[1.5, 4.0]], 1.0, steps=5)
    with pytest.raises(ValueError, match="window"):
        self_stabilisation_tracking(m, [1.5, 4.0], 1.0, steps=5, window=100)
    with pytest.raises(ValueError, match="tol"):
        project_stable_set(m, [1.5, 4.0], 1.0, tol=0.5)
