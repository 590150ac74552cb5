"""Self-stabilisation as Damian, Nichani & Lee define it in their published code.

At a point with top Hessian eigenpair ``(S, u)``: ``grad S = nabla^3 L[u, u]`` and its part
orthogonal to ``u``, ``grad S_perp = grad S - u (u . grad S)``;
``alpha = -grad L . grad S_perp`` (progressive-sharpening rate), ``beta = |grad S_perp|^2``
(self-stabilisation strength), ``delta^2 = 2 alpha / beta`` (predicted mean of ``x^2``).

* Projection onto the stable set ``{S <= 2/lr, grad L . u = 0}``, repeated ``n_project`` times
  (3 in the authors' runs):
  ``theta <- theta - max(0, S - 2/lr) grad S_perp / beta - u (u . grad L) / S``.
* Constrained trajectory: ``theta+_{t+1} = project(theta+_t - lr grad L(theta+_t))``.
* Predicted displacement ``v = theta - theta+``, with ``x = u . v`` and ``y = grad S_perp . v``
  (a linearised sharpness offset) and every quantity at ``theta+_t``:
  ``v <- v - lr [(x^2 - delta^2) grad S_perp / 2 + H v + u x y]``.
* Tracking stops when the second Hessian eigenvalue at ``theta+`` exceeds ``1.9/lr`` (the
  eigengap is lost and ``u`` is no longer defined by the dynamics).

Works on any model through capabilities: ``top_eigenpairs``/``third_uu``/``hvp`` (autodiff
models: Hessian-vector products only) or the dense Hessian and
:func:`~dynsys.eos.third_derivative` otherwise.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import FlagTable
from ._derivatives import one_point, third_derivative


class EdgeConstraint(FlagTable):
    """Whether a step of the constrained trajectory had the edge ``S = 2/lr`` imposed."""

    BELOW_EDGE = 0      # S < 2/lr: a plain GD step
    AT_EDGE = 1         # S = 2/lr imposed by the projection


class TrackingStatus(FlagTable):
    """How a self-stabilisation tracking run ended."""

    #: every step was tracked
    COMPLETE = 0
    #: the second Hessian eigenvalue at theta+ exceeded 1.9/lr (eigengap lost)
    EIGENGAP_LOST = 1
    #: GD, the constrained trajectory or the prediction stopped being finite
    DIVERGED = 2


def _top2(model, theta, v0):
    top = getattr(model, "top_eigenpairs", None)
    k = min(2, model.dim)
    if top is not None:
        vals, vecs = top(theta, k, v0=v0)
    else:
        w, v = np.linalg.eigh(model.hessian(theta))
        vals, vecs = w[::-1][:k], v[:, ::-1][:, :k]
    return vals, vecs


def _grad_S(model, theta, u):
    hook = getattr(model, "third_uu", None)
    if hook is not None:
        return np.asarray(hook(theta, u), dtype=float)
    return np.einsum("kpq,p,q->k", third_derivative(model, theta), u, u)


def _hvp(model, theta, v):
    hook = getattr(model, "hvp", None)
    if hook is not None:
        return np.asarray(hook(theta, v), dtype=float)
    return model.hessian(theta) @ v


def edge_quantities(model, theta, lr, *, u_ref=None, v0=None) -> dict:
    """Return the authors' quantities at one point as a dict.

    Keys: ``S``, ``lambda_2`` (second eigenvalue, NaN for P = 1), ``u`` (sign aligned with
    ``u_ref`` if given), ``vecs`` (top eigenvectors, a warm start for the next call),
    ``grad_L``, ``grad_S``, ``grad_S_perp``, ``alpha`` (``-grad L . grad S_perp``), ``beta``
    (``|grad S_perp|^2``), ``delta2`` (``2 alpha / beta``) and ``cos_u_grad_S``.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 6, sigma_z=1.0, sigma_J=0.5, seed=0)
    >>> q = dynsys.eos.edge_quantities(m, [0.1] * 6, lr=0.1)
    >>> bool(abs(q["grad_S_perp"] @ q["u"]) < 1e-12)
    True
    """
    theta = one_point(model, theta)
    lr = check.lr(lr)
    vals, vecs = _top2(model, theta, v0)
    u = vecs[:, 0].copy()
    if u_ref is not None and u @ u_ref < 0:
        u = -u
    gS = _grad_S(model, theta, u)
    perp = gS - u * (u @ gS)
    gL = np.asarray(model.grad(theta), dtype=float)
    alpha = float(-gL @ perp)
    beta = float(perp @ perp)
    norm = float(np.linalg.norm(gS))
    return {"S": float(vals[0]), "lambda_2": float(vals[1]) if vals.size > 1 else np.nan,
            "u": u, "vecs": vecs, "grad_L": gL, "grad_S": gS, "grad_S_perp": perp,
            "alpha": alpha, "beta": beta, "delta2": 2 * alpha / beta if beta > 0 else np.nan,
            "cos_u_grad_S": abs(float(u @ gS)) / norm if norm > 0 else np.nan}


def project_authors(model, theta, lr, *, n_project: int = 3, v0=None):
    """Return ``(theta, quantities)``: ``n_project`` of the authors' projection steps from
    ``theta`` and :func:`edge_quantities` at the result.

    One step: ``theta <- theta - max(0, S - 2/lr) grad S_perp / |grad S_perp|^2
    - u (u . grad L) / S``.

    When ``S > 2/lr`` but ``grad S_perp = 0`` (the sharpness cannot be lowered that way) or
    a step is not finite, the result is NaN (a tracking run then ends as diverged).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 6, sigma_z=1.0, sigma_J=0.5, seed=0)
    >>> p, q = dynsys.eos.project_authors(m, [0.1] * 6, lr=0.1)
    >>> bool(abs(q["grad_L"] @ q["u"]) < abs(m.grad([0.1] * 6) @ q["u"]))   # nearer g = 0
    True
    """
    theta = one_point(model, theta).copy()
    lr = check.lr(lr)
    n_project = check.integer("n_project", n_project, minimum=0)
    return _project(model, theta, lr, n_project, v0)[:2]


def _project(model, theta, lr, n_project, v0):
    """:func:`project_authors` without checks; also whether ``S > 2/lr`` at ``theta``."""
    q = edge_quantities(model, theta, lr, v0=v0)
    active = bool(q["S"] > 2.0 / lr)
    for _ in range(n_project):
        excess = max(0.0, q["S"] - 2.0 / lr)
        step = q["u"] * (q["u"] @ q["grad_L"]) / q["S"]
        if excess > 0:
            if not q["beta"] > 0:          # S cannot be lowered along grad S_perp
                nan = np.full_like(theta, np.nan)
                return nan, {**q, "S": np.nan}, active
            step = step + excess * q["grad_S_perp"] / q["beta"]
        theta = theta - step
        if not np.all(np.isfinite(theta)):
            return theta, {**q, "S": np.nan}, active
        q = edge_quantities(model, theta, lr, u_ref=q["u"], v0=q["vecs"])
    return theta, q, active


def stable_set_tracking(model, theta0, lr, *, steps: int, n_project: int = 3,
                        gap_level: float = 1.9, radius: float = 1e12,
                        save_theta: bool = False) -> xr.Dataset:
    """Return GD, the constrained trajectory and the authors' predicted dynamics side by side.

    GD runs from ``theta0``; the constrained trajectory ``theta+`` from
    ``project(theta0)`` (:func:`project_authors`); the predicted displacement ``v`` from
    ``theta0 - theta+_0`` by the authors' recurrence (module docstring), so that the
    prediction of GD is ``theta+_t + v_t``. Tracking stops (``status`` = eigengap_lost) at the
    first step where the second Hessian eigenvalue at ``theta+`` exceeds ``gap_level / lr``.
    The drive ``+lr delta^2 grad S_perp / 2`` of the recurrence stands for the projection
    holding ``S(theta+) = 2/lr``, so start at the edge (``lr S(theta0) >= 2``); from below it,
    the drive acts before the projection does and advances the predicted oscillation.

    Returns
    -------
    xarray.Dataset
        Over ``step``: ``x_true`` / ``x_pred`` (``u . v`` of GD and of the prediction),
        ``y_true`` / ``y_pred`` (``grad S_perp . v``), ``sharpness_true`` (``S`` along GD),
        ``sharpness_constrained`` (``S(theta+)``), ``sharpness_pred``
        (``S(theta+) + y_pred``, the linearised sharpness of the prediction),
        ``loss_true``, ``loss_constrained``, ``loss_pred`` (``L(theta+ + v)``), ``alpha``,
        ``beta``, ``delta2``, ``lambda_2`` and ``cos_u_grad_S`` at ``theta+``, ``active``
        (1 where the projection acted on ``S > 2/lr``); ``status`` (:class:`TrackingStatus`);
        with ``save_theta``, ``theta`` (GD) and ``theta_constrained`` over
        ``(step, component)``. Attrs: ``tracked_steps`` and the errors over the tracked
        steps: ``x_rms_error`` (RMS of ``x_pred - x_true`` over the RMS of ``x_true``),
        ``sharpness_rms_error`` (RMS of ``sharpness_pred - sharpness_true`` times ``lr/2``),
        ``loss_rel_error`` (mean of ``|loss_pred - loss_true| / loss_true``),
        ``constrained_distance`` (mean ``|theta - theta+|`` over the mean ``|theta|``),
        ``mean_x2_true`` and ``mean_delta2``.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 6, sigma_z=1.0, sigma_J=0.5, seed=0)
    >>> ds = dynsys.eos.stable_set_tracking(m, np.full(6, 0.1), 0.1, steps=5)
    >>> ds.x_true.shape, ds.status.attrs["flag_meanings"]
    ((6,), 'complete eigengap_lost diverged')
    """
    theta = one_point(model, theta0, "theta0").copy()
    lr = check.lr(lr)
    steps = check.integer("steps", steps, minimum=1)
    n_project = check.integer("n_project", n_project, minimum=0)
    gap_level = check.real("gap_level", gap_level, positive=True)
    radius = check.real("radius", radius, positive=True)
    names = ("x_true", "x_pred", "y_true", "y_pred", "sharpness_true", "sharpness_constrained",
             "sharpness_pred", "loss_true", "loss_constrained", "loss_pred", "alpha", "beta",
             "delta2", "lambda_2", "cos_u_grad_S")
    rec = {k: np.full(steps + 1, np.nan) for k in names}
    active = np.zeros(steps + 1, dtype=np.int8)
    if save_theta:
        path = np.full((steps + 1, model.dim), np.nan)
        path_dag = np.full((steps + 1, model.dim), np.nan)
    status = TrackingStatus.COMPLETE
    dist = np.full(steps + 1, np.nan)
    with np.errstate(all="ignore"):
        dag, q, active[0] = _project(model, theta, lr, n_project, None)
    v = theta - dag
    vecs_gd = None
    last = -1
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            finite = all(np.all(np.isfinite(a)) and np.abs(a).max() <= radius
                         for a in (theta, dag, v))
            if not finite or not np.isfinite(q["S"]):
                status = TrackingStatus.DIVERGED
                break
            if q["lambda_2"] > gap_level / lr:
                status = TrackingStatus.EIGENGAP_LOST
                break
            u, perp = q["u"], q["grad_S_perp"]
            d = theta - dag
            vals_gd, vecs_gd = _top2(model, theta, vecs_gd)
            rec["x_true"][t], rec["y_true"][t] = u @ d, perp @ d
            rec["x_pred"][t], rec["y_pred"][t] = u @ v, perp @ v
            rec["sharpness_true"][t] = vals_gd[0]
            rec["sharpness_constrained"][t] = q["S"]
            rec["sharpness_pred"][t] = q["S"] + perp @ v
            rec["loss_true"][t] = float(model.loss(theta))
            rec["loss_constrained"][t] = float(model.loss(dag))
            rec["loss_pred"][t] = float(model.loss(dag + v))
            for k in ("alpha", "beta", "delta2", "lambda_2", "cos_u_grad_S"):
                rec[k][t] = q[k]
            dist[t] = np.linalg.norm(d) / max(np.linalg.norm(theta), 1e-300)
            if save_theta:
                path[t], path_dag[t] = theta, dag
            last = t
            if t == steps:
                break
            x, y = u @ v, perp @ v
            v = v - lr * ((x * x - q["delta2"]) * perp / 2 + _hvp(model, dag, v) + u * x * y)
            theta = theta - lr * np.asarray(model.grad(theta), dtype=float)
            u_prev = q["u"]
            dag, q, active[t + 1] = _project(model, dag - lr * q["grad_L"], lr, n_project,
                                             q["vecs"])
            if q["u"] @ u_prev < 0:               # keep u's sign continuous along theta+
                q["u"] = -q["u"]
    n = last + 1
    tail = slice(0, n)
    if n == 0:                               # nothing tracked: every statistic is NaN
        tail = slice(0, 1)
    with np.errstate(all="ignore"):
        xt, xp = rec["x_true"][tail], rec["x_pred"][tail]
        stats = {
            "tracked_steps": n,
            "x_rms_error": float(np.sqrt(np.mean((xp - xt) ** 2) / np.mean(xt ** 2))),
            "sharpness_rms_error": float(np.sqrt(np.mean((rec["sharpness_pred"][tail]
                                                          - rec["sharpness_true"][tail]) ** 2))
                                         * lr / 2),
            "loss_rel_error": float(np.mean(np.abs(rec["loss_pred"][tail] - rec["loss_true"][tail])
                                            / rec["loss_true"][tail])),
            "constrained_distance": float(np.mean(dist[tail])),
            "mean_x2_true": float(np.mean(xt ** 2)),
            "mean_x2_pred": float(np.mean(xp ** 2)),
            "mean_delta2": float(np.mean(rec["delta2"][tail])),
        }
    long = {"x_true": "u . (theta - theta+) under GD", "x_pred": "u . v (predicted)",
            "y_true": "grad S_perp . (theta - theta+) under GD",
            "y_pred": "grad S_perp . v (predicted)", "sharpness_true": "S(theta) under GD",
            "sharpness_constrained": "S(theta+)",
            "sharpness_pred": "S(theta+) + grad S_perp . v (predicted)",
            "loss_true": "L(theta) under GD", "loss_constrained": "L(theta+)",
            "loss_pred": "L(theta+ + v) (predicted)",
            "alpha": "alpha = -grad L . grad S_perp at theta+",
            "beta": "beta = |grad S_perp|^2 at theta+", "delta2": "delta^2 = 2 alpha / beta",
            "lambda_2": "second Hessian eigenvalue at theta+",
            "cos_u_grad_S": "|u . grad S| / |grad S| at theta+"}
    data = {k: ("step", rec[k], {"long_name": long[k]}) for k in names}
    data["status"] = ((), np.int8(status), TrackingStatus.cf_attrs("how the tracking ended"))
    data["active"] = ("step", active, EdgeConstraint.cf_attrs("sharpness constraint active"))
    coords = {"step": np.arange(steps + 1)}
    if save_theta:
        data["theta"] = (("step", "component"), path, {"long_name": "GD iterates"})
        data["theta_constrained"] = (("step", "component"), path_dag,
                                     {"long_name": "constrained trajectory theta+"})
        coords["component"] = [f"theta_{i + 1}" for i in range(model.dim)]
    ds = xr.Dataset(data, coords=coords)
    ds["step"].attrs.update(long_name="iteration", units="1")
    ds.attrs.update(provenance(model, analysis="stable_set_tracking", lr=lr, steps=steps,
                               n_project=n_project, gap_level=gap_level, **stats))
    return ds
