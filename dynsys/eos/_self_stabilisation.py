"""Self-stabilisation (Damian, Nichani & Lee 2023; docs/math.md section 6).

At a point with top Hessian eigenpair ``(S, u)``, ``grad S = nabla^3 L[u, u]`` and its part
orthogonal to ``u`` is ``grad S_perp = grad S - u (u . grad S)``. The authors' definitions
(the default everywhere here): ``alpha = -grad L . grad S_perp``, ``beta = |grad S_perp|^2``,
``delta^2 = 2 alpha / beta``, ``x = u . v`` and ``y = grad S_perp . v`` (a linearised sharpness
offset) for a displacement ``v`` from the reference point. Reduced to ``(x, y)`` the dynamics
are the 2-D map

    x' = -(1 + lr y) x,        y' = y + lr (alpha - beta x^2 / 2),

GD with step ``lr`` on ``l(X, y) = -alpha y + (2/lr + y) X^2 / 2`` in the rescaled coordinate
``X = sqrt(beta) x``. Summing ``y' - y`` over a bounded orbit gives ``<x^2> = 2 alpha / beta``.

A dynsys variant is kept under ``variant="full_grad_S"`` (coefficients, frozen-reference
comparison: ``alpha = -grad L . grad S``, ``beta = |grad S|^2``, ``y = S(theta) - 2/lr``) and
``variant="projection_shift"`` (tracking: a predicted step that subtracts the shift of the
nearest-point projection); they are not the authors' equations.

``grad S = u^T (dH) u``. For a second-order model ``H = J^T J + sum_a z_a Q_a`` with
``dJ_ap / dtheta_k = Q_apk``, so ``d_k S = 2 (Q(Ju) u)_k + (J^T q)_k`` with ``q_a = u^T Q_a u``
and ``Q(v) = sum_a v_a Q_a``; for any other model ``H`` is differenced along each coordinate.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models import SecondOrderRegression
from ._constrained import one_point, third_derivative
from ._converge import run_to_convergence  # noqa: F401  (re-exported for scripts)


def _top_eigenpair(h: np.ndarray):
    w, v = np.linalg.eigh(h)
    return w[-1], v[:, -1], w[-1] - w[-2] if w.size > 1 else np.inf


def sharpness_gradient(model, theta, *, method: str = "auto", rel_step: float = 1e-4):
    """Return ``(S, u, grad S)`` at one point: sharpness, top Hessian eigenvector, gradient of S.

    ``method``: ``"analytic"`` (second-order models), ``"fd"`` (central differences of the
    Hessian along coordinates, any model) or ``"auto"``. Requires a simple top eigenvalue.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1, target=0.5)
    >>> S, u, g = dynsys.sharpness_gradient(m, [1.2, 0.7])
    >>> np.allclose(g, dynsys.sharpness_gradient(m, [1.2, 0.7], method="fd")[2], rtol=1e-6)
    True
    """
    theta = one_point(model, theta)
    method = check.choice("method", method, ("auto", "analytic", "fd"))
    rel_step = check.real("rel_step", rel_step, positive=True, hi=0.1)
    if method == "analytic" and not isinstance(model, SecondOrderRegression):
        raise ValueError("method='analytic' needs a SecondOrderRegression model; use 'fd'")
    S, u, gap = _top_eigenpair(model.hessian(theta))
    if not gap > 1e-12 * max(1.0, abs(S)):
        raise ValueError(f"the top Hessian eigenvalue at theta is degenerate (gap {gap:.3g}); "
                         "its gradient is not defined")
    # dS/dtheta_k = u^T (dH/dtheta_k) u for a simple eigenvalue
    third = third_derivative(model, theta, method=method, rel_step=rel_step)
    return float(S), u, np.einsum("kpq,p,q->k", third, u, u)


def self_stabilisation_coefficients(model, theta, lr, *, variant: str = "authors") -> dict:
    """Return ``{"S", "u", "grad_S", "grad_S_perp", "grad_L", "alpha", "beta", "delta2",
    "lr_gap"}`` at ``theta``.

    The authors' (default): ``alpha = -grad L . grad S_perp``, ``beta = |grad S_perp|^2``;
    ``variant="full_grad_S"`` (a dynsys variant): ``alpha = -grad L . grad S``,
    ``beta = |grad S|^2``. ``delta2 = 2 alpha / beta`` and ``lr_gap = lr S - 2`` (docs/math.md
    section 6).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 6, sigma_z=1.0, sigma_J=0.5, seed=0)
    >>> c = dynsys.self_stabilisation_coefficients(m, [0.1] * 6, 0.1)
    >>> bool(abs(c["beta"] - c["grad_S_perp"] @ c["grad_S_perp"]) < 1e-12)
    True
    """
    lr = check.lr(lr)
    variant = check.choice("variant", variant, ("authors", "full_grad_S"))
    S, u, gs = sharpness_gradient(model, theta)
    gl = model.grad(np.asarray(theta, dtype=float))
    perp = gs - u * (u @ gs)
    g = perp if variant == "authors" else gs
    alpha, beta = float(-gl @ g), float(g @ g)
    return {"S": S, "u": u, "grad_S": gs, "grad_S_perp": perp, "grad_L": gl, "alpha": alpha,
            "beta": beta, "delta2": 2 * alpha / beta if beta > 0 else np.nan,
            "lr_gap": lr * S - 2.0}


def predicted_dynamics(alpha, beta, lr, x0, y0, steps: int):
    """Return ``(x, y)``, arrays of length ``steps + 1``, of the self-stabilisation map.

    ``x' = -(1 + lr y) x``, ``y' = y + lr (alpha - beta x^2 / 2)``: the authors' recurrence
    reduced to ``x = u . v``, ``y = grad S_perp . v`` (docs/math.md section 6), with ``alpha``,
    ``beta`` e.g. from :func:`self_stabilisation_coefficients`.

    Examples
    --------
    >>> import dynsys
    >>> x, y = dynsys.predicted_dynamics(1.0, 2.0, 0.5, 0.1, 0.0, 2)
    >>> x.round(6).tolist(), y.round(6).tolist()
    ([0.1, -0.1, 0.12475], [0.0, 0.495, 0.99])
    """
    alpha = check.real("alpha", alpha)
    beta = check.real("beta", beta, nonnegative=True)
    lr = check.lr(lr)
    x0, y0 = check.real("x0", x0), check.real("y0", y0)
    steps = check.integer("steps", steps, minimum=1)
    x = np.empty(steps + 1)
    y = np.empty(steps + 1)
    x[0], y[0] = x0, y0
    with np.errstate(all="ignore"):
        for t in range(steps):
            x[t + 1] = -(1 + lr * y[t]) * x[t]
            y[t + 1] = y[t] + lr * (alpha - beta * x[t] ** 2 / 2)
    return x, y


def self_stabilisation(model, theta_ref, lr, *, x0: float, steps: int,
                       window: int | None = None, variant: str = "authors") -> xr.Dataset:
    """Return true GD and the predicted self-stabilisation dynamics side by side.

    GD starts at ``theta_ref + x0 u`` (``u`` the top Hessian eigenvector at ``theta_ref``);
    the true ``x_t = u . (theta_t - theta_ref)`` and ``y_t = grad S_perp . (theta_t -
    theta_ref)`` (the authors' linearised offset; ``variant="full_grad_S"``: ``S(theta_t) -
    2/lr``) are compared with the map of :func:`predicted_dynamics` started from the same
    ``(x_0, y_0)`` with ``alpha``, ``beta`` of :func:`self_stabilisation_coefficients` (same
    ``variant``) frozen at ``theta_ref``. The reference is held fixed, so the comparison
    is meaningful over windows short compared with the time on which ``alpha`` and ``beta``
    drift.

    Returns
    -------
    xarray.Dataset
        Over ``step``: ``x_true``, ``y_true``, ``x_pred``, ``y_pred``; attrs ``alpha``,
        ``beta``, ``predicted_mean_x2`` (``2 alpha / beta``), ``mean_x2_true`` and
        ``mean_x2_pred`` (averages over the last ``window`` steps, default all but the first
        quarter), ``cos_u_grad_S`` (``|u . grad S| / |grad S|``: the theory assumes it
        small), ``y_rms_error`` (RMS of ``y_pred - y_true`` relative to the RMS of
        ``y_true``), ``mean_y_true``, ``mean_y_pred``, ``variant``.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.01)
    >>> ds = dynsys.self_stabilisation(m, [1.41, 4.0], 1.0, x0=1e-3, steps=50)
    >>> ds.x_true.shape
    (51,)
    """
    theta_ref = one_point(model, theta_ref, "theta_ref")
    lr = check.lr(lr)
    x0 = check.real("x0", x0)
    steps = check.integer("steps", steps, minimum=2)
    window = steps - steps // 4 if window is None else check.integer("window", window,
                                                                     minimum=1, maximum=steps)
    c = self_stabilisation_coefficients(model, theta_ref, lr, variant=variant)
    u = c["u"]
    theta = np.empty((steps + 1, model.dim))
    theta[0] = theta_ref + x0 * u
    with np.errstate(all="ignore"):
        for t in range(steps):
            theta[t + 1] = theta[t] - lr * model.grad(theta[t])
    finite = np.all(np.isfinite(theta), axis=1)
    x_true = (theta - theta_ref) @ u
    y_true = np.full(steps + 1, np.nan)
    if variant == "authors":
        y_true[finite] = (theta[finite] - theta_ref) @ c["grad_S_perp"]
    else:
        y_true[finite] = model.sharpness(theta[finite]) - 2 / lr
    x_pred, y_pred = predicted_dynamics(c["alpha"], c["beta"], lr, x_true[0], y_true[0], steps)
    tail = slice(steps + 1 - window, steps + 1)
    with np.errstate(all="ignore"):
        y_rms = float(np.sqrt(np.mean((y_pred - y_true) ** 2) / np.mean(y_true ** 2)))
        mx2_true = float(np.mean(x_true[tail] ** 2))
        mx2_pred = float(np.mean(x_pred[tail] ** 2))
    cos_u = float(abs(u @ c["grad_S"]) / max(np.linalg.norm(c["grad_S"]), 1e-300))
    ds = xr.Dataset(
        {
            "x_true": ("step", x_true, {"long_name": "u . (theta - theta_ref) under GD"}),
            "y_true": ("step", y_true, {"long_name": "grad S_perp . (theta - theta_ref) under GD"
                                        if variant == "authors" else "S(theta) - 2/lr under GD"}),
            "x_pred": ("step", x_pred, {"long_name": "x of the self-stabilisation map"}),
            "y_pred": ("step", y_pred, {"long_name": "y of the self-stabilisation map"}),
            "theta": (("step", "component"), theta, {"long_name": "GD iterates"}),
        },
        coords={"step": np.arange(steps + 1),
                "component": [f"theta_{i + 1}" for i in range(model.dim)]},
    )
    ds.attrs.update(provenance(model, analysis="self_stabilisation", lr=lr, x0=x0, variant=variant,
                               theta_ref=theta_ref, steps=steps, window=window,
                               alpha=c["alpha"], beta=c["beta"], sharpness_ref=c["S"],
                               predicted_mean_x2=2 * c["alpha"] / c["beta"],
                               mean_x2_true=mx2_true, mean_x2_pred=mx2_pred,
                               cos_u_grad_S=cos_u,
                               mean_y_true=float(np.mean(y_true[tail])),
                               mean_y_pred=float(np.mean(y_pred[tail])),
                               y_rms_error=y_rms))
    return ds


def self_stabilisation_tracking(model, theta0, lr, *, steps: int, window: int | None = None,
                                variant: str = "authors", n_project: int = 3,
                                gap_level: float = 1.9, tol: float = 1e-11) -> xr.Dataset:
    """Return true GD beside the predicted self-stabilisation dynamics about the constrained
    trajectory.

    ``variant="authors"`` (default): the authors' recurrence,
    :func:`dynsys.eos.stable_set_tracking` (``n_project`` projection steps; tracking stops
    where the second Hessian eigenvalue at ``theta+`` exceeds ``gap_level / lr``), with the
    window statistics below added. Its ``alpha``, ``beta`` are the authors'
    (``-grad L . grad S_perp``, ``|grad S_perp|^2``), ``two_alpha_over_beta`` is ``delta^2``
    and ``beta_perp`` equals ``beta``; ``y = grad S_perp . (theta - theta+)``.

    ``variant="projection_shift"`` is a dynsys variant, not the authors' equations: GD runs from ``theta0``; the constrained trajectory ``theta+`` (projected GD onto the
    stable set, :func:`dynsys.constrained_trajectory`) from ``proj(theta0)``. Along it, with
    ``u_t``, ``grad S_t``, ``H_t`` at ``theta+_t``, the true deviations are
    ``x_t = u_t . (theta_t - theta+_t)`` and ``y_t = grad S_t . (theta_t - theta+_t)``.
    The prediction is the paper's reduction of GD about ``theta+_t``: a cubic Taylor expansion
    in ``v* = theta - theta+`` keeping, of the cubic term, only ``x*^2 grad S`` and the
    ``x* (grad S . w*)`` coupling, with ``x*_t = u_t . v*_t``, ``w*_t = v*_t - x*_t u_t``::

        v*_{t+1} = (I - lr H_t) v*_t - lr x*_t (grad S_t . w*_t) u_t
                   - (lr/2) x*_t^2 P_u^perp grad S_t - shift_t,
        y*_t = grad S_t . w*_t,

    (``grad S`` here is the full gradient; the nearest-point constrained trajectory,
    :func:`dynsys.eos.constrained_trajectory` with ``variant="nearest_point"``), so that
    ``x*_{t+1} = -(1 + lr y*_t) x*_t`` on the edge (``S(theta+) = 2/lr``) up to the
    rotation of ``u`` between steps, which is kept (it is what seeds the oscillation in GD).
    ``shift_t = theta+_{t+1} - (theta+_t - lr grad L(theta+_t))`` is the projection step: its
    component along ``grad S`` is ``-lr alpha_t grad S_t / beta_t`` while the sharpness
    constraint is active, the ``+lr alpha_t`` drive of ``y``. Dropped: the component
    ``-(lr/2)(u . grad S) x*^2`` along ``u`` (the paper assumes ``u . grad S = 0``; its size
    is ``cos_u_grad_S``), the ``x* w*`` terms outside ``y*`` and terms quadratic in ``w*``.
    The scalar 2-D map ``x' = (1 - lr S(theta+_t) - lr y) x``,
    ``y' = y + lr (alpha_t - beta_t x^2 / 2)`` (``beta_t = |P_u^perp grad S_t|^2``, drive
    ``alpha_t = -grad S_t . shift_t / lr``) is run too (``x2d``, ``y2d``); it ignores
    ``H_t grad S_t`` and the rotation of ``u``.

    Returns
    -------
    xarray.Dataset
        Over ``step``: ``sharpness_true`` (``S(theta_t)``), ``sharpness_constrained``
        (``S(theta+_t)``), ``sharpness_pred`` (``S(theta+_t) + y*_t``), ``x_true``, ``x_pred``,
        ``y_true``, ``y_pred``, ``x2d``, ``y2d``, ``alpha``, ``beta``, ``beta_perp``,
        ``cos_u_grad_S``, ``two_alpha_over_beta``, ``loss_true``, ``loss_constrained``,
        ``active``, ``theta``, ``theta_constrained``. Attrs: averages over the steps
        ``window_start`` to ``window_stop - 1`` (the last ``window`` steps if given; by
        default whole self-stabilisation cycles of GD, from its first to its last drop of
        ``lr S`` below 2, else the second half) of ``x^2`` (true, predicted, 2-D map) and of
        ``2 alpha_t / beta_perp_t``; RMS errors of the predicted sharpness and of ``x^2``
        relative to their scales; the mean ``cos_u_grad_S``.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1)
    >>> ds = dynsys.eos.self_stabilisation_tracking(m, [1.5, 4.0], 1.0, steps=20,
    ...                                             variant="projection_shift")
    >>> float(ds.alpha.max()) < 1e-9        # theta+ sits on the minimum curve: no sharpening
    True
    >>> a = dynsys.eos.self_stabilisation_tracking(m, [1.5, 4.0], 1.0, steps=20)   # the authors'
    >>> str(a.attrs["variant"]), int(a.attrs["tracked_steps"]) > 0
    ('authors', True)
    """
    theta0 = one_point(model, theta0, "theta0")
    lr = check.lr(lr)
    steps = check.integer("steps", steps, minimum=2)
    if window is not None:
        window = check.integer("window", window, minimum=2, maximum=steps + 1)
    variant = check.choice("variant", variant, ("authors", "projection_shift"))
    n_project = check.integer("n_project", n_project, minimum=0)
    gap_level = check.real("gap_level", gap_level, positive=True)
    tol = check.real("tol", tol, positive=True, hi=1e-3)
    if variant == "authors":
        return _authors_tracking(model, theta0, lr, steps, window, n_project, gap_level)
    return _projection_shift_tracking(model, theta0, lr, steps, window, tol)


def _window(sharpness, lr, n, window):
    """``(start, stop)``: the last ``window`` of the first ``n`` steps, else whole
    self-stabilisation cycles of GD (first to last drop of ``lr S`` below 2), else the second
    half."""
    if window is not None:
        return max(0, n - window), n
    with np.errstate(invalid="ignore"):
        above = lr * sharpness[:n] >= 2.0
    drops = np.flatnonzero(above[:-1] & ~above[1:] & ~np.roll(above, -2)[:-1]) + 1
    if drops.size >= 2:
        return int(drops[0]), int(drops[-1])
    return n - n // 2, n


def _authors_tracking(model, theta0, lr, steps, window, n_project, gap_level):
    from ._damian import stable_set_tracking

    ds = stable_set_tracking(model, theta0, lr, steps=steps, n_project=n_project,
                             gap_level=gap_level, save_theta=True)
    n = int(ds.attrs["tracked_steps"])
    start, stop = _window(ds.sharpness_true.values, lr, max(n, 1), window)
    tail = slice(start, stop)
    xt, xp = ds.x_true.values[tail], ds.x_pred.values[tail]
    St, Sp = ds.sharpness_true.values[tail], ds.sharpness_pred.values[tail]
    with np.errstate(all="ignore"):
        stats = {
            "mean_x2_true": float(np.mean(xt ** 2)), "mean_x2_pred": float(np.mean(xp ** 2)),
            "mean_two_alpha_over_beta": float(np.mean(ds.delta2.values[tail])),
            "mean_sharpness_true": float(np.mean(St)), "mean_sharpness_pred": float(np.mean(Sp)),
            "sharpness_rms_error": float(np.sqrt(np.mean((Sp - St) ** 2)) * lr / 2),
            "x2_rms_error": float(np.sqrt(np.mean((xp ** 2 - xt ** 2) ** 2))
                                  / np.sqrt(np.mean(xt ** 4))),
            "mean_cos_u_grad_S": float(np.mean(ds.cos_u_grad_S.values[tail])),
            "mean_alpha": float(np.mean(ds.alpha.values[tail])),
            "fraction_active": float(np.mean(ds.active.values[tail])),
        }
    ds["two_alpha_over_beta"] = ("step", ds.delta2.values,
                                 {"long_name": "delta^2 = 2 alpha / beta at theta+"})
    ds["beta_perp"] = ("step", ds.beta.values,
                       {"long_name": "|grad S projected orthogonal to u|^2 at theta+"})
    ds.attrs.update(analysis="self_stabilisation_tracking", variant="authors",
                    window_start=int(start), window_stop=int(stop), **stats)
    return ds


def _projection_shift_tracking(model, theta0, lr, steps, window, tol):
    """The dynsys variant of :func:`self_stabilisation_tracking` (its docstring)."""
    from ._constrained import _constrained_run

    ct, geo = _constrained_run(model, theta0, lr, steps=steps, tol=tol)
    geo = [dict(e) for e in geo]
    P = model.dim
    theta = np.full((steps + 1, P), np.nan)
    theta[0] = theta0
    with np.errstate(all="ignore"):
        for t in range(steps):
            theta[t + 1] = theta[t] - lr * model.grad(theta[t])
            if not np.all(np.isfinite(theta[t + 1])) or np.abs(theta[t + 1]).max() > 1e150:
                theta[t + 1:] = np.nan
                break
    dag = ct.theta.values
    shift = ct.projection_shift.values
    names = ("x_true", "y_true", "x_pred", "y_pred", "x2d", "y2d", "sharpness_true")
    out = {k: np.full(steps + 1, np.nan) for k in names}
    vs = x2 = y2 = None
    with np.errstate(all="ignore"):
        for t, e in enumerate(geo):
            u, gS = e["u"], e["grad_S"]
            if t > 0:                                   # keep u's sign continuous
                u = u if u @ geo[t - 1]["u"] >= 0 else -u
                geo[t]["u"] = u
            v = theta[t] - dag[t]
            if np.all(np.isfinite(theta[t])):
                out["x_true"][t], out["y_true"][t] = u @ v, gS @ v
                out["sharpness_true"][t] = float(model.sharpness(theta[t]))
            if t == 0:
                vs, x2 = v.copy(), u @ v
                y2 = gS @ (v - x2 * u)
            else:
                p = geo[t - 1]
                xp = p["u"] @ vs
                wp = vs - xp * p["u"]
                gp = p["grad_S"] - (p["grad_S"] @ p["u"]) * p["u"]
                vs = (vs - lr * (p["H"] @ vs) - lr * xp * (p["grad_S"] @ wp) * p["u"]
                      - 0.5 * lr * xp ** 2 * gp - shift[t - 1])
                drive = -(p["grad_S"] @ shift[t - 1]) / lr
                x2, y2 = ((1 - lr * p["S"] - lr * y2) * x2,
                          y2 + lr * (drive - 0.5 * (gp @ gp) * x2 ** 2))
            xs = u @ vs
            ws = vs - xs * u
            out["x_pred"][t], out["y_pred"][t] = xs, gS @ ws
            out["x2d"][t], out["y2d"][t] = x2, y2
    S_dag = ct.sharpness.values
    if window is None:                  # whole self-stabilisation cycles of GD, if any
        with np.errstate(invalid="ignore"):
            above = lr * out["sharpness_true"] >= 2.0
        drops = np.flatnonzero(above[:-1] & ~above[1:] & ~np.roll(above, -2)[:-1]) + 1
        start, stop = ((drops[0], drops[-1]) if drops.size >= 2
                       else (steps + 1 - (steps + 1) // 2, steps + 1))
    else:
        start, stop = steps + 1 - window, steps + 1
    tail = slice(int(start), int(stop))
    with np.errstate(all="ignore"):
        pred_S = S_dag + out["y_pred"]
        two_ab = 2 * ct.alpha.values / ct.beta_perp.values
        stats = {
            "mean_x2_true": float(np.mean(out["x_true"][tail] ** 2)),
            "mean_x2_pred": float(np.mean(out["x_pred"][tail] ** 2)),
            "mean_x2_2d": float(np.mean(out["x2d"][tail] ** 2)),
            "mean_two_alpha_over_beta": float(np.mean(two_ab[tail])),
            "mean_sharpness_true": float(np.mean(out["sharpness_true"][tail])),
            "mean_sharpness_pred": float(np.mean(pred_S[tail])),
            "sharpness_rms_error": float(np.sqrt(np.mean((pred_S - out["sharpness_true"])[tail]
                                                         ** 2)) * lr / 2),
            "x2_rms_error": float(np.sqrt(np.mean((out["x_pred"][tail] ** 2
                                                   - out["x_true"][tail] ** 2) ** 2))
                                  / np.sqrt(np.mean(out["x_true"][tail] ** 4))),
            "mean_cos_u_grad_S": float(np.mean(ct.cos_u_grad_S.values[tail])),
            "mean_alpha": float(np.mean(ct.alpha.values[tail])),
            "fraction_active": float(np.mean(ct.active.values[tail])),
        }
    long = {"x_true": "u . (theta - theta+) under GD", "y_true": "grad S . (theta - theta+) under GD",
            "x_pred": "x* (predicted dynamics)", "y_pred": "y* = grad S . w* (predicted)",
            "x2d": "x of the 2-D map with alpha_t, beta_t", "y2d": "y of the 2-D map",
            "sharpness_true": "S(theta) under GD"}
    data = {k: ("step", out[k], {"long_name": long[k]}) for k in names}
    data["sharpness_constrained"] = ("step", S_dag, {"long_name": "S(theta+)"})
    data["sharpness_pred"] = ("step", pred_S, {"long_name": "S(theta+) + y* (predicted)"})
    data["two_alpha_over_beta"] = ("step", two_ab, {"long_name": "2 alpha_t / beta_perp_t"})
    for k in ("alpha", "beta", "beta_perp", "cos_u_grad_S", "active"):
        data[k] = ct[k]
    data["loss_true"] = ("step", np.asarray(model.loss(np.nan_to_num(theta, nan=0.0)))
                         * np.where(np.all(np.isfinite(theta), axis=1), 1.0, np.nan),
                         {"long_name": "L(theta) under GD"})
    data["loss_constrained"] = ct["loss"]
    data["theta"] = (("step", "component"), theta, {"long_name": "GD iterates"})
    data["theta_constrained"] = ct["theta"]
    ds = xr.Dataset(data, coords={"step": np.arange(steps + 1), "component": ct.component.values})
    ds.attrs.update(provenance(model, analysis="self_stabilisation_tracking", lr=lr,
                               steps=steps, window_start=int(start), window_stop=int(stop),
                               theta0=theta0, variant="projection_shift", **stats))
    return ds
