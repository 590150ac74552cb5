"""Run gradient descent to convergence and record the limiting sharpness."""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from .. import _stopping
from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from .._specialise import specialise
from ..models import Model, gd_map

_CONVERGED, _DIVERGED, _UNDECIDED = (int(Outcome.CONVERGED), int(Outcome.DIVERGED),
                                     int(Outcome.UNDECIDED))


#: The outcome code of a start still iterating between two calls of :func:`_converge_kernel`.
_RUNNING = -1
#: The most start-steps per call of the compiled loop, and the time a call aims at (the steps per
#: call start small and double while calls take under a quarter of it), so that a long run is
#: many short calls and an interrupt (SIGINT) lands at the end of the running one.
CALL_WORK = 1 << 22
CALL_SECONDS = 0.1
FIRST_CUT = 1024


_CONVERGE_LOOP = f"""
CONVERGED, DIVERGED, RUNNING = {_CONVERGED}, {_DIVERGED}, {_RUNNING}


@njit(cache=CACHE)
def converge_loop(x_all, p, rule, t0, t1, used, outcome):
    '''Iterate each running start (``outcome`` ``RUNNING``) over steps ``[t0, t1)`` from its
    state in ``x_all``, until the stopping rule says diverged or converged (the step test at
    every step). Writes back the state, and for a finished start the steps used and the outcome
    code; the others stay running (one call over all steps has the same arithmetic).'''
    n, dim = x_all.shape
    x = np.empty(dim)
    y = np.empty(dim)
    for i in range(n):
        if outcome[i] != RUNNING:
            continue
        for j in range(dim):
            x[j] = x_all[i, j]
        for t in range(t0, t1):
            step(x, p, y)
            r2 = 0.0
            jump2 = 0.0
            for j in range(dim):
                r2 += x[j] * x[j]
                jump2 += (y[j] - x[j]) * (y[j] - x[j])
            y2 = 0.0
            for j in range(dim):
                x[j] = y[j]
                y2 += y[j] * y[j]
            if diverged(y2, rule.radius2):
                outcome[i] = DIVERGED
                used[i] = t + 1
                break
            if converged(jump2, r2, rule.tol2):
                outcome[i] = CONVERGED
                used[i] = t + 1
                break
        for j in range(dim):
            x_all[i, j] = x[j]
"""


def _converge_kernel(kernel):
    """Return the sliced loop (see ``converge_loop`` in :data:`_CONVERGE_LOOP`) specialised to
    ``kernel.step``, on numba's disk cache when the step is importable."""
    return specialise(_CONVERGE_LOOP, "converge_loop", step=kernel.step,
                      diverged=("dynsys._stopping_nb", "diverged"),
                      converged=("dynsys._stopping_nb", "converged"))


