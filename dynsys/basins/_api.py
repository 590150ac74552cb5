"""``dynsys.basins``: where every initial state goes, over a sweep of a parameter."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._limits import require
from .._outcomes import Outcome
from .._stopping import OrbitEnds, StoppingRule
from .._version import __version__
from .._xr import dataset
from ..models import Model, gd_map, resolve_swept
from ..systems import AutoKernel
from . import _fingerprint as _fp
from . import _store
from ._attractors import AttractorKind, AttractorTable, label_chunk
from ._sweep import SCHEMA, Plan, choose_path, compute_chunk, family_mask, numpy_sweep
from ._sweep import reduce_cycles as _reduce_cycles

#: Grid cells per chunk by default (a chunk is one parameter value and a block of grid rows).
CHUNK_CELLS = 1 << 20
#: ... on the numpy path (slow: smaller chunks give a progress bar that moves).
NUMPY_CHUNK_CELLS = 1 << 12
#: A run estimated to take longer than this many seconds shows a progress bar by default.
PROGRESS_AFTER = 5.0
#: Rough point-iterations per second per thread of the compiled loops, for that estimate.
_RATES = {"model": 1e8, "kernel": 1e7}


def basins(system, values=None, *, lr_range=None, grid=None, base=None, param: str | None = None,
           rule: StoppingRule | None = None, steps: int | None = None, tol: float | None = None,
           radius: float | None = None, match_tol: float = 1e-6, scaling: bool = True,
           chunk_size: int | None = None, scheduler=None, store=None, progress=None,
           **rule_fields) -> xr.Dataset:
    """Return the basin map of ``system`` over a grid of initial states, for every swept value.

    Every grid point is iterated until it converges, settles on a cycle, diverges, or runs out
    of ``steps``, by the library's one :class:`~dynsys.StoppingRule`. Compiled loops do the
    work on all cores: the model's own loop when it has the ``grid_kernel`` hook (the 2-D
    model), the generic loop for maps with a compiled ``kernel`` (GD on models with a
    ``gd_kernel``), a vectorised numpy loop otherwise.

    Parameters
    ----------
    system : Model or Map
        A model (gradient descent runs on it, the swept parameter is its step size ``lr``) or a
        map with a named parameter.
    values : array or dynsys.linspace
        Values of the swept parameter: step sizes (> 0) for a model, or of the map parameter
        ``param``. ``lr_range=`` is the same argument under the name of a step-size sweep
        (deprecated for sweeps of other map parameters).
        Ranges are explicit, ``dynsys.linspace(start, stop, num)`` or ``dynsys.geomspace``;
        a bare ``(start, stop, num)`` tuple is deprecated (it reads like three values).
    grid : ((lo1, hi1, n1), (lo2, hi2, n2)), optional
        Initial states: ``n1 x n2`` points of ``linspace(lo, hi, n)`` in the first two state
        components (one triple for 1-D maps). Other components are taken from ``base``.
        Default: 256 x 256 points; for :class:`~dynsys.QuadraticRegression2D` over
        ``|theta_1| <= 2 sqrt(2/lr_min)``, ``|theta_2| <= 2 sqrt(2/(eps lr_min))`` (twice the
        scales at which ``lr lambda = 2``), for a system with a ``default_box`` hook (models,
        built-in maps) over that box, otherwise over ``[-1, 1]`` in each component.
    base : array (dim,), optional
        Initial values of the state components not on the grid (default 0).
    param : str, optional
        Name of the swept map parameter (default ``lr`` if the map has one, or its only
        parameter). Models always sweep ``lr``.
    rule : StoppingRule, optional
        When each orbit stops (default ``StoppingRule()``: 1000 steps, ``tol`` 1e-12, ``radius``
        1e6, cycles up to period 64). Convergence: ``|F(x) - x|^2 <= tol^2 (1 + |x|^2)``, and
        for models with residuals in their own loop also ``|z| < tol``; divergence:
        ``|x| > radius`` or not finite; cycles: returns to a checkpoint (every period up to
        ``max_period`` is detected, the minimal period is then found); points still running
        in the last ``lyapunov_steps`` carry a tangent vector, and a finite-time exponent above
        ``chaos_threshold`` labels them chaotic instead of undecided.
    steps, tol, radius : optional
        Shorthands that override those fields of ``rule``.
    **rule_fields
        Any other field of :class:`~dynsys.StoppingRule` (``max_period``, ``cycle_rtol``,
        ``lyapunov_steps``, ``chaos_threshold``), overriding ``rule``.
    match_tol : float
        Relative distance under which two fixed points or cycles count as the same attractor.
    scaling : bool
        For the 2-D model, iterate the rescaled coordinates ``sqrt(lr) theta`` with step size 1
        and target ``lr * target`` (docs/math.md section 3). The results are the same as without it
        (bit for bit when ``lr`` is a power of 4).
    chunk_size : int, optional
        Approximate grid cells per chunk (a chunk holds one parameter value and whole grid
        rows); the unit of parallel work, of progress and of resuming. Default ``2**20``, or
        ``2**12`` on the numpy path.
    scheduler : dask.distributed.Client or str, optional
        Run the chunks on this Client (or scheduler address); by default an active Client is
        used if there is one. ``"serial"`` forces the local loop. Each worker runs single-threaded
        kernels. Results equal those of the serial run.
    store : str, optional
        Path of a ``.zarr`` store: each finished chunk is written as it completes, and a call
        with the same arguments on an existing store resumes, computing only missing chunks.
        The result is then read lazily from the store.
    progress : callable, bool or None
        ``progress(done, total)`` after each chunk, ``True`` for a tqdm bar, ``False`` for
        none. By default (None) a tqdm bar is shown when the run is estimated to take more
        than a few seconds (``steps`` x cells over the path's speed: the numpy path's is
        measured), except under pytest (``PYTEST_CURRENT_TEST`` set).

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
    rule = _rule(rule, steps=steps, tol=tol, radius=radius, **rule_fields)
    plan = _plan(system, values, lr_range, grid=grid, param=param, base=base, rule=rule,
                 scaling=scaling, chunk_size=chunk_size, stored=store is not None)
    match_tol = check.real("match_tol", match_tol, positive=True)
    report = _progress(progress, plan)
    client = _client(scheduler)
    if store is not None:
        if not isinstance(store, str | os.PathLike) or not os.fspath(store).endswith(".zarr"):
            raise ValueError(f"store must be a path (str or pathlib.Path) ending in .zarr, "
                             f"got {store!r}")
        store = os.fspath(store)
        digest, parts = _fingerprint(plan, match_tol)
        template = _template(plan, system, lazy=True)
        with _own(client) as active:
            return _run_stored(plan, template, store, digest, parts, match_tol, active, report)
    template = _template(plan, system)
    with _own(client) as active:
        return _run_memory(plan, template, match_tol, active, report)


