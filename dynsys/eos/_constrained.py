"""The constrained trajectory of Damian, Nichani & Lee: projected GD onto the stable set.

The stable set is ``M = {theta : S(theta) <= 2/lr and grad L(theta) . u(theta) = 0}`` (``S`` the
sharpness, ``u`` the top Hessian eigenvector); the constrained trajectory is
``theta+_{t+1} = proj_M(theta+_t - lr grad L(theta+_t))``. The paper's claim is that GD at the
edge of stability stays close to it.

Two projections (``variant``):

* ``"authors"`` (the default; docs/math.md section 6): the projection step of the authors'
  code, repeated ``n_project`` times (3 in their runs),
  ``theta <- theta - max(0, S - 2/lr) grad S_perp / |grad S_perp|^2 - u (u . grad L) / S``
  (:func:`dynsys.eos.project_authors`), with ``alpha = -grad L . grad S_perp`` and
  ``beta = |grad S_perp|^2`` reported along the trajectory;
* ``"nearest_point"`` (a dynsys variant): the Euclidean nearest point of ``M``, by the
  Gauss-Newton iteration below, with ``alpha = -grad L . grad S`` and ``beta = |grad S|^2``.

Derivatives used by the nearest-point variant (``T_k = d H / d theta_k``, the third derivative
of the loss):

* ``grad S = T[u, u]``, i.e. ``(grad S)_k = u^T T_k u`` (simple top eigenvalue);
* ``g = grad L . u`` has ``grad g = S u + T[r, u]`` with ``r = (S - H)^+ grad L`` (the
  derivative of ``u`` is ``(S - H)^+ T_k u``; the pseudo-inverse drops the ``u`` direction).

For a second-order model ``H = s (J^T J + sum_a z_a Q_a)`` and ``T_kpq = s sum_a (Q_apk J_aq +
J_ap Q_aqk + J_ak Q_apq)`` exactly; any other model has ``T`` by central differences of its
Hessian. The nearest-point projection solves ``min |theta - p|^2`` on the active constraints by
the Gauss-Newton iteration ``theta <- p + A^T (A A^T)^{-1} (A (theta - p) - c(theta))`` (``A``
the constraint gradients, ``c`` their values), which keeps ``theta - p`` normal to the
constraint set, i.e. converges to the nearest point when it converges.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models import SecondOrderRegression
from ..models import Model
from ._damian import EdgeConstraint, TrackingStatus
from ._damian import _project as _project_authors
from ._derivatives import one_point, third_derivative  # noqa: F401  (re-exported)

VARIANTS = ("authors", "nearest_point")


def edge_geometry(model, theta) -> dict:
    """Return the quantities of the stable set at one point ``theta`` as a dict.

    Keys: ``S`` (sharpness), ``u`` (top Hessian eigenvector), ``H``, ``grad_L``, ``grad_S``,
    ``grad_S_perp`` (``grad S - u (u . grad S)``), ``g`` (``grad L . u``), ``grad_g``, ``gap``
    (top eigenvalue gap). The sign of ``u`` is arbitrary (every use is sign-invariant).

    Examples
    --------
    >>> import dynsys
    >>> e = dynsys.eos.edge_geometry(dynsys.QuadraticRegression2D(eps=0.1), [1.2, 1.0])
    >>> round(e["S"], 6), e["grad_g"].shape
    (2.116625, (2,))
    """
    theta = one_point(model, theta, "theta")
    H = model.hessian(theta)
    w, v = np.linalg.eigh(H)
    S, u = float(w[-1]), v[:, -1]
    gap = float(w[-1] - w[-2]) if w.size > 1 else np.inf
    gL = model.grad(theta)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = v[:, :-1] @ ((v[:, :-1].T @ gL) / (S - w[:-1])) if w.size > 1 else np.zeros(1)
    if isinstance(model, SecondOrderRegression):     # T[a, b] without forming T: O(D P^2)
        jac, Q = model.jacobian(theta), model.Q
        Qu = np.einsum("apq,q->ap", Q, u)            # (D, P)
        Ju, Jr = jac @ u, jac @ r
        gS = model.scale * (2 * Qu.T @ Ju + jac.T @ (Qu @ u))
        gg = S * u + model.scale * (np.einsum("apq,q,a->p", Q, r, Ju) + Qu.T @ Jr
                                    + jac.T @ (Qu @ r))
    else:
        T = third_derivative(model, theta)
        gS = np.einsum("kpq,p,q->k", T, u, u)
        gg = S * u + np.einsum("kpq,p,q->k", T, r, u)
    return {"S": S, "u": u, "H": H, "grad_L": gL, "grad_S": gS,
            "grad_S_perp": gS - u * (u @ gS), "g": float(gL @ u), "grad_g": gg, "gap": gap}


def _residuals(e, edge, active):
    """Constraint values and their natural scales at an edge_geometry result ``e``."""
    vals = [e["g"]] + ([e["S"] - edge] if active else [])
    scale = [max(1.0, abs(e["S"])) * max(1.0, float(np.linalg.norm(e["grad_L"])))]
    return np.array(vals), np.array(scale + ([edge] if active else []))


def _geometry_or_none(model, theta):
    if not np.all(np.isfinite(theta)):
        return None
    try:
        return edge_geometry(model, theta)
    except np.linalg.LinAlgError:
        return None


def _project(model, p, lr, tol, max_iter):
    """Nearest point of the stable set to ``p``: (theta, converged, active, geometry there)."""
    edge = 2.0 / lr
    theta = p.copy()
    e = _geometry_or_none(model, theta)
    if e is None:
        return np.full_like(p, np.nan), False, False, None
    for active in (False, True):                # first g = 0 only, then also S = 2/lr
        for _ in range(max_iter):
            c, scale = _residuals(e, edge, active)
            if np.all(np.abs(c) <= tol * scale):
                break
            A = np.array([e["grad_g"], e["grad_S"]] if active else [e["grad_g"]])
            merit = float(np.sum((c / scale) ** 2))
            step = p + A.T @ np.linalg.solve(A @ A.T, A @ (theta - p) - c) - theta
            for _ in range(30):                 # damping: halve until the residual drops
                e_new = _geometry_or_none(model, theta + step)
                if e_new is not None:
                    c_new, _ = _residuals(e_new, edge, active)
                    if float(np.sum((c_new / scale) ** 2)) < merit:
                        break
                step = step / 2
            else:
                return np.full_like(p, np.nan), False, active, None
            theta, e = theta + step, e_new
        else:
            return theta, False, active, e
        if active or e["S"] <= edge * (1 + tol):
            return theta, True, active, e
    return theta, True, True, e


def project_stable_set(model, theta, lr, *, variant: str = "authors", n_project: int = 3,
                       tol: float = 1e-11, max_iter: int = 50):
    """Return the projection(s) of ``theta`` onto the stable set ``{S <= 2/lr, u^T grad L = 0}``.

    ``theta`` is one point ``(P,)`` or a batch ``(..., P)``; the result has the same shape.

    ``variant="authors"`` (default): ``n_project`` of the authors' projection steps
    (:func:`dynsys.eos.project_authors`, docs/math.md section 6); NaN where a step is not
    finite or ``S > 2/lr`` with ``grad S_perp = 0``. ``variant="nearest_point"`` (a dynsys
    variant): the Euclidean nearest point by damped Gauss-Newton (module docstring), NaN where
    it does not converge in ``max_iter`` iterations (it needs ``theta`` near the set, as along
    a GD or constrained trajectory; far away ``grad L . u = 0`` is strongly nonlinear); the
    sharpness constraint is imposed only if the projection onto ``{grad L . u = 0}`` alone
    ends sharper than ``2/lr``. ``tol`` and ``max_iter`` belong to the nearest-point variant,
    ``n_project`` to the authors'.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1)
    >>> q = dynsys.eos.project_stable_set(m, [1.5, 4.0], 1.0, variant="nearest_point")
    >>> bool(abs(float(m.residual(q)[0])) < 1e-9 and float(m.sharpness(q)) <= 2.0)
    True
    >>> q = dynsys.eos.project_stable_set(m, [1.5, 4.0], 1.0, n_project=10)   # the authors'
    >>> bool(abs(float(m.residual(q)[0])) < 1e-6 and float(m.sharpness(q)) <= 2.0)
    True
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta = check.array("theta", theta, dim=model.dim)
    lr = check.lr(lr)
    variant = check.choice("variant", variant, VARIANTS)
    n_project = check.integer("n_project", n_project, minimum=0)
    tol = check.real("tol", tol, positive=True, hi=1e-3)
    max_iter = check.integer("max_iter", max_iter, minimum=1)
    flat = theta.reshape(-1, model.dim)
    out = np.empty_like(flat)
    for i, p in enumerate(flat):
        if variant == "authors":
            with np.errstate(all="ignore"):
                out[i] = _project_authors(model, p, lr, n_project, None)[0]
            continue
        q, ok, _, _ = _project(model, p, lr, tol, max_iter)
        out[i] = q if ok else np.nan
    return out.reshape(theta.shape)


