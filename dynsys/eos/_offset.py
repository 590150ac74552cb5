"""The limit offset delta(eps, lr E) of the 2-D model at the edge of stability.

Started where gradient flow would end sharper than ``2/lr``, GD on the 2-D model converges to a
point of the solution set with ``lr lambda_inf = 2 - eps (1 - lr E)/2 + O(eps^2)`` (docs/math.md
section 3). By the scaling symmetry the outcome depends only on ``eps``, ``lr E`` and the
rescaled start ``(lr theta_1^2, eps lr theta_2^2)``, so everything here runs at ``lr = 1`` and
reports ``lr``-scaled quantities: ``lr lambda_inf`` and the offset ``lr delta = 2 - lr
lambda_inf``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from ..models import QuadraticRegression2D
from ._converge import limit_sharpness


def offset_formula(eps, lr_target):
    """Return the leading-order offset ``lr delta = eps (1 - lr E) / 2`` (docs/math.md section 3).

    Examples
    --------
    >>> import dynsys
    >>> dynsys.offset_formula(0.01, 0.5)
    0.0025
    """
    eps = np.asarray(check.array("eps", eps))
    if np.any(eps < 0):
        raise ValueError(f"eps must be >= 0 (the model's asymmetry), got min {float(eps.min())}")
    lr_target = np.asarray(check.array("lr_target", lr_target))
    out = eps * (1 - lr_target) / 2
    return float(out) if out.ndim == 0 else out


def eos_start(model, lr, lr_gfs_sharpness, *, theta_1=0.3) -> np.ndarray:
    """Return starts ``(..., P)`` whose gradient-flow solution has sharpness
    ``lr_gfs_sharpness / lr``, with the given first coordinate.

    Asks the model for its ``gfs_start`` hook (the inverse of its gradient-flow solution's
    sharpness; the 2-D model has one, in closed form) and raises a TypeError for a model
    without it.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.05, target=0.2)
    >>> th = dynsys.eos_start(m, 1.0, [2.5, 3.0])
    >>> dynsys.gfs_sharpness(m, th).round(12)
    array([2.5, 3. ])
    """
    hook = getattr(model, "gfs_start", None)
    if hook is None:
        raise TypeError(f"model must have a gfs_start hook (starts of a prescribed gradient-flow "
                        f"solution sharpness, e.g. QuadraticRegression2D), got "
                        f"{type(model).__name__}")
    lr = check.lr(lr)
    lam = check.array("lr_gfs_sharpness", lr_gfs_sharpness) / lr
    a0 = check.array("theta_1", theta_1)
    try:
        return hook(lam, a0)
    except ValueError as err:
        raise ValueError(f"{err} (eos_start: sharpness = lr_gfs_sharpness / lr = "
                         f"lr_gfs_sharpness / {lr})") from err


def limit_offset(eps, lr_target, *, lr_gfs=(2.5, 3.0, 3.5), theta_1: float = 0.3,
                 steps: int | None = None, tol: float = 1e-12,
                 max_steps: int | None = None) -> xr.Dataset:
    """Return the measured limit offset of the 2-D model over a table of ``eps`` and ``lr E``.

    For each ``eps``, ``lr E`` and prescribed GFS sharpness ``lr lambda_GFS`` (in ``lr_gfs``,
    each > 2 so that GD is past the edge), GD at ``lr = 1`` runs to convergence from the start
    :func:`eos_start` builds (first coordinate ``theta_1``); the limit sharpness and the offset
    ``lr delta = 2 - lr lambda_inf`` are recorded next to the leading-order formula
    ``eps (1 - lr E)/2``. ``steps`` (default 2 x 10^7) is the budget per start (``max_steps`` is
    its deprecated name) and ``tol`` the convergence tolerance of :func:`limit_sharpness`.

    Returns
    -------
    xarray.Dataset
        Dims ``eps``, ``lr_target`` and ``lr_gfs``: ``lr_lambda_inf``, ``offset``,
        ``offset_formula``, ``relative_error`` ((offset - formula) / formula),
        ``scaled_residual`` ((offset - formula) / eps^2), ``steps``, ``outcome``; and the
        starts ``theta0``.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.limit_offset([0.01], [0.5], lr_gfs=[3.0])
    >>> float(ds.relative_error.round(3).squeeze())
    0.014
    """
    budget = check.integer("steps", check.renamed("limit_offset", "max_steps", max_steps,
                                                  "steps", steps, default=20_000_000), minimum=1)
    eps = check.value_range("eps", eps, positive=True)
    lr_target = check.value_range("lr_target", lr_target)
    if np.any(lr_target >= 1):
        raise ValueError(f"lr_target (lr E) must be < 1 for EoS convergence, got max "
                         f"{lr_target.max()}")
    lr_gfs = check.value_range("lr_gfs", lr_gfs)
    if np.any(lr_gfs <= 2):
        raise ValueError(f"lr_gfs must be > 2 (starts past the edge), got min {lr_gfs.min()}")
    theta_1 = check.real("theta_1", theta_1)
    if theta_1 == 0:
        raise ValueError("theta_1 must be nonzero")
    shape = (eps.size, lr_target.size, lr_gfs.size)
    lam = np.full(shape, np.nan)
    steps = np.zeros(shape, dtype=np.int64)
    outcome = np.zeros(shape, dtype=np.int8)
    starts = np.zeros(shape + (2,))
    for i, e in enumerate(eps):
        for j, tgt in enumerate(lr_target):
            model = QuadraticRegression2D(float(e), float(tgt))
            th = eos_start(model, 1.0, lr_gfs, theta_1=theta_1)
            res = limit_sharpness(model, th, 1.0, steps=budget, tol=tol)
            lam[i, j] = res.lr_sharpness.values
            steps[i, j] = res.steps.values
            outcome[i, j] = res.outcome.values
            starts[i, j] = th
    formula = offset_formula(eps[:, None], lr_target[None, :])[..., None]
    offset = 2.0 - lam
    ok = outcome == Outcome.CONVERGED
    hi = np.max(np.where(ok, offset, -np.inf), axis=-1)
    lo = np.min(np.where(ok, offset, np.inf), axis=-1)
    spread = np.where(ok.any(axis=-1), (hi - lo) / formula[..., 0], np.nan)
    dims = ("eps", "lr_target", "lr_gfs")
    ds = xr.Dataset(
        {
            "lr_lambda_inf": (dims, lam, {"long_name": "lr x limiting sharpness", "units": "1"}),
            "offset": (dims, offset, {"long_name": "offset lr delta = 2 - lr lambda_inf",
                                      "units": "1"}),
            "offset_formula": (("eps", "lr_target"), formula[..., 0],
                               {"long_name": "leading order eps (1 - lr E)/2", "units": "1"}),
            "relative_error": (dims, (offset - formula) / formula,
                               {"long_name": "(offset - formula) / formula", "units": "1"}),
            "scaled_residual": (dims, (offset - formula) / eps[:, None, None] ** 2,
                                {"long_name": "(offset - formula) / eps^2", "units": "1"}),
            "start_spread": (("eps", "lr_target"), spread,
                             {"long_name": "(max - min) over converged starts of the offset, "
                                           "relative to the formula", "units": "1"}),
            "steps": (dims, steps, {"long_name": "GD steps to convergence", "units": "1"}),
            "outcome": (dims, outcome, Outcome.cf_attrs("outcome of GD")),
            "theta0": ((*dims, "component"), starts, {"long_name": "start (at lr = 1)"}),
        },
        coords={"eps": eps, "lr_target": lr_target, "lr_gfs": lr_gfs,
                "component": ["theta_1", "theta_2"]},
    )
    ds["eps"].attrs.update(long_name="eps (Q = diag(1, -eps))", units="1")
    ds["lr_target"].attrs.update(long_name="lr x target E", units="1")
    ds["lr_gfs"].attrs.update(long_name="lr x sharpness of the gradient-flow solution",
                              units="1")
    ds.attrs.update(provenance(QuadraticRegression2D(float(eps[0]), float(lr_target[0])),
                               analysis="limit_offset", lr=1.0, theta_1=theta_1,
                               steps=budget, tol=tol))
    ds.attrs["system_params"] = "table over eps and lr_target (see coords)"
    return ds


def fit_offset(ds: xr.Dataset, *, eps_max: float = 0.03) -> xr.Dataset:
    """Return the fitted O(eps^2) coefficient of the offset for each ``lr E``.

    Fits ``(offset - eps (1 - lr E)/2) / eps^2 = C + D eps`` by least squares over the entries
    of a :func:`limit_offset` table with ``eps <= eps_max`` that converged (all starts pooled),
    with standard errors from the residuals (``sigma^2 (X^T X)^-1``). ``C`` is the O(eps^2)
    coefficient: ``lr delta = eps (1 - lr E)/2 + C eps^2 + D eps^3 + ...``.

    Examples
    --------
    >>> import dynsys
    >>> table = dynsys.limit_offset([0.002, 0.004, 0.008], [0.0], lr_gfs=[3.0])
    >>> fit = dynsys.fit_offset(table)
    >>> round(float(fit.coefficient[0]), 2)
    0.84
    """
    if not isinstance(ds, xr.Dataset) or "scaled_residual" not in ds:
        raise TypeError("ds must be a limit_offset Dataset (with 'scaled_residual')")
    eps_max = check.real("eps_max", eps_max, positive=True)
    coef = np.full(ds.lr_target.size, np.nan)
    coef_se = np.full(ds.lr_target.size, np.nan)
    slope = np.full(ds.lr_target.size, np.nan)
    slope_se = np.full(ds.lr_target.size, np.nan)
    count = np.zeros(ds.lr_target.size, dtype=np.int64)
    for j in range(ds.lr_target.size):
        sub = ds.isel(lr_target=j).where(ds.eps <= eps_max, drop=True)
        # the universal value at each eps: the median over the converged starts (robust to a
        # catapulting start)
        y = sub.scaled_residual.where(sub.outcome == Outcome.CONVERGED).median("lr_gfs").values
        x = sub.eps.values
        keep = np.isfinite(y)
        x, y = x[keep], y[keep]
        count[j] = y.size
        if y.size < 3:
            continue
        design = np.stack([np.ones_like(x), x], axis=1)
        beta, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ beta
        sigma2 = resid @ resid / max(y.size - 2, 1)
        cov = sigma2 * np.linalg.inv(design.T @ design)
        coef[j], slope[j] = beta
        coef_se[j], slope_se[j] = np.sqrt(np.diag(cov))
    out = xr.Dataset(
        {
            "coefficient": ("lr_target", coef, {"long_name": "O(eps^2) coefficient C",
                                                 "units": "1"}),
            "coefficient_se": ("lr_target", coef_se, {"long_name": "standard error of C",
                                                      "units": "1"}),
            "cubic": ("lr_target", slope, {"long_name": "O(eps^3) coefficient D", "units": "1"}),
            "cubic_se": ("lr_target", slope_se, {"long_name": "standard error of D",
                                                 "units": "1"}),
            "n_points": ("lr_target", count, {"long_name": "runs in the fit", "units": "1"}),
        },
        coords={"lr_target": ds.lr_target.values},
    )
    out["lr_target"].attrs.update(ds.lr_target.attrs)
    out.attrs.update({k: v for k, v in ds.attrs.items()})
    out.attrs.update(analysis="fit_offset", eps_max=eps_max,
                     model="(offset - eps (1 - lr E)/2) / eps^2 = C + D eps")
    return out
