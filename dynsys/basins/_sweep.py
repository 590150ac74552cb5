"""One chunk of a basin sweep: initial states, the right hot loop, per-cell results."""

from __future__ import annotations

import dataclasses

import numpy as np

from ..models._base import RegressionModel
from ..models._second_order import QuadraticRegression2D
from . import _kernels as K

#: Outcome codes and their CF flag meanings.
OUTCOMES = {K.CONVERGED: "converged", K.PERIODIC: "periodic", K.DIVERGED: "diverged",
            K.UNDECIDED: "undecided", K.CHAOTIC: "chaotic"}

#: Outputs of a chunk: name -> (dtype, has a state axis).
FIELDS = {"outcome": (np.int8, False), "period": (np.int16, False), "steps": (np.int32, False),
          "final": (np.float64, True), "lyapunov": (np.float64, False),
          "final_loss": (np.float64, False), "final_sharpness": (np.float64, False)}


@dataclasses.dataclass
class Plan:
    """Everything a chunk needs; plain data (picklable, sent to dask workers)."""

    mapping: object            # the Map (GD map for models) at its base parameters
    model: object              # the model behind a GD map, or None
    param: str                 # swept parameter name
    values: np.ndarray         # swept parameter values
    axes: list                 # grid coordinates, one 1-D array per gridded state component
    base: np.ndarray           # the state components not gridded
    steps: int
    tol: float
    radius: float
    max_period: int
    cycle_rtol: float
    lyapunov_steps: int
    chaos_threshold: float
    scaling: bool
    rows: int                  # rows of the first grid axis per chunk
    path: str                  # "qr2d", "kernel" or "numpy"

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.values),) + tuple(len(a) for a in self.axes)

    @property
    def dim(self) -> int:
        return self.mapping.dim

    @property
    def n_blocks(self) -> int:
        return -(-len(self.axes[0]) // self.rows)

    def chunks(self) -> list[tuple[int, int]]:
        """Return the chunk keys ``(value index, row block)`` in their canonical order."""
        return [(v, b) for v in range(len(self.values)) for b in range(self.n_blocks)]

    def row_slice(self, block: int) -> slice:
        return slice(block * self.rows, min(len(self.axes[0]), (block + 1) * self.rows))

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


def choose_path(mapping, model) -> str:
    if isinstance(model, QuadraticRegression2D):
        return "qr2d"
    if getattr(mapping, "kernel", None) is not None:
        return "kernel"
    return "numpy"


def empty_fields(n: int, dim: int) -> dict:
    """Return uninitialised output arrays for ``n`` cells."""
    return {name: np.empty((n, dim) if state else n, dtype=dtype)
            for name, (dtype, state) in FIELDS.items()}


def compute_chunk(plan: Plan, key: tuple[int, int], out: dict | None = None) -> dict:
    """Return the per-cell results of chunk ``key`` (flat arrays, C order of the grid).

    ``out`` may hold preallocated arrays (views into the full result) to be filled in place.
    """
    vi, block = key
    value = float(plan.values[vi])
    n = int(np.prod([len(a) for a in plan.axes[1:]])) * len(range(len(plan.axes[0]))[
        plan.row_slice(block)])
    if out is None:
        out = empty_fields(n, plan.dim)
    args = (plan.steps, plan.tol, plan.radius, plan.max_period, plan.cycle_rtol,
            min(plan.lyapunov_steps, plan.steps), plan.chaos_threshold,
            out["outcome"], out["period"], out["steps"], out["final"], out["lyapunov"])
    if plan.path == "qr2d":
        _run_qr2d(plan, value, plan.axes[0][plan.row_slice(block)], plan.axes[1], args, out)
    elif plan.path == "kernel":
        mapping = plan.map_at(value)
        kern = mapping.kernel
        has_jac = kern.jacobian is not None
        K.map_sweep(kern.step, kern.jacobian if has_jac else kern.step, has_jac,
                    plan.start_points(block), mapping.param_vector(), *args)
    else:
        _numpy_sweep(plan.map_at(value), plan.start_points(block), *args)
    _final_values(plan, value, out)
    return out


def _run_qr2d(plan: Plan, lr: float, axis1: np.ndarray, axis2: np.ndarray, args: tuple,
              out: dict) -> None:
    model = plan.model
    steps, tol, radius, max_period, rtol, lyap, threshold = args[:7]
    axis1 = np.ascontiguousarray(axis1)
    if plan.scaling and lr != 1.0:
        # MATH.md section 3: in u = sqrt(lr) theta the step is GD with step size 1 on the
        # model with target lr E, and every stopping rule rescales exactly (z -> lr z,
        # |theta|^2 -> |u|^2 / lr); the Jacobian is unchanged (conjugation by a scalar).
        s = np.sqrt(lr)
        K.qr2d_sweep(axis1, axis2, s, 1.0, model.eps, lr * model.target, steps, lr * tol,
                     radius * s, max_period, rtol, lyap, threshold, *args[7:], tol, lr)
        out["final"] /= s
    else:
        K.qr2d_sweep(axis1, axis2, 1.0, lr, model.eps, model.target, steps, tol, radius,
                     max_period, rtol, lyap, threshold, *args[7:], tol, 1.0)


def _final_values(plan: Plan, value: float, out: dict) -> None:
    model = plan.model
    loss, sharp = out["final_loss"], out["final_sharpness"]
    if model is None:
        loss[:] = np.nan
        sharp[:] = np.nan
        return
    if plan.path == "qr2d":
        K.qr2d_final(out["final"], model.eps, model.target, loss, sharp)
    else:
        ok = np.all(np.isfinite(out["final"]), axis=1)
        loss[:] = np.nan
        sharp[:] = np.nan
        if ok.any():
            with np.errstate(all="ignore"):
                loss[ok] = model.loss(out["final"][ok])
                sharp[ok] = model.sharpness(out["final"][ok])
    diverged = out["outcome"] == K.DIVERGED
    loss[diverged] = np.nan
    sharp[diverged] = np.nan


# -- the vectorised numpy path (maps without a compiled kernel) ---------------------------------
def _numpy_sweep(mapping, x0, steps, tol, radius, max_period, cycle_rtol, lyap_steps, threshold,
                 code, period, used, final, ftle):
    """The loop of the compiled kernels, written on whole batches of live points."""
    n, d = x0.shape
    x = x0.copy()
    check = x0.copy()
    vec = np.zeros((n, d))
    vec[:, 0] = 1.0
    lsum = np.zeros(n)
    idx = np.arange(n)
    cnt = np.zeros(n, dtype=np.int64)
    tol2, radius2, rtol2 = tol * tol, radius * radius, cycle_rtol * cycle_rtol
    cap = K.checkpoint_interval(max_period)
    every = min(4 * K.COMPACT, cap)
    t_lyap = max(steps - lyap_steps, 0)
    step = mapping._step
    params = dict(mapping.params)
    t = tc = 0
    ftle[:] = np.nan
    with np.errstate(all="ignore"):
        while idx.size and t < steps:
            k = K._block_length(t, steps, t_lyap)
            stop = np.zeros(idx.size, dtype=np.int8)
            for _ in range(k):
                run = np.flatnonzero(stop == 0)
                if run.size == 0:
                    break
                xr = x[run]
                r2 = np.einsum("ij,ij->i", xr, xr)
                div = ~(r2 <= radius2)
                y = step(xr, **params)
                dy = y - xr
                jump2 = np.einsum("ij,ij->i", dy, dy)
                conv = ~div & (jump2 <= tol2 * (1.0 + r2))
                stop[run[div]] = 3
                stop[run[conv]] = 1
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
            live = stop == 0
            dx = x - check
            y = step(x, **params)
            dy = y - x
            jump2 = np.einsum("ij,ij->i", dy, dy)
            cyc = live & (np.einsum("ij,ij->i", dx, dx) <= rtol2 * jump2) & (jump2 <= 4 * radius2)
            stop[cyc] = 2
            done = stop != 0
            j = idx[done]
            code[j] = stop[done] - 1
            period[j] = np.where(stop[done] == 1, 1, np.where(stop[done] == 2, since, 0))
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
        code[idx] = np.where(lam > threshold, K.CHAOTIC, K.UNDECIDED)
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
    rtol = 100.0 * plan.cycle_rtol
    detected = detected.astype(np.int64)
    kern = mapping.kernel
    if kern is not None:
        K.reduce_cycles(kern.step, np.ascontiguousarray(final), mapping.param_vector(), detected,
                        rtol, period, rep)
        return period, rep
    # numpy: the same search on batches of cells with equal detected return time
    with np.errstate(all="ignore"):
        for big in np.unique(detected):
            sel = np.flatnonzero(detected == big)
            for lo in range(0, sel.size, 4096):
                part = sel[lo:lo + 4096]
                orbit = np.empty((part.size, big + 1, plan.dim))
                orbit[:, 0] = final[part]
                for k in range(big):
                    orbit[:, k + 1] = mapping._step(orbit[:, k], **mapping.params)
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
    non-isolated family of fixed points): residual norm at most ``sqrt(tol)``."""
    if not isinstance(plan.model, RegressionModel):
        return np.zeros(outcome.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        return (outcome == K.CONVERGED) & (np.sqrt(2.0 * final_loss / plan.model.scale)
                                           <= np.sqrt(plan.tol))
