"""Trajectories of maps and of gradient descent on models."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._limits import require
from .._labels import provenance
from .._outcomes import Outcome
from .._stopping import ORBIT_RADIUS as RADIUS
from ..models import RegressionModel, loss_and_sharpness, resolve_system
from ..systems import compiled, orbit


def state_labels(system, model) -> list[str]:
    """Return the coordinate labels of the state: ``theta_i`` for models, ``x_i`` for maps."""
    prefix = "theta" if model is not None else "x"
    return [f"{prefix}_{i + 1}" for i in range(system.dim)]


def trajectory(system, x0, *, lr=None, steps: int, radius: float | None = None,
               divergence_bound: float | None = None) -> xr.Dataset:
    """Return the orbit of ``x0`` as an ``xr.Dataset`` over dim ``step`` (0 .. ``steps``).

    Parameters
    ----------
    system : Model or Map
        A model (gradient descent with step size ``lr`` is run on it) or any map (``lr``, if
        given, overrides the map's ``lr`` parameter).
    x0 : array (dim,)
        Initial state.
    lr : float, optional
        Step size; required for models.
    steps : int
        Number of iterations (>= 1).
    radius : float
        A state with ``|x| > radius`` (or not finite) has diverged; the orbit stops there and
        later states are NaN (``outcome`` = diverged). Default 1e30 (only near overflow,
        as for every loop that follows one orbit). ``divergence_bound`` is its deprecated name.

    Returns
    -------
    xarray.Dataset
        ``theta`` (models) or ``x`` (maps) over ``(step, param)``; for models also ``loss``,
        ``sharpness`` and, for regression models, ``ntk_eigenvalue`` and ``residual``;
        ``outcome`` (:class:`~dynsys.Outcome`: bounded or diverged) and provenance attrs.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.trajectory(dynsys.QuadraticRegression2D(eps=0.1), [1.0, 1.0], lr=0.5, steps=3)
    >>> ds.theta.shape
    (4, 2)
    >>> float(ds.loss[0])
    0.10125
    """
    mapping, model = resolve_system(system, lr)
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got shape {x0.shape}")
    steps = check.integer("steps", steps, minimum=1)
    radius = check.real("radius", check.renamed("trajectory", "divergence_bound",
                                                divergence_bound, "radius", radius,
                                                default=RADIUS), positive=True, hi=1e150)

    dim = mapping.dim
    per_step = dim + (dim * dim + dim + 3 if model is not None else 0)   # + Hessians, loss, ...
    require("steps", 8 * (steps + 1) * per_step,
            f"{steps + 1} states x {per_step} float64 values")
    run = compiled(mapping)          # a kernel numba compiles from a user's functions
    states, last = orbit(run, x0, steps, radius=radius)
    labels = state_labels(mapping, model)
    state_name = "theta" if model is not None else "x"
    coords = {"step": np.arange(steps + 1), "component": labels}
    data = {
        state_name: (("step", "component"), states,
                     {"long_name": "parameters" if model is not None else "state"}),
        "outcome": ((), np.int8(Outcome.BOUNDED if last == steps else Outcome.DIVERGED),
                    Outcome.cf_attrs("outcome of the orbit")),
    }
    if model is not None:
        finite = states[: last + 1]
        with np.errstate(all="ignore"):
            loss, sharpness = loss_and_sharpness(model, run, finite)
            data["loss"] = (("step",), _pad(loss, steps), {"long_name": "loss"})
            data["sharpness"] = (("step",), _pad(sharpness, steps),
                                 {"long_name": "sharpness (top Hessian eigenvalue)"})
            if isinstance(model, RegressionModel):
                data["ntk_eigenvalue"] = (("step",), _pad(model.ntk_eigenvalue(finite), steps),
                                          {"long_name": "top NTK eigenvalue"})
                resid = model.residual(finite)
                full = np.full((steps + 1, resid.shape[-1]), np.nan)
                full[: last + 1] = resid
                data["residual"] = (("step", "output"), full, {"long_name": "residual z"})
    ds = xr.Dataset(data, coords=coords)
    ds["step"].attrs.update(long_name="iteration", units="1")
    ds.attrs.update(provenance(mapping, analysis="trajectory", steps=steps, radius=radius,
                               diverged_at_step=-1 if last == steps else last + 1,
                               x0=x0, compiled=int(run.kernel is not None)))
    return ds


def _pad(values: np.ndarray, steps: int) -> np.ndarray:
    out = np.full(steps + 1, np.nan)
    out[: values.shape[0]] = values
    return out