def constrained_trajectory(model, theta0, lr, *, steps: int, variant: str = "authors",
                           n_project: int = 3, gap_level: float = 1.9, tol: float = 1e-11,
                           max_iter: int = 50) -> xr.Dataset:
    """Return the constrained trajectory ``theta+`` (projected GD onto the stable set).

    ``theta+_0 = proj_M(theta0)``, ``theta+_{t+1} = proj_M(theta+_t - lr grad L(theta+_t))``,
    with ``proj_M`` the authors' projection (``variant="authors"``, default, ``n_project``
    steps) or the nearest point (``variant="nearest_point"``, a dynsys variant; ``tol``,
    ``max_iter``); see :func:`project_stable_set` and docs/math.md section 6.

    Returns
    -------
    xarray.Dataset
        Over ``step`` (and ``param``): ``theta`` (the constrained iterates), ``sharpness``,
        ``loss``, ``alpha``, ``beta`` (the authors': ``-grad L . grad S_perp`` and
        ``|grad S_perp|^2``; the nearest-point variant: ``-grad L . grad S`` and
        ``|grad S|^2``), ``beta_perp`` (``|grad S_perp|^2`` in both), ``cos_u_grad_S``
        (``|u . grad S| / |grad S|``, which the theory assumes small), ``active`` (1 where
        the projection acted on ``S > 2/lr``) and ``projection_shift``
        (``theta+_{t+1} - (theta+_t - lr grad L)``, over ``param``). Once a projection fails
        the remaining steps are NaN. The authors' variant also has ``delta2``
        (``2 alpha / beta``), ``lambda_2`` (second Hessian eigenvalue) and ``status``
        (:class:`~dynsys.eos.TrackingStatus`): it stops where ``lambda_2 > gap_level / lr``.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1)
    >>> ds = dynsys.eos.constrained_trajectory(m, [1.5, 4.0], 1.0, steps=3)
    >>> ds.theta.shape, int(ds.active.sum()), str(ds.attrs["variant"])
    ((4, 2), 1, 'authors')
    """
    variant = check.choice("variant", variant, VARIANTS)
    n_project = check.integer("n_project", n_project, minimum=0)
    gap_level = check.real("gap_level", gap_level, positive=True)
    if variant == "authors":
        one_point(model, theta0, "theta0")
        check.lr(lr)
        check.integer("steps", steps, minimum=1)
        check.real("tol", tol, positive=True, hi=1e-3)
        check.integer("max_iter", max_iter, minimum=1)
        return _authors_run(model, theta0, lr, steps=steps, n_project=n_project,
                            gap_level=gap_level)
    return _constrained_run(model, theta0, lr, steps=steps, tol=tol, max_iter=max_iter)[0]


