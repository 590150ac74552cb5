"""``dynsys.basins_fractions``: the fraction of state space that goes to each attractor,
estimated from random starts (no grid), with binomial error bars, and continued across a
swept parameter with matched attractor ids (the global continuation of Attractors.jl)."""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import itertools
import json

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._numba import njit, numba
from .._outcomes import Outcome
from .._stopping import OrbitEnds
from ..models import Model, gd_map, resolve_swept
from ..systems._map import compiled
from . import _kernels as K
from ._attractors import AttractorKind, AttractorTable, label_chunk
from . import _sweep
from ._sweep import (Plan, _final_values, compute_chunk, empty_fields, family_mask,
                     reduce_cycles)

#: Starts per chunk (the unit of work and of progress).
CHUNK_SAMPLES = 1 << 16
#: Point-steps (starts x swept values x ``steps``) from which the compiled path runs its chunks
#: on numba's threads in parallel (pieces of the next chunks on as many threads of our own, each
#: piece single-threaded) rather than one chunk after another with numba's threads inside the
#: loop (which has one block of starts, one thread, per 2048 starts): below it the extra
#: compilation of the GIL-free loop (about a second) costs more than it saves.
THREADS_AFTER = 1 << 26


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
    workers = _workers(path, points.shape[0] * len(values) * rule.steps)
    rows = min(points.shape[0], CHUNK_SAMPLES)
    plan = SamplePlan(mapping=mapping, model=model, param=param, values=values,
                      axes=[np.arange(points.shape[0], dtype=float)], base=np.zeros(dim),
                      rule=rule, scaling=False, rows=rows, path=path, points=points)
    table = AttractorTable(dim, match_tol)
    ids = np.empty((len(values), points.shape[0]), dtype=np.int32)
    outcomes = np.empty((len(values), points.shape[0]), dtype=np.int8)
    where: list[dict] = [{} for _ in values]
    keys = plan.chunks()
    for done, (key, out) in enumerate(_computed(plan, keys, workers), start=1):
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


def _workers(path: str, work: int) -> int:
    """Return how many chunks run at once: numba's threads (``numba.set_num_threads``) for the
    compiled path from :data:`THREADS_AFTER` point-steps on, else 1."""
    threads = numba.get_num_threads()
    return threads if path == "kernel" and threads > 1 and work >= THREADS_AFTER else 1


@njit(nogil=True, error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _sweep_nogil(step, jac, has_jac, x0, p, rule, ends):
    # the blocks of the basin sweep (kernels._map_sweep) one after another, without the GIL:
    # the same loop per start, so the same results, on a thread of our own
    code, period, used, final, ftle = ends
    n = x0.shape[0]
    for lo in range(0, n, K.BLOCK):
        hi = min(n, lo + K.BLOCK)
        K._map_block(step, jac, has_jac, x0[lo:hi], p, rule,
                     (code[lo:hi], period[lo:hi], used[lo:hi], final[lo:hi], ftle[lo:hi]))


def _pieces_of(n: int, steps: int) -> list[tuple[int, int]]:
    """Return ``[(lo, hi), ...]`` covering ``range(n)`` in pieces of about
    :data:`~._sweep.CALL_WORK` point-steps (one single-threaded call each)."""
    size = max(1, _sweep.CALL_WORK // max(1, steps))
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _submit(pool, plan: SamplePlan, key) -> tuple:
    """Start chunk ``key`` on the pool: its orbits in pieces of about one call's work, each a
    task filling its share of the chunk's arrays. Return ``(key, arrays, futures)``."""
    vi, block = key
    mapping = plan.map_at(float(plan.values[vi]))
    out = empty_fields(plan.cells(block), plan)
    ends = OrbitEnds(out["outcome"], out["period"], out["steps"], out["final"], out["lyapunov"])
    kernel = mapping.kernel
    has_jac = kernel.jacobian is not None
    starts = np.ascontiguousarray(plan.start_points(block), dtype=float)
    p = mapping.param_vector()
    rule = plan.rule.kernel(mapping.step_scale)
    futures = [pool.submit(_sweep_nogil, kernel.step, kernel.jacobian if has_jac else kernel.step,
                           has_jac, starts[lo:hi], p, rule, tuple(a[lo:hi] for a in ends))
               for lo, hi in _pieces_of(starts.shape[0], plan.rule.steps)]
    return key, out, futures


def _computed(plan: SamplePlan, keys, workers: int):
    """Yield ``(key, chunk results)`` in the order of ``keys``: chunks computed one after
    another (numba's threads inside the compiled loop), or, with ``workers > 1``, the pieces of
    the next ``workers + 1`` chunks on ``workers`` threads of their own, each piece
    single-threaded with the GIL released. The chunks are the same and orbits independent of
    each other, so the results are the same."""
    if workers <= 1:
        for key in keys:
            yield key, compute_chunk(plan, key)
        return
    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="dynsys-fractions")
    try:
        todo = iter(keys)
        window = collections.deque(_submit(pool, plan, key)
                                   for key in itertools.islice(todo, workers + 1))
        while window:
            key, out, futures = window.popleft()
            for future in futures:
                future.result()
            nxt = next(todo, None)
            if nxt is not None:
                window.append(_submit(pool, plan, nxt))
            _final_values(plan, out)
            yield key, out
    finally:      # Ctrl-C or an error: drop the pieces not started; running ones end soon
        pool.shutdown(wait=False, cancel_futures=True)


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
