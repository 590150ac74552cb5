"""``periodic_orbits``: every orbit of a given (minimal) period in a box."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._limits import require
from .._labels import provenance
from ._trajectory import state_labels
from ..models import resolve_system
from ._jacobian import STABLE, Stability
from ._search import SearchResult, Settings, search


def _settings(mapping, period, *, starts, seed, xtol, max_iter, dedup_tol, null_tol,
              hyperbolicity_tol, family_step, max_family_points, max_starts=None,
              residual_tol=1e-9, transient=64) -> Settings:
    name = "starts"
    if starts is None:
        name = "period"
        starts = 64 * mapping.dim * period
    starts = check.integer("starts", starts, minimum=1)
    dim = mapping.dim
    # the seeds' orbit segments (points and images) and the Jacobians of F^period
    require(name, 8 * starts * (2 * period * dim + dim * dim),
            f"{starts} seeds x a segment of {period} points in dimension {dim}")
    return Settings(
        starts=starts,
        seed=check.integer("seed", seed, minimum=0),
        max_starts=(256 * starts if max_starts is None
                    else check.integer("max_starts", max_starts, minimum=1)),
        residual_tol=check.real("residual_tol", residual_tol, positive=True, hi=1e-3),
        transient=check.integer("transient", transient, minimum=0),
        xtol=check.real("xtol", xtol, positive=True, hi=1e-6),
        max_iter=check.integer("max_iter", max_iter, minimum=1),
        dedup_tol=check.real("dedup_tol", dedup_tol, positive=True, hi=1e-2),
        null_tol=check.real("null_tol", null_tol, positive=True, hi=1e-2),
        hyperbolicity_tol=check.real("hyperbolicity_tol", hyperbolicity_tol, nonnegative=True,
                                     hi=0.5),
        family_step=(None if family_step is None
                     else check.real("family_step", family_step, positive=True)),
        max_family_points=check.integer("max_family_points", max_family_points, minimum=2),
    )


def run_search(system, period, *, bounds, lr, options: dict):
    """Validate the common arguments, run the search; return ``(mapping, model, lo, hi,
    settings, result)``."""
    mapping, model = resolve_system(system, lr)
    period = check.integer("period", period, minimum=1)
    box = check.bounds("bounds", bounds, mapping.dim)
    settings = _settings(mapping, period, **options)
    lo, hi = box[:, 0].copy(), box[:, 1].copy()
    result = search(mapping, period, lo, hi, settings)
    return mapping, model, box, settings, result


def select(result: SearchResult, symmetric_copies: bool) -> np.ndarray:
    """Indices of the orbits to report: all, or the first orbit (family) of each class."""
    n = len(result.orbits)
    if symmetric_copies:
        return np.arange(n)
    keep, seen_fam = [], {}
    seen_iso = set()
    for i, o in enumerate(result.orbits):
        if o.family < 0:
            if o.symmetry_class not in seen_iso:
                seen_iso.add(o.symmetry_class)
                keep.append(i)
        else:
            first = seen_fam.setdefault(o.symmetry_class, o.family)
            if first == o.family:
                keep.append(i)
    return np.asarray(keep, dtype=int)


def common_variables(result: SearchResult, rows: np.ndarray, dim_name: str) -> dict:
    """The per-orbit variables shared by fixed_points and periodic_orbits."""
    orbits = [result.orbits[i] for i in rows]
    stability = result.stability[rows] if rows.size else np.zeros(0, dtype=np.int8)
    fam = np.array([o.family for o in orbits], dtype=np.int64)
    return {
        "multipliers": ((dim_name, "multiplier"),
                        result.multipliers[rows] if rows.size
                        else np.zeros((0, result.multipliers.shape[-1]), complex),
                        {"long_name": "Floquet multipliers (eigenvalues of DF^period), "
                                      "by decreasing modulus", "units": "1"}),
        "stable": ((dim_name,), stability == STABLE,
                   {"long_name": "linearly stable (on a family: transversally stable)"}),
        "stability": ((dim_name,), stability.astype(np.int8),
                      Stability.cf_attrs("stability class (on a family: of the multipliers "
                                            "across it)")),
        "family": ((dim_name,), fam,
                   {"long_name": "family (curve of non-isolated points) id; -1: isolated",
                    "units": "1", "missing_value": np.int64(-1)}),
        "arclength": ((dim_name,), np.array([o.arclength for o in orbits], dtype=float),
                      {"long_name": "arclength along the family (NaN: isolated)"}),
        "symmetry_class": ((dim_name,), np.array([o.symmetry_class for o in orbits], np.int64),
                           {"long_name": "symmetry class: orbits mapped onto each other by the "
                                         "map's symmetries share it", "units": "1"}),
        "class_size": ((dim_name,), np.array([o.class_size for o in orbits], np.int64),
                       {"long_name": "number of distinct orbits (families) in the symmetry "
                                     "class", "units": "1"}),
        "isotropy": ((dim_name,), np.array([o.isotropy for o in orbits], np.int64),
                     {"long_name": "number of symmetries (identity included) mapping the orbit "
                                   "onto itself", "units": "1"}),
    }


def periodic_orbits(system, period: int, *, bounds, lr=None, starts: int | None = None,
                    max_starts: int | None = None, residual_tol: float = 1e-9,
                    transient: int = 64,
                    seed: int = 0, symmetric_copies: bool = False, xtol: float = 1e-12,
                    max_iter: int = 60, dedup_tol: float = 1e-7, null_tol: float = 1e-7,
                    hyperbolicity_tol: float = 1e-9, family_step: float | None = None,
                    max_family_points: int = 2000) -> xr.Dataset:
    """Return every periodic orbit of minimal period dividing ``period`` in a box, as an
    ``xr.Dataset`` over dims ``orbit`` and ``phase``.

    Zeros of ``F^d(x) - x`` for every divisor ``d`` of ``period`` are found by damped
    Gauss-Newton (stable and unstable orbits alike), polished to machine precision, reduced to
    their minimal period, and de-duplicated up to cyclic shifts: each orbit appears once,
    starting from its lexicographically smallest point. A zero is kept only if its residual
    ``|F^d(x) - x|`` is at most ``residual_tol (1 + |x|)``. An orbit is reported when all its
    points lie in the box.

    Seeds come in rounds: ``starts`` in the first, twice as many in each next one (half of each
    round scrambled-Halton points of the box, half forward images of Halton points after
    ``transient`` steps that stay in the box, which lie near the invariant set). The rounds
    stop when two consecutive rounds find no new orbit (attrs ``complete = 1``) or when the
    next round would exceed ``max_starts`` seeds in all (``complete = 0``: the count may be
    short). attrs record ``seed_rounds``, ``seeds_used`` and ``new_orbits_per_round``.

    Non-isolated orbits (where ``DF^p - I`` is singular and the zero set continues: a curve of
    fixed points, say) are traced by pseudo-arclength continuation and returned as an ordered
    sample along the curve, one row per sample point, sharing a ``family`` id. Their
    multiplier along the curve is 1; ``stable`` and ``stability`` then describe the other
    multipliers (transversal stability: nearby orbits converge to the family).

    Orbits mapped onto each other by the map's symmetries (``map.symmetries``, closed to a
    group) share a ``symmetry_class``; by default only one representative per class is
    returned, with ``class_size`` saying how many distinct orbits the class holds.

    Parameters
    ----------
    system : Map or Model
        The map, or a model (then its GD map; ``lr`` required).
    period : int
        Orbits of every minimal period dividing ``period`` are returned (>= 1).
    bounds : array (dim, 2)
        The box ``[(lo_1, hi_1), ...]`` (for 1-D maps also ``(lo, hi)``), lo < hi.
    lr : float, optional
        Step size (required for a model).
    starts : int, optional
        Seeds of the first round (default ``64 * dim * period``).
    max_starts : int, optional
        Budget of seeds over all rounds (default ``256 * starts``).
    residual_tol : float
        A zero is accepted when ``|F^d(x) - x| <= residual_tol (1 + |x|)``.
    transient : int
        Steps after which forward images are used as seeds (0: box seeds only).
    seed : int
        Seed of the scrambled Halton sequence.
    symmetric_copies : bool
        Return every orbit of each symmetry class, not just a representative.
    xtol, max_iter : float, int
        Newton's convergence tolerance on the correction (relative to ``1 + |x|``) and
        iteration cap.
    dedup_tol : float
        Orbits closer than this (relative to the box width) are the same orbit.
    null_tol : float
        Relative singular-value threshold for a null space of ``DF^p - I`` (family detection).
    hyperbolicity_tol : float
        Multipliers with ``| |mu| - 1 | <= tol`` are non-hyperbolic.
    family_step : float, optional
        Spacing of family samples (default: box diagonal / 200).
    max_family_points : int
        Cap on the points of one traced family, per direction.

    Returns
    -------
    xarray.Dataset
        Over ``orbit``, ``phase`` (0 .. period-1), ``param`` (state coordinates) and
        ``multiplier``: ``x`` (NaN beyond an orbit's period), ``period`` (minimal period),
        ``multipliers`` (complex), ``stable``, ``stability`` (stable, saddle, repeller,
        non_hyperbolic), ``family`` (-1 for isolated orbits), ``arclength``,
        ``symmetry_class``, ``class_size``, ``isotropy``; attrs record the method, seeds and
        tolerances.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> ds = dynsys.periodic_orbits(dynsys.maps.logistic(3.2), 2, bounds=(0, 1))
    >>> ds.period.values.tolist()
    [1, 1, 2]
    >>> two = ds.where(ds.period == 2, drop=True)
    >>> bool(np.isclose(two.multipliers[0, 0].real, 4 + 2 * 3.2 - 3.2 ** 2))
    True
    """
    options = dict(starts=starts, seed=seed, xtol=xtol, max_iter=max_iter,
                   dedup_tol=dedup_tol, null_tol=null_tol, hyperbolicity_tol=hyperbolicity_tol,
                   family_step=family_step, max_family_points=max_family_points,
                   max_starts=max_starts, residual_tol=residual_tol, transient=transient)
    if not isinstance(symmetric_copies, bool | np.bool_):
        raise TypeError(f"symmetric_copies must be True or False, got {symmetric_copies!r}")
    mapping, model, box, settings, result = run_search(system, period, bounds=bounds, lr=lr,
                                                       options=options)
    period = int(period)
    rows = select(result, bool(symmetric_copies))
    dim = mapping.dim
    x = np.full((rows.size, period, dim), np.nan)
    for k, i in enumerate(rows):
        o = result.orbits[i]
        x[k, : o.period] = o.points
    data = {
        "x": (("orbit", "phase", "component"), x,
              {"long_name": "orbit points from the canonical phase"}),
        "period": (("orbit",), np.array([result.orbits[i].period for i in rows], np.int64),
                   {"long_name": "minimal period", "units": "1"}),
        **common_variables(result, rows, "orbit"),
    }
    coords = {"orbit": ("orbit", np.arange(rows.size), {"long_name": "periodic orbit index"}),
              "phase": np.arange(period), "component": state_labels(mapping, model),
              "multiplier": ("multiplier", np.arange(1, dim + 1), {"long_name": "multiplier index"})}
    ds = xr.Dataset(data, coords=coords)
    ds["phase"].attrs.update(long_name="phase (iterations from the canonical point)", units="1")
    ds.attrs.update(provenance(mapping, analysis="periodic_orbits", period=period,
                               bounds=box.ravel(), symmetric_copies=int(bool(symmetric_copies)),
                               **settings.attrs(), **result.info))
    return ds
