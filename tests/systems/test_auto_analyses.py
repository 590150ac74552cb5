"""Trajectories, orbit diagrams and Lyapunov spectra of a user's ``Map`` and ``Model.from_loss``
model run the kernel numba compiles from the user's functions (the ``compiled`` hook, as basins
do), with the results of the numpy path (``jit=False``): to the last bit where numba and numpy
do the same arithmetic, else to the stated tolerance."""

import warnings

import numpy as np
import pytest
import scipy.special

import dynsys
from _user_functions import poly_jac, poly_step, qr2d_grad, qr2d_hess, qr2d_loss


def _maps(jit):
    return dynsys.Map(poly_step, poly_jac, dim=2, params={"a": 1.4, "b": 0.3}, jit=jit)


def _model(jit, derivatives=True):
    if derivatives:
        return dynsys.Model.from_loss(qr2d_loss, grad=qr2d_grad, hessian=qr2d_hess, dim=2,
                                      jit=jit)
    return dynsys.Model.from_loss(qr2d_loss, dim=2, jit=jit)


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", dynsys.SlowPathWarning)
        return fn(*args, **kwargs)


def test_user_map_trajectory_compiled_bit_for_bit():
    # a chaotic orbit: one differing bit would be amplified to O(1) within 2000 steps
    fast = _quiet(dynsys.trajectory, _maps(None), [0.1, 0.1], steps=2000)
    slow = dynsys.trajectory(_maps(False), [0.1, 0.1], steps=2000)
    assert fast.attrs["compiled"] == 1 and slow.attrs["compiled"] == 0
    np.testing.assert_array_equal(fast.x.values, slow.x.values)
    assert np.isfinite(fast.x.values).all() and np.ptp(fast.x.values[1000:, 0]) > 1.0


@pytest.mark.parametrize("derivatives", [True, False])
def test_from_loss_trajectory_compiled(derivatives):
    x0, lr = [0.7, 5.0], 0.9
    fast = _quiet(dynsys.trajectory, _model(None, derivatives), x0, lr=lr, steps=1500)
    slow = dynsys.trajectory(_model(False, derivatives), x0, lr=lr, steps=1500)
    assert fast.attrs["compiled"] == 1 and slow.attrs["compiled"] == 0
    if derivatives:             # the user's gradient: the same arithmetic
        np.testing.assert_array_equal(fast.theta.values, slow.theta.values)
        np.testing.assert_array_equal(fast.loss.values, slow.loss.values)
        # numba's eigvalsh of the same symmetrised Hessian against numpy's
        np.testing.assert_allclose(fast.sharpness.values, slow.sharpness.values, rtol=1e-12)
    else:                       # five-point differences summed in another order; GD converges
        np.testing.assert_allclose(fast.theta.values, slow.theta.values, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fast.loss.values, slow.loss.values, rtol=1e-8, atol=1e-15)
        np.testing.assert_allclose(fast.sharpness.values, slow.sharpness.values, rtol=1e-8)


def test_user_map_orbit_diagram_compiled_bit_for_bit():
    values = dynsys.linspace(0.3, 1.4, 23)
    kw = dict(x0=[0.1, 0.1], steps=600, keep=50, param="a")
    fast = _quiet(dynsys.bifurcation_diagram, _maps(None), values, **kw)
    slow = dynsys.bifurcation_diagram(_maps(False), values, **kw)
    assert fast.attrs["compiled"] == 1 and slow.attrs["compiled"] == 0
    np.testing.assert_array_equal(fast.x.values, slow.x.values)
    np.testing.assert_array_equal(fast.diverged_at.values, slow.diverged_at.values)