# -- arguments ----------------------------------------------------------------------------------
def default_grid(system, dim: int, values: np.ndarray, n: int = 256) -> tuple:
    """Return the default grid of starts (see :func:`basins`): the ``default_box`` hook of the
    model (or map) at the smallest swept value if it has one, else ``[-1, 1]`` per gridded
    component."""
    hook = getattr(system, "default_box", None)
    if hook is not None:
        box = hook(float(np.min(values)))
        return tuple((float(lo), float(hi), n) for lo, hi in box[:2])
    return tuple((-1.0, 1.0, n) for _ in range(min(dim, 2)))


_RULE_FIELDS = ("max_period", "cycle_rtol", "lyapunov_steps", "chaos_threshold")


def _rule(rule, **fields) -> StoppingRule:
    """Return ``rule`` (default ``StoppingRule()``) with the given non-None fields replaced."""
    if rule is None:
        rule = StoppingRule()
    if not isinstance(rule, StoppingRule):
        raise TypeError(f"rule must be a dynsys.StoppingRule, got {type(rule).__name__}")
    unknown = set(fields) - {"steps", "tol", "radius", *_RULE_FIELDS}
    if unknown:
        raise TypeError(f"basins() got unexpected keyword argument(s) {sorted(unknown)}")
    changes = {k: v for k, v in fields.items() if v is not None}
    return rule.replace(**changes) if changes else rule


