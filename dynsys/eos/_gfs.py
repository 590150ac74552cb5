"""The gradient-flow solution (GFS) from a start and its sharpness.

Gradient flow ``theta' = -grad L(theta)`` from ``theta`` converges (for the models here) to a
critical point ``theta_inf``; its sharpness ``S(theta_inf)`` is the *GFS sharpness*. Gradient
descent with step size ``lr`` started at ``theta`` shows edge-of-stability behaviour exactly when
the GFS sharpness exceeds ``2/lr`` (MATH.md sections 3 and 5).

Closed forms (derived here, checked against the ODE path in the tests):

* 2-D model, ``z = (a^2 - eps b^2)/2 - E`` with ``(a, b) = theta``: the flow is
  ``a' = -z a``, ``b' = eps z b``, so ``d/dt (eps log|a| + log|b|) = 0``: ``|a|^eps |b|`` is
  conserved and neither coordinate changes sign. For ``a, b != 0`` and ``eps > 0``, along the
  conserved curve ``z`` increases monotonically in ``|a|`` from ``-inf`` to ``+inf``, so the
  flow ends at the unique zero of ``z`` on it: with ``s = a_inf^2``, ``eps b_inf^2 = s - 2E`` and
  ``s - eps C^2 s^(-eps) = 2E`` (``C = |a|^eps |b|``); the sharpness there is
  ``a_inf^2 + eps^2 b_inf^2 = (1 + eps) s - 2 eps E``. The root is found by Newton's method in a
  variable in which the equation is convex and increasing (``log s`` for ``E <= 0``,
  ``log(s - 2E)`` for ``E > 0``), which converges from any start. On the axes the flow stays on
  the axis: ``a = 0`` ends at ``b^2 = -2E/eps`` (sharpness ``-2 eps E``) when ``E < 0`` and at
  the origin otherwise; ``b = 0`` ends at ``a^2 = 2E`` (sharpness ``2E``) when ``E > 0`` and at
  the origin otherwise; at the origin (a saddle or degenerate point when it is not a minimum)
  the sharpness is ``max(-E, eps E)``. For ``eps = 0``, ``b`` is conserved.
* Scalar network ``L = a/2 (prod w - y)^2`` (MATH.md section 5): every ``w_i^2 - w_j^2`` is
  conserved, so ``w_i(inf)^2 = w_i^2 + c`` with ``c`` the root of
  ``sum_i log(w_i^2 + c) = log y^2`` on ``c > -min w_i^2`` (convex and increasing in
  ``log(c + min w_i^2)``), and the sharpness is ``a y^2 sum_i 1 / (w_i^2 + c)``. Special cases:
  ``y = 0`` ends where the smallest weight vanishes (sharpness ``a prod_{j != k} (w_j^2 - w_k^2)``);
  when two or more weights share the smallest magnitude and ``prod w`` has the wrong sign (or
  is zero), those weights shrink together to a saddle with them at zero (sharpness
  ``a |y| prod_{others} |w_j(inf)|`` for exactly two, 0 for more).

Any other model: gradient flow is integrated with a stiff solver (``Radau`` with the model's
Hessian as Jacobian) until the gradient norm is below ``gtol``; the top Hessian eigenvalue there
is returned (NaN if the flow did not converge within ``max_time``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp

from .. import _validate as check
from .._labels import provenance
from ..models import QuadraticRegression2D, ScalarNetwork
from ..models._base import Model

METHODS = ("auto", "closed", "ode")


# -- a globally convergent vectorised Newton solver ------------------------------------------
def _newton_convex(func, x0, consts, *, max_iter: int = 200) -> np.ndarray:
    """Return the roots of convex increasing functions by Newton's method, vectorised.

    ``func(x, c) -> (f, f')`` elementwise over the leading axis of ``consts`` (one equation
    per row), with ``f`` convex and increasing in ``x``. From any start, Newton's iterate lands
    right of the root after one step and then decreases monotonically to it, so no bracketing
    is needed. Iteration stops when an iterate moves by no more than a few ulps.
    """
    consts = np.asarray(consts, dtype=float)
    x = np.broadcast_to(np.asarray(x0, dtype=float), consts.shape[:1]).copy()
    active = np.ones(x.shape, dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        val, der = func(x[active], consts[active])
        step = val / der
        new = x[active] - step
        done = np.abs(step) <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(new))
        x[active] = new
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return x


# -- closed forms --------------------------------------------------------------------------
def _qr2d_limit(model: QuadraticRegression2D, theta: np.ndarray):
    """Return ``(theta_inf, sharpness)`` of gradient flow on the 2-D model (closed form)."""
    eps, E = model.eps, model.target
    a, b = theta[..., 0], theta[..., 1]
    shape = a.shape
    a, b = a.ravel(), b.ravel()
    lim = np.zeros((a.size, 2))
    sharp = np.empty(a.size)
    origin_sharpness = max(-E, eps * E) + 0.0     # + 0.0: no negative zero
    if eps == 0.0:
        lim[:, 1] = b
        if E > 0:
            moving = a != 0
            lim[moving, 0] = np.sign(a[moving]) * np.sqrt(2 * E)
            sharp[:] = np.where(moving, 2 * E, max(-E, 0.0))
        else:
            sharp[:] = -E if E < 0 else 0.0
        return lim.reshape(*shape, 2), sharp.reshape(shape)

    on_a0 = a == 0
    on_b0 = (b == 0) & ~on_a0
    generic = ~on_a0 & ~on_b0
    # a = 0: b flows on its axis
    if E < 0:
        moving = on_a0 & (b != 0)
        lim[moving, 1] = np.sign(b[moving]) * np.sqrt(-2 * E / eps)
        sharp[moving] = -2 * eps * E
        sharp[on_a0 & (b == 0)] = origin_sharpness
    else:
        sharp[on_a0] = origin_sharpness
    # b = 0: a flows on its axis
    if E > 0:
        lim[on_b0, 0] = np.sign(a[on_b0]) * np.sqrt(2 * E)
        sharp[on_b0] = 2 * E
    else:
        sharp[on_b0] = origin_sharpness
    # generic: the conserved curve |a|^eps |b| = C meets z = 0 once
    if generic.any():
        ag, bg = np.abs(a[generic]), np.abs(b[generic])
        log_c = np.log(eps) + 2 * eps * np.log(ag) + 2 * np.log(bg)   # log(eps C^2)
        if E == 0.0:
            log_s = log_c / (1 + eps)
            s = np.exp(log_s)
            excess = s                                               # s - 2E = eps b_inf^2
        elif E < 0:
            def f(v, lc):
                ev = np.exp(v)
                return np.log(ev - 2 * E) + eps * v - lc, ev / (ev - 2 * E) + eps
            # start right of the root (log(e^v - 2E) >= max(v, log(-2E))): monotone descent
            start = np.minimum(log_c / (1 + eps), (log_c - np.log(-2 * E)) / eps)
            log_s = _newton_convex(f, start, log_c)
            s = np.exp(log_s)
            excess = s - 2 * E
        else:
            def f(w, lc):
                ew = np.exp(w)
                return w + eps * np.log(2 * E + ew) - lc, 1 + eps * ew / (2 * E + ew)
            start = np.minimum(log_c / (1 + eps), log_c - eps * np.log(2 * E))   # right of the root
            log_excess = _newton_convex(f, start, log_c)
            excess = np.exp(log_excess)
            s = 2 * E + excess
        lim[generic, 0] = np.sign(a[generic]) * np.sqrt(s)
        lim[generic, 1] = np.sign(b[generic]) * np.sqrt(excess / eps)
        sharp[generic] = (1 + eps) * excess + 2 * E
    return lim.reshape(*shape, 2), sharp.reshape(shape)


def _scalar_limit(model: ScalarNetwork, theta: np.ndarray):
    """Return ``(theta_inf, sharpness)`` of gradient flow on a scalar network (closed form)."""
    a, y = model.scale, model.target
    shape = theta.shape[:-1]
    w = theta.reshape(-1, theta.shape[-1])
    n, depth = w.shape
    sq = w * w
    k = np.argmin(sq, axis=1)
    m = sq[np.arange(n), k]
    d = sq - m[:, None]                                        # >= 0, zero at k
    ties = np.sum(d == 0, axis=1)
    prod = np.prod(w, axis=1)
    signs = np.where(w < 0, -1.0, 1.0)
    lim = np.empty_like(w)
    sharp = np.empty(n)
    if y == 0.0:
        others = d.copy()
        others[np.arange(n), k] = 1.0
        sharp[:] = a * np.prod(others, axis=1)
        lim[:] = signs * np.sqrt(d)
        return lim.reshape(theta.shape), sharp.reshape(shape)
    saddle = (ties >= 2) & (prod * y <= 0)
    regular = ~saddle
    if saddle.any():
        ds = d[saddle]
        others = np.where(ds == 0, 1.0, np.sqrt(ds))
        sharp[saddle] = np.where(ties[saddle] == 2, a * abs(y) * np.prod(others, axis=1), 0.0)
        lim[saddle] = signs[saddle] * np.sqrt(ds)
    if regular.any():
        dr = d[regular]
        log_y2 = np.log(y * y)

        def f(v, rows):
            ev = np.exp(v)[:, None]
            return (np.sum(np.log(rows + ev), axis=1) - log_y2,
                    np.sum(ev / (rows + ev), axis=1))

        v = _newton_convex(f, log_y2 / depth, dr)          # starts right of the root
        t = np.exp(v)
        s2 = dr + t[:, None]
        sharp[regular] = a * y * y * np.sum(1.0 / s2, axis=1)
        sg = signs[regular].copy()
        # the weight that crosses zero when prod w has the wrong sign (unique smallest)
        flip = prod[regular] * y < 0
        kr = k[regular]
        rows = np.flatnonzero(flip)
        sg[rows, kr[rows]] *= -1
        zero_prod = prod[regular] == 0
        rows = np.flatnonzero(zero_prod)
        if rows.size:
            wr = w[regular][rows]
            rest = wr.copy()
            rest[np.arange(rows.size), kr[rows]] = 1.0
            sg[rows, kr[rows]] = np.sign(y * np.prod(rest, axis=1))
        lim[regular] = sg * np.sqrt(s2)
    return lim.reshape(theta.shape), sharp.reshape(shape)


# -- the ODE path --------------------------------------------------------------------------
def _ode_limit(model: Model, theta: np.ndarray, *, rtol: float, gtol: float, max_time: float):
    """Return ``(theta_inf, sharpness, converged, time)`` by integrating gradient flow."""
    shape = theta.shape[:-1]
    flat = theta.reshape(-1, model.dim)
    lim = np.full_like(flat, np.nan)
    times = np.full(flat.shape[0], np.nan)
    converged = np.zeros(flat.shape[0], dtype=bool)

    def rhs(_t, x):
        return -model.grad(x)

    def jac(_t, x):
        return -model.hessian(x)

    for i, x0 in enumerate(flat):
        x, t, horizon = x0.copy(), 0.0, 1.0
        with np.errstate(all="ignore"):
            while t < max_time:
                if np.linalg.norm(model.grad(x)) <= gtol:
                    converged[i] = True
                    break
                sol = solve_ivp(rhs, (t, t + horizon), x, method="Radau", jac=jac, rtol=rtol,
                                atol=rtol * 1e-2 * max(1.0, float(np.abs(x).max())))
                if not sol.success or not np.all(np.isfinite(sol.y[:, -1])):
                    break
                x, t = sol.y[:, -1], sol.t[-1]
                horizon *= 2.0
            else:
                converged[i] = bool(np.linalg.norm(model.grad(x)) <= gtol)
        if converged[i]:
            lim[i], times[i] = x, t
    sharp = np.full(flat.shape[0], np.nan)
    if converged.any():
        sharp[converged] = model.sharpness(lim[converged])
    return (lim.reshape(theta.shape), sharp.reshape(shape), converged.reshape(shape),
            times.reshape(shape))


def _closed_form_available(model) -> bool:
    return isinstance(model, QuadraticRegression2D | ScalarNetwork)


def _validate(model, theta, method):
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta = check.array("theta", theta, dim=model.dim)
    method = check.choice("method", method, METHODS)
    if method == "closed" and not _closed_form_available(model):
        raise ValueError(f"method='closed' needs a QuadraticRegression2D or ScalarNetwork, "
                         f"got {type(model).__name__}; use method='ode' or 'auto'")
    return theta, method


def _limits(model, theta, method, rtol, gtol, max_time):
    """Return ``(theta, limits, sharpness, converged, method used)`` after validating."""
    theta, method = _validate(model, theta, method)
    rtol = check.real("rtol", rtol, positive=True, hi=1e-3)
    gtol = check.real("gtol", gtol, positive=True)
    max_time = check.real("max_time", max_time, positive=True)
    if method == "closed" or (method == "auto" and _closed_form_available(model)):
        solver = _qr2d_limit if isinstance(model, QuadraticRegression2D) else _scalar_limit
        lim, sharp = solver(model, theta)
        return theta, lim, sharp, np.ones(sharp.shape, dtype=bool), "closed"
    lim, sharp, conv, _ = _ode_limit(model, theta, rtol=rtol, gtol=gtol, max_time=max_time)
    return theta, lim, sharp, conv, "ode"


def gfs_solution(model, theta, *, method: str = "auto", rtol: float = 1e-12,
                 gtol: float = 1e-11, max_time: float = 1e9) -> xr.Dataset:
    """Return the gradient-flow solution from each ``theta`` and its sharpness, as a Dataset.

    Parameters
    ----------
    model : Model
        Closed forms are used for :class:`~dynsys.QuadraticRegression2D` and
        :class:`~dynsys.ScalarNetwork` (see the module docstring); any other model is handled
        by integrating gradient flow with a stiff solver.
    theta : array (..., P)
        Starts.
    method : {"auto", "closed", "ode"}
        ``"ode"`` forces numerical integration (for any model).
    rtol, gtol, max_time : float
        ODE path only: relative tolerance of the solver, gradient norm counted as converged,
        and the largest flow time tried.

    Returns
    -------
    xarray.Dataset
        ``theta`` and ``gfs_theta`` over ``(..., param)``, ``gfs_sharpness`` and ``converged``
        over the batch dims (``point`` for a flat batch).

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.gfs_solution(dynsys.ScalarNetwork(2), [[2.0, 1.0]])
    >>> float(ds.gfs_sharpness[0].round(12))     # sqrt((4 - 1)^2 + 4)
    3.605551275464
    """
    theta, lim, sharp, conv, used = _limits(model, theta, method, rtol, gtol, max_time)
    batch = [f"point_{i}" if theta.ndim > 2 else "point" for i in range(theta.ndim - 1)]
    labels = [f"theta_{i + 1}" for i in range(model.dim)]
    ds = xr.Dataset(
        {
            "theta": ((*batch, "param"), theta, {"long_name": "start"}),
            "gfs_theta": ((*batch, "param"), lim,
                          {"long_name": "limit of gradient flow from the start"}),
            "gfs_sharpness": (tuple(batch), sharp,
                              {"long_name": "sharpness of the gradient-flow solution"}),
            "converged": (tuple(batch), conv.astype(np.int8),
                          {"long_name": "gradient flow converged (1) or not (0)"}),
        },
        coords={"param": labels},
    )
    ds.attrs.update(provenance(model, analysis="gfs_solution", method=used,
                               rtol=float(rtol) if used == "ode" else None,
                               gtol=float(gtol) if used == "ode" else None))
    return ds


def gfs_sharpness(model, theta, *, method: str = "auto", rtol: float = 1e-12,
                  gtol: float = 1e-11, max_time: float = 1e9) -> np.ndarray:
    """Return the sharpness of the gradient-flow solution from ``theta``, shape ``(...)``.

    The gradient-flow solution is the critical point gradient flow from ``theta`` converges
    to; its sharpness is the top Hessian eigenvalue there. GD with step size ``lr`` from
    ``theta`` shows edge-of-stability behaviour when this exceeds ``2/lr``. Closed forms for
    the 2-D model and scalar networks, a stiff ODE solve otherwise (``method="ode"`` forces
    it); see :func:`gfs_solution` for the parameters and the limit points themselves.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1, target=0.0)
    >>> float(dynsys.gfs_sharpness(m, [2.0, 0.0]))     # on the axis b = 0 with E = 0: origin
    0.0
    >>> lam = dynsys.gfs_sharpness(m, [[0.3, 5.0], [1.0, 1.0]])
    >>> lam.shape
    (2,)
    """
    return _limits(model, theta, method, rtol, gtol, max_time)[2]
