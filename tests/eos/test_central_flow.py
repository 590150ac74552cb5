"""The central flow with one eigenvalue at the edge (docs/math.md section 6)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

import dynsys
from dynsys.eos import FlowPhase, FlowStatus, central_flow


@pytest.fixture(scope="module")
def edge_model():
    # sharpens from lr S = 1.44 to the edge at t = 8.8 steps, then rides it to a minimum
    # with S = 2/lr while the second eigenvalue stays near 1/lr
    m = dynsys.SecondOrderRegression.random(3, 8, sigma_z=1.0, sigma_J=0.3, sigma_Q=0.3, seed=2)
    return m, np.zeros(8), 1.0


@pytest.fixture(scope="module")
def edge_flow(edge_model):
    m, theta0, lr = edge_model
    return central_flow(m, theta0, lr, time=120.0, every=2.0, save_theta=True)


def test_below_the_edge_it_is_gradient_flow():
    # L = theta^T A theta / 2 with lr max(A) < 2: w(t) = expm(-lr A t) w0 exactly
    A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
    quad = dynsys.Model.from_loss(lambda t: 0.5 * np.einsum("...p,pq,...q->...", t, A, t),
                                  grad=lambda t: t @ A,
                                  hessian=lambda t: np.broadcast_to(A, t.shape + (3,)), dim=3)
    w0, lr = np.array([1.0, -2.0, 0.5]), 0.5
    cf = central_flow(quad, w0, lr, time=20.0, every=4.0, save_theta=True)
    assert int(cf.status) == FlowStatus.COMPLETE and np.isnan(cf.attrs["t_edge"])
    assert np.all(cf.phase.values == FlowPhase.GRADIENT_FLOW) and np.all(cf.sigma2 == 0)
    exact = np.array([expm(-lr * A * t) @ w0 for t in cf.flow_time.values])
    np.testing.assert_allclose(cf.theta.values, exact, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cf.loss_predicted, cf.loss, rtol=0)


def test_sharpness_is_held_at_the_edge(edge_model, edge_flow):
    m, _, lr = edge_model
    cf = edge_flow
    assert int(cf.status) == FlowStatus.COMPLETE
    assert 5.0 < cf.attrs["t_edge"] < 12.0
    on = cf.phase.values == FlowPhase.AT_EDGE
    assert on.sum() > 40
    np.testing.assert_allclose(lr * cf.sharpness.values[on], 2.0, atol=1e-8)
    assert cf.attrs["max_edge_drift"] < 1e-8
    # below the edge before t_edge, and S = 2/lr recomputed independently by eigvalsh
    assert np.all(lr * cf.sharpness.values[~on] < 2.0)
    theta = cf.theta.values[on]
    S = np.array([np.linalg.eigvalsh(m.hessian(t))[-1] for t in theta])
    np.testing.assert_allclose(lr * S, 2.0, atol=1e-8)


def test_sigma2_is_the_value_that_stops_the_sharpness(edge_model, edge_flow):
    m, _, lr = edge_model
    cf = edge_flow
    on = np.flatnonzero(cf.phase.values == FlowPhase.AT_EDGE)
    for i in on[::5]:
        w = cf.theta.values[i]
        h = m.hessian(w)
        vals, vecs = np.linalg.eigh(h)
        u = vecs[:, -1]
        # grad S by central differences of the top eigenvalue (independent of third_uu)
        eps = 1e-6
        gS = np.array([(np.linalg.eigvalsh(m.hessian(w + eps * e))[-1]
                        - np.linalg.eigvalsh(m.hessian(w - eps * e))[-1]) / (2 * eps)
                       for e in np.eye(m.dim)])
        gL = m.grad(w)
        expected = max(0.0, 2 * float(-gL @ gS) / float(gS @ gS))
        assert float(cf.sigma2[i]) == pytest.approx(expected, rel=1e-5, abs=1e-9)
        assert u @ u == pytest.approx(1.0)
    # d L / dt = -lr |P grad L|^2 <= 0: the flow's loss never rises, and the predicted
    # time-averaged loss adds sigma^2 / lr
    assert np.all(np.diff(cf.loss.values) <= 1e-12)
    np.testing.assert_allclose(cf.loss_predicted, cf.loss + cf.sigma2 / lr, rtol=1e-14)
    assert float(cf.sigma2.max()) > 0


def test_stops_when_a_second_eigenvalue_reaches_the_edge(edge_model):
    m, theta0, lr = edge_model
    # lambda_2 stays near 1/lr on this model: a level of 0.5 x 2/lr is passed early
    cf = central_flow(m, theta0, lr, time=120.0, every=2.0, gap_level=0.5)
    assert int(cf.status) == FlowStatus.SECOND_EIGENVALUE
    assert cf.attrs["stop_reason"] == "second eigenvalue at the edge"
    t_stop = cf.attrs["t_stop"]
    assert 0 <= t_stop < 120.0
    after = cf.flow_time.values > t_stop
    assert after.any() and np.all(np.isnan(cf.loss.values[after]))
    before = cf.lambda_2.values[~after & np.isfinite(cf.lambda_2.values)]
    assert np.all(lr * before <= 0.5 * 2 + 1e-9)


def test_jax_twin_gives_the_same_flow(edge_model, edge_flow):
    jax = pytest.importorskip("jax")
    m, theta0, lr = edge_model
    z0, J0, Q = m.z0, m.J0, m.Q

    def loss(th):
        z = z0 + J0 @ th + 0.5 * jax.numpy.einsum("apq,p,q->a", Q, th, th)
        return 0.5 * jax.numpy.sum(z * z)
    j = dynsys.Model.from_jax(loss, theta0)
    cj = central_flow(j, theta0, lr, time=120.0, every=2.0)
    assert cj.attrs["t_edge"] == pytest.approx(edge_flow.attrs["t_edge"], rel=1e-8)
    for key in ("loss", "loss_predicted", "sharpness", "sigma2"):
        np.testing.assert_allclose(cj[key], edge_flow[key], rtol=1e-6, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("kwargs, match", [
    (dict(time=0.0), "time"), (dict(lr=-1.0), "lr"), (dict(theta0=[1.0, 2.0]), "theta0"),
    (dict(every=500.0), "every"), (dict(gap_level=0.0), "gap_level"),
    (dict(restore=-1.0), "restore"), (dict(rtol=1.0), "rtol"), (dict(model="m"), "model"),
])
def test_bad_input(edge_model, kwargs, match):
    m, theta0, lr = edge_model
    args = dict(model=m, theta0=theta0, lr=lr, time=10.0) | kwargs
    with pytest.raises((ValueError, TypeError), match=match):
        central_flow(**args)


@pytest.mark.slow
def test_study_script_quick(tmp_path):
    # ~13 s of CPU (JAX compilation); the subprocess is slow on a loaded machine
    pytest.importorskip("jax")
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "analyses" / "central_flow.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    ds = dynsys.load(tmp_path / "central_flow.nc")
    assert (tmp_path / "central_flow.png").stat().st_size > 10_000
    assert ds.sizes["case"] == 1 and "loss_rel_error" in ds and "dynsys_version" in ds.attrs
    FlowStatus.decode(ds.status)
