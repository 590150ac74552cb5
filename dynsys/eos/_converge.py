"""Run gradient descent to convergence and record the limiting sharpness."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import flag_attrs, provenance
from .._numba import njit
from ..systems._iterate import DIVERGENCE_BOUND
from ..models._base import Model, RegressionModel
from ..models import gd_map

#: Outcome codes of :func:`limit_sharpness`.
OUTCOME = {0: "converged", 1: "diverged", 2: "undecided"}


@njit(cache=False)   # takes a dispatcher: not cacheable
def _converge_kernel(step, starts, p, max_steps, tol, bound, out, used, status):
    """Iterate each start until a step moves it by <= tol (1 + |x|), it leaves ``bound``, or
    ``max_steps`` pass. Writes the last state, the steps used and the outcome code."""
    n, dim = starts.shape
    x = np.empty(dim)
    y = np.empty(dim)
    for i in range(n):
        for j in range(dim):
            x[j] = starts[i, j]
        status[i] = 2
        used[i] = max_steps
        for t in range(max_steps):
            step(x, p, y)
            move = 0.0
            size = 0.0
            bad = False
            for j in range(dim):
                d = abs(y[j] - x[j])
                if d > move:
                    move = d
                a = abs(y[j])
                if a > size:
                    size = a
                if not (a <= bound):
                    bad = True
            for j in range(dim):
                x[j] = y[j]
            if bad:
                status[i] = 1
                used[i] = t + 1
                break
            if move <= tol * (1.0 + size):
                status[i] = 0
                used[i] = t + 1
                break
        for j in range(dim):
            out[i, j] = x[j]


def run_to_convergence(model: Model, starts: np.ndarray, lr: float, *, max_steps: int,
                       tol: float, bound: float = DIVERGENCE_BOUND):
    """Return ``(last_states, steps_used, outcome)`` of GD from each row of ``starts``."""
    starts = np.ascontiguousarray(starts, dtype=float).reshape(-1, model.dim)
    n = starts.shape[0]
    out = np.empty_like(starts)
    used = np.zeros(n, dtype=np.int64)
    status = np.zeros(n, dtype=np.int8)
    mapping = gd_map(model, lr)
    if mapping.kernel is not None:
        _converge_kernel(mapping.kernel.step, starts, mapping.param_vector(), max_steps, tol,
                         bound, out, used, status)
        return out, used, status
    # generic path: vectorised over the batch in numpy
    x = starts.copy()
    active = np.ones(n, dtype=bool)
    status[:] = 2
    used[:] = max_steps
    with np.errstate(all="ignore"):
        for t in range(max_steps):
            if not active.any():
                break
            xa = x[active]
            ya = xa - lr * model.grad(xa)
            idx = np.flatnonzero(active)
            bad = ~np.all(np.abs(ya) <= bound, axis=1)
            done = np.max(np.abs(ya - xa), axis=1) <= tol * (1 + np.max(np.abs(ya), axis=1))
            x[idx] = ya
            status[idx[bad]] = 1
            status[idx[done & ~bad]] = 0
            used[idx[bad | done]] = t + 1
            active[idx[bad | done]] = False
    out[:] = x
    return out, used, status


def limit_sharpness(model, theta0, lr, *, max_steps: int = 10_000_000, tol: float = 1e-12,
                    divergence_bound: float = DIVERGENCE_BOUND) -> xr.Dataset:
    """Return the limit of GD from each start and ``lr`` times its sharpness, as a Dataset.

    GD is iterated (compiled when the model has a kernel) until a step moves the state by at
    most ``tol (1 + |theta|_inf)``; near the edge the contraction per step is
    ``|1 - lr S| ~ 1 - lr delta``, so for small offsets ``delta`` this can take ~1/(lr delta)
    times log(1/tol) steps. ``tol`` should not be much below 1e-12: with a multiplier
    ``-1 + lr delta`` across the solution set, rounding errors of one step (~1e-16) are undone
    only at the rate ``lr delta``, so floating-point GD settles on a tiny 2-cycle of amplitude
    ~1e-16 / (lr delta) instead of a fixed point (about 1e-12 for ``lr delta = 1e-4``).

    Parameters
    ----------
    model : Model
    theta0 : array (..., P)
        Starts (a batch).
    lr : float
        Step size (> 0).
    max_steps : int
        Largest number of steps per start; starts that have not converged by then are
        ``undecided``.
    tol : float
        Convergence tolerance on the step length (relative to 1 + |theta|).

    Returns
    -------
    xarray.Dataset
        Over dim ``start`` (the flattened batch): ``theta0``, ``theta_inf``, ``lr_sharpness``
        (``lr`` times the sharpness at the limit, top NTK eigenvalue for regression models
        which is the same at a zero-residual limit), ``offset`` (``2/lr`` minus the limiting
        sharpness), ``gfs_sharpness`` where it is available in closed form, ``final_loss``,
        ``steps`` and ``outcome`` (converged, diverged, undecided).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.01, target=0.0)
    >>> ds = dynsys.limit_sharpness(m, [[0.3, (2.5 / 0.01) ** 0.5]], lr=1.0)
    >>> round(float(ds.lr_sharpness[0]), 4)       # 2 - eps/2 = 1.995 at leading order
    1.9949
    """
    from ._gfs import _closed_form_available, gfs_sharpness

    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta0 = check.array("theta0", theta0, dim=model.dim)
    flat = theta0.reshape(-1, model.dim)
    lr = check.lr(lr)
    max_steps = check.integer("max_steps", max_steps, minimum=1)
    tol = check.real("tol", tol, positive=True, hi=1e-3)
    bound = check.real("divergence_bound", divergence_bound, positive=True)
    last, used, status = run_to_convergence(model, flat, lr, max_steps=max_steps, tol=tol,
                                            bound=bound)
    ok = status != 1
    lam = np.full(flat.shape[0], np.nan)
    loss = np.full(flat.shape[0], np.nan)
    if ok.any():
        if isinstance(model, RegressionModel):
            lam[ok] = model.ntk_eigenvalue(last[ok])
        else:
            lam[ok] = model.sharpness(last[ok])
        loss[ok] = model.loss(last[ok])
    last = np.where(ok[:, None], last, np.nan)
    data = {
        "theta0": (("start", "param"), flat, {"long_name": "start"}),
        "theta_inf": (("start", "param"), last, {"long_name": "last GD state"}),
        "lr_sharpness": (("start",), lr * lam,
                         {"long_name": "lr x limiting sharpness", "units": "1"}),
        "offset": (("start",), 2.0 / lr - lam,
                   {"long_name": "offset delta = 2/lr - limiting sharpness"}),
        "final_loss": (("start",), loss, {"long_name": "loss at the last state"}),
        "steps": (("start",), used, {"long_name": "GD steps used", "units": "1"}),
        "outcome": (("start",), status, flag_attrs(OUTCOME, "outcome of GD")),
    }
    if _closed_form_available(model):
        data["gfs_sharpness"] = (("start",), gfs_sharpness(model, flat),
                                 {"long_name": "sharpness of the gradient-flow solution "
                                               "from the start"})
    ds = xr.Dataset(data, coords={"param": [f"theta_{i + 1}" for i in range(model.dim)]})
    ds.attrs.update(provenance(gd_map(model, lr), analysis="limit_sharpness",
                               max_steps=max_steps, tol=tol))
    return ds
