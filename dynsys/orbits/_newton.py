"""Damped Gauss-Newton for periodic points: zeros of ``G_k(x) = F^k(x) - x``, many seeds at once.

Newton's method converges to a zero of ``G_k`` whatever the stability of the orbit under ``F``,
so saddles and repellers are found as readily as attractors. Two safeguards replace the
stabilising transformations of Schmelcher and Diakonos:

* the step is the least-squares (pseudo-inverse) solution of ``DG_k dx = -G_k``, so it stays
  finite where ``DG_k`` is singular (non-isolated families of fixed points, where Gauss-Newton
  converges quadratically onto the family);
* a backtracking line search on ``|G_k|`` (step fractions 1, 1/2, ..., 1/1024), so that seeds far
  from a zero are not thrown out of the box by the huge derivatives of high iterates.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._jacobian import orbit_jacobian

_FRACTIONS = 0.5 ** np.arange(11)


def residual(mapping, x: np.ndarray, period: int) -> np.ndarray:
    """Return ``F^period(x) - x`` (batched; overflow gives inf/NaN silently)."""
    y = x
    with np.errstate(all="ignore"):
        for _ in range(period):
            y = mapping.step(y)
        return y - x


def residual_and_derivative(mapping, x: np.ndarray, period: int):
    """Return ``(G, DG)`` with ``G = F^period(x) - x`` and ``DG = DF^period(x) - I``."""
    points, prod = orbit_jacobian(mapping, x, period)
    if points.size == 0:
        return np.zeros(points.shape[:-2] + (mapping.dim,)), prod - np.eye(mapping.dim)
    with np.errstate(all="ignore"):
        g = mapping.step(points[..., -1, :]) - x
    return g, prod - np.eye(mapping.dim)


def _svd_step(dg: np.ndarray, g: np.ndarray, rcond: float) -> np.ndarray:
    with np.errstate(all="ignore"):
        u, s, vt = np.linalg.svd(dg)
        cut = rcond * s[..., :1]
        inv = np.where(s > cut, 1.0 / np.where(s > cut, s, 1.0), 0.0)
        coef = np.einsum("...ji,...j->...i", u, -g) * inv
        return np.einsum("...ij,...i->...j", vt, coef)


def least_squares_step(dg: np.ndarray, g: np.ndarray, rcond: float = 1e-12) -> np.ndarray:
    """Return the minimum-norm least-squares solution ``dx`` of ``dg dx = -g`` (batched).

    Well-conditioned rows (``|det| > 1e-10 max|dg|^dim``, far from the SVD cut) are solved by LU;
    the rest by the truncated SVD (pseudo-inverse with relative cut ``rcond``)."""
    dg = np.asarray(dg, dtype=float)
    g = np.asarray(g, dtype=float)
    if dg.ndim < 3 or dg.shape[0] == 0:
        return _svd_step(dg, g, rcond)
    dim = dg.shape[-1]
    with np.errstate(all="ignore"):
        size = np.max(np.abs(dg), axis=(-2, -1))
        det = np.linalg.det(dg)
        regular = np.isfinite(det) & (np.abs(det) > 1e-10 * size ** dim) & (size > 0)
        out = np.empty(g.shape)
        if regular.any():
            out[regular] = np.linalg.solve(dg[regular], -g[regular][..., None])[..., 0]
        if (~regular).any():
            out[~regular] = _svd_step(dg[~regular], g[~regular], rcond)
    return out


@dataclasses.dataclass
class NewtonResult:
    """Where each seed ended: ``x`` (n, dim), ``converged`` (n,), ``step`` (n,): the size of the
    last Newton correction (an estimate of the distance to the zero), ``iterations`` (n,)."""

    x: np.ndarray
    converged: np.ndarray
    step: np.ndarray
    iterations: np.ndarray


def solve(mapping, seeds: np.ndarray, period: int, *, xtol: float, max_iter: int,
          region: tuple[np.ndarray, np.ndarray], residual_tol: float = 1e-9) -> NewtonResult:
    """Run damped Gauss-Newton on ``F^period(x) = x`` from every seed (rows of ``seeds``).

    A seed converges when its residual ``|F^period(x) - x|`` is at most
    ``residual_tol (1 + |x|)`` and either a full Newton correction is below
    ``xtol (1 + |x|)`` or the correction is below ``sqrt(xtol) (1 + |x|)`` and the residual
    stops decreasing (the rounding floor of a strongly expanding iterate). A small step alone
    is not convergence: Gauss-Newton also stalls at local minima of ``|F^k(x) - x|`` that are
    not zeros. Seeds that leave ``region`` (lo, hi arrays), stall or overflow are abandoned.
    """
    x = np.array(seeds, dtype=float, copy=True)
    n, dim = x.shape
    converged = np.zeros(n, dtype=bool)
    last_step = np.full(n, np.inf)
    iterations = np.zeros(n, dtype=np.int64)
    active = np.arange(n)
    lo, hi = region
    for it in range(max_iter):
        if active.size == 0:
            break
        xa = x[active]
        g, dg = residual_and_derivative(mapping, xa, period)
        with np.errstate(all="ignore"):
            gnorm = np.linalg.norm(g, axis=-1)
        finite = np.isfinite(gnorm) & np.all(np.isfinite(dg), axis=(-2, -1))
        dx = np.zeros_like(xa)
        dx[finite] = least_squares_step(dg[finite], g[finite])
        # line search: the first fraction with sufficient decrease, else the best fraction
        # (the full step is tried first; the shorter ones only where it fails)
        full = xa + dx
        with np.errstate(all="ignore"):
            fnorm = np.linalg.norm(residual(mapping, full, period), axis=-1)
        tnorm = np.full((active.size, _FRACTIONS.size), np.inf)
        tnorm[:, 0] = np.where(np.isfinite(fnorm), fnorm, np.inf)
        trial = np.broadcast_to(full[:, None, :], (active.size, _FRACTIONS.size, dim)).copy()
        retry = np.flatnonzero(~(tnorm[:, 0] <= (1.0 - 1e-4) * gnorm))
        if retry.size:
            short = (xa[retry, None, :]
                     + _FRACTIONS[None, 1:, None] * dx[retry, None, :])
            with np.errstate(all="ignore"):
                snorm = np.linalg.norm(residual(mapping, short, period), axis=-1)
            tnorm[retry, 1:] = np.where(np.isfinite(snorm), snorm, np.inf)
            trial[retry, 1:] = short
        ok = tnorm <= (1.0 - 1e-4 * _FRACTIONS)[None, :] * gnorm[:, None]
        first = np.where(ok.any(axis=1), ok.argmax(axis=1), tnorm.argmin(axis=1))
        rows = np.arange(active.size)
        new_norm = tnorm[rows, first]
        alpha = _FRACTIONS[first]
        scale = 1.0 + np.linalg.norm(xa, axis=-1)
        step = np.linalg.norm(dx, axis=-1)
        progress = new_norm < gnorm
        xnew = np.where(progress[:, None], trial[rows, first], xa)
        res_now = np.where(progress, new_norm, gnorm)
        done = finite & (res_now <= residual_tol * scale) & (
            ((alpha == 1.0) & (step <= xtol * scale))
            | ((step <= np.sqrt(xtol) * scale) & ~progress))
        x[active] = xnew
        last_step[active] = step
        iterations[active] = it + 1
        converged[active[done]] = True
        inside = np.all((xnew >= lo) & (xnew <= hi), axis=-1)
        stuck = ~progress & ~done
        keep = finite & inside & ~done & ~stuck
        active = active[keep]
    return NewtonResult(x, converged, last_step, iterations)


def polish(mapping, x: np.ndarray, period: int, *, iterations: int = 6) -> np.ndarray:
    """Return ``x`` after a few undamped Gauss-Newton steps on ``F^period(x) = x`` (rows of x),
    each accepted only if it does not increase the residual (refines to machine precision)."""
    x = np.array(x, dtype=float, copy=True)
    if x.shape[0] == 0:
        return x
    for _ in range(iterations):
        g, dg = residual_and_derivative(mapping, x, period)
        trial = x + least_squares_step(dg, g)
        with np.errstate(all="ignore"):
            better = (np.linalg.norm(residual(mapping, trial, period), axis=-1)
                      <= np.linalg.norm(g, axis=-1))
        x[better] = trial[better]
    return x
