"""Built-in reference maps with analytic Jacobians and compiled kernels.

Their orbits, bifurcations and exponents are known in closed form or from the literature, so the
test suite checks every generic algorithm against them.
"""

from __future__ import annotations

import numpy as np

from . import _validate as check
from ._numba import njit
from .systems._map import Map, MapKernel

__all__ = ["logistic", "henon", "linear"]


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
    return Map(_logistic_step, _logistic_jacobian, dim=1, params={"r": r}, name="logistic",
               vectorized=True, kernel=MapKernel(_logistic_step_k, _logistic_jac_k, ("r",)))


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
    return Map(_henon_step, _henon_jacobian, dim=2, params={"a": a, "b": b}, name="henon",
               vectorized=True, kernel=MapKernel(_henon_step_k, _henon_jac_k, ("a", "b")))


# -- linear -------------------------------------------------------------------------------
def linear(matrix) -> Map:
    """Return the linear map ``x' = A x`` (no parameters); its exponents are log|eig(A)|.

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
               dim=a.shape[0], name="linear", vectorized=True)
