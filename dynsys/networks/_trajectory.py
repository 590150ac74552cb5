"""GD on large models: the loss at every step, the top of the Hessian spectrum every k steps."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from ..models import Model


def _spectrum(model, theta, k, v0, tol):
    """Top-k eigenpairs and HVP count: the model's Lanczos hook if it has one, else dense."""
    top = getattr(model, "top_eigenpairs", None)
    if top is not None:
        vals, vecs, info = top(theta, k, v0=v0, tol=tol, return_info=True)
        return vals, vecs, info["n_hvp"]
    h = np.asarray(model.hessian(theta), dtype=float)
    if not np.all(np.isfinite(h)):
        return np.full(k, np.nan), np.full((model.dim, k), np.nan), 0
    w, v = np.linalg.eigh(h)
    return w[::-1][:k], v[:, ::-1][:, :k], 0


def _gd_chunk(model, theta, lr, n):
    """``n`` GD steps: (theta_end, losses before each step); the compiled hook if present."""
    hook = getattr(model, "gd_steps", None)
    if hook is not None:
        return hook(theta, lr, n)
    losses = np.empty(n)
    with np.errstate(all="ignore"):
        for t in range(n):
            losses[t] = float(model.loss(theta))
            theta = theta - lr * model.grad(theta)
    return theta, losses


