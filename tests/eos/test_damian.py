"""The authors' self-stabilisation recurrence against an independent plain re-implementation."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.eos import TrackingStatus, stable_set_tracking


def plain_reference(z0, J0, Q, theta0, lr, steps, n_project=3):
    """The recurrence of the paper's code written out with dense matrices, for L = |z|^2/2."""
    def parts(th):
        z = z0 + J0 @ th + 0.5 * np.einsum("apq,p,q->a", Q, th, th)
        J = J0 + np.einsum("apq,q->ap", Q, th)
        H = J.T @ J + np.einsum("a,apq->pq", z, Q)
        # d/dtheta_k of H_pq = sum_a Q_apk J_aq + J_ap Q_aqk + J_ak Q_apq
        T = (np.einsum("apk,aq->kpq", Q, J) + np.einsum("ap,aqk->kpq", J, Q)
             + np.einsum("ak,apq->kpq", J, Q))
        w, V = np.linalg.eigh(H)
        u = V[:, -1]
        gS = np.einsum("kpq,p,q->k", T, u, u)
        perp = gS - u * (u @ gS)
        return dict(z=z, gL=J.T @ z, H=H, S=w[-1], u=u, perp=perp, loss=0.5 * z @ z)

    def project(th):
        for _ in range(n_project):
            p = parts(th)
            th = (th - max(0.0, p["S"] - 2 / lr) * p["perp"] / (p["perp"] @ p["perp"])
                  - p["u"] * (p["u"] @ p["gL"]) / p["S"])
        return th

    theta, dag = theta0.copy(), project(theta0)
    v = theta - dag
    u_prev = None
    out = {k: [] for k in ("x_pred", "x_true", "y_pred", "y_true", "loss_pred", "loss_true",
                           "loss_constrained", "sharpness_constrained", "sharpness_pred",
                           "alpha", "beta", "delta2")}
    for t in range(steps + 1):
        p = parts(dag)
        u = p["u"] if u_prev is None or p["u"] @ u_prev >= 0 else -p["u"]
        u_prev = u
        perp = p["perp"]
        out["x_pred"].append(u @ v)
        out["x_true"].append(u @ (theta - dag))
        out["loss_pred"].append(parts(dag + v)["loss"])
        out["sharpness_constrained"].append(p["S"])
        alpha, beta = -p["gL"] @ perp, perp @ perp
        x, y = u @ v, perp @ v
        out["y_pred"].append(y)
        out["y_true"].append(perp @ (theta - dag))
        out["loss_true"].append(parts(theta)["loss"])
        out["loss_constrained"].append(p["loss"])
        out["sharpness_pred"].append(p["S"] + y)
        out["alpha"].append(alpha)
        out["beta"].append(beta)
        out["delta2"].append(2 * alpha / beta)
        v = v - lr * ((x * x - 2 * alpha / beta) * perp / 2 + p["H"] @ v + u * x * y)
        theta = theta - lr * parts(theta)["gL"]
        dag = project(dag - lr * p["gL"])
    return {k: np.array(a) for k, a in out.items()}


@pytest.fixture(scope="module")
def tiny():
    m = dynsys.SecondOrderRegression.random(2, 4, sigma_z=1.0, sigma_J=0.6, sigma_Q=0.5, seed=7)
    theta0 = np.array([0.3, -0.2, 0.1, 0.4])
    lr = 2.1 / float(m.sharpness(theta0))          # past the edge: the projection acts
    return m, theta0, lr


def test_recurrence_matches_plain_reimplementation(tiny):
    # exact formulas in float64 on both sides: agreement to 1e-12 over 25 steps
    m, theta0, lr = tiny
    ds = stable_set_tracking(m, theta0, lr, steps=25)
    ref = plain_reference(m.z0, m.J0, m.Q, theta0, lr, 25)
    n = int(ds.attrs["tracked_steps"])
    assert n >= 10
    for key, values in ref.items():
        got = ds[key].values[:n]
        np.testing.assert_allclose(got, values[:n], rtol=1e-12, atol=1e-12 * np.abs(values).max(),
                                   err_msg=key)
    assert float(np.abs(ds.x_true[0] - ds.x_pred[0])) == 0.0   # same start


def test_jax_model_gives_the_same_tracking(tiny):
    jax = pytest.importorskip("jax")
    m, theta0, lr = tiny
    z0, J0, Q = m.z0, m.J0, m.Q              # NumPy float64: traced as float64 constants

    def loss(th):
        z = z0 + J0 @ th + 0.5 * jax.numpy.einsum("apq,p,q->a", Q, th, th)
        return 0.5 * jax.numpy.sum(z * z)
    j = dynsys.Model.from_jax(loss, theta0)
    a = stable_set_tracking(m, theta0, lr, steps=15)
    b = stable_set_tracking(j, theta0, lr, steps=15)
    for key in ("x_pred", "x_true", "sharpness_constrained", "loss_pred", "delta2"):
        np.testing.assert_allclose(b[key], a[key], rtol=1e-8, atol=1e-11, err_msg=key)


def test_projection_reaches_the_stable_set(tiny):
    m, theta0, lr = tiny
    p, q = dynsys.eos.project_authors(m, theta0, lr, n_project=8)
    assert abs(q["grad_L"] @ q["u"]) < 1e-6 * np.linalg.norm(q["grad_L"])
    assert lr * q["S"] <= 2 + 1e-6
    assert abs(q["u"] @ q["grad_S_perp"]) < 1e-12 * np.linalg.norm(q["grad_S"])


def test_eigengap_stop_and_flat_directions():
    # L = 1/2 theta^T diag(10, 9.9, 1) theta: lambda_2 = 9.9 > 1.9 / lr at lr = 0.2
    quad = dynsys.Model.from_loss(lambda t: 0.5 * (10 * t[..., 0] ** 2 + 9.9 * t[..., 1] ** 2
                                                   + t[..., 2] ** 2),
                                  grad=lambda t: t * np.array([10, 9.9, 1.0]),
                                  hessian=lambda t: np.broadcast_to(np.diag([10, 9.9, 1.0]),
                                                                    t.shape + (3,)), dim=3)
    ds = stable_set_tracking(quad, [0.1, 0.1, 0.1], 0.2, steps=5)
    assert int(ds.status) == TrackingStatus.EIGENGAP_LOST and ds.attrs["tracked_steps"] == 0
    # past the edge with grad S = 0 the sharpness cannot be lowered: diverged, not a crash
    ds = stable_set_tracking(quad, [0.1, 0.1, 0.1], 0.3, steps=5, gap_level=1e3)
    assert int(ds.status) == TrackingStatus.DIVERGED


@pytest.mark.parametrize("kwargs, match", [
    (dict(steps=0), "steps"), (dict(lr=-1.0), "lr"), (dict(theta0=[1.0, 2.0]), "theta0"),
    (dict(n_project=-1), "n_project"), (dict(gap_level=0.0), "gap_level"),
])
def test_bad_input(tiny, kwargs, match):
    m, theta0, lr = tiny
    args = dict(theta0=theta0, lr=lr, steps=3) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        stable_set_tracking(m, **args)
