"""Built-in reference maps with analytic Jacobians and compiled kernels.

Their orbits, bifurcations and exponents are known in closed form or from the literature, so the
test suite checks every generic algorithm against them.
"""

from __future__ import annotations

import functools

import numpy as np

from . import _validate as check
from ._numba import njit
from .systems import Map, MapKernel

__all__ = ["logistic", "henon", "linear", "newton_cubic"]


def _fixed_box(box, value=None):
    return box


def _range_of(ranges, param):
    if param not in ranges:
        raise ValueError(f"no default range for parameter {param!r}; known: {sorted(ranges)}")
    return ranges[param]


def _with_defaults(m: Map, box, ranges) -> Map:
    """Give a built-in map its ``default_box`` and ``default_range`` hooks (``Map`` hook 4):
    where its dynamics happen and the interesting interval of each parameter."""
    m.default_box = functools.partial(_fixed_box, tuple(tuple(map(float, b)) for b in box))
    m.default_range = functools.partial(_range_of, {k: (float(lo), float(hi))
                                                    for k, (lo, hi) in ranges.items()})
    return m


# -- logistic -----------------------------------------------------------------------------
def _logistic_step(x, r):
    return r * x * (1.0 - x)


def _logistic_jacobian(x, r):
    return (r * (1.0 - 2.0 * x))[..., None]


@njit
def _logistic_step_k(x, p, out):
    out[0] = p[0] * x[0] * (1.0 - x[0])


@njit
def _logistic_jac_k(x, p, out):
    out[0, 0] = p[0] * (1.0 - 2.0 * x[0])


@njit
def _logistic_escapes_k(p, radius2):
    # |x| > R >= 2 + 4 / |r| gives |r x (1 - x)| >= |r| |x| (|x| - 1) (1 - 2^-53)^3 > |x| > R
    # as computed (three roundings); infinities stay infinite and NaN stays NaN (r finite, != 0)
    r = abs(p[0])
    return r > 0.0 and r < np.inf and radius2 >= (2.0 + 4.0 / r) ** 2


def logistic(r: float = 3.5) -> Map:
    """Return the logistic map ``x' = r x (1 - x)`` on R^1 (parameter ``r``).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.maps.logistic(3.2)
    >>> m.step([0.25])
    array([0.6])
    """
    r = check.real("r", r)
    kernel = MapKernel(_logistic_step_k, _logistic_jac_k, ("r",), escapes=_logistic_escapes_k)
    m = Map(_logistic_step, _logistic_jacobian, dim=1, params={"r": r}, name="logistic",
            vectorized=True, kernel=kernel)
    return _with_defaults(m, [(0.0, 1.0)], {"r": (2.8, 4.0)})


# -- Henon --------------------------------------------------------------------------------
def _henon_step(x, a, b):
    u, v = x[..., 0], x[..., 1]
    return np.stack([1.0 - a * u * u + v, b * u], axis=-1)


def _henon_jacobian(x, a, b):
    u = x[..., 0]
    out = np.zeros(x.shape[:-1] + (2, 2))
    out[..., 0, 0] = -2.0 * a * u
    out[..., 0, 1] = 1.0
    out[..., 1, 0] = b
    return out


@njit
def _henon_step_k(x, p, out):
    u = x[0]
    out[0] = 1.0 - p[0] * u * u + x[1]
    out[1] = p[1] * u


@njit
def _henon_jac_k(x, p, out):
    out[0, 0] = -2.0 * p[0] * x[0]
    out[0, 1] = 1.0
    out[1, 0] = p[1]
    out[1, 1] = 0.0


def henon(a: float = 1.4, b: float = 0.3) -> Map:
    """Return the Henon map ``(x, y) -> (1 - a x^2 + y, b x)`` (parameters ``a``, ``b``).

    Examples
    --------
    >>> import dynsys
    >>> dynsys.maps.henon().step([0.0, 0.0])
    array([1., 0.])
    """
    a = check.real("a", a)
    b = check.real("b", b)
    m = Map(_henon_step, _henon_jacobian, dim=2, params={"a": a, "b": b}, name="henon",
            vectorized=True, kernel=MapKernel(_henon_step_k, _henon_jac_k, ("a", "b")))
    return _with_defaults(m, [(-2.0, 2.0), (-2.0, 2.0)], {"a": (0.9, 1.4), "b": (0.1, 0.3)})


# -- linear -------------------------------------------------------------------------------
@njit
def _linear_step_k(x, p, out):
    dim = x.shape[0]                     # p: the matrix entries, row by row
    for i in range(dim):
        s = 0.0
        for j in range(dim):
            s += p[i * dim + j] * x[j]
        out[i] = s


@njit
def _linear_jac_k(x, p, out):
    dim = x.shape[0]
    for i in range(dim):
        for j in range(dim):
            out[i, j] = p[i * dim + j]


def linear(matrix) -> Map:
    """Return the linear map ``x' = A x`` (no parameters); its exponents are log|eig(A)|.

    Its kernel takes the entries of ``A`` as constants (so every matrix runs in the same
    compiled loops).

    Examples
    --------
    >>> import dynsys
    >>> dynsys.maps.linear([[2.0, 0.0], [0.0, 0.5]]).step([1.0, 1.0])
    array([2. , 0.5])
    """
    a = check.array("matrix", matrix, ndim_min=2)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"matrix must be square, got shape {a.shape}")
    a = a.copy()
    return Map(lambda x: x @ a.T, lambda x: np.broadcast_to(a, x.shape[:-1] + a.shape).copy(),
               dim=a.shape[0], name="linear", vectorized=True,
               kernel=MapKernel(_linear_step_k, _linear_jac_k, (),
                                tuple(float(v) for v in a.ravel())))


