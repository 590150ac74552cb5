"""GFS sharpness: closed forms against the ODE path, special cases, batches, input checks."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


@pytest.mark.parametrize("target,theta", [(0.4, [[0.3, 5.0], [1.5, 0.0]]),
                                          (-0.4, [[-2.5, 0.7], [0.0, 2.0]])])
def test_qr2d_closed_form_matches_ode(target, theta):
    m = dynsys.QuadraticRegression2D(0.1, target)
    theta = np.array(theta)
    closed = dynsys.gfs_solution(m, theta)
    ode = dynsys.gfs_solution(m, theta, method="ode")
    assert ode.attrs["method"] == "ode" and closed.attrs["method"] == "closed"
    np.testing.assert_allclose(closed.gfs_sharpness, ode.gfs_sharpness, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(closed.gfs_theta, ode.gfs_theta, rtol=1e-8, atol=1e-9)


def test_qr2d_conserved_quantity_and_solution_set():
    m = dynsys.QuadraticRegression2D(0.05, 0.3)
    theta = np.array([[0.3, 7.0], [2.0, -3.0], [-0.7, 1.1]])
    ds = dynsys.gfs_solution(m, theta)
    lim = ds.gfs_theta.values
    np.testing.assert_allclose(m.residual(lim)[:, 0], 0.0, atol=1e-14)
    inv0 = np.abs(theta[:, 0]) ** 0.05 * np.abs(theta[:, 1])
    inv1 = np.abs(lim[:, 0]) ** 0.05 * np.abs(lim[:, 1])
    np.testing.assert_allclose(inv1, inv0, rtol=1e-13)
    np.testing.assert_allclose(ds.gfs_sharpness, m.sharpness(lim), rtol=1e-12)


@pytest.mark.parametrize("depth,target,scale", [(3, 1.5, 2.0), (4, -0.5, 3.0),
                                                (3, 0.0, 1.0)])
def test_scalar_closed_form_matches_ode(depth, target, scale):
    m = dynsys.ScalarNetwork(depth, target, scale)
    theta = np.random.default_rng(depth).normal(size=(1, depth))
    closed = dynsys.gfs_sharpness(m, theta)
    ode = dynsys.gfs_sharpness(m, theta, method="ode")
    np.testing.assert_allclose(closed, ode, rtol=1e-8)


def test_scalar_depth2_formula_and_saddle():
    m = dynsys.ScalarNetwork(2, 1.3, 2.0)
    w = np.random.default_rng(0).normal(size=(50, 2))
    formula = 2.0 * np.sqrt((w[:, 0] ** 2 - w[:, 1] ** 2) ** 2 + 4 * 1.3 ** 2)
    np.testing.assert_allclose(dynsys.gfs_sharpness(m, w), formula, rtol=1e-13)
    # tied magnitudes with the wrong sign: the flow ends at the saddle w = 0, sharpness a |y|
    assert dynsys.gfs_sharpness(m, [1.0, -1.0]) == pytest.approx(2.0 * 1.3, rel=1e-14)


def test_point_on_solution_set_is_its_own_gfs(rng):
    m = dynsys.QuadraticRegression2D(0.1, 0.5)
    b = rng.normal(size=20) * 3
    a = np.sqrt(2 * 0.5 + 0.1 * b * b) * np.sign(rng.normal(size=20))
    theta = np.stack([a, b], axis=1)
    np.testing.assert_allclose(dynsys.gfs_sharpness(m, theta), m.sharpness(theta), rtol=1e-13)
    net = dynsys.ScalarNetwork(3, 2.0, 1.0)
    w = np.abs(rng.normal(size=(10, 2))) + 0.5
    theta = np.concatenate([w, (2.0 / np.prod(w, axis=1))[:, None]], axis=1)
    np.testing.assert_allclose(dynsys.gfs_sharpness(net, theta), net.sharpness(theta),
                               rtol=1e-12)


def test_generic_model_uses_ode():
    # a user loss equal to the depth-2 scalar network: the ODE path must match the closed form
    user = dynsys.Model.from_loss(lambda t: 0.5 * (t[..., 0] * t[..., 1] - 1.0) ** 2, dim=2)
    theta = [[2.0, 0.3]]
    got = dynsys.gfs_sharpness(user, theta)
    want = dynsys.gfs_sharpness(dynsys.ScalarNetwork(2), theta)
    np.testing.assert_allclose(got, want, rtol=1e-7)


def test_batches_keep_shape():
    m = dynsys.QuadraticRegression2D(0.1, 0.2)
    theta = np.random.default_rng(1).normal(size=(3, 4, 2)) + 1.0
    out = dynsys.gfs_sharpness(m, theta)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out[1, 2], dynsys.gfs_sharpness(m, theta[1, 2]))
    assert dynsys.gfs_sharpness(m, [1.0, 1.0]).shape == ()


def test_bad_input():
    m = dynsys.QuadraticRegression2D(0.1)
    with pytest.raises(ValueError, match="theta"):
        dynsys.gfs_sharpness(m, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="theta"):
        dynsys.gfs_sharpness(m, [np.nan, 1.0])
    with pytest.raises(ValueError, match="method"):
        dynsys.gfs_sharpness(m, [1.0, 1.0], method="euler")
    with pytest.raises(ValueError, match="closed"):
        dynsys.gfs_sharpness(dynsys.SecondOrderRegression.random(2, 2, sigma_z=1, sigma_J=1,
                                                                 seed=0), [0, 0],
                             method="closed")
    with pytest.raises(TypeError, match="model"):
        dynsys.gfs_sharpness("model", [1.0, 1.0])
