"""Jacobians of a map and of its iterates, multipliers and linear stability."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._outcomes import FlagTable
from ..models import resolve_system


class Stability(FlagTable):
    """Linear stability class of a fixed point or cycle, from its multipliers."""

    STABLE = 0
    SADDLE = 1
    REPELLER = 2
    NON_HYPERBOLIC = 3


#: ``{code: name}`` of :class:`Stability` (kept for scripts that index it).
STABILITY = Stability.meanings()
STABLE, SADDLE, REPELLER, NON_HYPERBOLIC = (int(k) for k in Stability)

#: Default half-width of the band around the unit circle counted as non-hyperbolic.
HYPERBOLICITY_TOL = 1e-9


def jacobian(system, x, *, lr=None) -> np.ndarray:
    """Return the Jacobian ``DF(x)`` of a map (or of GD on a model), shape ``(..., dim, dim)``.

    ``J[..., i, j] = d F_i / d x_j``: analytic when the map has one, else fourth-order central
    differences.

    Parameters
    ----------
    system : Map or Model
        The map, or a model (then the GD map with step size ``lr``).
    x : array (..., dim)
        States.
    lr : float, optional
        Step size; required for a model, overrides a map's ``lr`` parameter.

    Examples
    --------
    >>> import dynsys
    >>> dynsys.jacobian(dynsys.maps.henon(1.4, 0.3), [0.5, 0.0])
    array([[-1.4,  1. ],
           [ 0.3,  0. ]])
    >>> dynsys.jacobian(dynsys.QuadraticRegression2D(0.1), [0.0, 0.0], lr=0.5)
    array([[1., 0.],
           [0., 1.]])
    """
    mapping, _ = resolve_system(system, lr)
    x = check.array("x", x, dim=mapping.dim, finite=False)
    return mapping.jacobian(x)


def orbit_jacobian(mapping, x: np.ndarray, period: int):
    """Return ``(points, DF^period)``: the ``period`` points ``x, F(x), ...`` of the orbit
    segment, shape ``(..., period, dim)``, and the Jacobian of the ``period``-th iterate at
    ``x``, ``J(x_{k-1}) ... J(x_0)``, shape ``(..., dim, dim)``.

    Overflow is silent: points that leave the floating-point range give inf/NaN entries.
    """
    x = np.asarray(x, dtype=float)
    dim = mapping.dim
    points = np.empty(x.shape[:-1] + (period, dim))
    prod = np.broadcast_to(np.eye(dim), x.shape[:-1] + (dim, dim)).copy()
    if x.size == 0:                                  # an empty batch: nothing to evaluate
        return points, prod
    with np.errstate(all="ignore"):
        for i in range(period):
            points[..., i, :] = x
            prod = mapping.jacobian(x) @ prod
            if i + 1 < period:
                x = mapping.step(x)
    return points, prod


def _sort_multipliers(mu: np.ndarray) -> np.ndarray:
    """Sort eigenvalues ``(..., dim)`` by decreasing modulus (ties: larger real part first)."""
    mu = np.asarray(mu, dtype=complex)
    flat = mu.reshape(-1, mu.shape[-1])
    out = np.empty_like(flat)
    for i, row in enumerate(flat):
        out[i] = row[np.lexsort((-row.imag, -row.real, -np.abs(row)))]
    return out.reshape(mu.shape)


def multipliers(system, x, period: int = 1, *, lr=None) -> np.ndarray:
    """Return the Floquet multipliers of the orbit through ``x``: eigenvalues of ``DF^period(x)``.

    Complex array ``(..., dim)`` sorted by decreasing modulus. For a fixed point use
    ``period=1``; for a point of a ``k``-cycle, ``period=k`` (any point of the cycle gives the
    same multipliers).

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.maps.logistic(3.2)
    >>> x = (4.2 + np.sqrt(4.2 * 0.2)) / 6.4            # a point of the 2-cycle
    >>> mu = dynsys.multipliers(m, [x], period=2)
    >>> bool(np.isclose(mu[0].real, 4 + 2 * 3.2 - 3.2 ** 2))
    True
    """
    mapping, _ = resolve_system(system, lr)
    x = check.array("x", x, dim=mapping.dim)
    period = check.integer("period", period, minimum=1)
    _, prod = orbit_jacobian(mapping, x, period)
    return _sort_multipliers(np.linalg.eigvals(prod))


def classify(mult, *, tol: float = HYPERBOLICITY_TOL) -> np.ndarray:
    """Return the stability class (int codes of :data:`STABILITY`) of multipliers ``(..., dim)``.

    ``stable`` (0): every ``|mu| < 1 - tol``; ``repeller`` (2): every ``|mu| > 1 + tol``;
    ``saddle`` (1): some inside, some outside, none within ``tol`` of the unit circle;
    ``non_hyperbolic`` (3): some ``| |mu| - 1 | <= tol``. NaN multipliers count as
    non-hyperbolic.

    Examples
    --------
    >>> import dynsys
    >>> dynsys.classify([[0.5, -0.2], [2.0, 0.3], [1.5, -3.0], [1.0, 0.5]]).tolist()
    [0, 1, 2, 3]
    >>> [dynsys.orbits.STABILITY[c] for c in dynsys.classify([[0.5, -0.2], [2.0, 0.3]])]
    ['stable', 'saddle']
    """
    tol = check.real("tol", tol, nonnegative=True)
    mod = np.abs(check.array("mult", mult, dtype=complex, finite=False))
    if mod.ndim == 0:
        raise ValueError("mult must have shape (..., dim), got a scalar")
    if mod.shape[-1] == 0:
        raise ValueError(f"mult must hold at least one multiplier per point (shape (..., dim) "
                         f"with dim >= 1), got shape {mod.shape}")
    with np.errstate(invalid="ignore"):
        inside = mod < 1.0 - tol
        outside = mod > 1.0 + tol
    hyperbolic = np.all(inside | outside, axis=-1)
    out = np.full(mod.shape[:-1], NON_HYPERBOLIC, dtype=np.int8)
    out[hyperbolic & np.all(inside, axis=-1)] = STABLE
    out[hyperbolic & np.all(outside, axis=-1)] = REPELLER
    out[hyperbolic & np.any(inside, axis=-1) & np.any(outside, axis=-1)] = SADDLE
    return out
