"""Lyapunov spectra against exact values (issue 3)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import dynsys


def test_henon_exponents_and_their_sum():
    lam = dynsys.lyapunov_spectrum(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1], steps=1_000_000)
    assert lam.dims == ("exponent",) and lam.exponent.values.tolist() == [1, 2]
    np.testing.assert_allclose(lam.values, [0.4192, -1.6232], atol=3e-3)
    assert abs(float(lam.sum()) - np.log(0.3)) < 1e-6
    se = lam.attrs["standard_error"]
    assert se.shape == (2,) and np.all((se > 0) & (se < 5e-3))
    assert lam.attrs["outcome"] == "bounded" and lam.attrs["jacobian"].startswith("analytic")
    assert lam.values[0] > lam.values[1]


def test_logistic_r4_exponent_is_ln2():
    lam = dynsys.lyapunov_spectrum(dynsys.maps.logistic(4.0), [0.3], steps=1_000_000)
    assert abs(float(lam[0]) - np.log(2)) < 5e-3
    assert abs(float(lam[0]) - np.log(2)) < 5 * lam.attrs["standard_error"][0] + 1e-3


def test_logistic_stable_cycle_exponent_from_its_multiplier():
    r = 3.2
    lam = dynsys.lyapunov_spectrum(dynsys.maps.logistic(r), [0.3], steps=10_000)
    np.testing.assert_allclose(float(lam[0]), np.log(abs(4 + 2 * r - r * r)) / 2, rtol=1e-6)


@pytest.mark.parametrize("matrix", [
    [[0.5, 0.0], [0.0, 0.2]],
    [[1.5, 1.0], [0.0, 0.4]],
    [[0.9, 0.3, 0.0], [0.1, 0.5, 0.2], [0.0, 0.3, -0.7]],
])
def test_linear_map_exponents_are_log_abs_eigenvalues(matrix):
    a = np.array(matrix)
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(a))))[::-1]
    m = dynsys.maps.linear(a)
    python = dynsys.Map(m._step_fn, m._jac_fn, dim=len(a), vectorized=True, jit=False)
    for mapping, how in ((m, "analytic (compiled kernel)"), (python, "analytic")):
        lam = dynsys.lyapunov_spectrum(mapping, np.ones(len(a)), steps=60, transient=60)
        np.testing.assert_allclose(lam.values, expected, rtol=0, atol=1e-10)
        assert lam.attrs["jacobian"] == how                    # the compiled / Python loop
        np.testing.assert_allclose(lam.attrs["standard_error"], 0.0, atol=1e-10)


def test_compiled_and_python_paths_agree():
    h = dynsys.maps.henon(1.4, 0.3)
    kernel_fd = dynsys.Map(h._step_fn, dim=2, params=h.params, vectorized=True,
                           kernel=dataclasses.replace(h.kernel, jacobian=None))
    python_analytic = dynsys.Map(h._step_fn, h._jac_fn, dim=2, params=h.params, vectorized=True,
                                 jit=False)
    python_numerical = dynsys.Map(h._step_fn, dim=2, params=h.params, vectorized=True,
                                  jit=False)
    ref = dynsys.lyapunov_spectrum(h, [0.1, 0.1], steps=3000, transient=100)
    runs = {"finite differences (compiled)": kernel_fd, "analytic": python_analytic,
            "finite differences": python_numerical}
    for how, mapping in runs.items():
        lam = dynsys.lyapunov_spectrum(mapping, [0.1, 0.1], steps=3000, transient=100)
        assert lam.attrs["jacobian"] == how
        np.testing.assert_allclose(lam.values, ref.values, atol=1e-7)
        np.testing.assert_allclose(lam.attrs["standard_error"], ref.attrs["standard_error"],
                                   rtol=1e-4)


def test_pointwise_user_map_one_dimensional():
    m = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 4.0})
    lam = dynsys.lyapunov_spectrum(m, [0.3], steps=20_000)
    assert abs(float(lam[0]) - np.log(2)) < 5 * lam.attrs["standard_error"][0] + 0.01


def test_gd_on_a_model_and_a_converging_orbit():
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    lam = dynsys.lyapunov_spectrum(model, [1.5, 1.0], lr=0.3, steps=5000)
    # converges to a stable point of the curve: exponents 0 (along) and log|1 - lr lambda|
    end = dynsys.gd_map(model, 0.3).iterate(np.array([1.5, 1.0]), 6000)
    expected = np.log(abs(1 - 0.3 * float(model.ntk_eigenvalue(end))))
    assert abs(float(lam[0])) < 1e-3
    assert abs(float(lam[1]) - expected) < 2e-3
    with pytest.raises(TypeError, match="lr"):
        dynsys.lyapunov_spectrum(model, [1.5, 1.0], steps=10)


@pytest.mark.parametrize("mapping,x0", [
    (dynsys.maps.henon(1.4, 0.3), [3.0, 3.0]),
    (dynsys.maps.logistic(4.0), [1.5]),
    (dynsys.maps.linear([[3.0, 0.0], [0.0, 0.5]]), [1.0, 1.0]),
])
def test_diverging_orbit_gives_a_status_not_a_crash(mapping, x0):
    lam = dynsys.lyapunov_spectrum(mapping, x0, steps=10_000, transient=0)
    assert lam.attrs["outcome"] == "diverged"
    assert lam.attrs["diverged_at_step"] > 0
    assert np.all(np.isnan(lam.values))


def test_superstable_orbit_gives_minus_infinity_quietly():
    lam = dynsys.lyapunov_spectrum(dynsys.maps.logistic(2.0), [0.5], steps=100, transient=0)
    assert lam.values.tolist() == [-np.inf]
    assert lam.attrs["outcome"] == "bounded"