def _run_sliced(loop, starts, p, rule, out, used, outcome):
    """Run ``loop`` (from :func:`_converge_kernel`) over all ``rule.steps`` in short calls (at
    most :data:`CALL_WORK` start-steps, about :data:`CALL_SECONDS` each), the states carried
    over: the arithmetic of one call. Writes the last states, the steps used and the outcome codes."""
    n = starts.shape[0]
    out[:] = starts
    used[:] = rule.steps
    outcome[:] = _RUNNING
    group = max(1, CALL_WORK // FIRST_CUT)
    cut = FIRST_CUT
    for lo in range(0, n, group):
        hi = min(n, lo + group)
        t0 = 0
        while t0 < rule.steps:
            running = int(np.count_nonzero(outcome[lo:hi] == _RUNNING))
            if running == 0:
                break
            t1 = min(rule.steps, t0 + cut)
            tic = time.perf_counter()
            loop(out[lo:hi], p, rule, t0, t1, used[lo:hi], outcome[lo:hi])
            took = time.perf_counter() - tic
            t0 = t1
            if took < CALL_SECONDS / 4 and 2 * cut * running <= CALL_WORK:
                cut *= 2
            elif took > CALL_SECONDS and cut > 1:
                cut //= 2
    outcome[outcome == _RUNNING] = _UNDECIDED


def run_to_convergence(model: Model, starts: np.ndarray, lr: float,
                       rule: _stopping.StoppingRule):
    """Return ``(last_states, steps_used, outcome)`` of GD from each row of ``starts``,
    stopping by ``rule`` (divergence and the step test every step; no cycle detection)."""
    starts = np.ascontiguousarray(starts, dtype=float).reshape(-1, model.dim)
    n = starts.shape[0]
    out = np.empty_like(starts)
    used = np.zeros(n, dtype=np.int64)
    outcome = np.zeros(n, dtype=np.int8)
    mapping = gd_map(model, lr)
    if mapping.kernel is not None:
        _run_sliced(_converge_kernel(mapping.kernel), starts, mapping.param_vector(),
                    rule.kernel(lr), out, used, outcome)
        return out, used, outcome
    # generic path: the same tests, vectorised over the batch in numpy
    x = starts.copy()
    active = np.ones(n, dtype=bool)
    outcome[:] = Outcome.UNDECIDED
    used[:] = rule.steps
    with np.errstate(all="ignore"):
        for t in range(rule.steps):
            if not active.any():
                break
            xa = x[active]
            ya = xa - lr * model.grad(xa)
            idx = np.flatnonzero(active)
            bad = rule.diverged(np.sum(ya * ya, axis=1))
            done = rule.converged(np.sum((ya - xa) ** 2, axis=1), np.sum(xa * xa, axis=1),
                                  step_scale=lr)
            x[idx] = ya
            outcome[idx[bad]] = Outcome.DIVERGED
            outcome[idx[done & ~bad]] = Outcome.CONVERGED
            used[idx[bad | done]] = t + 1
            active[idx[bad | done]] = False
    out[:] = x
    return out, used, outcome


def limit_sharpness(model, theta0, lr, *, steps: int | None = None, tol: float = 1e-12,
                    radius: float | None = None, max_steps: int | None = None,
                    divergence_bound: float | None = None) -> xr.Dataset:
    """Return the limit of GD from each start and ``lr`` times its sharpness, as a Dataset.

    GD is iterated (compiled when the model has a ``gd_kernel``) until, by the library's
    :class:`~dynsys.StoppingRule`, a step moves the state by at most ``tol sqrt(1 + |theta|^2)``
    or the state leaves the ball of radius ``radius``; near the edge the contraction per step is
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
    steps : int
        Largest number of steps per start (default 10^7); starts that have not converged by
        then are ``undecided``. ``max_steps`` is its deprecated name.
    tol : float
        Convergence tolerance on the step length (relative to ``sqrt(1 + |theta|^2)``).
    radius : float
        Divergence radius (default 1e30: only near overflow). ``divergence_bound`` is its
        deprecated name.

    Returns
    -------
    xarray.Dataset
        Over dim ``start`` (the flattened batch): ``theta0``, ``theta_inf``, ``lr_sharpness``
        (``lr`` times the sharpness at the limit, top NTK eigenvalue for regression models
        which is the same at a zero-residual limit), ``offset`` (``2/lr`` minus the limiting
        sharpness), ``gfs_sharpness`` where it is available in closed form, ``final_loss``,
        ``steps`` and ``outcome`` (:class:`~dynsys.Outcome`: converged, diverged, undecided).

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
    steps = check.renamed("limit_sharpness", "max_steps", max_steps, "steps", steps,
                          default=10_000_000)
    radius = check.renamed("limit_sharpness", "divergence_bound", divergence_bound, "radius",
                           radius, default=_stopping.ORBIT_RADIUS)
    steps = check.integer("steps", steps, minimum=1)
    tol = check.real("tol", tol, positive=True, hi=1e-3)
    radius = check.real("radius", radius, positive=True, hi=_stopping.MAX_RADIUS)
    rule = _stopping.StoppingRule(steps=steps, tol=tol, radius=radius)
    last, used, status = run_to_convergence(model, flat, lr, rule)
    ok = status != Outcome.DIVERGED
    lam = np.full(flat.shape[0], np.nan)
    loss = np.full(flat.shape[0], np.nan)
    if ok.any():
        if callable(getattr(model, "ntk_eigenvalue", None)):
            lam[ok] = model.ntk_eigenvalue(last[ok])
        else:
            lam[ok] = model.sharpness(last[ok])
        loss[ok] = model.loss(last[ok])
    last = np.where(ok[:, None], last, np.nan)
    data = {
        "theta0": (("start", "component"), flat, {"long_name": "start"}),
        "theta_inf": (("start", "component"), last, {"long_name": "last GD state"}),
        "lr_sharpness": (("start",), lr * lam,
                         {"long_name": "lr x limiting sharpness", "units": "1"}),
        "offset": (("start",), 2.0 / lr - lam,
                   {"long_name": "offset delta = 2/lr - limiting sharpness"}),
        "final_loss": (("start",), loss, {"long_name": "loss at the last state"}),
        "steps": (("start",), used, {"long_name": "GD steps used", "units": "1"}),
        "outcome": (("start",), status, Outcome.cf_attrs("outcome of GD")),
    }
    if _closed_form_available(model):
        data["gfs_sharpness"] = (("start",), gfs_sharpness(model, flat),
                                 {"long_name": "sharpness of the gradient-flow solution "
                                               "from the start"})
    ds = xr.Dataset(data, coords={"component": [f"theta_{i + 1}" for i in range(model.dim)]})
    ds.attrs.update(provenance(gd_map(model, lr), analysis="limit_sharpness",
                               steps=steps, tol=tol, radius=radius))
    return ds
