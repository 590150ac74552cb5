"""``fixed_points``: isolated fixed points and curves of fixed points in a box."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._labels import provenance
from ._trajectory import state_labels
from ._periodic import common_variables, run_search, select


def fixed_points(system, *, bounds, lr=None, starts: int | None = None,
                 max_starts: int | None = None, residual_tol: float = 1e-9,
                 transient: int = 64, seed: int = 0,
                 symmetric_copies: bool = True, xtol: float = 1e-12, max_iter: int = 60,
                 dedup_tol: float = 1e-7, null_tol: float = 1e-7,
                 hyperbolicity_tol: float = 1e-9, family_step: float | None = None,
                 max_family_points: int = 2000) -> xr.Dataset:
    """Return every fixed point of a map in a box as an ``xr.Dataset`` over dim ``point``.

    Isolated fixed points come from damped Gauss-Newton on ``F(x) - x`` started from rounds of
    seeds (as in :func:`dynsys.periodic_orbits`), de-duplicated and polished to machine
    precision. Only points whose residual ``|F(x) - x|`` is at most ``residual_tol (1 + |x|)``
    are returned; a map without fixed points in the box gives an empty (labelled) Dataset.
    Non-isolated fixed points (where ``I - DF`` is rank-deficient and the zero set continues,
    like the solution curve ``z = 0`` of an over-parametrised regression model under GD) are
    traced by pseudo-arclength continuation within the box and returned as an ordered sample
    along each curve, sharing a ``family`` id, with ``arclength`` along it.

    On a family one multiplier is 1 (along the curve); there ``stable`` means *transversal*
    stability: every other multiplier has modulus < 1 (for GD on the 2-D model: the
    multiplier across the curve is ``1 - lr * lambda``, so stable exactly where
    ``0 < lr * lambda < 2``). Elsewhere ``stable`` means all multipliers inside the unit disc.

    Parameters
    ----------
    system : Map or Model
        The map, or a model (then its GD map; ``lr`` required).
    bounds : array (dim, 2)
        The box ``[(lo_1, hi_1), ...]`` (for 1-D maps also ``(lo, hi)``), lo < hi.
    lr : float, optional
        Step size (required for a model).
    starts : int, optional
        Seeds of the first round (default ``64 * dim``).
    max_starts, transient : int, optional
        As for :func:`dynsys.periodic_orbits`.
    residual_tol : float
        A fixed point is accepted when ``|F(x) - x| <= residual_tol (1 + |x|)``.
    seed : int
        Seed of the scrambled Halton sequence.
    symmetric_copies : bool
        Return all fixed points (default); with False only one representative per class of
        points (families) related by the map's symmetries.
    xtol, max_iter, dedup_tol, null_tol, hyperbolicity_tol, family_step, max_family_points
        As for :func:`dynsys.periodic_orbits`.

    Returns
    -------
    xarray.Dataset
        Over ``point``, ``param`` and ``multiplier``: ``x``, ``multipliers`` (complex, by
        decreasing modulus), ``stable``, ``stability`` (stable, saddle, repeller,
        non_hyperbolic; on a family of the transversal multipliers), ``family`` (-1:
        isolated), ``arclength``, ``symmetry_class``, ``class_size``, ``isotropy``; attrs
        record the method, seeds and tolerances.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> ds = dynsys.fixed_points(dynsys.maps.henon(1.4, 0.3), bounds=[(-2, 2), (-2, 2)])
    >>> ds.x.values.round(6).tolist()
    [[-1.131354, -0.339406], [0.631354, 0.189406]]
    >>> ds.stability.values.tolist()          # both saddles
    [1, 1]
    >>> curve = dynsys.fixed_points(dynsys.QuadraticRegression2D(0.1, target=0.5), lr=0.5,
    ...                             bounds=[(0.5, 3), (-2, 2)])
    >>> int(curve.family.max()), curve.sizes["point"] > 50       # one curve, finely sampled
    (0, True)
    >>> bool(np.abs(curve.multipliers - 1).min(axis=1).max() < 1e-12)   # 1 along the curve
    True
    >>> bool(curve.stable.all())                                         # lr lambda < 2 here
    True
    """
    if not isinstance(symmetric_copies, bool | np.bool_):
        raise TypeError(f"symmetric_copies must be True or False, got {symmetric_copies!r}")
    options = dict(starts=starts, seed=seed, xtol=xtol, max_iter=max_iter,
                   dedup_tol=dedup_tol, null_tol=null_tol, hyperbolicity_tol=hyperbolicity_tol,
                   family_step=family_step, max_family_points=max_family_points,
                   max_starts=max_starts, residual_tol=residual_tol, transient=transient)
    mapping, model, box, settings, result = run_search(system, 1, bounds=bounds, lr=lr,
                                                       options=options)
    rows = select(result, bool(symmetric_copies))
    dim = mapping.dim
    x = (np.array([result.orbits[i].points[0] for i in rows]) if rows.size
         else np.zeros((0, dim)))
    data = {
        "x": (("point", "component"), x, {"long_name": "fixed point"}),
        **common_variables(result, rows, "point"),
    }
    coords = {"point": ("point", np.arange(rows.size), {"long_name": "fixed point index"}),
              "component": state_labels(mapping, model),
              "multiplier": ("multiplier", np.arange(1, dim + 1), {"long_name": "multiplier index"})}
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(provenance(mapping, analysis="fixed_points", bounds=box.ravel(),
                               symmetric_copies=int(bool(symmetric_copies)),
                               **settings.attrs(), **result.info))
    return ds
