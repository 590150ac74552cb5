"""The central flow of gradient descent with one eigenvalue at the edge (docs/math.md section 6).

Cohen, Damian et al. ("Understanding optimization in deep learning with central flows") model
the time average of GD at the edge of stability by an ODE in ``w``, time ``t`` counted in GD
steps:

* while ``S(w) < 2/lr``: gradient flow, ``dw/dt = -lr grad L(w)``;
* once ``S(w) = 2/lr`` (one eigenvalue at the edge, top eigenpair ``(S, u)``,
  ``grad S = nabla^3 L[u, u]``): ``dw/dt = -lr [grad L + sigma^2 grad S / 2]`` with the
  oscillation variance ``sigma^2 >= 0`` the value that keeps ``S(w) = 2/lr``, i.e.
  ``d S/dt = grad S . dw/dt = 0``:
  ``sigma^2 = 2 (-grad L . grad S) / |grad S|^2``, so that ``dw/dt = -lr P grad L`` with
  ``P`` the projection orthogonal to ``grad S``. On the stable set (``grad L . u = 0``) this is
  ``2 alpha / beta`` of Damian et al. (``alpha``, ``beta`` with ``grad S_perp``); the central
  flow does not impose ``grad L . u = 0`` and needs the full ``grad S`` to hold ``S`` fixed.
  The flow leaves the edge where ``sigma^2`` reaches 0 (gradient flow lowers ``S`` itself).

The predicted time averages of GD are ``S = 2/lr`` and the loss ``L(w) + sigma^2 S / 2 =
L(w) + sigma^2 / lr``. The one-eigenvalue flow breaks when a second eigenvalue reaches the edge
(the integration stops there with status ``second_eigenvalue``).

Numerically, the constraint is held by a restoring term: ``dS/dt = -c (S - 2/lr)``
(``c = restore`` per step) instead of 0, so that ``sigma^2 = 2 (c (S - 2/lr) / lr -
grad L . grad S) / |grad S|^2``; the integrator is scipy's RK45 with events.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import FlagTable
from ._damian import _grad_S, _top2
from ._derivatives import one_point


class FlowStatus(FlagTable):
    """How a central-flow integration ended."""

    #: integrated to the requested time
    COMPLETE = 0
    #: the second Hessian eigenvalue reached ``gap_level x 2/lr``: more than one eigenvalue
    #: at the edge, outside the one-eigenvalue flow
    SECOND_EIGENVALUE = 1
    #: the flow stopped being finite, the solver failed, or grad S = 0 at the edge
    DIVERGED = 2


class FlowPhase(FlagTable):
    """Which branch of the central flow is active at a time."""

    #: S < 2/lr: gradient flow
    GRADIENT_FLOW = 0
    #: S = 2/lr held by the implicit sigma^2 term
    AT_EDGE = 1


class _Point:
    """Cached spectral quantities of ``model`` at the last few points (the integrator asks for
    the right-hand side and the events at the same points)."""

    def __init__(self, model, lr, restore):
        self.model, self.lr, self.restore = model, lr, restore
        self.vecs = None
        self.cache: dict = {}
        self.evaluations = 0

    def __call__(self, w):
        key = w.tobytes()
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        self.evaluations += 1
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(w)):
                q = {"S": np.nan, "lambda_2": np.nan, "grad_L": np.full_like(w, np.nan),
                     "grad_S": np.full_like(w, np.nan), "sigma2_raw": np.nan, "sigma2": np.nan}
            else:
                vals, vecs = _top2(self.model, w, self.vecs)
                self.vecs = vecs
                u = vecs[:, 0]
                gS = _grad_S(self.model, w, u)
                gL = np.asarray(self.model.grad(w), dtype=float)
                nS = float(gS @ gS)
                S = float(vals[0])
                raw = 2 * float(-gL @ gS) / nS if nS > 0 else np.nan
                held = (2 * (self.restore * (S - 2 / self.lr) / self.lr - float(gL @ gS)) / nS
                        if nS > 0 else np.nan)
                q = {"S": S, "lambda_2": float(vals[1]) if vals.size > 1 else -np.inf,
                     "grad_L": gL, "grad_S": gS, "sigma2_raw": raw, "sigma2": held}
        if len(self.cache) > 64:
            self.cache.clear()
        self.cache[key] = q
        return q


def central_flow(model, theta0, lr, *, time: float, every: float = 1.0,
                 gap_level: float = 1.0, restore: float = 0.5, rtol: float = 1e-8,
                 atol: float = 1e-10, max_step: float = 20.0,
                 save_theta: bool = False) -> xr.Dataset:
    """Return the central flow of GD at step size ``lr`` from ``theta0`` with one eigenvalue at
    the edge, sampled every ``every`` steps up to ``time`` (module docstring, docs/math.md
    section 6).

    Works for any model with a gradient and the top two Hessian eigenpairs
    (``top_eigenpairs``, else the dense ``hessian``) and ``grad S``
    (``third_uu``, else differences of the Hessian): autodiff models need Hessian-vector
    products only.

    Parameters
    ----------
    time : float
        Length of the flow in GD steps.
    every : float
        Sampling interval of the output (steps).
    gap_level : float
        Stop (status ``second_eigenvalue``) where the second Hessian eigenvalue reaches
        ``gap_level x 2/lr``.
    restore : float
        Rate (per step) at which a drift of ``S`` from ``2/lr`` on the edge is pulled back.
    rtol, atol, max_step
        Of the RK45 integrator (``scipy.integrate.solve_ivp``).
    save_theta : bool
        Also return ``theta`` over ``(flow_time, component)``.

    Returns
    -------
    xarray.Dataset
        Over ``flow_time`` (in GD steps; not named ``time``, which CF reserves for dates): ``loss`` (``L(w)``), ``loss_predicted`` (``L(w) + sigma^2/lr``,
        the predicted time-averaged loss of GD), ``sharpness``, ``lambda_2`` (second
        eigenvalue), ``sigma2`` (0 off the edge), ``phase`` (:class:`FlowPhase`); ``status``
        (:class:`FlowStatus`). NaN after the flow stopped. Attrs: ``t_edge`` (first time at
        the edge, NaN if never), ``t_stop``, ``stop_reason``, ``max_edge_drift`` (largest
        ``|lr S - 2|`` sampled on the edge), ``evaluations`` (spectral evaluations).

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 8, sigma_z=1.0, sigma_J=0.3, sigma_Q=0.3,
    ...                                         seed=1)
    >>> cf = dynsys.eos.central_flow(m, np.zeros(8), lr=2.0, time=40.0, every=10.0)
    >>> cf.loss.dims, str(cf.status.attrs["flag_meanings"])
    (('flow_time',), 'complete second_eigenvalue diverged')
    """
    from scipy.integrate import solve_ivp

    theta0 = one_point(model, theta0, "theta0").copy()
    lr = check.lr(lr)
    time = check.real("time", time, positive=True)
    every = check.real("every", every, positive=True, hi=time)
    gap_level = check.real("gap_level", gap_level, positive=True)
    restore = check.real("restore", restore, nonnegative=True)
    rtol = check.real("rtol", rtol, positive=True, hi=0.1)
    atol = check.real("atol", atol, positive=True)
    max_step = check.real("max_step", max_step, positive=True)
    edge = 2.0 / lr
    point = _Point(model, lr, restore)
    n_out = int(np.floor(time / every + 1e-9)) + 1
    grid = every * np.arange(n_out)
    names = ("loss", "loss_predicted", "sharpness", "lambda_2", "sigma2")
    rec = {k: np.full(n_out, np.nan) for k in names}
    phase_out = np.zeros(n_out, dtype=np.int8)
    path = np.full((n_out, model.dim), np.nan) if save_theta else None

    def rhs_flow(t, w):
        return -lr * point(w)["grad_L"]

    def rhs_edge(t, w):
        q = point(w)
        return -lr * (q["grad_L"] + 0.5 * max(q["sigma2"], 0.0) * q["grad_S"])

    def reach_edge(t, w):
        return lr * point(w)["S"] - 2.0
    reach_edge.terminal, reach_edge.direction = True, 1

    def leave_edge(t, w):
        return point(w)["sigma2_raw"]
    leave_edge.terminal, leave_edge.direction = True, -1

    def second(t, w):
        return point(w)["lambda_2"] - gap_level * edge
    second.terminal, second.direction = True, 1

    def record(t_values, states, at_edge):
        for t, w in zip(t_values, states.T, strict=True):
            i = int(round(t / every))
            if not 0 <= i < n_out or not abs(t - grid[i]) < 1e-9 * max(1.0, time):
                continue
            q = point(np.ascontiguousarray(w))
            s2 = max(q["sigma2"], 0.0) if at_edge else 0.0
            loss = float(model.loss(w))
            rec["loss"][i], rec["sharpness"][i] = loss, q["S"]
            rec["lambda_2"][i], rec["sigma2"][i] = q["lambda_2"], s2
            rec["loss_predicted"][i] = loss + s2 / lr
            phase_out[i] = FlowPhase.AT_EDGE if at_edge else FlowPhase.GRADIENT_FLOW
            if save_theta:
                path[i] = w

    t, w = 0.0, theta0
    status, reason, t_edge = FlowStatus.COMPLETE, "reached the requested time", np.nan
    q0 = point(w)
    if not np.isfinite(q0["S"]):
        status, reason = FlowStatus.DIVERGED, "not finite at theta0"
    at_edge = bool(lr * q0["S"] >= 2.0)
    if at_edge:
        t_edge = 0.0
    switches = 0
    while status == FlowStatus.COMPLETE and t < time - 1e-12:
        if point(w)["lambda_2"] >= gap_level * edge:
            status, reason = FlowStatus.SECOND_EIGENVALUE, "second eigenvalue at the edge"
            break
        if at_edge and not np.isfinite(point(w)["sigma2"]):
            status, reason = FlowStatus.DIVERGED, "grad S = 0 at the edge"
            break
        inside = grid[(grid >= t - 1e-12) & (grid <= time)]
        events = [leave_edge, second] if at_edge else [reach_edge, second]
        with np.errstate(all="ignore"):
            sol = solve_ivp(rhs_edge if at_edge else rhs_flow, (t, time), w, method="RK45",
                            t_eval=inside, events=events, rtol=rtol, atol=atol,
                            max_step=max_step)
        ys = np.asarray(sol.y, dtype=float).reshape(model.dim, -1)
        if ys.shape[1]:
            record(np.asarray(sol.t, dtype=float), ys, at_edge)
        if sol.status == -1 or not np.all(np.isfinite(ys)):
            status, reason = FlowStatus.DIVERGED, f"solver: {sol.message}"
            break
        if sol.status == 0:
            t = time
            break
        fired = [i for i, te in enumerate(sol.t_events) if te.size]
        which = events[fired[0]]
        t, w = float(sol.t_events[fired[0]][0]), sol.y_events[fired[0]][0].copy()
        if which is second:
            status, reason = FlowStatus.SECOND_EIGENVALUE, "second eigenvalue at the edge"
            break
        at_edge = not at_edge
        if at_edge and np.isnan(t_edge):
            t_edge = t
        switches += 1
        if switches > 1000:
            status, reason = FlowStatus.DIVERGED, "the flow switched phase more than 1000 times"
            break
    t_stop = t if status != FlowStatus.COMPLETE else time
    on_edge = phase_out == FlowPhase.AT_EDGE
    with np.errstate(all="ignore"):
        drift = float(np.nanmax(np.abs(lr * rec["sharpness"][on_edge] - 2))) if on_edge.any() \
            else np.nan
    long = {"loss": "L(w) along the central flow",
            "loss_predicted": "L(w) + sigma^2 / lr (predicted time-averaged loss of GD)",
            "sharpness": "S(w) along the central flow",
            "lambda_2": "second Hessian eigenvalue along the central flow",
            "sigma2": "sigma^2, the oscillation variance holding S at 2/lr"}
    data = {k: ("flow_time", rec[k], {"long_name": long[k]}) for k in names}
    data["phase"] = ("flow_time", phase_out, FlowPhase.cf_attrs("branch of the central flow"))
    data["status"] = ((), np.int8(status), FlowStatus.cf_attrs("how the central flow ended"))
    coords = {"flow_time": grid}
    if save_theta:
        data["theta"] = (("flow_time", "component"), path, {"long_name": "central flow w"})
        coords["component"] = [f"theta_{i + 1}" for i in range(model.dim)]
    ds = xr.Dataset(data, coords=coords)
    ds["flow_time"].attrs.update(long_name="time of the flow in GD steps", units="1")
    ds.attrs.update(provenance(model, analysis="central_flow", lr=lr, time=time, every=every,
                               gap_level=gap_level, restore=restore, rtol=rtol, atol=atol,
                               t_edge=float(t_edge), t_stop=float(t_stop), stop_reason=reason,
                               max_edge_drift=drift, evaluations=point.evaluations))
    return ds
