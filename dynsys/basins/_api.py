"""``dynsys.basins``: where every initial state goes, over a sweep of a parameter."""

from __future__ import annotations

import hashlib
import json
import sys

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import flag_attrs, provenance
from .._version import __version__
from ..models._base import Model
from ..models import gd_map, resolve_swept
from . import _store
from ._attractors import KINDS, AttractorTable, label_chunk
from ._sweep import OUTCOMES, Plan, choose_path, compute_chunk, empty_fields, family_mask
from ._sweep import reduce_cycles as _reduce_cycles

#: Grid cells per chunk by default (a chunk is one parameter value and a block of grid rows).
CHUNK_CELLS = 1 << 20


def basins(system, lr_range, *, grid=None, steps: int = 1000, param: str | None = None, base=None,
           tol: float = 1e-12, radius: float = 1e6, max_period: int = 64,
           cycle_rtol: float = 1e-8, lyapunov_steps: int = 1000, chaos_threshold: float = 0.01,
           match_tol: float = 1e-6, scaling: bool = True, chunk_size: int = CHUNK_CELLS,
           scheduler=None, store=None, progress=None) -> xr.Dataset:
    """Return the basin map of ``system`` over a grid of initial states, for every swept value.

    Every grid point is iterated until it converges, settles on a cycle, diverges, or runs out
    of ``steps``; the compiled loops of :mod:`dynsys.basins._kernels` do the work (a dedicated
    kernel for :class:`~dynsys.QuadraticRegression2D`, a generic one for maps with a numba
    kernel, a vectorised numpy loop otherwise), on all cores.

    Parameters
    ----------
    system : Model or Map
        A model (gradient descent runs on it, the swept parameter is its step size ``lr``) or a
        map with a named parameter.
    lr_range : array or (start, stop, num)
        Values of the swept parameter (step sizes, which must be > 0, for models).
    grid : ((lo1, hi1, n1), (lo2, hi2, n2)), optional
        Initial states: ``n1 x n2`` points of ``linspace(lo, hi, n)`` in the first two state
        components (one triple for 1-D maps). Other components are taken from ``base``.
        Default: 256 x 256 points; for :class:`~dynsys.QuadraticRegression2D` over
        ``|theta_1| <= 2 sqrt(2/lr_min)``, ``|theta_2| <= 2 sqrt(2/(eps lr_min))`` (twice the
        scales at which ``lr lambda = 2``), otherwise over ``[-1, 1]`` in each component.
    steps : int
        Iteration budget per point (>= 1).
    param : str, optional
        Name of the swept map parameter (default ``lr`` if the map has one, or its only
        parameter). Models always sweep ``lr``.
    base : array (dim,), optional
        Initial values of the state components not on the grid (default 0).
    tol : float
        Convergence: ``|F(x) - x|^2 <= tol^2 (1 + |x|^2)``; for the 2-D model also ``|z| < tol``.
    radius : float
        Divergence: ``|x| > radius`` (or ``|x|^2`` not finite); at most 1e150.
    max_period : int
        Cycles of period up to ``max_period`` are always detected (returns to a checkpoint
        tested every 16 steps, checkpoints refreshed at doubling intervals up to
        ``16 max_period`` steps; a return within ``cycle_rtol`` times the one-step jump counts
        as periodic, and the minimal period is then found).
    lyapunov_steps : int
        Length of the final window over which points still running carry a tangent vector;
        its mean log growth rate is stored as ``lyapunov``, and above ``chaos_threshold`` the
        point is labelled chaotic instead of undecided.
    match_tol : float
        Relative distance under which two fixed points or cycles count as the same attractor.
    scaling : bool
        For the 2-D model, iterate the rescaled coordinates ``sqrt(lr) theta`` with step size 1
        and target ``lr * target`` (MATH.md section 3). The results are the same as without it
        (bit for bit when ``lr`` is a power of 4).
    chunk_size : int
        Approximate grid cells per chunk (a chunk holds one parameter value and whole grid
        rows); the unit of parallel work, of progress and of resuming.
    scheduler : dask.distributed.Client or str, optional
        Run the chunks on this Client (or scheduler address); by default an active Client is
        used if there is one. ``"serial"`` forces the local loop. Each worker runs single-threaded
        kernels. Results equal those of the serial run.
    store : str, optional
        Path of a ``.zarr`` store: each finished chunk is written as it completes, and a call
        with the same arguments on an existing store resumes, computing only missing chunks.
        The result is then read lazily from the store.
    progress : callable, True or None
        ``progress(done, total)`` after each chunk, or ``True`` for a tqdm bar; silent by
        default.

    Returns
    -------
    xarray.Dataset
        Dims ``lr`` (or the parameter name), ``theta_1``, ``theta_2`` (``x_1``, ``x_2`` for
        maps): ``outcome`` (int8 with CF flags: converged, periodic, diverged, undecided,
        chaotic), ``period`` (minimal period; 1 for converged, 0 for none), ``steps``
        (iterations used), ``final_theta``/``final_x`` (the state where the point stopped,
        dim ``param``), ``lyapunov`` (finite-time exponent, NaN where not measured),
        ``final_loss`` and ``final_sharpness`` (models), ``attractor`` (id, -1 for none) and the
        attractor table over dim ``attractor_id``: ``attractor_kind`` (fixed_point, cycle,
        family, chaotic), ``attractor_period``, ``attractor_x`` (a representative point) and
        ``attractor_value`` (the parameter value where it was first met). Ids are the same
        across the grid and are continued across consecutive parameter values: a fixed point
        or cycle that moves with the parameter keeps its id (greedy nearest matching of the
        same kind and period, as in Attractors.jl); the zero-loss family has one id throughout.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.basins(dynsys.maps.logistic(), [3.2], grid=((0.05, 0.95, 7),), steps=500)
    >>> ds.outcome.values.tolist()
    [[1, 1, 1, 1, 1, 1, 1]]
    >>> int(ds.period.max()), ds.attractor_kind.attrs["flag_meanings"].split()[1]
    (2, 'cycle')
    """
    plan = _plan(system, lr_range, grid=grid, steps=steps, param=param, base=base, tol=tol,
                 radius=radius, max_period=max_period, cycle_rtol=cycle_rtol,
                 lyapunov_steps=lyapunov_steps, chaos_threshold=chaos_threshold,
                 scaling=scaling, chunk_size=chunk_size)
    match_tol = check.real("match_tol", match_tol, positive=True)
    report = _progress(progress)
    client = _client(scheduler)
    template = _template(plan, system)
    if store is not None:
        if not isinstance(store, str) or not store.endswith(".zarr"):
            raise ValueError(f"store must be a path ending in .zarr, got {store!r}")
        return _run_stored(plan, template, store, _fingerprint(plan, match_tol), match_tol,
                           client, report)
    return _run_memory(plan, template, match_tol, client, report)