def _plan(system, values, lr_range, *, grid, param, base, rule, scaling, chunk_size,
          stored=False) -> Plan:
    _, model, param = resolve_swept(system, param)
    values = check.swept_values("basins", values, lr_range, param)
    mapping = gd_map(model, float(values[0])) if isinstance(system, Model) else system
    dim = mapping.dim
    if not (getattr(model, "grid_kernel", None) is not None and dim == 2
            and (grid is None or len(grid) == 2)):
        # the generic compiled loop, with a kernel numba compiles from the user's functions
        # when the map or model has none (one warning, and the numpy path, if it cannot)
        hook = getattr(mapping, "compiled", None)
        if callable(hook):
            mapping = hook(numpy_rate=numpy_rate)
    if grid is None:
        grid = default_grid(model if model is not None else mapping, dim, values)
    if not isinstance(grid, list | tuple) or len(grid) not in (1, 2) or len(grid) > dim:
        raise ValueError(f"grid must be {min(dim, 2)} (lo, hi, n) triple(s), one per gridded "
                         f"state component, got {grid!r}")
    triples = check.grid("grid", grid, dim=len(grid))
    lens = [n for _, _, n in triples]
    if base is None:
        base = np.zeros(dim)
    base = check.array("base", base, dim=dim)
    if base.shape != (dim,):
        raise ValueError(f"base must have shape ({dim},), got {base.shape}")
    if not isinstance(scaling, bool | np.bool_):
        raise TypeError(f"scaling must be True or False, got {scaling!r}")
    path = choose_path(mapping, model, len(triples), base)
    if chunk_size is None:
        chunk_size = NUMPY_CHUNK_CELLS if path == "numpy" else CHUNK_CELLS
    chunk_size = check.integer("chunk_size", chunk_size, minimum=1)
    _check_size(len(values), lens, dim, model is not None, chunk_size, stored)
    axes = [np.linspace(lo, hi, n) for lo, hi, n in triples]
    row_cells = int(np.prod([len(a) for a in axes[1:]])) if len(axes) > 1 else 1
    rows = max(1, min(len(axes[0]), chunk_size // row_cells))
    return Plan(mapping=mapping, model=model, param=param, values=values, axes=axes,
                base=base, rule=rule, scaling=bool(scaling), rows=rows, path=path)


def _check_size(n_values: int, lens: list, dim: int, is_model: bool, chunk_size: int,
                stored: bool) -> None:
    """Refuse, before allocating anything, a sweep whose result (in memory) or bookkeeping (a
    store: the completion mask, the checksums and the task graph, one entry per chunk, and the
    chunk being computed) exceeds the memory limit."""
    fields = [f for f in SCHEMA if is_model or not f.model_only]
    per_cell = sum(np.dtype(f.dtype).itemsize * (dim if f.state else 1) for f in fields) + 4
    cells = int(np.prod(lens, dtype=object))
    row_cells = int(np.prod(lens[1:], dtype=object)) if len(lens) > 1 else 1
    rows = max(1, min(lens[0], chunk_size // row_cells))
    shape = " x ".join(str(n) for n in (n_values, *lens))
    name = "grid" if n_values == 1 else "grid or the number of swept values"
    axes = 8 * sum(lens)
    if not stored:
        require(name, axes + 2 * n_values * cells * per_cell,
                f"{shape} cells x {per_cell} bytes, with the working copy; a sweep with "
                f"store= holds one chunk at a time")
        return
    n_chunks = n_values * -(-lens[0] // rows)
    require(name, axes + n_chunks * (2048 + 8 * len(fields)) + 4 * rows * row_cells * per_cell,
            f"{shape} cells in {n_chunks} chunks of the store x about 2 KiB of bookkeeping "
            f"each, and the chunk being computed; raise chunk_size for fewer chunks")


def _fingerprint(plan: Plan, match_tol: float) -> tuple[str, dict]:
    """Return the SHA-256 digest of everything that determines the result, and its parts
    (readable values, or digests of the system's data and of long arrays)."""
    mapping = plan.mapping
    system = plan.model if plan.model is not None else mapping
    values = np.ascontiguousarray(plan.values, dtype=float)
    parts = {
        "dynsys": __version__,
        "system": type(system).__name__,
        "name": str(getattr(system, "name", "")),
        "params": json.dumps({k: float(v).hex() for k, v in mapping.params.items()
                              if k != plan.param}, sort_keys=True),
        "param": plan.param,
        "values": (f"{values.size} values from {float(values[0])!r} to "
                   f"{float(values[-1])!r} (sha256 {_fp.digest(values)[:16]})"),
        "grid": json.dumps([[float(a[0]), float(a[-1]), len(a)] for a in plan.axes]),
        "base": json.dumps([float(b).hex() for b in plan.base]),
        **{f"rule.{k}": repr(v) for k, v in plan.rule.attrs().items()},
        "scaling": repr(plan.scaling),
        "rows per chunk": repr(plan.rows),
        "match_tol": repr(float(match_tol)),
        "compute_path": _path_label(plan),
        **_fp.system_parts(system, skip=_fingerprint_skip(plan)),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest(), parts


def numpy_rate(mapping, n: int = 256, steps: int = 40) -> float:
    """Return the measured point-iterations per second of the numpy basin loop on ``mapping``
    (``n`` starts in ``[-1, 1]^dim``, ``steps`` steps; the loop's bookkeeping included)."""
    x0 = np.random.default_rng(7).uniform(-1.0, 1.0, (n, mapping.dim))
    ends = OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                     np.empty((n, mapping.dim)), np.empty(n))
    t0 = time.perf_counter()
    try:
        numpy_sweep(mapping, x0, StoppingRule(steps=steps, lyapunov_steps=0), ends)
    except Exception:
        return float("nan")
    return float(np.sum(ends.used)) / max(time.perf_counter() - t0, 1e-9)


def _fingerprint_skip(plan: Plan) -> tuple:
    """Return the system attributes that do not determine the result: a map's params (the
    swept one is recorded apart), whether it may be compiled (``compute_path`` is recorded) and
    an automatically compiled kernel (a copy of the user's functions)."""
    skip = ("_jit",)
    if plan.model is None:
        skip += ("params",)
        if isinstance(plan.mapping.kernel, AutoKernel):
            skip += ("kernel",)
    return skip


def estimated_seconds(plan: Plan) -> float:
    """Return a rough upper estimate of a sweep's run time: every cell running all ``steps``,
    at the path's speed (measured for the numpy path, typical for the compiled ones, times
    numba's threads)."""
    work = float(np.prod(plan.shape)) * plan.rule.steps
    if plan.path == "numpy":
        rate = numpy_rate(plan.map_at(float(plan.values[0])))
    else:
        from .._numba import numba

        rate = _RATES.get(plan.path, 1e7) * numba.get_num_threads()
    return work / rate if np.isfinite(rate) and rate > 0 else float("inf")


def _progress(progress, plan: Plan | None = None):
    """Return the ``report(done, total)`` callable (or None) for ``progress``."""
    if progress is None:
        quiet = "PYTEST_CURRENT_TEST" in os.environ or sys.stderr is None
        if quiet or plan is None or estimated_seconds(plan) <= PROGRESS_AFTER:
            return None
        progress = True
    if progress is False:
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
        raise TypeError(f"progress must be a callable progress(done, total), True, False or "
                        f"None, got {type(progress).__name__}")
    return progress


@contextlib.contextmanager
def _own(client):
    """Yield the client to run on; a Client that :func:`basins` made itself (``made``) is
    closed at the end, whatever happens."""
    client, made = client
    if not made:
        yield client
        return
    try:
        yield client
    finally:
        client.close()


def _client(scheduler):
    """Return ``(client or None, whether basins made it)``."""
    client = _find_client(scheduler)
    if isinstance(scheduler, str) and client is not None:
        return client, True
    return client, False


def _find_client(scheduler):
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
        return _connect(scheduler)
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return scheduler
    raise TypeError(f"scheduler must be a dask.distributed Client, a scheduler address, "
                    f"'serial' or None, got {type(scheduler).__name__}")


def _connect(address: str):
    """Return a new Client connected to the scheduler at ``address``, leaving nothing behind
    (no half-built default client) if that fails."""
    from distributed import Client

    try:
        client = Client(address, set_as_default=False, timeout="10s")
    except Exception as exc:     # a typo, no scheduler there, a refused connection
        raise ValueError(f"scheduler {address!r} is not a reachable dask scheduler address "
                         f"({type(exc).__name__}: {exc}); pass a Client, an address such as "
                         f"'tcp://host:8786', 'serial' or None") from None
    return client


# -- the result's layout: every piece below follows the schema of ._sweep ----------------------
def _path_label(plan: Plan) -> str:
    """Return the name of the loop a sweep ran (recorded as ``compute_path``)."""
    if plan.path == "model":
        return str(getattr(plan.model.grid_kernel, "name", "model"))
    if plan.path == "kernel" and isinstance(plan.mapping.kernel, AutoKernel):
        return "auto_kernel"
    return plan.path


def _template(plan: Plan, system, lazy: bool = False) -> xr.Dataset:
    """Return the result Dataset with zero-filled variables, one per schema field: numpy
    arrays, or with ``lazy`` dask arrays chunked like the sweep (only declared, for a store:
    nothing of the size of the result is allocated)."""
    dims = (plan.param, *plan.grid_dims)
    shape = plan.shape
    if lazy:
        import dask.array as da

        row_chunks = (1, plan.rows) + shape[2:]

        def zeros(full, dtype):
            return da.zeros(full, dtype=dtype, chunks=row_chunks + full[len(row_chunks):])
    else:
        zeros = np.zeros
    state = [f"{plan.prefix}_{i + 1}" for i in range(plan.dim)]
    coords = {plan.param: plan.values, "component": np.asarray(state)}
    for d, axis in zip(plan.grid_dims, plan.axes, strict=True):
        coords[d] = axis
    what = "step size" if plan.param == "lr" else f"parameter {plan.param}"
    data = {}
    for f in plan.fields():
        attrs = (Outcome.cf_attrs("outcome") if f.key == "outcome"
                 else {"long_name": f.long_name, **({"units": f.units} if f.units else {}),
                       **({"missing_value": np.asarray(f.missing_value, f.dtype)[()]}
                          if f.missing_value is not None else {})})
        data[plan.var_name(f)] = (dims + (("component",) if f.state else ()),
                                  zeros(shape + ((plan.dim,) if f.state else ()), f.dtype),
                                  attrs)
    data["attractor"] = (dims, zeros(shape, np.int32),
                         {"long_name": "attractor id (-1: none)", "units": "1",
                          "missing_value": np.int32(-1)})
    data[_store.MASK] = ((plan.param, "row_block"),
                         np.zeros((len(plan.values), plan.n_blocks), np.int8),
                         {"long_name": "chunk finished"})
    ds = dataset(data, coords)            # xr.Dataset(data, coords), without importing dask
    ds[plan.param].attrs.update(long_name=what, units="1")
    for d in plan.grid_dims:
        ds[d].attrs.update(long_name=f"initial {d}", units="1")
    ds["component"].attrs.update(long_name="state component")
    target = plan.model if plan.model is not None else plan.mapping
    rule = plan.rule.attrs()
    rule["lyapunov_steps"] = min(rule["lyapunov_steps"], rule["steps"])
    ds.attrs.update(provenance(target, analysis="basins", swept=plan.param, **rule,
                               scaling=int(plan.scaling), compute_path=_path_label(plan),
                               base=plan.base))
    # the swept parameter is a coordinate, not a fixed parameter of the system
    ds.attrs.pop(f"param_{plan.param}", None)
    params = json.loads(ds.attrs["system_params"])
    params.pop(plan.param, None)
    ds.attrs["system_params"] = json.dumps(params, sort_keys=True)
    return ds


def _table_dataset(plan: Plan, table: AttractorTable) -> xr.Dataset:
    arr = table.arrays()
    return dataset({
        "attractor_kind": ("attractor_id", arr["kind"], AttractorKind.cf_attrs("attractor kind")),
        "attractor_period": ("attractor_id", arr["period"],
                             {"long_name": "attractor period (0: chaotic)", "units": "1"}),
        "attractor_x": (("attractor_id", "component"), arr["point"],
             {"long_name": "representative point (canonical point of a cycle)"}),
        "attractor_value": ("attractor_id", arr["value"],
                            {"long_name": f"{plan.param} where the attractor was first met"}),
    }, coords={"attractor_id": ("attractor_id", np.arange(len(table), dtype=np.int32),
                                 {"long_name": "attractor id"})})


# -- running ------------------------------------------------------------------------------------
def _cycles(plan: Plan, value: float):
    return lambda final, detected: _reduce_cycles(plan, value, final, detected)


def _chunk_views(ds: xr.Dataset, plan: Plan, key) -> dict:
    """Return the chunk's slices of the result arrays as flat views (filled in place)."""
    vi, block = key
    rows = plan.row_slice(block)
    return {f.key: ds[plan.var_name(f)].values[vi, rows].reshape((-1, plan.dim) if f.state
                                                                   else -1)
            for f in plan.fields()}


def _task(plan: Plan, key, store: str | None):
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
    _write_chunk(plan, key, out, store)
    return None


def _write_chunk(plan: Plan, key, out: dict, path: str) -> None:
    """Write a finished chunk into the store, its checksums, then mark it done (in that
    order)."""
    _store.write_block(path, key, _region_data(plan, out), _region(plan, key), done=True)


def _region(plan: Plan, key) -> dict:
    region = {plan.param: slice(key[0], key[0] + 1), plan.grid_dims[0]: plan.row_slice(key[1])}
    for d in plan.grid_dims[1:]:
        region[d] = slice(None)
    return region


def _region_data(plan: Plan, out: dict) -> dict:
    """Return a chunk's outputs shaped for a region write of the store."""
    cells = tuple(len(a) for a in plan.axes[1:])
    data = {}
    for f in plan.fields():
        extra = (plan.dim,) if f.state else ()
        data[plan.var_name(f)] = ((plan.param, *plan.grid_dims) + (("component",) if f.state else ()),
                                  out[f.key].reshape((1, -1) + cells + extra))
    return data


def _read_fields(plan: Plan, path: str, key) -> dict:
    """Return a stored chunk's outputs as flat arrays keyed like the schema."""
    names = {plan.var_name(f): f for f in plan.fields()}
    got = _store.read_region(path, list(names), _region(plan, key))
    return {names[n].key: v.reshape((-1, plan.dim) if names[n].state else -1)
            for n, v in got.items()}


def _run_chunks(plan: Plan, keys, client, report, done0: int, total: int, sink, store=None):
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

    futures = {client.submit(_task, plan, key, store, pure=False): key
               for key in keys}
    for future in as_completed(futures, loop=client.loop):
        out = future.result()
        sink(futures[future], out)
        done += 1
        if report is not None:
            report(done, total)


def _run_memory(plan: Plan, ds: xr.Dataset, match_tol: float, client, report) -> xr.Dataset:
    keys = plan.chunks()
    families = {}     # the family test, where the kernel computed it on exit

    def sink(key, out):
        views = _chunk_views(ds, plan, key)
        if out is None:
            out = compute_chunk(plan, key, views)
        else:
            for name, view in views.items():
                view[...] = out[name]
        if "family" in out:
            families[key] = out["family"]

    _run_chunks(plan, keys, client, report, 0, len(keys), sink)
    table = AttractorTable(plan.dim, match_tol)
    for key in keys:
        views = _chunk_views(ds, plan, key)
        ids = ds["attractor"].values[key[0], plan.row_slice(key[1])].reshape(-1)
        ids[...] = _label(plan, table, key, views, families.pop(key, None))
    ds = ds.drop_vars(_store.MASK)
    return ds.merge(_table_dataset(plan, table), combine_attrs="override")


def _label(plan: Plan, table: AttractorTable, key, fields: dict, family=None) -> np.ndarray:
    value = float(plan.values[key[0]])
    loss = fields.get("final_loss")
    if family is None:
        family = (family_mask(plan, fields["outcome"], loss) if loss is not None
                  else np.zeros(fields["outcome"].shape, dtype=bool))
    return label_chunk(table, value, fields["outcome"], fields["period"], fields["final"],
                       family, _cycles(plan, value))


def _run_stored(plan: Plan, template: xr.Dataset, path: str, fingerprint: str, parts: dict,
                match_tol: float, client, report) -> xr.Dataset:
    chunks = {plan.param: 1, plan.grid_dims[0]: plan.rows}
    with _store.create_or_open(path, template, chunks, fingerprint, parts) as opened:
        mask, intact = _store.repair(path, opened.mask)
        if intact and _store.is_complete(path):
            return _store.open_result(path)
        _sweep_stored(plan, path, mask, match_tol, client, report)
    return _store.open_result(path)


def _sweep_stored(plan: Plan, path: str, mask, match_tol: float, client, report) -> None:
    keys = plan.chunks()
    missing = [key for key in keys if not mask[key]]

    def sink(key, out):
        if out is None:      # serial: compute here, then write and mark
            _write_chunk(plan, key, compute_chunk(plan, key), path)

    _run_chunks(plan, missing, client, report, len(keys) - len(missing), len(keys), sink,
                store=path if client is not None else None)
    table = AttractorTable(plan.dim, match_tol)
    dims = (plan.param, *plan.grid_dims)
    cells = tuple(len(a) for a in plan.axes[1:])
    for key in keys:
        fields = _read_fields(plan, path, key)
        ids = _label(plan, table, key, fields)
        shaped = {"period": fields["period"], "attractor": ids}
        _store.write_block(path, key, {n: (dims, v.reshape((1, -1) + cells))
                                       for n, v in shaped.items()}, _region(plan, key))
    _store.finish(path, _table_dataset(plan, table))


__all__ = ["basins"]
