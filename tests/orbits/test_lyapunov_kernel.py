"""The compiled QR loop of lyapunov_spectrum (issue 16): deferred logarithms, the closed-form 2-D
QR, the general Gram-Schmidt path for other dimensions, and the on-disk cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys
from dynsys._numba import njit
from dynsys.orbits import _lyapunov as L
from dynsys.systems._map import MapKernel


# -- a linear map x' = A x with A (3 x 3) the map's nine parameters, compiled -----------------
@njit
def _lin3_step(x, p, out):
    for i in range(3):
        out[i] = p[3 * i] * x[0] + p[3 * i + 1] * x[1] + p[3 * i + 2] * x[2]


@njit
def _lin3_jac(x, p, out):
    for i in range(3):
        for j in range(3):
            out[i, j] = p[3 * i + j]


def _lin3(a) -> dynsys.Map:
    names = tuple(f"a{i}{j}" for i in range(3) for j in range(3))
    params = dict(zip(names, np.asarray(a, dtype=float).ravel().tolist(), strict=True))

    def step(x, **p):
        return np.array([[p[f"a{i}{j}"] for j in range(3)] for i in range(3)]) @ x

    return dynsys.Map(step, dim=3, params=params, name="linear3",
                      kernel=MapKernel(_lin3_step, _lin3_jac, names))


# -- a map whose Jacobian is a huge and a tiny constant (the state stays put) -----------------
@njit
def _still_step(x, p, out):
    for i in range(x.shape[0]):
        out[i] = x[i]


@njit
def _still_jac(x, p, out):
    d = x.shape[0]
    for i in range(d):
        for j in range(d):
            out[i, j] = 0.0
    out[0, 0] = p[0]
    out[1, 1] = p[1]
    if d > 2:
        out[2, 2] = 1.0


def _still(dim, big, small) -> dynsys.Map:
    return dynsys.Map(lambda x, big, small: x, dim=dim, params={"big": big, "small": small},
                      kernel=MapKernel(_still_step, _still_jac, ("big", "small")))


def _sums(mapping, x0, steps, log_every, transient=100, batches=5):
    sums = np.zeros((batches, mapping.dim))
    loop = L._compiled_loop(mapping.kernel)
    # the loop updates the state and the frame in place (long runs are sliced, see _sliced)
    diverged = loop(np.array(x0, dtype=float), np.eye(mapping.dim), mapping.param_vector(),
                    transient, steps, batches, 1e12, log_every, sums)
    assert diverged == -1
    return sums


@pytest.mark.parametrize("mapping,x0", [
    (dynsys.maps.henon(1.4, 0.3), [0.1, 0.1]),                       # the 2-D loop
    (dynsys.maps.logistic(3.9), [0.3]),                              # the general loop, 1-D
    (_lin3([[0.5, 0.3, 0.0], [0.0, 0.9, 0.3], [0.1, 0.0, -0.6]]), [1.0, 0.5, 0.2]),
])
@pytest.mark.parametrize("log_every", [1, 7, 32, 10_000])
def test_deferred_logarithms_change_nothing_but_rounding(mapping, x0, log_every):
    # every batch sum with logs taken every step, and taken every `log_every` steps
    ref = _sums(mapping, x0, 20_000, 1)
    got = _sums(mapping, x0, 20_000, log_every)
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("dim", [2, 3])
def test_huge_and_tiny_factors_do_not_overflow(dim):
    # |R_jj| = 1e150 and 1e-120 every step: a product of two of them leaves [1e-200, 1e200], so the
    # guard must log them at once; the exponents are exact
    lam = dynsys.lyapunov_spectrum(_still(dim, 1e150, 1e-120), np.ones(dim), steps=1000,
                                   transient=0)
    expected = [np.log(1e150), np.log(1e-120)] if dim == 2 else [np.log(1e150), 0.0,
                                                                  np.log(1e-120)]
    np.testing.assert_allclose(lam.values, expected, rtol=1e-13, atol=1e-12)
    assert lam.attrs["outcome"] == "bounded"


def test_a_zero_factor_gives_minus_infinity():
    lam = dynsys.lyapunov_spectrum(_still(2, 2.0, 0.0), [1.0, 1.0], steps=100, transient=0)
    assert lam.values[0] == pytest.approx(np.log(2.0), rel=1e-14)
    assert lam.values[1] == -np.inf


def test_henon_values_and_the_sum_is_log_det_to_rounding():
    lam = dynsys.lyapunov_spectrum(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1], steps=200_000)
    # published: 0.419, -1.623 (Sprott, Chaos and Time-Series Analysis, table of exponents)
    np.testing.assert_allclose(lam.values, [0.419, -1.623], atol=3e-3)
    # closed-form 2-D QR: r0 r1 = |det J| = b every step
    assert abs(float(lam.sum()) - np.log(0.3)) < 1e-13


@settings(max_examples=25)
@given(st.lists(st.floats(-1.2, 1.2), min_size=9, max_size=9))
def test_sum_of_exponents_is_log_abs_det_in_three_dimensions(entries):
    a = np.array(entries).reshape(3, 3)
    det = np.linalg.det(a)
    eig = np.abs(np.linalg.eigvals(a))
    if abs(det) < 1e-3 or eig.max() > 1.15:       # keep the orbit finite and the map invertible
        return
    lam = dynsys.lyapunov_spectrum(_lin3(a), [1.0, 0.7, -0.4], steps=400, transient=0)
    assert lam.attrs["jacobian"].startswith("analytic (compiled")
    assert abs(float(lam.sum()) - np.log(abs(det))) < 1e-9


def test_three_dimensional_compiled_exponents_are_log_eigenvalues():
    a = np.array([[0.9, 0.3, 0.0], [0.1, 0.5, 0.2], [0.0, 0.3, -0.7]])
    expected = np.sort(np.log(np.abs(np.linalg.eigvals(a))))[::-1]
    lam = dynsys.lyapunov_spectrum(_lin3(a), np.ones(3), steps=60, transient=60)
    np.testing.assert_allclose(lam.values, expected, rtol=0, atol=1e-10)


@pytest.mark.slow
def test_second_process_loads_the_kernel_from_the_disk_cache(tmp_path):
    code = textwrap.dedent("""
        import dynsys
        from dynsys.orbits._lyapunov import _compiled_loop
        h = dynsys.maps.henon()
        dynsys.lyapunov_spectrum(h, [0.1, 0.1], steps=100)
        loop = _compiled_loop(h.kernel)
        inner = loop.py_func.__globals__["benettin2"]
        print(sum(loop.stats.cache_misses.values()), sum(loop.stats.cache_hits.values()),
              sum(inner.stats.cache_misses.values()))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, check=True,
                           capture_output=True, text=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == "1"                      # compiled in the first process
    assert runs[1] == ["0", "1", "0"]             # loaded, not compiled, in the second