def _authors_run(model, theta0, lr, *, steps, n_project, gap_level):
    """The authors' constrained trajectory (see :func:`constrained_trajectory`)."""
    theta0 = one_point(model, theta0, "theta0")
    P = model.dim
    theta = np.full((steps + 1, P), np.nan)
    shift = np.full((steps + 1, P), np.nan)
    active = np.zeros(steps + 1, dtype=np.int8)
    names = ("sharpness", "loss", "alpha", "beta", "beta_perp", "delta2", "lambda_2",
             "cos_u_grad_S")
    rec = {k: np.full(steps + 1, np.nan) for k in names}
    status = TrackingStatus.COMPLETE
    with np.errstate(all="ignore"):
        q, e, active[0] = _project_authors(model, theta0, lr, n_project, None)
        for t in range(steps + 1):
            if not (np.all(np.isfinite(q)) and np.isfinite(e["S"])):
                status = TrackingStatus.DIVERGED
                break
            if e["lambda_2"] > gap_level / lr:
                status = TrackingStatus.EIGENGAP_LOST
                break
            theta[t] = q
            rec["sharpness"][t] = e["S"]
            rec["loss"][t] = float(model.loss(q))
            for k in ("alpha", "beta", "delta2", "lambda_2", "cos_u_grad_S"):
                rec[k][t] = e[k]
            rec["beta_perp"][t] = e["beta"]
            if t == steps:
                break
            p = q - lr * e["grad_L"]
            q, e, active[t + 1] = _project_authors(model, p, lr, n_project, e["vecs"])
            shift[t] = q - p
    long = {"sharpness": "S(theta+)", "loss": "L(theta+)",
            "alpha": "alpha = -grad L . grad S_perp at theta+",
            "beta": "beta = |grad S_perp|^2 at theta+",
            "beta_perp": "|grad S projected orthogonal to u|^2 at theta+",
            "delta2": "delta^2 = 2 alpha / beta at theta+",
            "lambda_2": "second Hessian eigenvalue at theta+",
            "cos_u_grad_S": "|u . grad S| / |grad S| at theta+"}
    ds = _trajectory_dataset({k: (rec[k], long[k]) for k in names}, theta, shift, active)
    ds["status"] = ((), np.int8(status), TrackingStatus.cf_attrs("how the trajectory ended"))
    ds.attrs.update(provenance(model, analysis="constrained_trajectory", lr=lr, steps=steps,
                               theta0=theta0, variant="authors", n_project=n_project,
                               gap_level=gap_level))
    return ds


