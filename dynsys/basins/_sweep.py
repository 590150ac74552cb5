"""One chunk of a basin sweep: its plan, the schema of its results, the right hot loop."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from .._numba import numba
from .._outcomes import Outcome
from .._stopping import OrbitEnds, StoppingRule, block_length, checkpoint_interval
from .._stopping import converged, diverged, first_interval, returned
from . import _kernels as K


@dataclasses.dataclass(frozen=True)
class Field:
    """One per-cell result of a sweep: the schema that drives the result template, the chunk
    views, the store's region writes and the kernels' outputs."""

    key: str                   # name in a chunk's outputs
    dtype: type
    long_name: str
    units: str | None = "1"
    state: bool = False        # carries a state axis
    model_only: bool = False   # only for GD on a model
    kernel: bool = True        # filled by the hot loop (else by the model's final values)
    missing_value: int | None = None   # the sentinel meaning "none" (declared for CF readers)


#: The per-cell results, in order. ``final`` is stored as ``final_theta`` (models) or ``final_x``.
SCHEMA = (
    Field("outcome", np.int8, "outcome", None),
    Field("period", np.int16, "minimal period (1: converged, 0: none)", missing_value=0),
    Field("steps", np.int32, "iterations used"),
    Field("final", np.float64, "state where the orbit stopped", None, state=True),
    Field("lyapunov", np.float64, "finite-time Lyapunov exponent over the last window "
          "(per iteration)", "1"),
    Field("final_loss", np.float64, "loss at the final state", None, model_only=True,
          kernel=False),
    Field("final_sharpness", np.float64, "sharpness at the final state", None,
          model_only=True, kernel=False),
)


@dataclasses.dataclass
class Plan:
    """Everything a chunk needs; plain data (picklable, sent to dask workers)."""

    mapping: object            # the Map (GD map for models) at its base parameters
    model: object              # the model behind a GD map, or None
    param: str                 # swept parameter name
    values: np.ndarray         # swept parameter values
    axes: list                 # grid coordinates, one 1-D array per gridded state component
    base: np.ndarray           # the state components not gridded
    rule: StoppingRule         # when each orbit stops
    scaling: bool              # let a model's own loop use its scaling symmetry
    rows: int                  # rows of the first grid axis per chunk
    path: str                  # "model" (the model's grid_kernel), "kernel" or "numpy"

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.values),) + tuple(len(a) for a in self.axes)

    @property
    def dim(self) -> int:
        return self.mapping.dim

    @property
    def prefix(self) -> str:
        return "theta" if self.model is not None else "x"

    @property
    def grid_dims(self) -> list[str]:
        return [f"{self.prefix}_{i + 1}" for i in range(len(self.axes))]

    def fields(self) -> tuple[Field, ...]:
        """Return the per-cell results this sweep has."""
        return tuple(f for f in SCHEMA if self.model is not None or not f.model_only)

    def var_name(self, field: Field) -> str:
        """Return the Dataset variable name of ``field``."""
        return f"final_{self.prefix}" if field.key == "final" else field.key

    @property
    def n_blocks(self) -> int:
        return -(-len(self.axes[0]) // self.rows)

    def chunks(self) -> list[tuple[int, int]]:
        """Return the chunk keys ``(value index, row block)`` in their canonical order."""
        return [(v, b) for v in range(len(self.values)) for b in range(self.n_blocks)]

    def row_slice(self, block: int) -> slice:
        return slice(block * self.rows, min(len(self.axes[0]), (block + 1) * self.rows))

    def cells(self, block: int) -> int:
        """Return the number of grid cells in row block ``block``."""
        rows = self.row_slice(block)
        return (rows.stop - rows.start) * int(np.prod([len(a) for a in self.axes[1:]]))

    def start_points(self, block: int) -> np.ndarray:
        """Return the initial states ``(cells, dim)`` of a row block, in C order of the grid."""
        axes = [self.axes[0][self.row_slice(block)]] + list(self.axes[1:])
        mesh = np.meshgrid(*axes, indexing="ij")
        out = np.empty((mesh[0].size, self.dim))
        out[:] = self.base
        for k, m in enumerate(mesh):
            out[:, k] = m.ravel()
        return out

    def map_at(self, value: float):
        return self.mapping.with_params(**{self.param: value})


def choose_path(mapping, model, n_axes: int, base: np.ndarray) -> str:
    """Return the loop a sweep runs: the model's own (its ``grid_kernel`` hook, for a 2-D grid
    over the whole state), the generic compiled loop (a map with a ``kernel``) or numpy."""
    hook = getattr(model, "grid_kernel", None)
    if hook is not None and n_axes == mapping.dim == 2:
        return "model"
    if getattr(mapping, "kernel", None) is not None:
        return "kernel"
    return "numpy"


def empty_fields(n: int, plan: Plan) -> dict:
    """Return uninitialised output arrays for ``n`` cells, keyed like the schema."""
    return {f.key: np.empty((n, plan.dim) if f.state else n, dtype=f.dtype)
            for f in plan.fields()}


def compute_chunk(plan: Plan, key: tuple[int, int], out: dict | None = None) -> dict:
    """Return the per-cell results of chunk ``key`` (flat arrays, C order of the grid).

    ``out`` may hold preallocated arrays (views into the full result) to be filled in place.
    """
    vi, block = key
    value = float(plan.values[vi])
    if out is None:
        out = empty_fields(plan.cells(block), plan)
    else:
        missing = {f.key for f in SCHEMA if f.kernel} - set(out)
        if missing:
            out = {**empty_fields(plan.cells(block), plan), **out}
    ends = OrbitEnds(out["outcome"], out["period"], out["steps"], out["final"], out["lyapunov"])
    fused = False
    if plan.path == "model":
        hook = plan.model.grid_kernel
        fused = bool(getattr(hook, "fused", False))
        if fused:
            out["family"] = np.empty(ends.code.shape, dtype=bool)
        rows = plan.axes[0][plan.row_slice(block)]
        n2 = len(plan.axes[1])
        for lo, hi in _pieces(len(rows), plan.rule.steps, n2):   # whole rows per call
            a, b = lo * n2, hi * n2
            extra = ({"finals": (out["final_loss"][a:b], out["final_sharpness"][a:b],
                                 out["family"][a:b])} if fused else {})
            hook.sweep(rows[lo:hi], plan.axes[1], value, plan.rule, _part(ends, a, b),
                       scaling=plan.scaling, **extra)
    elif plan.path == "kernel":
        mapping = plan.map_at(value)
        starts = plan.start_points(block)
        p = mapping.param_vector()
        for lo, hi in _pieces(starts.shape[0], plan.rule.steps):
            K.map_sweep(mapping.kernel, starts[lo:hi], p, plan.rule, _part(ends, lo, hi),
                        mapping.step_scale)
    else:
        numpy_sweep(plan.map_at(value), plan.start_points(block), plan.rule, ends)
    if not fused:
        _final_values(plan, out)
    return out


#: Cell-steps of the first call of a compiled basin loop if every cell ran all its steps (a
#: fraction of a second at worst; at least one kernel block per thread, so that no thread
#: idles), and the time each later call aims at: a chunk runs in calls sized from the time the
#: previous call took (most orbits stop long before ``steps``, so a size fixed by the worst
#: case would make thousands of millisecond calls, each paying the thread launch and its tail),
#: so that Ctrl-C lands between them. Orbits are independent of each other, so the results do
#: not depend on this.
CALL_WORK = 1 << 24
CALL_SECONDS = 0.25


def _pieces(n: int, steps: int, unit: int = 1):
    """Yield ``(lo, hi)`` pieces covering ``range(n)`` in items of ``unit`` cells: the first of
    about :data:`CALL_WORK` worst-case cell-steps (at least a kernel block per thread), each
    next one sized so that its call takes about :data:`CALL_SECONDS`, judged by the time the
    caller spent on the previous piece (at most four times larger, at least half as large)."""
    least = max(1, -(-K.BLOCK * numba.get_num_threads() // unit))
    size = max(least, CALL_WORK // max(1, steps * unit))
    lo = 0
    while lo < n:
        hi = min(n, lo + size)
        tic = time.perf_counter()
        yield lo, hi
        took = time.perf_counter() - tic
        lo = hi
        grow = 4.0 if took <= 0 else min(4.0, max(0.5, CALL_SECONDS / took))
        size = max(least, int(size * grow))


def _part(ends: OrbitEnds, lo: int, hi: int) -> OrbitEnds:
    return OrbitEnds(*(a[lo:hi] for a in ends))


def _final_values(plan: Plan, out: dict) -> None:
    model = plan.model
    if model is None:
        return
    loss, sharp = out["final_loss"], out["final_sharpness"]
    hook = getattr(model, "grid_kernel", None)
    final = getattr(plan.mapping.kernel, "final", None) if plan.path == "kernel" else None
    if plan.path == "model":
        hook.final(out["final"], loss, sharp)
    elif final is not None:          # compiled from the user's functions (an AutoKernel)
        K.final_values(final, out["final"], loss, sharp)
    else:
        ok = np.all(np.isfinite(out["final"]), axis=1)
        loss[:] = np.nan
        sharp[:] = np.nan
        if ok.any():
            with np.errstate(all="ignore"):
                loss[ok] = model.loss(out["final"][ok])
                sharp[ok] = model.sharpness(out["final"][ok])
    gone = out["outcome"] == Outcome.DIVERGED
    loss[gone] = np.nan
    sharp[gone] = np.nan


# -- the vectorised numpy path (maps without a compiled kernel) ---------------------------------
def numpy_sweep(mapping, x0, rule: StoppingRule, ends: OrbitEnds) -> None:
    """The loop of the compiled kernels, written on whole batches of live points with the same
    tests of the stopping rule."""
    code, period, used, final, ftle = ends
    n, d = x0.shape
    x = x0.copy()
    check = x0.copy()
    vec = np.zeros((n, d))
    vec[:, 0] = 1.0
    lsum = np.zeros(n)
    idx = np.arange(n)
    cnt = np.zeros(n, dtype=np.int64)
    kr = rule.kernel(mapping.step_scale)
    steps = kr.steps
    cap = checkpoint_interval(kr.max_period)
    every = first_interval(kr.max_period)
    t_lyap = max(steps - kr.lyapunov_steps, 0)
    step = mapping.batch_step()
    running = -1
    t = tc = 0
    ftle[:] = np.nan
    with np.errstate(all="ignore"):
        while idx.size and t < steps:
            k = block_length(t, steps, t_lyap)
            stop = np.full(idx.size, running, dtype=np.int8)
            for _ in range(k):
                run = np.flatnonzero(stop == running)
                if run.size == 0:
                    break
                xr = x[run]
                r2 = np.einsum("ij,ij->i", xr, xr)
                div = diverged(r2, kr.radius2)
                y = step(xr)
                dy = y - xr
                jump2 = np.einsum("ij,ij->i", dy, dy)
                conv = ~div & converged(jump2, r2, kr.tol2)
                stop[run[div]] = Outcome.DIVERGED
                stop[run[conv]] = Outcome.CONVERGED
                go = ~(div | conv)
                mv = run[go]
                if t >= t_lyap and mv.size:
                    jac = mapping.jacobian(xr[go])
                    v = np.einsum("nij,nj->ni", jac, vec[mv])
                    vec[mv] = v
                x[mv] = y[go]
                cnt[mv] += 1
            t += k
            if t > t_lyap:
                nrm = np.sqrt(np.einsum("ij,ij->i", vec, vec))
                lsum += np.log(nrm)
                vec /= nrm[:, None]
            since = t - tc
            live = stop == running
            dx = x - check
            y = step(x)
            dy = y - x
            jump2 = np.einsum("ij,ij->i", dy, dy)
            cyc = live & returned(np.einsum("ij,ij->i", dx, dx), jump2, kr.rtol2, kr.radius2)
            stop[cyc] = Outcome.PERIODIC
            done = stop != running
            j = idx[done]
            code[j] = stop[done]
            period[j] = np.where(stop[done] == Outcome.CONVERGED, 1,
                                 np.where(stop[done] == Outcome.PERIODIC, since, 0))
            used[j] = cnt[done]
            final[j] = x[done]
            keep = ~done
            x, check, vec, lsum, idx, cnt = (x[keep], check[keep], vec[keep], lsum[keep],
                                             idx[keep], cnt[keep])
            if since >= every:
                tc = t
                every = min(2 * every, cap)
                check = x.copy()
        n_lyap = steps - t_lyap
        lam = lsum / n_lyap if n_lyap > 0 else np.full(idx.size, np.nan)
        code[idx] = np.where(lam > kr.chaos_threshold, Outcome.CHAOTIC, Outcome.UNDECIDED)
        period[idx] = 0
        used[idx] = cnt
        final[idx] = x
        ftle[idx] = lam


def reduce_cycles(plan: Plan, value: float, final: np.ndarray, detected: np.ndarray):
    """Return ``(period, rep)`` for cells on cycles: minimal periods and canonical points."""
    n = final.shape[0]
    period = np.empty(n, dtype=np.int64)
    rep = np.empty((n, plan.dim))
    if n == 0:
        return period, rep
    mapping = plan.map_at(value)
    rtol = 100.0 * plan.rule.cycle_rtol
    detected = detected.astype(np.int64)
    kern = mapping.kernel
    if kern is not None:
        K.reduce_cycles(kern.step, np.ascontiguousarray(final), mapping.param_vector(), detected,
                        rtol, period, rep)
        return period, rep
    # numpy: the same search on batches of cells with equal detected return time
    step = mapping.batch_step()
    with np.errstate(all="ignore"):
        for big in np.unique(detected):
            sel = np.flatnonzero(detected == big)
            for lo in range(0, sel.size, 4096):
                part = sel[lo:lo + 4096]
                orbit = np.empty((part.size, big + 1, plan.dim))
                orbit[:, 0] = final[part]
                for k in range(big):
                    orbit[:, k + 1] = step(orbit[:, k])
                jump2 = np.sum((orbit[:, 1] - orbit[:, 0]) ** 2, axis=1)
                q = np.full(part.size, big)
                for cand in range(big - 1, 0, -1):
                    if big % cand:
                        continue
                    back2 = np.sum((orbit[:, cand] - orbit[:, 0]) ** 2, axis=1)
                    q = np.where(back2 <= rtol * rtol * jump2, cand, q)
                period[part] = q
                for i, cell in enumerate(part):
                    pts = orbit[i, :q[i]]
                    rep[cell] = pts[np.lexsort(pts.T[::-1])[0]]
    return period, rep


def family_mask(plan: Plan, outcome: np.ndarray, final_loss: np.ndarray) -> np.ndarray:
    """Return which converged cells ended on the zero-loss set of a regression model (a
    non-isolated family of fixed points): residual norm at most ``sqrt(tol)``. Models say they
    have residuals by their ``residual`` method and ``scale``."""
    scale = getattr(plan.model, "scale", None)
    if scale is None or not callable(getattr(plan.model, "residual", None)):
        return np.zeros(outcome.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (outcome == Outcome.CONVERGED) & (np.sqrt(2.0 * final_loss / scale)
                                                 <= np.sqrt(plan.rule.tol))