# -- Newton map of z^3 - 1 ----------------------------------------------------------------
#: |z|^2 below which a point counts as the pole z = 0 of the Newton map (sent to infinity).
_NEWTON_POLE_R2 = 1e-200


def _newton_cubic_step(x, h):
    u, v = x[..., 0], x[..., 1]
    with np.errstate(all="ignore"):
        r2 = u * u + v * v
        # z' = (1 - h/3) z + h / (3 z^2), 1/z^2 = conj(z)^2 / |z|^4 = (conj(z) / |z|^2)^2
        a, b = u / r2, -v / r2
        near = np.isfinite(r2)
        inv_re = np.where(near, a * a - b * b, 0.0)
        inv_im = np.where(near, 2.0 * a * b, 0.0)
        out = np.stack([(1.0 - h / 3.0) * u + h / 3.0 * inv_re,
                        (1.0 - h / 3.0) * v + h / 3.0 * inv_im], axis=-1)
    out[r2 < _NEWTON_POLE_R2] = np.inf
    return out


def _newton_cubic_jacobian(x, h):
    u, v = x[..., 0], x[..., 1]
    with np.errstate(all="ignore"):
        r2 = u * u + v * v
        # N'(z) = 1 - h/3 - (2h/3) z^-3 = re + i im; J = [[re, -im], [im, re]]
        a, b = u / r2, -v / r2
        near = np.isfinite(r2)
        cube_re = np.where(near, a * a * a - 3.0 * a * b * b, 0.0)
        cube_im = np.where(near, 3.0 * a * a * b - b * b * b, 0.0)
        re = 1.0 - h / 3.0 - 2.0 * h / 3.0 * cube_re
        im = -2.0 * h / 3.0 * cube_im
    out = np.stack([np.stack([re, -im], axis=-1), np.stack([im, re], axis=-1)], axis=-2)
    out[r2 < _NEWTON_POLE_R2] = np.nan
    return out


@njit
def _newton_cubic_step_k(x, p, out):
    h = p[0]
    u = x[0]
    v = x[1]
    r2 = u * u + v * v
    if r2 < 1e-200:
        out[0] = np.inf
        out[1] = np.inf
        return
    inv_re = 0.0
    inv_im = 0.0
    if r2 < np.inf:
        a = u / r2
        b = -v / r2
        inv_re = a * a - b * b
        inv_im = 2.0 * a * b
    out[0] = (1.0 - h / 3.0) * u + h / 3.0 * inv_re
    out[1] = (1.0 - h / 3.0) * v + h / 3.0 * inv_im


@njit
def _newton_cubic_jac_k(x, p, out):
    h = p[0]
    u = x[0]
    v = x[1]
    r2 = u * u + v * v
    if r2 < 1e-200:
        out[0, 0] = np.nan
        out[0, 1] = np.nan
        out[1, 0] = np.nan
        out[1, 1] = np.nan
        return
    cube_re = 0.0
    cube_im = 0.0
    if r2 < np.inf:
        a = u / r2
        b = -v / r2
        cube_re = a * a * a - 3.0 * a * b * b
        cube_im = 3.0 * a * a * b - b * b * b
    re = 1.0 - h / 3.0 - 2.0 * h / 3.0 * cube_re
    im = -2.0 * h / 3.0 * cube_im
    out[0, 0] = re
    out[0, 1] = -im
    out[1, 0] = im
    out[1, 1] = re


def newton_cubic(h: float = 1.0) -> Map:
    """Return Newton's method for ``z^3 = 1`` as a map of the plane, ``z = x_1 + i x_2``.

    ``z' = z - h (z^3 - 1) / (3 z^2)`` (``h = 1``: Newton's method; other ``h``: the relaxed
    method, a step size like GD's learning rate). The three cube roots of unity are
    superattracting fixed points for ``h = 1``; their basins share a fractal boundary (the Julia
    set, box-counting dimension about 1.42, uncertainty exponent about 0.6). The pole ``z = 0``
    (taken as ``|z|^2 < 1e-200``) is mapped to infinity, ``(inf, inf)``, so such points are
    labelled diverged, without floating-point warnings; infinity maps to itself for ``h < 3``.
    The Jacobian is analytic (NaN at the pole).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.maps.newton_cubic()
    >>> m.step([2.0, 0.0])                     # 2 - 7/12
    array([1.41666667, 0.        ])
    >>> m.iterate([-1.0, 1.0], 30).round(6)    # converges to exp(2 pi i / 3)
    array([-0.5     ,  0.866025])
    >>> m.step([0.0, 0.0])
    array([inf, inf])
    """
    h = check.real("h", h)
    m = Map(_newton_cubic_step, _newton_cubic_jacobian, dim=2, params={"h": h},
            name="newton_cubic", vectorized=True,
            kernel=MapKernel(_newton_cubic_step_k, _newton_cubic_jac_k, ("h",)))
    return _with_defaults(m, [(-2.0, 2.0), (-2.0, 2.0)], {"h": (0.5, 1.5)})
