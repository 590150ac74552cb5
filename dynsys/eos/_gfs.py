"""The gradient-flow solution (GFS) from a start and its sharpness.

Gradient flow ``theta' = -grad L(theta)`` from ``theta`` converges (for the models here) to a
critical point ``theta_inf``; its sharpness ``S(theta_inf)`` is the *GFS sharpness*. Gradient
descent with step size ``lr`` started at ``theta`` shows edge-of-stability behaviour exactly when
the GFS sharpness exceeds ``2/lr`` (docs/math.md sections 3 and 5).

Closed forms: a model that knows its gradient-flow solution provides the ``gfs_limit`` hook
(see :class:`~dynsys.Model`; the 2-D model and scalar networks do, derived in
``dynsys/models/_gfs_closed.py``), used by ``method="closed"`` and by default.

Any other model: gradient flow is integrated with a stiff solver (``Radau`` with the model's
Hessian as Jacobian) until the gradient norm is below ``tol``; the top Hessian eigenvalue there
is returned (NaN if the flow did not converge within ``max_time``).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models import Model

METHODS = ("auto", "closed", "ode")


def _ode_limit(model: Model, theta: np.ndarray, *, rtol: float, gtol: float, max_time: float):
    """Return ``(theta_inf, sharpness, converged, time)`` by integrating gradient flow."""
    shape = theta.shape[:-1]
    flat = theta.reshape(-1, model.dim)
    lim = np.full_like(flat, np.nan)
    times = np.full(flat.shape[0], np.nan)
    converged = np.zeros(flat.shape[0], dtype=bool)

    from scipy.integrate import solve_ivp   # lazily: scipy.integrate is slow to import

    def rhs(_t, x):
        return -model.grad(x)

    def jac(_t, x):
        return -model.hessian(x)

    hook = getattr(model, "gradient_flow", None)
    todo = range(flat.shape[0])
    if hook is not None and flat.shape[0]:    # the model integrates its flow itself
        ends, done, t_end = hook(flat, rtol=rtol, tol=gtol, max_time=max_time)
        for i in np.flatnonzero(done):
            lim[i], times[i], converged[i] = _polish(model, ends[i]), t_end[i], True
        todo = np.flatnonzero(~done)          # too stiff for it: the implicit solver below
    for i in todo:
        x0 = flat[i]
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
            lim[i], times[i] = _polish(model, x), t
    sharp = np.full(flat.shape[0], np.nan)
    if converged.any():
        sharp[converged] = model.sharpness(lim[converged])
    return (lim.reshape(theta.shape), sharp.reshape(shape), converged.reshape(shape),
            times.reshape(shape))


#: the polishing step uses the Hessian's eigenpairs with eigenvalues above this fraction of
#: the largest (the directions normal to a manifold of minima); the rest are left alone.
POLISH_RCOND = 1e-6


def _polish(model: Model, x: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Return the end point of the flow ``x`` moved onto the critical set by Newton steps.

    The ODE stops at ``|grad L| <= tol``, a distance ``~ tol / lambda`` from the limit (with
    ``lambda`` the smallest non-zero Hessian eigenvalue there), and the sharpness there is off
    by ``|grad S| tol / lambda``: ~1e-10 relative for flat minima at ``tol = 1e-11``. Near the
    limit the flow is linear, ``x(t) - x_inf = exp(-H t) (x - x_inf)``, so its limit is
    ``x - H^+ grad L(x)`` up to ``O(|x - x_inf|^2)`` (``H^+`` on the eigenvalues above
    ``POLISH_RCOND`` times the largest; the flat directions along a manifold of minima are left
    alone). A step is kept only while it lowers the gradient norm.
    """
    if model.dim > getattr(model, "hessian_max", np.inf):
        return x
    with np.errstate(all="ignore"):
        g = np.asarray(model.grad(x), dtype=float)
        gn = np.linalg.norm(g)
        for _ in range(iterations):
            if not gn > 0:
                break
            h = np.asarray(model.hessian(x), dtype=float)
            if not np.all(np.isfinite(h)):
                break
            w, v = np.linalg.eigh(0.5 * (h + h.T))
            keep = w > POLISH_RCOND * max(float(w[-1]), np.finfo(float).tiny)
            if not keep.any():
                break
            vk = v[:, keep]
            x_new = x - vk @ ((vk.T @ g) / w[keep])
            g_new = np.asarray(model.grad(x_new), dtype=float)
            gn_new = np.linalg.norm(g_new)
            if not gn_new < gn:
                break
            x, g, gn = x_new, g_new, gn_new
    return x