# -- arguments ----------------------------------------------------------------------------------
def default_grid(model, dim: int, values: np.ndarray, n: int = 256) -> tuple:
    """Return the default grid of starts (see :func:`basins`)."""
    eps = getattr(model, "eps", None)
    if eps is not None and dim == 2:
        lr_min = float(np.min(values))
        c1 = 2.0 * np.sqrt(2.0 / lr_min)
        c2 = 2.0 * np.sqrt(2.0 / (max(eps, 1e-3) * lr_min))
        return ((-c1, c1, n), (-c2, c2, n))
    return tuple((-1.0, 1.0, n) for _ in range(min(dim, 2)))


def _plan(system, values, *, grid, steps, param, base, tol, radius, max_period, cycle_rtol,
          lyapunov_steps, chaos_threshold, scaling, chunk_size) -> Plan:
    _, model, param = resolve_swept(system, param)
    label = "lr_range"
    values = check.value_range(label, values, positive=param == "lr")
    mapping = gd_map(model, float(values[0])) if isinstance(system, Model) else system
    dim = mapping.dim
    if grid is None:
        grid = default_grid(model, dim, values)
    if not isinstance(grid, list | tuple) or len(grid) not in (1, 2) or len(grid) > dim:
        raise ValueError(f"grid must be {min(dim, 2)} (lo, hi, n) triple(s), one per gridded "
                         f"state component, got {grid!r}")
    triples = check.grid("grid", grid, dim=len(grid))
    axes = [np.linspace(lo, hi, n) for lo, hi, n in triples]
    steps = check.integer("steps", steps, minimum=1, maximum=2**31 - 1)
    if base is None:
        base = np.zeros(dim)
    base = check.array("base", base, dim=dim)
    if base.shape != (dim,):
        raise ValueError(f"base must have shape ({dim},), got {base.shape}")
    tol = check.real("tol", tol, positive=True)
    radius = check.real("radius", radius, positive=True, hi=1e150)   # radius^2 stays finite
    max_period = check.integer("max_period", max_period, minimum=1, maximum=4096)
    cycle_rtol = check.real("cycle_rtol", cycle_rtol, positive=True, hi=0.1)
    lyapunov_steps = check.integer("lyapunov_steps", lyapunov_steps, minimum=0)
    chaos_threshold = check.real("chaos_threshold", chaos_threshold)
    if not isinstance(scaling, bool | np.bool_):
        raise TypeError(f"scaling must be True or False, got {scaling!r}")
    chunk_size = check.integer("chunk_size", chunk_size, minimum=1)
    row_cells = int(np.prod([len(a) for a in axes[1:]])) if len(axes) > 1 else 1
    rows = max(1, min(len(axes[0]), chunk_size // row_cells))
    return Plan(mapping=mapping, model=model, param=param, values=values, axes=axes,
                base=base, steps=steps, tol=tol, radius=radius, max_period=max_period,
                cycle_rtol=cycle_rtol, lyapunov_steps=lyapunov_steps,
                chaos_threshold=chaos_threshold, scaling=bool(scaling), rows=rows,
                path=choose_path(mapping, model))


def _fingerprint(plan: Plan, match_tol: float) -> str:
    """Return a SHA-256 hex digest of everything that determines the result."""
    mapping = plan.mapping
    step = getattr(mapping, "_step_fn", None)
    code = getattr(step, "__code__", None)
    desc = {
        "dynsys": __version__,
        "system": type(plan.model if plan.model is not None else mapping).__name__,
        "name": str(getattr(plan.model, "name", mapping.name)),
        "params": {k: float(v).hex() for k, v in mapping.params.items() if k != plan.param},
        "model": json.dumps(plan.model.describe(), sort_keys=True, default=str)
        if plan.model is not None else None,
        "constants": [float(c).hex() for c in getattr(mapping.kernel, "constants", ())]
        if mapping.kernel is not None else None,
        "step_code": hashlib.sha256(code.co_code).hexdigest() if code is not None else None,
        "param": plan.param,
        "values": [float(v).hex() for v in plan.values],
        "axes": [[float(a[0]).hex(), float(a[-1]).hex(), len(a)] for a in plan.axes],
        "base": [float(b).hex() for b in plan.base],
        "settings": [plan.steps, float(plan.tol).hex(), float(plan.radius).hex(),
                     plan.max_period, float(plan.cycle_rtol).hex(), plan.lyapunov_steps,
                     float(plan.chaos_threshold).hex(), plan.scaling, plan.rows,
                     float(match_tol).hex(), plan.path],
    }
    return hashlib.sha256(json.dumps(desc, sort_keys=True).encode()).hexdigest()


def _progress(progress):
    if progress is None or progress is False:
        return None
    if progress is True:
        from tqdm.auto import tqdm

        bar = {}

        def report(done, total):
            if "bar" not in bar:
                bar["bar"] = tqdm(total=total, desc="basins", unit="chunk")
            bar["bar"].n = done
            bar["bar"].refresh()
            if done >= total:
                bar["bar"].close()
        return report
    if not callable(progress):
        raise TypeError(f"progress must be a callable progress(done, total), True or None, "
                        f"got {type(progress).__name__}")
    return progress


def _client(scheduler):
    if isinstance(scheduler, str) and scheduler in ("serial", "sync", "synchronous"):
        return None
    if scheduler is None:
        if "distributed" not in sys.modules:
            return None
        from distributed import default_client

        try:
            return default_client()
        except ValueError:
            return None
    if isinstance(scheduler, str):
        from distributed import Client

        return Client(scheduler)
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return scheduler
    raise TypeError(f"scheduler must be a dask.distributed Client, a scheduler address, "
                    f"'serial' or None, got {type(scheduler).__name__}")


# -- the result's layout ------------------------------------------------------------------------
def _names(plan: Plan):
    prefix = "theta" if plan.model is not None else "x"
    state = [f"{prefix}_{i + 1}" for i in range(plan.dim)]
    grid_dims = state[: len(plan.axes)]
    return prefix, state, grid_dims


def _template(plan: Plan, system) -> xr.Dataset:
    """Return the result Dataset with empty (numpy, uninitialised-free) variables."""
    prefix, state, grid_dims = _names(plan)
    dims = (plan.param, *grid_dims)
    shape = plan.shape
    coords = {plan.param: plan.values, "param": state}
    for d, axis in zip(grid_dims, plan.axes, strict=True):
        coords[d] = axis
    what = "step size" if plan.param == "lr" else f"parameter {plan.param}"
    data = {
        "outcome": (dims, np.zeros(shape, np.int8), flag_attrs(OUTCOMES, "outcome")),
        "period": (dims, np.zeros(shape, np.int16),
                   {"long_name": "minimal period (1: converged, 0: none)", "units": "1"}),
        "steps": (dims, np.zeros(shape, np.int32),
                  {"long_name": "iterations used", "units": "1"}),
        f"final_{prefix}": (dims + ("param",), np.zeros(shape + (plan.dim,)),
                            {"long_name": "state where the orbit stopped"}),
        "lyapunov": (dims, np.zeros(shape),
                     {"long_name": "finite-time Lyapunov exponent over the last window",
                      "units": "1/iteration"}),
        "final_loss": (dims, np.zeros(shape), {"long_name": "loss at the final state"}),
        "final_sharpness": (dims, np.zeros(shape),
                            {"long_name": "sharpness at the final state"}),
        "attractor": (dims, np.zeros(shape, np.int32),
                      {"long_name": "attractor id (-1: none)", "units": "1"}),
        _store.MASK: ((plan.param, "row_block"), np.zeros((len(plan.values), plan.n_blocks),
                                                         np.int8),
                      {"long_name": "chunk finished"}),
    }
    if plan.model is None:
        del data["final_loss"], data["final_sharpness"]
    ds = xr.Dataset(data, coords=coords)
    ds[plan.param].attrs.update(long_name=what, units="1")
    for d in grid_dims:
        ds[d].attrs.update(long_name=f"initial {d}", units="1")
    ds["param"].attrs.update(long_name="state component")
    target = plan.model if plan.model is not None else plan.mapping
    ds.attrs.update(provenance(
        target, analysis="basins", swept=plan.param, steps=plan.steps, tol=plan.tol,
        radius=plan.radius, max_period=plan.max_period, cycle_rtol=plan.cycle_rtol,
        lyapunov_steps=min(plan.lyapunov_steps, plan.steps),
        chaos_threshold=plan.chaos_threshold, scaling=int(plan.scaling), compute_path=plan.path,
        base=plan.base))
    # the swept parameter is a coordinate, not a fixed parameter of the system
    ds.attrs.pop(f"param_{plan.param}", None)
    params = json.loads(ds.attrs["system_params"])
    params.pop(plan.param, None)
    ds.attrs["system_params"] = json.dumps(params, sort_keys=True)
    return ds


def _table_dataset(plan: Plan, table: AttractorTable) -> xr.Dataset:
    arr = table.arrays()
    return xr.Dataset({
        "attractor_kind": ("attractor_id", arr["kind"], flag_attrs(KINDS, "attractor kind")),
        "attractor_period": ("attractor_id", arr["period"],
                             {"long_name": "attractor period (0: chaotic)", "units": "1"}),
        "attractor_x": (("attractor_id", "param"), arr["point"],
             {"long_name": "representative point (canonical point of a cycle)"}),
        "attractor_value": ("attractor_id", arr["value"],
                            {"long_name": f"{plan.param} where the attractor was first met"}),
    }, coords={"attractor_id": np.arange(len(table), dtype=np.int32)})


# -- running ------------------------------------------------------------------------------------
def _cycles(plan: Plan, value: float):
    return lambda final, detected: _reduce_cycles(plan, value, final, detected)


def _chunk_views(ds: xr.Dataset, plan: Plan, key) -> dict:
    """Return the chunk's slices of the result arrays as flat views (filled in place)."""
    vi, block = key
    rows = plan.row_slice(block)
    prefix = "theta" if plan.model is not None else "x"
    out = {}
    for name, src in (("outcome", "outcome"), ("period", "period"), ("steps", "steps"),
                      ("final", f"final_{prefix}"), ("lyapunov", "lyapunov"),
                      ("final_loss", "final_loss"), ("final_sharpness", "final_sharpness")):
        if src not in ds:
            continue
        part = ds[src].values[vi, rows]
        out[name] = part.reshape((-1, plan.dim) if name == "final" else -1)
    return out


def _task(plan: Plan, key, store: str | None, region_names):
    """Compute one chunk on a dask worker with a single-threaded kernel."""
    from .._numba import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        out = compute_chunk(plan, key)
    finally:
        numba.set_num_threads(previous)
    if store is None:
        return out
    _write_chunk(plan, key, out, store, region_names)
    return None


def _write_chunk(plan: Plan, key, out: dict, path: str, names) -> None:
    """Write a finished chunk into the store, then mark it done (in that order)."""
    _store.write_region(path, _region_data(plan, out, names), _region(plan, key))
    _store.write_region(path, {_store.MASK: ((plan.param, "row_block"), np.ones((1, 1),
                                                                                np.int8))},
                        {plan.param: slice(key[0], key[0] + 1),
                         "row_block": slice(key[1], key[1] + 1)})


def _region(plan: Plan, key) -> dict:
    _, _, grid_dims = _names(plan)
    region = {plan.param: slice(key[0], key[0] + 1), grid_dims[0]: plan.row_slice(key[1])}
    for d in grid_dims[1:]:
        region[d] = slice(None)
    return region


def _region_data(plan: Plan, out: dict, names) -> dict:
    prefix, _, grid_dims = _names(plan)
    data = {}
    for name in names:
        src = "final" if name.startswith("final_") and name[6:] == prefix else name
        values = out[src]
        dims = (plan.param, *grid_dims) + (("param",) if src == "final" else ())
        shape = (1, -1) + tuple(len(a) for a in plan.axes[1:]) + \
            ((plan.dim,) if src == "final" else ())
        data[name] = (dims, values.reshape(shape))
    return data


def _run_chunks(plan: Plan, keys, client, report, done0: int, total: int, sink, store=None,
                region_names=()):
    """Compute ``keys``; ``sink(key, out)`` receives each result (serial or as completed)."""
    done = done0
    if client is None:
        for key in keys:
            sink(key, None)
            done += 1
            if report is not None:
                report(done, total)
        return
    from distributed import as_completed

    futures = {client.submit(_task, plan, key, store, region_names, pure=False): key
               for key in keys}
    for future in as_completed(futures):
        out = future.result()
        sink(futures[future], out)
        done += 1
        if report is not None:
            report(done, total)


def _run_memory(plan: Plan, ds: xr.Dataset, match_tol: float, client, report) -> xr.Dataset:
    keys = plan.chunks()

    def sink(key, out):
        views = _chunk_views(ds, plan, key)
        if out is None:
            compute_chunk(plan, key, views if len(views) == 7 else _with_scratch(views, plan))
        else:
            for name, view in views.items():
                view[...] = out[name]

    _run_chunks(plan, keys, client, report, 0, len(keys), sink)
    table = AttractorTable(plan.dim, match_tol)
    for key in keys:
        views = _chunk_views(ds, plan, key)
        ids = ds["attractor"].values[key[0], plan.row_slice(key[1])].reshape(-1)
        ids[...] = _label(plan, table, key, views)
    ds = ds.drop_vars(_store.MASK)
    return ds.merge(_table_dataset(plan, table), combine_attrs="override")


def _with_scratch(views: dict, plan: Plan) -> dict:
    n = views["outcome"].shape[0]
    full = empty_fields(n, plan.dim)
    full.update(views)
    return full


def _label(plan: Plan, table: AttractorTable, key, fields: dict) -> np.ndarray:
    value = float(plan.values[key[0]])
    loss = fields.get("final_loss")
    family = (family_mask(plan, fields["outcome"], loss) if loss is not None
              else np.zeros(fields["outcome"].shape, dtype=bool))
    return label_chunk(table, value, fields["outcome"], fields["period"], fields["final"],
                       family, _cycles(plan, value))


def _run_stored(plan: Plan, template: xr.Dataset, path: str, fingerprint: str,
                match_tol: float, client, report) -> xr.Dataset:
    prefix, _, _ = _names(plan)
    chunks = {plan.param: 1, _names(plan)[2][0]: plan.rows}
    mask = _store.create_or_open(path, template, chunks, fingerprint)
    if _store.is_complete(path):
        return _store.open_result(path)
    keys = plan.chunks()
    missing = [key for key in keys if not mask[key]]
    names = [n for n in ("outcome", "period", "steps", f"final_{prefix}", "lyapunov",
                         "final_loss", "final_sharpness") if n in template]

    def sink(key, out):
        if out is None:      # serial: compute here, then write and mark
            _write_chunk(plan, key, compute_chunk(plan, key), path, names)

    _run_chunks(plan, missing, client, report, len(keys) - len(missing), len(keys), sink,
                store=path if client is not None else None, region_names=names)
    table = AttractorTable(plan.dim, match_tol)
    for key in keys:
        region = _region(plan, key)
        got = _store.read_region(path, names, region)
        fields = {("final" if n == f"final_{prefix}" else n): v.reshape(
            (-1, plan.dim) if n == f"final_{prefix}" else -1) for n, v in got.items()}
        ids = _label(plan, table, key, fields)
        shaped = {"period": fields["period"], "attractor": ids}
        _store.write_region(path, {n: ((plan.param, *_names(plan)[2]),
                                       v.reshape((1, -1) + tuple(len(a) for a in plan.axes[1:])))
                                   for n, v in shaped.items()}, region)
    _store.finish(path, _table_dataset(plan, table))
    return _store.open_result(path)


__all__ = ["basins"]