def _fused(model, theta, lr, checks, radius, tol, loss, eig, n_hvp):
    """The compiled path (the ``gd_track`` hook): GD steps and warm-started Lanczos updates
    in one call per run of equal chunks; fills ``loss``, ``eig``, ``n_hvp`` and returns
    ``(theta_end, diverged_at)``."""
    if not np.all(np.isfinite(theta)) or np.abs(theta).max() > radius:
        return theta, 0
    start = np.random.default_rng(0).standard_normal(model.dim)
    lam, u, n, ok = model.top_fused(theta, start, tol=max(tol, 1e-12))
    _check_converged(lam, ok, tol)
    eig[0, 0], n_hvp[0] = lam, n
    steps = checks[-1]
    every = checks[1] - checks[0] if len(checks) > 1 else steps
    runs = [(every, (steps // every))] + ([(steps % every, 1)] if steps % every else [])
    c = 0
    for length, count in runs:
        if count == 0:
            continue
        s = checks[c]
        end, u_end, losses, lams, ns, oks, big = model.gd_track(theta, u, lr, every=length,
                                                                 checks=count, tol=tol)
        bad = np.flatnonzero(~np.isfinite(losses))
        far = np.flatnonzero(~(big <= radius))
        at_far = (int(far[0]) + 1) * length if far.size else None
        if bad.size and (at_far is None or bad[0] <= at_far):
            stop, good = int(bad[0]), max((int(bad[0]) - 1) // length, 0)
        elif at_far is not None:
            stop, good = at_far, int(far[0])
        else:
            stop = None
        if stop is not None:                   # diverged in this run: keep what came before
            loss[s:s + stop] = losses[:stop]
            eig[c + 1:c + 1 + good, 0] = lams[:good]
            n_hvp[c + 1:c + 1 + good] = ns[:good]
            return theta, s + stop
        for value, okay in zip(lams, oks, strict=True):
            _check_converged(value, okay, tol)
        loss[s:s + length * count] = losses
        eig[c + 1:c + 1 + count, 0] = lams
        n_hvp[c + 1:c + 1 + count] = ns
        theta, u, c = np.asarray(end, dtype=float), u_end, c + count
    loss[steps] = float(model.loss(theta))
    return theta, -1


def _check_converged(value, ok, tol):
    if not ok and np.isfinite(value):
        raise RuntimeError(f"Lanczos did not converge to tol {tol:g}")


def spectrum_trajectory(model, theta0, lr, *, steps: int, every: int = 10, top_k: int = 1,
                        radius: float = 1e12, tol: float = 1e-8, save_theta: bool = False,
                        progress=None) -> xr.Dataset:
    """Return GD's loss at every step and the top Hessian eigenvalues every ``every`` steps.

    Runs ``theta_{t+1} = theta_t - lr grad L(theta_t)`` from ``theta0`` for ``steps`` steps.
    At the checkpoints ``t = 0, every, 2 every, ...`` (and the last step) the ``top_k``
    largest Hessian eigenvalues are computed, by the model's Lanczos hook
    (``top_eigenpairs``, warm-started from the previous checkpoint's eigenvectors) when it has
    one and from the dense Hessian otherwise. The steps between checkpoints run in the
    model's compiled loop (``gd_steps``) when it has one. With ``top_k = 1`` a model with the
    ``gd_track`` hook (JAX models) runs everything, GD steps and warm-started Lanczos
    updates, in one compiled call (no host round trip per checkpoint); ``save_theta`` or a
    ``progress`` callback select the per-checkpoint loop instead.

    Parameters
    ----------
    model : Model
        Any dynsys model; autodiff models (:meth:`dynsys.Model.from_jax`) use HVPs only.
    theta0 : array (P,)
        Start.
    lr : float
        Step size.
    steps, every, top_k : int
        Step budget, checkpoint spacing and how many eigenvalues to track.
    radius : float
        Divergence: a non-finite loss or parameter, or ``max |theta| > radius`` at a
        checkpoint, stops the run (outcome ``diverged``); what was computed is kept and the
        remaining entries are NaN.
    tol : float
        Relative residual at which Lanczos stops (see ``AutodiffModel.top_eigenpairs``); the
        eigenvalues are then accurate to about ``tol`` relative or better.
    save_theta : bool
        Also store the parameters at every checkpoint (``theta``, over ``(check, param)``).
    progress : callable, optional
        ``progress(iterable)`` wraps the checkpoint loop (e.g. ``tqdm.tqdm``); silent if None.

    Returns
    -------
    xarray.Dataset
        ``loss`` over ``step`` (0 .. ``steps``); ``sharpness``, ``eigenvalues`` (over
        ``(check, rank)``) and ``n_hvp`` over ``check`` (coordinate ``check_step``);
        ``outcome`` (:class:`~dynsys.Outcome`: bounded or diverged), ``theta_final``; attrs
        with the provenance, ``lr``, ``every`` and ``diverged_at_step`` (-1 if none).

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.networks.spectrum_trajectory(dynsys.QuadraticRegression2D(0.05), [0.3, 7.0],
    ...                                          lr=1.0, steps=4000, every=1000)
    >>> ds.sharpness.values.round(4).tolist()
    [0.1901, 1.9726, 1.9726, 1.9726, 1.9726]
    """
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta = check.array("theta0", theta0, dim=model.dim)
    if theta.ndim != 1:
        raise ValueError(f"theta0 must be one point of shape ({model.dim},), got {theta.shape}")
    lr = check.lr(lr)
    steps = check.integer("steps", steps, minimum=1)
    every = check.integer("every", every, minimum=1)
    top_k = check.integer("top_k", top_k, minimum=1, maximum=model.dim)
    radius = check.real("radius", radius, positive=True)
    tol = check.real("tol", tol, positive=True, hi=0.1)
    checks = list(range(0, steps + 1, every))
    if checks[-1] != steps:
        checks.append(steps)
    n_check = len(checks)
    loss = np.full(steps + 1, np.nan)
    eig = np.full((n_check, top_k), np.nan)
    n_hvp = np.zeros(n_check, dtype=np.int64)
    saved = np.full((n_check, model.dim), np.nan) if save_theta else None
    vecs = None
    diverged_at = -1
    fused = (top_k == 1 and not save_theta and progress is None
             and callable(getattr(model, "gd_track", None))
             and callable(getattr(model, "top_fused", None)))
    if fused:
        theta, diverged_at = _fused(model, theta, lr, checks, radius, tol, loss, eig, n_hvp)
    loop = () if fused else range(n_check) if progress is None else progress(range(n_check))
    for c in loop:
        s = checks[c]
        if save_theta:
            saved[c] = theta
        if not np.all(np.isfinite(theta)) or np.abs(theta).max() > radius:
            diverged_at = s
            break
        vals, new_vecs, n_hvp[c] = _spectrum(model, theta, top_k, vecs, tol)
        eig[c] = vals
        if np.all(np.isfinite(new_vecs)):
            vecs = new_vecs
        if c == n_check - 1:
            loss[s] = float(model.loss(theta))
            break
        n = checks[c + 1] - s
        end, losses = _gd_chunk(model, theta, lr, n)
        bad = np.flatnonzero(~np.isfinite(losses))
        if bad.size:
            loss[s:s + bad[0]] = losses[:bad[0]]
            diverged_at = s + int(bad[0])
            break
        loss[s:s + n] = losses
        theta = np.asarray(end, dtype=float)
    if diverged_at >= 0:
        theta = np.full(model.dim, np.nan)
    outcome = Outcome.BOUNDED if diverged_at < 0 else Outcome.DIVERGED
    data = {
        "loss": ("step", loss, {"long_name": "loss", "units": "1"}),
        "sharpness": ("check", eig[:, 0], {"long_name": "sharpness (top Hessian eigenvalue)"}),
        "eigenvalues": (("check", "rank"), eig, {"long_name": "top Hessian eigenvalues"}),
        "n_hvp": ("check", n_hvp, {"long_name": "Hessian-vector products used", "units": "1"}),
        "outcome": ((), np.int8(outcome), Outcome.cf_attrs("outcome of gradient descent")),
        "theta_final": ("component", theta, {"long_name": "parameters after the last step"}),
    }
    if save_theta:
        data["theta"] = (("check", "component"), saved, {"long_name": "parameters at checkpoints"})
    ds = xr.Dataset(data, coords={"step": np.arange(steps + 1),
                                  "check_step": ("check", np.asarray(checks)),
                                  "rank": np.arange(1, top_k + 1),
                                  "component": np.arange(model.dim)})
    ds["step"].attrs.update(long_name="iteration", units="1")
    ds["check_step"].attrs.update(long_name="iteration of the checkpoint", units="1")
    ds.attrs.update(provenance(model, analysis="spectrum_trajectory", lr=lr, steps=steps,
                               every=every, top_k=top_k, radius=radius, tol=tol,
                               diverged_at_step=diverged_at))
    return ds
