"""Our five-point Jacobian against SciPy's adaptive one (``scipy.differentiate.jacobian``).

Both are checked against the analytic Jacobians of the built-in maps; the comparison is why
``dynsys/systems/_numdiff.py`` keeps its own stencil (numbers in its docstring and in
docs/math.md section 1).
"""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.systems import _numdiff

differentiate = pytest.importorskip("scipy.differentiate")


def _scipy_jacobian(func, x, **kwargs):
    """SciPy's Jacobian in our layout: ``func: (..., dim) -> (..., dim)``, result
    ``(..., dim, dim)``; also every point SciPy asked for, in our layout."""
    asked = []

    def f(p):                                   # SciPy puts the component axis first
        q = np.moveaxis(p, 0, -1)
        asked.append(q.reshape(-1, q.shape[-1]))
        return np.moveaxis(func(q), -1, 0)

    res = differentiate.jacobian(f, np.moveaxis(x, -1, 0), **kwargs)
    jac = np.moveaxis(np.moveaxis(res.df, 0, -1), 0, -1)    # (out, in, ...) -> (..., out, in)
    return jac, np.concatenate(asked)


def _batched(m):
    f = m.batch_step()
    return lambda p: f(p.reshape(-1, m.dim)).reshape(p.shape)


MAPS = {
    "logistic": (dynsys.maps.logistic(3.7), (0.0, 1.0)),
    "henon": (dynsys.maps.henon(1.4, 0.3), (-2.0, 2.0)),
    "newton_cubic": (dynsys.maps.newton_cubic(1.0), (0.5, 2.0)),   # away from the pole at 0
    "gd[qr2d]": (dynsys.gd_map(dynsys.QuadraticRegression2D(eps=0.1), lr=0.5), (-2.0, 2.0)),
}


@pytest.mark.parametrize("name", sorted(MAPS))
def test_ours_and_scipy_agree_with_the_analytic_jacobian(name):
    m, (lo, hi) = MAPS[name]
    x = np.random.default_rng(15).uniform(lo, hi, (200, m.dim))
    exact = m.jacobian(x)
    ours = _numdiff.jacobian(_batched(m), x)
    theirs, _ = _scipy_jacobian(_batched(m), x)
    scale = np.maximum(1.0, np.abs(exact))
    assert np.max(np.abs(ours - exact) / scale) < 1e-9
    assert np.max(np.abs(theirs - exact) / scale) < 1e-9
    assert np.max(np.abs(ours - theirs) / scale) < 2e-9


def test_ours_stays_within_two_steps_scipy_default_leaves_the_domain():
    """On the logistic map on [0, 1] our stencil asks for points within 2e-3 of x, SciPy's
    default (initial step 0.5) for points half a unit outside [0, 1]."""
    m, _ = MAPS["logistic"]
    x = np.linspace(0.0, 1.0, 11)[:, None]
    asked = []

    def f(p):
        asked.append(p.reshape(-1, 1))
        return _batched(m)(p)

    _numdiff.jacobian(f, x)
    ours = np.concatenate(asked)
    assert ours.min() >= -2e-3 - 1e-15 and ours.max() <= 1 + 2e-3 + 1e-15
    _, theirs = _scipy_jacobian(_batched(m), x)
    assert theirs.min() <= -0.5 + 1e-12 and theirs.max() >= 1.5 - 1e-12


def test_ours_is_one_vectorised_call_scipy_iterates():
    m, (lo, hi) = MAPS["henon"]
    x = np.random.default_rng(1).uniform(lo, hi, (7, 3, m.dim))       # any batch shape
    calls = []

    def f(p):
        calls.append(p.shape)
        return _batched(m)(p)

    ours = _numdiff.jacobian(f, x)
    assert ours.shape == (7, 3, 2, 2) and len(calls) == 1
    n_before = len(calls)
    theirs, _ = _scipy_jacobian(f, x)
    assert len(calls) - n_before > 2                                   # Richardson rounds
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)