def _closed_form_available(model) -> bool:
    """Return whether ``model`` has the ``gfs_limit`` hook (a closed-form flow solution)."""
    return callable(getattr(model, "gfs_limit", None))


def _validate(model, theta, method):
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta = check.array("theta", theta, dim=model.dim)
    if np.any(np.abs(theta) > check.MAX_STATE):
        raise ValueError(f"theta must lie within +-{check.MAX_STATE:g} (the loss and its "
                         f"gradient flow overflow float64 beyond), got max |theta| "
                         f"{float(np.max(np.abs(theta)))!r}")
    method = check.choice("method", method, METHODS)
    if method == "closed" and not _closed_form_available(model):
        raise ValueError(f"method='closed' needs a model with the gfs_limit hook (a closed-form "
                         f"gradient-flow solution), {type(model).__name__} has none; use "
                         f"method='ode' or 'auto'")
    return theta, method


def _limits(model, theta, method, rtol, tol, gtol, max_time):
    """Return ``(theta, limits, sharpness, converged, method used)`` after validating."""
    theta, method = _validate(model, theta, method)
    rtol = check.real("rtol", rtol, positive=True, hi=1e-3)
    gtol = check.real("tol", check.renamed("gfs_solution", "gtol", gtol, "tol", tol,
                                           default=1e-11), positive=True)
    max_time = check.real("max_time", max_time, positive=True)
    if method == "closed" or (method == "auto" and _closed_form_available(model)):
        lim, sharp = model.gfs_limit(theta)
        return theta, lim, sharp, np.ones(sharp.shape, dtype=bool), "closed"
    lim, sharp, conv, _ = _ode_limit(model, theta, rtol=rtol, gtol=gtol, max_time=max_time)
    return theta, lim, sharp, conv, "ode"


def gfs_solution(model, theta, *, method: str = "auto", rtol: float = 1e-12,
                 tol: float | None = None, max_time: float = 1e9,
                 gtol: float | None = None) -> xr.Dataset:
    """Return the gradient-flow solution from each ``theta`` and its sharpness, as a Dataset.

    Parameters
    ----------
    model : Model
        A model with the ``gfs_limit`` hook (a closed form: the 2-D model, scalar networks)
        uses it; any other model is handled by integrating gradient flow with a stiff solver.
    theta : array (..., P)
        Starts.
    method : {"auto", "closed", "ode"}
        ``"ode"`` forces numerical integration (for any model).
    rtol, tol, max_time : float
        ODE path only: relative tolerance of the solver, gradient norm counted as converged
        (default 1e-11; ``gtol`` is its deprecated name), and the largest flow time tried.

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
    tol = check.renamed("gfs_solution", "gtol", gtol, "tol", tol, default=1e-11)
    theta, lim, sharp, conv, used = _limits(model, theta, method, rtol, tol, None, max_time)
    batch = [f"point_{i}" if theta.ndim > 2 else "point" for i in range(theta.ndim - 1)]
    labels = [f"theta_{i + 1}" for i in range(model.dim)]
    ds = xr.Dataset(
        {
            "theta": ((*batch, "component"), theta, {"long_name": "start"}),
            "gfs_theta": ((*batch, "component"), lim,
                          {"long_name": "limit of gradient flow from the start"}),
            "gfs_sharpness": (tuple(batch), sharp,
                              {"long_name": "sharpness of the gradient-flow solution"}),
            "converged": (tuple(batch), conv.astype(np.int8),
                          {"long_name": "gradient flow converged (1) or not (0)"}),
        },
        coords={"component": labels},
    )
    ds.attrs.update(provenance(model, analysis="gfs_solution", method=used,
                               rtol=float(rtol) if used == "ode" else None,
                               tol=float(tol) if used == "ode" else None))
    return ds


def gfs_sharpness(model, theta, *, method: str = "auto", rtol: float = 1e-12,
                  tol: float | None = None, max_time: float = 1e9,
                  gtol: float | None = None) -> np.ndarray:
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
    return _limits(model, theta, method, rtol, tol, gtol, max_time)[2]
