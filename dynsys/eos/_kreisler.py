"""GFS sharpness along gradient descent (Kreisler, Nacson, Soudry & Carmon 2023).

Kreisler et al. prove that for scalar networks GD (under conditions on the step size) never
increases the sharpness of the gradient-flow solution (GFS sharpness), even while the loss and
the sharpness themselves oscillate at the edge of stability. This module measures the GFS
sharpness ``phi(theta_t)`` along GD orbits and searches for increases.

For the 2-D model one GD step multiplies the conserved quantity ``|theta_1|^eps |theta_2|`` of
gradient flow by ``|1 - x|^eps |1 + eps x|`` with ``x = lr z``, and the GFS sharpness increases
with that quantity. The factor is below 1 for ``x`` in ``(-1/eps, x_c)`` minus ``{0}``, where
``x_c > 1`` solves ``(x - 1)^eps (1 + eps x) = 1`` (``x_c -> 1.2785`` as ``eps -> 0``, the root
of ``x - 1 = e^-x``): the GFS sharpness of the 2-D model decreases at every step with
``lr z < x_c`` and increases at a step with ``lr z > x_c``. For scalar networks one step
multiplies each imbalance ``w_i^2 - w_j^2`` by ``1 - lr^2 r^2 / (w_i^2 w_j^2)`` (docs/math.md
section 5), which has modulus above 1 when ``lr^2 r^2 > 2 w_i^2 w_j^2``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import FlagTable
from ..orbits import trajectory
from ..models import Model
from ..models import qr2d_increase_threshold as _threshold
from ..networks import spectrum_trajectory
from ._gfs import gfs_sharpness
from ._constrained import one_point

#: Relative changes of the GFS sharpness below this are rounding noise, not increases.
NOISE = 1e-10


class RunClass(FlagTable):
    """What a GD run of a Kreisler scan did (docs/math.md, section 5)."""

    #: converged from past the edge (lr phi0 > 2) with 2 - delta <= lr S_inf <= 2
    EOS = 0
    #: converged from past the edge, below that band (lr S_inf < 2 - delta)
    CATAPULT = 1
    #: the loss or the parameters stopped being finite
    DIVERGED = 2
    #: finite but not converged within the step budget (or lr S_inf > 2)
    UNDECIDED = 3
    #: converged from a start with lr phi0 <= 2 (no edge to reach)
    BELOW_EDGE = 4


def qr2d_increase_threshold(eps: float, branch: str = "upper") -> float:
    """Return a threshold of the 2-D model's GFS-sharpness growth condition.

    One GD step multiplies ``|theta_1|^eps |theta_2|`` by ``g(x) = |1 - x|^eps |1 + eps x|``
    (``x = lr z``), and the GFS sharpness grows with it; ``g(x) > 1`` exactly when ``x > x_c``
    (``branch="upper"``: the root above 1 of ``eps log(x - 1) + log(1 + eps x) = 0``) or
    ``x < x_-`` (``branch="lower"``: the root below ``-1/eps`` of
    ``eps log(1 - x) + log(-1 - eps x) = 0``, about ``-1.83/eps`` at ``eps = 0.05``).

    Examples
    --------
    >>> import dynsys
    >>> round(dynsys.qr2d_increase_threshold(1e-6), 4)
    1.2785
    >>> round(0.05 * dynsys.qr2d_increase_threshold(0.05, "lower"), 3)
    -1.834
    """
    eps = check.real("eps", eps, positive=True, hi=1e100)   # beyond, eps x overflows
    branch = check.choice("branch", branch, ("upper", "lower"))
    return _threshold(eps, branch)


def _growth_possible(model, theta: np.ndarray, lr: float) -> np.ndarray:
    """Return, per state, 1 if the next GD step can increase the GFS sharpness, 0 if it
    provably cannot, -1 if unknown (the model has no ``gfs_growth`` hook)."""
    hook = getattr(model, "gfs_growth", None)
    if hook is None:
        return np.full(theta.shape[0], -1, dtype=np.int8)
    return np.asarray(hook(theta, lr), dtype=bool).astype(np.int8)


def gfs_trajectory(model, theta0, *, lr, steps: int, every: int = 1) -> xr.Dataset:
    """Return a GD trajectory with the GFS sharpness at every step added.

    With ``every = 1``: the result of :func:`dynsys.trajectory` plus ``gfs_sharpness`` (over
    ``step``) and ``gfs_increase``, the relative change ``phi_{t+1}/phi_t - 1`` clipped below
    at 0 (at the step it arrives at), ``growth_possible`` (the model's ``gfs_growth`` hook:
    1 if the step from that state can increase it, 0 if it provably cannot, -1 if the model
    has no such hook; for scalar networks an imbalance factor ``1 - lr^2 r^2/(w_i^2 w_j^2)`` of
    modulus > 1, for the 2-D model ``lr z > x_c`` or ``lr z < x_-``), and the attrs
    ``max_gfs_increase`` and ``max_gfs_increase_step``.

    With ``every > 1`` (for large models, e.g. networks from :meth:`dynsys.Model.from_jax`):
    the result of :func:`dynsys.networks.spectrum_trajectory` (loss at every step, sharpness and
    parameters at the checkpoints ``0, every, 2 every, ...``) with ``gfs_sharpness``,
    ``gfs_increase`` (the change from the previous checkpoint, over ``every`` steps) and
    ``growth_possible`` (-1: one state does not decide ``every`` steps) over ``check``.

    The GFS sharpness is the model's closed form (``gfs_limit`` hook) if it has one, else
    gradient flow integrated to convergence (:func:`dynsys.gfs_sharpness`); NaN where the flow
    did not converge.

    Examples
    --------
    >>> import dynsys
    >>> net = dynsys.ScalarNetwork(2)
    >>> ds = dynsys.gfs_trajectory(net, [2.0, 0.3], lr=0.5, steps=200)
    >>> bool(ds.gfs_sharpness[0] > 2 / 0.5)      # past the edge
    True
    >>> ds.attrs["max_gfs_increase"] <= 1e-10    # non-increasing along GD
    True
    """
    theta0 = one_point(model, theta0, "theta0")
    lr = check.lr(lr)
    steps = check.integer("steps", steps, minimum=1)
    every = check.integer("every", every, minimum=1)
    if every == 1:
        ds = trajectory(model, theta0, lr=lr, steps=steps)
        theta, dim = ds.theta.values, "step"
    else:
        ds = spectrum_trajectory(model, theta0, lr, steps=steps, every=every, save_theta=True)
        theta, dim = ds.theta.values, "check"
    finite = np.all(np.isfinite(theta), axis=1)
    phi = np.full(theta.shape[0], np.nan)
    phi[finite] = gfs_sharpness(model, theta[finite])
    with np.errstate(invalid="ignore", divide="ignore"):
        change = phi[1:] / phi[:-1] - 1
    increase = np.where(np.isfinite(change), np.maximum(change, 0.0), np.nan)
    growth = (_growth_possible(model, theta, lr) if every == 1
              else np.full(theta.shape[0], -1, dtype=np.int8))
    ds["gfs_sharpness"] = (dim, phi, {"long_name": "sharpness of the gradient-flow solution"})
    ds["gfs_increase"] = (dim, np.concatenate([[0.0], increase]),
                          {"long_name": "relative increase of the GFS sharpness at this "
                                        + ("step" if every == 1 else "checkpoint"),
                           "units": "1"})
    ds["growth_possible"] = (dim, growth,
                             {"long_name": "the step from here can increase the GFS sharpness "
                                           "(1), provably cannot (0), unknown (-1)"})
    steps_at = ds[dim].values if every == 1 else ds.check_step.values
    if np.isfinite(increase).any():
        k = int(np.nanargmax(increase))
        ds.attrs.update(max_gfs_increase=float(increase[k]),
                        max_gfs_increase_step=int(steps_at[k + 1]))
    else:
        ds.attrs.update(max_gfs_increase=float("nan"), max_gfs_increase_step=-1)
    ds.attrs["gfs_every"] = every
    return ds


def kreisler_scan(model, starts, lr_gfs, *, steps: int = 20_000,
                  converged_loss: float = 1e-20, delta: float = 0.1,
                  every: int = 1, paths: bool = False) -> xr.Dataset:
    """Return the largest increase of the GFS sharpness along GD, over starts and step sizes.

    For each start ``theta0`` (a row of ``starts``) and each value ``c`` of ``lr_gfs`` GD runs
    with ``lr = c / phi(theta0)`` (so ``lr phi(theta0) = c``; ``c > 2`` is the edge-of-stability
    regime) for ``steps`` steps; the GFS sharpness ``phi`` is evaluated at every step (every
    ``every`` steps with ``every > 1``, see :func:`gfs_trajectory`). Any model: the GFS
    sharpness is the model's closed form (``gfs_limit`` hook) or the integrated flow, the
    growth condition its ``gfs_growth`` hook (without one, ``growth_possible`` is unknown and
    no increase counts as unexplained); ``lr |z|`` needs residuals (a regression model with
    one output), else NaN.

    Returns
    -------
    xarray.Dataset
        Over dims ``start`` and ``lr_gfs``: ``lr``, ``max_increase`` (largest relative increase
        ``phi_{t+1}/phi_t - 1``, 0 if none), ``increase_step``, ``converged`` (final loss below
        ``converged_loss``), ``run_class`` (:class:`RunClass`: eos when converged from
        ``c > 2`` with ``2 - delta <= lr S_inf <= 2``, catapult when converged from ``c > 2``
        below that band, diverged, undecided, below_edge), ``eos`` (``run_class == eos``),
        ``final_lr_sharpness``,
        ``loss_oscillations`` and ``sharpness_oscillations`` (steps at which the loss,
        respectively the sharpness, went up: evidence that they are not monotone),
        ``max_lr_residual`` (largest ``lr |z|`` along the orbit), ``unexplained_increases``
        (increases at steps that fail the growth condition of :func:`gfs_trajectory`),
        ``growth_steps`` (steps at which that condition held); attrs ``max_increase_eos``
        (over the EoS runs), ``noise`` (changes below it are rounding), ``delta``, and per
        class ``runs_<class>``, ``runs_increasing_<class>`` and ``max_increase_<class>``.
        With ``paths=True`` also the runs themselves: ``gfs_sharpness_path`` and
        ``sharpness_path`` over ``(start, lr_gfs, check)`` (coordinate ``check_step``, the
        steps at which the GFS sharpness was evaluated) and ``loss_path`` over
        ``(start, lr_gfs, step)``.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.kreisler_scan(dynsys.ScalarNetwork(3), [[1.5, 0.6, 1.2]], [2.5], steps=3000)
    >>> int(ds.eos.sum()), ds.attrs["max_increase_eos"] <= 1e-10
    (1, True)
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    starts = check.array("starts", starts, dim=model.dim)
    if starts.ndim != 2:
        raise ValueError(f"starts must have shape (n, {model.dim}), got {starts.shape}")
    lr_gfs = check.value_range("lr_gfs", lr_gfs, positive=True)
    steps = check.integer("steps", steps, minimum=1)
    converged_loss = check.real("converged_loss", converged_loss, positive=True)
    delta = check.real("delta", delta, positive=True, hi=2.0)
    every = check.integer("every", every, minimum=1)
    if not isinstance(paths, bool | np.bool_):
        raise TypeError(f"paths must be True or False, got {paths!r}")
    phi0 = gfs_sharpness(model, starts)
    if np.any(~(phi0 > 0)):
        raise ValueError("every start must have a positive GFS sharpness (got "
                         f"{np.min(phi0)!r}); avoid degenerate starts")
    shape = (starts.shape[0], lr_gfs.size)
    out = {name: np.full(shape, np.nan) for name in
           ("lr", "max_increase", "final_lr_sharpness", "max_lr_residual")}
    ints = {name: np.zeros(shape, dtype=np.int64) for name in
            ("increase_step", "loss_oscillations", "sharpness_oscillations",
             "unexplained_increases", "growth_steps")}
    converged = np.zeros(shape, dtype=np.int8)
    diverged = np.zeros(shape, dtype=bool)
    check_steps = np.arange(0, steps + 1, every)
    if check_steps[-1] != steps:
        check_steps = np.append(check_steps, steps)
    if paths:
        phi_path = np.full(shape + (check_steps.size,), np.nan)
        sharp_path = np.full(shape + (check_steps.size,), np.nan)
        loss_path = np.full(shape + (steps + 1,), np.nan)
    for i, th in enumerate(starts):
        for j, c in enumerate(lr_gfs):
            lr = float(c / phi0[i])
            ds = gfs_trajectory(model, th, lr=lr, steps=steps, every=every)
            out["lr"][i, j] = lr
            out["max_increase"][i, j] = ds.attrs["max_gfs_increase"]
            ints["increase_step"][i, j] = ds.attrs["max_gfs_increase_step"]
            growth = ds.growth_possible.values[:-1]
            ints["growth_steps"][i, j] = int(np.sum(growth == 1))
            grew = ds.gfs_increase.values[1:] > NOISE
            ints["unexplained_increases"][i, j] = int(np.sum(grew & (growth == 0)))
            loss = ds.loss.values
            top = (ds.ntk_eigenvalue if "ntk_eigenvalue" in ds else ds.sharpness).values
            last = ds.theta.values[-1] if every == 1 else ds.theta_final.values
            converged[i, j] = int(np.isfinite(loss[-1]) and loss[-1] < converged_loss)
            diverged[i, j] = not np.all(np.isfinite(last))
            out["final_lr_sharpness"][i, j] = lr * top[-1]
            if paths:
                phi_path[i, j] = ds.gfs_sharpness.values
                sharp_path[i, j] = ds.sharpness.values
                loss_path[i, j] = loss
            with np.errstate(invalid="ignore"):
                ints["loss_oscillations"][i, j] = int(np.sum(np.diff(loss) > 0))
                ints["sharpness_oscillations"][i, j] = int(np.sum(np.diff(top) > 0))
                if "residual" in ds and ds.residual.shape[-1] == 1:
                    out["max_lr_residual"][i, j] = lr * np.nanmax(np.abs(ds.residual.values))
    past = np.broadcast_to(lr_gfs[None, :] > 2, shape)
    final = out["final_lr_sharpness"]
    with np.errstate(invalid="ignore"):
        in_band = (final >= 2 - delta) & (final <= 2)
        below = final < 2 - delta
    run_class = np.full(shape, int(RunClass.UNDECIDED), dtype=np.int8)
    conv = converged == 1
    run_class[conv & ~past] = RunClass.BELOW_EDGE
    run_class[conv & past & in_band] = RunClass.EOS
    run_class[conv & past & below] = RunClass.CATAPULT
    run_class[diverged] = RunClass.DIVERGED
    eos = run_class == RunClass.EOS
    labels = [f"theta0_{k + 1}" for k in range(model.dim)]
    res = xr.Dataset(
        {
            "theta0": (("start", "component"), starts, {"long_name": "start"}),
            "gfs_sharpness0": (("start",), phi0, {"long_name": "GFS sharpness at the start"}),
            "lr": (("start", "lr_gfs"), out["lr"], {"long_name": "step size"}),
            "max_increase": (("start", "lr_gfs"), out["max_increase"],
                             {"long_name": "largest relative one-step increase of the GFS "
                                           "sharpness", "units": "1"}),
            "increase_step": (("start", "lr_gfs"), ints["increase_step"],
                              {"long_name": "step of the largest increase", "units": "1"}),
            "converged": (("start", "lr_gfs"), converged,
                          {"long_name": "GD converged (final loss tiny)"}),
            "run_class": (("start", "lr_gfs"), run_class,
                          RunClass.cf_attrs("what the GD run did")),
            "eos": (("start", "lr_gfs"), eos.astype(np.int8),
                    {"long_name": "converged from lr phi(theta0) > 2 to 2 - delta <= lr S_inf "
                                  "<= 2 (edge of stability)"}),
            "final_lr_sharpness": (("start", "lr_gfs"), out["final_lr_sharpness"],
                                   {"long_name": "lr x final top NTK eigenvalue", "units": "1"}),
            "loss_oscillations": (("start", "lr_gfs"), ints["loss_oscillations"],
                                  {"long_name": "steps at which the loss went up", "units": "1"}),
            "sharpness_oscillations": (("start", "lr_gfs"), ints["sharpness_oscillations"],
                                       {"long_name": "steps at which the sharpness went up",
                                        "units": "1"}),
            "unexplained_increases": (("start", "lr_gfs"), ints["unexplained_increases"],
                                      {"long_name": "increases at steps where no imbalance "
                                                    "grows (2-D: lr z <= x_c)", "units": "1"}),
            "growth_steps": (("start", "lr_gfs"), ints["growth_steps"],
                             {"long_name": "steps at which the growth condition held",
                              "units": "1"}),
            "max_lr_residual": (("start", "lr_gfs"), out["max_lr_residual"],
                                {"long_name": "largest lr |z| along the orbit (NaN without "
                                              "one residual)", "units": "1"}),
        },
        coords={"lr_gfs": lr_gfs, "component": labels},
    )
    res["lr_gfs"].attrs.update(long_name="lr x GFS sharpness at the start", units="1")
    if paths:
        res["gfs_sharpness_path"] = (("start", "lr_gfs", "check"), phi_path,
                                     {"long_name": "GFS sharpness along the run"})
        res["sharpness_path"] = (("start", "lr_gfs", "check"), sharp_path,
                                 {"long_name": "sharpness along the run"})
        res["loss_path"] = (("start", "lr_gfs", "step"), loss_path,
                            {"long_name": "loss along the run", "units": "1"})
        res = res.assign_coords(check_step=("check", check_steps,
                                            {"long_name": "iteration of the checkpoint",
                                             "units": "1"}),
                                step=("step", np.arange(steps + 1),
                                      {"long_name": "iteration", "units": "1"}))
    inc_eos = res.max_increase.where(res.eos == 1)
    worst = float(inc_eos.max()) if bool((res.eos == 1).any()) else float("nan")
    res.attrs.update(provenance(model, analysis="kreisler_scan", steps=steps, noise=NOISE,
                                converged_loss=converged_loss, delta=delta, every=every,
                                growth_condition=int(callable(getattr(model, "gfs_growth",
                                                                      None)))))
    for cls in RunClass:
        name = cls.name.lower()
        inc = res.max_increase.where(res.run_class == cls)
        res.attrs[f"runs_{name}"] = int((res.run_class == cls).sum())
        res.attrs[f"runs_increasing_{name}"] = int((inc > NOISE).sum())
        res.attrs[f"max_increase_{name}"] = (float(inc.max()) if res.attrs[f"runs_{name}"]
                                             else float("nan"))
    res.attrs["max_increase_eos"] = worst
    res.attrs["runs_eos"] = int(res.eos.sum())
    res.attrs["runs_increasing_eos"] = int((inc_eos > NOISE).sum())
    res.attrs["unexplained_increases"] = int(res.unexplained_increases.sum())
    return res