def _trajectory_dataset(records, theta, shift, active) -> xr.Dataset:
    """Return the Dataset of a constrained trajectory (either variant): the per-step
    ``records`` (name -> (values, long_name)), the iterates ``theta`` (steps + 1, P), the
    projection shifts and the constraint flag, over ``step`` and ``component``."""
    data = {k: ("step", v, {"long_name": name}) for k, (v, name) in records.items()}
    data["theta"] = (("step", "component"), theta, {"long_name": "constrained trajectory theta+"})
    data["projection_shift"] = (("step", "component"), shift,
                                {"long_name": "theta+_{t+1} - (theta+_t - lr grad L(theta+_t))"})
    data["active"] = ("step", active, EdgeConstraint.cf_attrs("sharpness constraint active"))
    ds = xr.Dataset(data, coords={"step": np.arange(theta.shape[0]),
                                  "component": [f"theta_{i + 1}" for i in range(theta.shape[1])]})
    ds["step"].attrs.update(long_name="iteration", units="1")
    return ds


def _constrained_run(model, theta0, lr, *, steps, tol=1e-11, max_iter=50):
    """Return ``(dataset, geometry)``: :func:`constrained_trajectory` and the per-step
    :func:`edge_geometry` dicts along it."""
    theta0 = one_point(model, theta0, "theta0")
    lr = check.lr(lr)
    steps = check.integer("steps", steps, minimum=1)
    tol = check.real("tol", tol, positive=True, hi=1e-3)
    max_iter = check.integer("max_iter", max_iter, minimum=1)
    P = model.dim
    theta = np.full((steps + 1, P), np.nan)
    shift = np.full((steps + 1, P), np.nan)
    active = np.zeros(steps + 1, dtype=np.int8)
    names = ("sharpness", "loss", "alpha", "beta", "beta_perp", "cos_u_grad_S")
    rec = {k: np.full(steps + 1, np.nan) for k in names}
    q, ok, act, e = _project(model, theta0, lr, tol, max_iter)
    geometry = []
    for t in range(steps + 1):
        if not ok:
            break
        theta[t], active[t] = q, act
        geometry.append(e)
        gS, u = e["grad_S"], e["u"]
        nS = float(np.linalg.norm(gS))
        perp = gS - (u @ gS) * u
        rec["sharpness"][t] = e["S"]
        rec["loss"][t] = float(model.loss(q))
        rec["alpha"][t] = float(-e["grad_L"] @ gS)
        rec["beta"][t] = nS ** 2
        rec["beta_perp"][t] = float(perp @ perp)
        rec["cos_u_grad_S"][t] = abs(float(u @ gS)) / nS if nS > 0 else np.nan
        if t == steps:
            break
        p = q - lr * e["grad_L"]
        q, ok, act, e = _project(model, p, lr, tol, max_iter)
        if ok:
            shift[t] = q - p
    long = {"sharpness": "S(theta+)", "loss": "L(theta+)",
            "alpha": "alpha = -grad L . grad S at theta+",
            "beta": "beta = |grad S|^2 at theta+",
            "beta_perp": "|grad S projected orthogonal to u|^2 at theta+",
            "cos_u_grad_S": "|u . grad S| / |grad S| at theta+"}
    ds = _trajectory_dataset({k: (rec[k], long[k]) for k in names}, theta, shift, active)
    ds.attrs.update(provenance(model, analysis="constrained_trajectory", lr=lr, steps=steps,
                               theta0=theta0, tol=tol, variant="nearest_point"))
    return ds, geometry
