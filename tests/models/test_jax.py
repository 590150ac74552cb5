"""The JAX backend of the autodiff model protocol against analytic models and finite
differences (JAX is installed by the test extra)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys

jax = pytest.importorskip("jax")
jnp = jax.numpy


def jax_qr2d(eps, target, theta0):
    def loss(p):
        z = 0.5 * (p["a"] ** 2 - eps * p["b"] ** 2) - target
        return 0.5 * z ** 2
    return dynsys.Model.from_jax(loss, {"a": np.float64(theta0[0]), "b": np.float64(theta0[1])})


def jax_second_order(m: dynsys.SecondOrderRegression):
    z0, J0, Q = m.z0, m.J0, m.Q              # NumPy float64 constants

    def loss(theta):
        z = z0 + J0 @ theta + 0.5 * jnp.einsum("apq,p,q->a", Q, theta, theta)
        return 0.5 * jnp.sum(z * z)
    return dynsys.Model.from_jax(loss, np.zeros(m.dim))


@pytest.fixture(scope="module")
def second_order():
    m = dynsys.SecondOrderRegression.random(4, 6, sigma_z=1.0, sigma_J=0.5, sigma_Q=0.3, seed=3)
    return m, jax_second_order(m)


def test_qr2d_trajectory_and_sharpness_match_analytic():
    m = dynsys.QuadraticRegression2D(eps=0.05, target=0.0)
    j = jax_qr2d(0.05, 0.0, [0.3, 7.0])
    a = dynsys.trajectory(m, [0.3, 7.0], lr=1.0, steps=300)
    b = dynsys.trajectory(j, j.theta0, lr=1.0, steps=300)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.loss, a.loss, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b.sharpness, a.sharpness, rtol=1e-10, atol=1e-12)
    assert float(a.sharpness[-1]) > 1.9          # the run reached the edge: a real comparison


def test_qr2d_gfs_sharpness_matches_analytic():
    m = dynsys.QuadraticRegression2D(eps=0.05, target=0.3)
    starts = [[0.3, 7.0], [1.5, -2.0]]
    j = jax_qr2d(0.05, 0.3, starts[0])
    ode_jax = dynsys.gfs_sharpness(j, starts)
    ode_np = dynsys.gfs_sharpness(m, starts, method="ode")
    closed = dynsys.gfs_sharpness(m, starts)
    np.testing.assert_allclose(ode_jax, ode_np, rtol=1e-10)
    np.testing.assert_allclose(ode_jax, closed, rtol=1e-10)


def test_gfs_ode_polish_reaches_flat_minima_to_1e10():
    # target 0, eps 0.01: flat minima (GFS sharpness 1e-3 and 3e-3), where stopping the flow
    # at |grad| = 1e-11 alone left the sharpness 2.5e-7 and 8e-10 off (relative); the Newton
    # polish of the end point (dynsys/eos/_gfs.py, _polish) takes both to ~3e-15
    m = dynsys.QuadraticRegression2D(eps=0.01, target=0.0)
    starts = [[0.3, 0.3], [0.2, 0.5]]
    j = jax_qr2d(0.01, 0.0, starts[0])
    closed = dynsys.gfs_sharpness(m, starts)
    assert closed.max() < 3e-3                       # flat minima: a real comparison
    np.testing.assert_allclose(dynsys.gfs_sharpness(j, starts), closed, rtol=1e-10)


def test_second_order_matches_analytic(second_order):
    m, j = second_order
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((5, m.dim))
    np.testing.assert_allclose(j.loss(theta), m.loss(theta), rtol=1e-12)
    np.testing.assert_allclose(j.grad(theta), m.grad(theta), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(j.hessian(theta), m.hessian(theta), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(j.sharpness(theta), m.sharpness(theta), rtol=1e-11)
    lr = 1.0 / float(m.sharpness(np.zeros(m.dim)))
    a = dynsys.trajectory(m, np.zeros(m.dim), lr=lr, steps=200)
    b = dynsys.trajectory(j, np.zeros(m.dim), lr=lr, steps=200)
    np.testing.assert_allclose(b.theta, a.theta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.sharpness, a.sharpness, rtol=1e-10)
    g = dynsys.gfs_sharpness(j, theta[:2])       # the same ODE path on both
    np.testing.assert_allclose(g, dynsys.gfs_sharpness(m, theta[:2]), rtol=1e-10)


def test_gd_map_on_jax_model(second_order):
    m, j = second_order
    x = np.linspace(-1, 1, m.dim)
    np.testing.assert_allclose(dynsys.gd_map(j, 0.1).step(x), dynsys.gd_map(m, 0.1).step(x),
                               rtol=1e-12)
    np.testing.assert_allclose(dynsys.gd_map(j, 0.1).jacobian(x),
                               dynsys.gd_map(m, 0.1).jacobian(x), rtol=1e-11, atol=1e-12)


def test_third_derivative_matches_closed_form(second_order):
    m, j = second_order
    theta = np.random.default_rng(1).standard_normal(m.dim)
    S, u, gS = j.sharpness_gradient(theta)
    T = dynsys.eos.third_derivative(m, theta, method="analytic")
    np.testing.assert_allclose(gS, np.einsum("kpq,p,q->k", T, u, u), rtol=1e-10, atol=1e-12)
    ref = dynsys.sharpness_gradient(m, theta, method="analytic")
    assert abs(S - ref[0]) < 1e-11 * abs(S)
    np.testing.assert_allclose(gS, ref[2], rtol=1e-10, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_hvp_and_third_against_finite_differences(seed):
    X, Y = dynsys.networks.teacher_student(12, d_in=3, seed=1)
    net = _tiny_net(X, Y)
    rng = np.random.default_rng(seed)
    theta = net.theta0 + 0.3 * rng.standard_normal(net.dim)
    v, w = rng.standard_normal((2, net.dim))
    h = 1e-5
    fd = (net.grad_at(theta + h * v) - net.grad_at(theta - h * v)) / (2 * h)
    hv = net.hvp(theta, v)
    assert np.max(np.abs(hv - fd)) <= 1e-7 * max(1.0, np.max(np.abs(hv)))
    assert abs(w @ hv - v @ net.hvp(theta, w)) <= 1e-12 * max(1.0, abs(w @ hv))   # symmetric
    t3 = net.third_uu(theta, v)                   # directional derivative of v . H v along w
    fd3 = (v @ net.hvp(theta + h * w, v) - v @ net.hvp(theta - h * w, v)) / (2 * h)
    assert abs(t3 @ w - fd3) <= 1e-6 * max(1.0, abs(fd3))


_NETS = {}


def _tiny_net(X, Y):
    if "net" not in _NETS:
        _NETS["net"] = dynsys.networks.mlp(X, Y, width=5, depth=2, activation="tanh", seed=0)
    return _NETS["net"]


def test_lanczos_matches_dense_eigensolver():
    X, Y = dynsys.networks.digits(40, classes=3)
    net = dynsys.networks.mlp(X, Y, width=4, depth=1, activation="gelu", seed=0)
    assert net.dim > net.dense_max                # the Lanczos path
    theta = net.theta0
    dense = np.linalg.eigvalsh(net.hessian(theta))[::-1]
    vals, vecs, info = net.top_eigenpairs(theta, 3, return_info=True)
    np.testing.assert_allclose(vals, dense[:3], rtol=1e-10, atol=1e-12 * dense[0])
    for i in range(3):                            # eigenvectors: H u = lambda u
        r = net.hvp(theta, vecs[:, i]) - vals[i] * vecs[:, i]
        assert np.linalg.norm(r) <= 1e-8 * dense[0]
    assert info["n_hvp"] < net.dim                # cheaper than assembling the Hessian
    # a warm start from a nearby point's eigenvectors needs fewer products
    near = theta + 1e-4 * np.random.default_rng(0).standard_normal(net.dim)
    _, _, warm = net.top_eigenpairs(near, 1, v0=vecs[:, 0], tol=1e-8, return_info=True)
    _, _, cold = net.top_eigenpairs(near, 1, tol=1e-8, return_info=True)
    assert warm["n_hvp"] < cold["n_hvp"]
    dense_top, _ = net.top_eigenpairs(theta, 1, method="dense")
    assert abs(dense_top[0] - vals[0]) <= 1e-10 * vals[0]


def test_pytree_round_trip():
    params = {"layer": [np.arange(3.0), np.ones((2, 2))], "scale": np.float64(2.0)}
    m = dynsys.Model.from_jax(lambda p: jnp.sum(p["layer"][1] ** 2) * p["scale"], params)
    assert m.dim == 8
    tree = m.unflatten(m.theta0)
    np.testing.assert_array_equal(np.asarray(tree["layer"][1]), np.ones((2, 2)))
    np.testing.assert_array_equal(m.flatten(tree), m.theta0)
    assert float(m.loss(m.theta0)) == 8.0
    with pytest.raises(ValueError, match="theta must have shape"):
        m.unflatten(np.zeros(3))


def test_float32_constants_in_the_loss_are_reported():
    c = jnp.ones(3, dtype=jnp.float32)
    with pytest.warns(UserWarning, match="float32"):
        dynsys.Model.from_jax(lambda p: jnp.sum(c * p ** 2), np.ones(3))


def test_float32_params_are_upcast_with_a_warning():
    with pytest.warns(UserWarning, match="float32.*upcast to float64"):
        m = dynsys.Model.from_jax(lambda p: jnp.sum(p ** 2), np.ones(3, dtype=np.float32))
    assert m.theta0.dtype == np.float64 and jax.config.jax_enable_x64
    assert np.asarray(m.grad(m.theta0)).dtype == np.float64


@pytest.mark.parametrize("loss, params, err, match", [
    (lambda p: p ** 2, np.ones(3), ValueError, "must return a scalar"),
    (lambda p: jnp.sum(p), np.ones(3, dtype=int), TypeError, "floating-point"),
    (lambda p: jnp.sum(p["missing"]), {"w": np.ones(2)}, ValueError, "loss\\(params\\) failed"),
    ("not callable", np.ones(2), TypeError, "loss must be callable"),
    (lambda p: jnp.sum(p), {}, ValueError, "at least one array"),
])
def test_bad_input(loss, params, err, match):
    with pytest.raises(err, match=match):
        dynsys.Model.from_jax(loss, params)


def test_top_eigenpairs_bad_input(second_order):
    _, j = second_order
    with pytest.raises(ValueError, match="k"):
        j.top_eigenpairs(np.zeros(j.dim), 0)
    with pytest.raises(ValueError, match="v0"):
        j.top_eigenpairs(np.zeros(j.dim), 1, v0=np.ones(2))
    with pytest.raises(ValueError, match="one point"):
        j.top_eigenpairs(np.zeros((2, j.dim)), 1)


def test_hessian_refused_for_large_models(second_order):
    _, j = second_order
    big = type(j).__new__(type(j))
    big.__dict__.update(j.__dict__)
    big.hessian_max = 3
    with pytest.raises(ValueError, match="hvp, top_eigenpairs or sharpness"):
        big.hessian(np.zeros(j.dim))


def test_without_jax_the_entry_point_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)      # import jax now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "dynsys\[jax\]"'):
        dynsys.Model.from_jax(lambda p: p.sum(), np.ones(2))
    # the rest of the library does not need it
    assert float(dynsys.QuadraticRegression2D(0.1).sharpness([1.0, 0.0])) > 0