@pytest.mark.parametrize("derivatives", [True, False])
def test_from_loss_orbit_diagram_compiled(derivatives):
    values = dynsys.linspace(0.5, 6.0, 23)          # converging, at the edge, diverging
    kw = dict(x0=[1.2, 3.0], steps=500, keep=20)
    fast = _quiet(dynsys.bifurcation_diagram, _model(None, derivatives), values, **kw)
    slow = dynsys.bifurcation_diagram(_model(False, derivatives), values, **kw)
    assert fast.attrs["compiled"] == 1 and slow.attrs["compiled"] == 0
    out = fast.outcome.values
    assert (out == dynsys.Outcome.DIVERGED).any() and (out == dynsys.Outcome.BOUNDED).any()
    np.testing.assert_array_equal(fast.outcome.values, slow.outcome.values)
    ok = fast.outcome.values == dynsys.Outcome.BOUNDED
    if derivatives:
        np.testing.assert_array_equal(fast.theta.values, slow.theta.values)
        np.testing.assert_array_equal(fast.diverged_at.values, slow.diverged_at.values)
        np.testing.assert_array_equal(fast.loss.values, slow.loss.values)
        np.testing.assert_allclose(fast.sharpness.values[ok], slow.sharpness.values[ok],
                                   rtol=1e-12)
    else:                       # only the converging step sizes: differences stay round-off
        calm = fast.lr.values < 1.5
        np.testing.assert_allclose(fast.theta.values[calm], slow.theta.values[calm],
                                   rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.sharpness.values[calm], slow.sharpness.values[calm],
                                   rtol=1e-7)
    np.testing.assert_array_equal(np.isnan(fast.sharpness.values), np.isnan(slow.sharpness.values))


def test_user_map_lyapunov_compiled():
    """Gram-Schmidt in closed form (compiled) against numpy's Householder QR: to 1e-7."""
    fast = _quiet(dynsys.lyapunov_spectrum, _maps(None), [0.1, 0.1], steps=3000, transient=100)
    slow = dynsys.lyapunov_spectrum(_maps(False), [0.1, 0.1], steps=3000, transient=100)
    assert fast.attrs["jacobian"] == "analytic (compiled kernel)"
    assert slow.attrs["jacobian"] == "analytic"
    np.testing.assert_allclose(fast.values, slow.values, atol=1e-7)
    np.testing.assert_allclose(fast.values.sum(), np.log(0.3), atol=1e-9)
    trace = _quiet(dynsys.lyapunov_convergence, _maps(None), [0.1, 0.1], steps=3000,
                   transient=100, checkpoints=10)
    assert trace.attrs["jacobian"] == "analytic (compiled kernel)"
    np.testing.assert_allclose(trace.lyapunov_exponent.values, fast.values, atol=1e-12)


@pytest.mark.parametrize("derivatives", [True, False])
def test_from_loss_lyapunov_compiled(derivatives):
    """Along an orbit converging to a minimum (exponents 0 and log|1 - lr lambda|): with the
    user's Hessian to 1e-9; without it, compiled differences of the step against numpy's
    differences of the difference gradient, to 1e-6."""
    kw = dict(lr=0.3, steps=4000, transient=0)
    fast = _quiet(dynsys.lyapunov_spectrum, _model(None, derivatives), [1.5, 1.0], **kw)
    slow = dynsys.lyapunov_spectrum(_model(False, derivatives), [1.5, 1.0], **kw)
    assert "compiled" in fast.attrs["jacobian"] and "compiled" not in slow.attrs["jacobian"]
    assert fast.attrs["jacobian"] == ("analytic (compiled kernel)" if derivatives
                                      else "finite differences (compiled)")
    np.testing.assert_allclose(fast.values, slow.values, atol=1e-9 if derivatives else 1e-6)
    assert fast.values[1] < -0.01


def _expit_step(x, r):
    return np.array([r * scipy.special.expit(x[0])])


def test_uncompilable_map_warns_once_points_at_the_caller_and_runs_numpy():
    m = dynsys.Map(_expit_step, dim=1, params={"r": 2.0}, name="expit_map")
    with pytest.warns(dynsys.SlowPathWarning) as record:
        a = dynsys.trajectory(m, [0.2], steps=50)
        b = dynsys.lyapunov_spectrum(m, [0.2], steps=50, transient=0)
        c = dynsys.bifurcation_diagram(m, [1.0, 2.0], x0=[0.2], steps=50, keep=5)
    assert len(record) == 1                              # once per user function
    assert record[0].filename == __file__                # at the user's call, not inside dynsys
    msg = str(record[0].message)
    assert "expit_map" in msg and "point-iterations/s" in msg and "jit=False" in msg
    assert a.attrs["compiled"] == 0 and c.attrs["compiled"] == 0
    assert b.attrs["jacobian"] == "finite differences"
    quiet = dynsys.Map(_expit_step, dim=1, params={"r": 2.0}, jit=False)
    np.testing.assert_array_equal(a.x.values, _quiet(dynsys.trajectory, quiet, [0.2],
                                                      steps=50).x.values)
    with pytest.raises(ValueError, match="jit=True"):
        dynsys.trajectory(dynsys.Map(_expit_step, dim=1, params={"r": 2.0}, jit=True), [0.2],
                          steps=5)
