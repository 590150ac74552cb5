"""``dynsys.basins_fractions``: the fraction of state space that goes to each attractor,
estimated from random starts (no grid), with binomial error bars, and continued across a
swept parameter with matched attractor ids (the global continuation of Attractors.jl)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from ..models import Model, gd_map, resolve_swept
from ..systems import compiled
from ._attractors import AttractorKind, AttractorTable, label_chunk
from ._sweep import Plan, compute_chunk, family_mask, reduce_cycles

#: Starts per chunk (the unit of work and of progress).
CHUNK_SAMPLES = 1 << 16


@dataclasses.dataclass
class SamplePlan(Plan):
    """A :class:`~dynsys.basins._sweep.Plan` whose cells are given starts, not a grid."""

    points: np.ndarray | None = None

    def start_points(self, block: int) -> np.ndarray:
        return self.points[self.row_slice(block)]


def basins_fractions(system, sampler, values=None, *, lr_range=None, n: int | None = 1000,
                     seed: int | None = 0, param: str | None = None, rule=None,
                     steps: int | None = None, tol: float | None = None,
                     radius: float | None = None, match_tol: float = 1e-6,
                     confidence: float = 0.95, progress=None, **rule_fields) -> xr.Dataset:
    """Return the fraction of random starts that goes to each attractor, with binomial error
    bars, for every swept value (attractor ids matched across the sweep).

    The estimate of the basin fraction (the measure of an attractor's basin in the
    sampler's distribution) is ``count / n``; the same ``n`` starts are used for every swept
    value (common random numbers, so differences across the sweep are not sampling noise).
    Each start is run by the stopping rule and compiled loops of :func:`dynsys.basins`, and
    attractors are named and continued across the sweep by the same matching (a fixed point
    or cycle that moves with the parameter keeps its id, as in Attractors.jl's global
    continuation).

    Parameters
    ----------
    system : Model or Map
        A model (gradient descent on it, swept parameter ``lr``) or a map with a named
        parameter.
    sampler : list or tuple (a box), numpy array (the starts), or callable
        Where the starts are: a list or tuple is a box ``[(lo1, hi1), (lo2, hi2), ...]``,
        one pair per state component (starts uniform in it; for 1-D systems also
        ``(lo, hi)``); a numpy array ``(n, dim)`` is the starts themselves (then ``n`` and
        ``seed`` are not used); a callable ``sampler(rng, n)`` returns an ``(n, dim)`` array
        of starts drawn with the ``numpy.random.Generator`` ``rng``.
    values : array or dynsys.linspace, optional
        The swept values (step sizes for a model, values of ``param`` for a map); ``lr_range``
        is the same argument under the name of a step-size sweep. For a map, default: its
        current value of ``param``.
    n : int
        Number of starts (>= 1).
    seed : int
        Seed of the random generator (``numpy.random.default_rng(seed)``).
    param : str, optional
        The swept map parameter (as in :func:`dynsys.basins`).
    rule, steps, tol, radius, **rule_fields
        The :class:`~dynsys.StoppingRule` (as in :func:`dynsys.basins`).
    match_tol : float
        Relative distance under which two fixed points or cycles are the same attractor.
    confidence : float
        Confidence level of the Wilson score intervals (0 < confidence < 1).
    progress : callable, True or None
        ``progress(done, total)`` after each chunk of starts, or ``True`` for a tqdm bar.

    Returns
    -------
    xarray.Dataset
        Dims ``lr`` (or the parameter name), ``attractor_id``, ``sample``, ``component``
        and ``outcome``:

        * ``fraction`` (value, attractor_id): the estimated basin fraction ``k / n``;
          ``fraction_lower``/``fraction_upper`` its Wilson score interval at ``confidence``
          (docs/math.md section 9); ``fraction_stderr`` the binomial
          standard error ``sqrt(p (1 - p) / n)``; ``n_starts`` the number ``k`` of starts;
        * ``outcome_fraction`` (value, outcome): fractions by outcome (converged, periodic,
          diverged, undecided, chaotic, bounded), with the same error bars
          (``outcome_fraction_lower``/``_upper``); starts with no attractor (diverged,
          undecided) are only counted here;
        * ``attractor`` (value, sample): the id reached from each start (-1: none);
          ``start`` (sample, component): the starts;
        * the attractor table: ``attractor_kind`` (fixed_point, cycle, family, chaotic),
          ``attractor_period``, ``attractor_point`` (value, attractor_id, component: where
          each attractor is at each value, NaN where it was not met) and
          ``attractor_value`` (the value where it was first met).

    Examples
    --------
    >>> import dynsys, numpy as np
    >>> bistable = dynsys.Map(lambda x, a: np.tanh(a * x), dim=1, params={"a": 2.0},
    ...                       name="tanh")
    >>> ds = dynsys.basins_fractions(bistable, [(-1.0, 2.0)], n=3000, steps=200)
    >>> ds.attractor_point.values.round(4).ravel().tolist()   # the fixed points +- x*
    [0.9575, -0.9575]
    >>> ds.fraction.values.round(2).tolist()          # their basins x > 0 and x < 0 in [-1, 2]
    [[0.67, 0.33]]
    >>> bool(ds.fraction_lower[0, 0] < 2 / 3 < ds.fraction_upper[0, 0])
    True
    """
    from ._api import _progress, _rule, numpy_rate

    rule = _rule(rule, steps=steps, tol=tol, radius=radius, **rule_fields)
    mapping0, model, param = resolve_swept(system, param)
    if values is None and lr_range is None and not isinstance(system, Model):
        values = [float(system.params[param])]
    values = check.swept_values("basins_fractions", values, lr_range, param)
    mapping = gd_map(model, float(values[0])) if isinstance(system, Model) else system
    # a kernel numba compiles from the user's functions when the map or model has none
    mapping = compiled(mapping, numpy_rate=numpy_rate)
    dim = mapping.dim
    points = _starts(sampler, dim, n, seed)
    match_tol = check.real("match_tol", match_tol, positive=True)
    confidence = check.real("confidence", confidence)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    report = _progress(progress)
    path = "kernel" if getattr(mapping, "kernel", None) is not None else "numpy"
    rows = min(points.shape[0], CHUNK_SAMPLES)
    plan = SamplePlan(mapping=mapping, model=model, param=param, values=values,
                      axes=[np.arange(points.shape[0], dtype=float)], base=np.zeros(dim),
                      rule=rule, scaling=False, rows=rows, path=path, points=points)
    table = AttractorTable(dim, match_tol)
    ids = np.empty((len(values), points.shape[0]), dtype=np.int32)
    outcomes = np.empty((len(values), points.shape[0]), dtype=np.int8)
    where: list[dict] = [{} for _ in values]
    keys = plan.chunks()
    for done, key in enumerate(keys, start=1):    # numba's threads share each chunk's starts
        out = compute_chunk(plan, key)
        value = float(values[key[0]])
        loss = out.get("final_loss")
        family = (family_mask(plan, out["outcome"], loss) if loss is not None
                  else np.zeros(out["outcome"].shape, dtype=bool))
        rows_ = plan.row_slice(key[1])
        ids[key[0], rows_] = label_chunk(
            table, value, out["outcome"], out["period"], out["final"], family,
            lambda final, detected, v=value: reduce_cycles(plan, v, final, detected))
        outcomes[key[0], rows_] = out["outcome"]
        for a in np.unique(ids[key[0], rows_]):
            if a >= 0:        # the point it was followed to at this value
                where[key[0]][int(a)] = table.recent[int(a)].copy()
        if report is not None:
            report(done, len(keys))
    return _dataset(plan, table, ids, outcomes, where, confidence)


def _starts(sampler, dim: int, n, seed) -> np.ndarray:
    """Return the starts ``(n, dim)`` the sampler gives, or raise naming the argument: a
    callable draws them, a list/tuple is a box (uniform starts), a numpy array is the starts."""
    if callable(sampler):
        n = check.integer("n", n, minimum=1)
        rng = np.random.default_rng(_seed(seed))
        pts = check.array("sampler(rng, n)", sampler(rng, n))
        if pts.shape == (n,) and dim == 1:
            pts = pts.reshape(n, 1)
        if pts.shape != (n, dim):
            raise ValueError(f"sampler(rng, n) must return an array of shape ({n}, {dim}), got "
                             f"shape {pts.shape}")
        return pts
    if isinstance(sampler, np.ndarray):
        pts = check.array("sampler", sampler)
        if dim == 1 and pts.ndim == 1:
            pts = pts.reshape(-1, 1)
        if pts.ndim != 2 or pts.shape[1] != dim or pts.shape[0] == 0:
            raise ValueError(f"sampler as a numpy array is the starts, shape (n, {dim}) with "
                             f"n >= 1, got shape {pts.shape}")
        return pts
    if not isinstance(sampler, list | tuple):
        raise TypeError(f"sampler must be a box [(lo, hi), ...] (list or tuple), a numpy array "
                        f"of starts (n, {dim}) or a callable sampler(rng, n), got "
                        f"{type(sampler).__name__}")
    box = check.bounds("sampler", sampler, dim)
    n = check.integer("n", n, minimum=1)
    rng = np.random.default_rng(_seed(seed))
    return box[:, 0] + (box[:, 1] - box[:, 0]) * rng.random((n, dim))


def _seed(seed):
    if seed is None:
        return None
    return check.integer("seed", seed, minimum=0)


def wilson_interval(count, n: int, confidence: float):
    """Return ``(lower, upper)``: the Wilson score interval of a binomial proportion with
    ``count`` successes in ``n`` trials at the given confidence (docs/math.md section 9)."""
    from scipy.special import ndtri

    z = float(ndtri(0.5 + 0.5 * confidence))
    p = np.asarray(count, dtype=float) / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * np.sqrt(p * (1 - p) / n + z * z / (4.0 * n * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def _dataset(plan: SamplePlan, table: AttractorTable, ids, outcomes, points,
             confidence: float) -> xr.Dataset:
    from ._api import _path_label

    n_values, n = ids.shape
    n_attr = len(table)
    counts = np.stack([np.bincount(row[row >= 0], minlength=n_attr) for row in ids]) \
        if n_attr else np.zeros((n_values, 0), dtype=np.int64)
    codes = np.array([int(o) for o in Outcome], dtype=np.int8)
    by_outcome = np.stack([[int(np.sum(row == c)) for c in codes] for row in outcomes])
    frac = counts / n
    lo, hi = wilson_interval(counts, n, confidence)
    ofrac = by_outcome / n
    olo, ohi = wilson_interval(by_outcome, n, confidence)
    arr = table.arrays()
    where = np.full((n_values, n_attr, plan.dim), np.nan)
    for vi, found in enumerate(points):
        for a, point in found.items():
            where[vi, a] = point
    what = "step size" if plan.param == "lr" else f"parameter {plan.param}"
    dims = (plan.param, "attractor_id")
    odims = (plan.param, "outcome")
    one = {"units": "1"}
    level = f"{100 * confidence:g}%"
    state = [f"{plan.prefix}_{i + 1}" for i in range(plan.dim)]
    ds = xr.Dataset(
        {
            "fraction": (dims, frac, {"long_name": "basin fraction (share of sampled starts)",
                                      **one}),
            "fraction_lower": (dims, lo, {"long_name": f"lower end of the {level} Wilson "
                                                       f"interval of the basin fraction", **one}),
            "fraction_upper": (dims, hi, {"long_name": f"upper end of the {level} Wilson "
                                                       f"interval of the basin fraction", **one}),
            "fraction_stderr": (dims, np.sqrt(frac * (1 - frac) / n),
                                {"long_name": "binomial standard error of the basin fraction",
                                 **one}),
            "n_starts": (dims, counts.astype(np.int64),
                         {"long_name": "number of starts reaching the attractor", **one}),
            "outcome_fraction": (odims, ofrac, {"long_name": "share of starts by outcome",
                                                **one}),
            "outcome_fraction_lower": (odims, olo, {"long_name": f"lower end of the {level} "
                                                                 f"Wilson interval", **one}),
            "outcome_fraction_upper": (odims, ohi, {"long_name": f"upper end of the {level} "
                                                                 f"Wilson interval", **one}),
            "attractor": ((plan.param, "sample"), ids,
                          {"long_name": "attractor id (-1: none)", **one,
                           "missing_value": np.int32(-1)}),
            "start": (("sample", "component"), plan.points,
                      {"long_name": "initial state"}),
            "attractor_kind": ("attractor_id", arr["kind"],
                               AttractorKind.cf_attrs("attractor kind")),
            "attractor_period": ("attractor_id", arr["period"],
                                 {"long_name": "attractor period (0: chaotic)", **one}),
            "attractor_point": ((plan.param, "attractor_id", "component"), where,
                                {"long_name": "a point of the attractor at this value "
                                              "(canonical point of a cycle; NaN: not met)"}),
            "attractor_value": ("attractor_id", arr["value"],
                                {"long_name": f"{plan.param} where the attractor was first "
                                              f"met", **one}),
        },
        coords={
            plan.param: (plan.param, plan.values, {"long_name": what, **one}),
            "attractor_id": ("attractor_id", np.arange(n_attr, dtype=np.int32),
                             {"long_name": "attractor id"}),
            "outcome": ("outcome", codes, Outcome.cf_attrs("outcome")),
            "component": ("component", state),
            "sample": ("sample", np.arange(n, dtype=np.int64), {"long_name": "start index"}),
        })
    ds["component"].attrs.update(long_name="state component")
    target = plan.model if plan.model is not None else plan.mapping
    rule = plan.rule.attrs()
    rule["lyapunov_steps"] = min(rule["lyapunov_steps"], rule["steps"])
    ds.attrs.update(provenance(target, analysis="basins_fractions", swept=plan.param, **rule,
                               n_samples=n, confidence=confidence,
                               compute_path=_path_label(plan)))
    ds.attrs.pop(f"param_{plan.param}", None)
    params = json.loads(ds.attrs["system_params"])
    params.pop(plan.param, None)
    ds.attrs["system_params"] = json.dumps(params, sort_keys=True)
    return ds
