"""Plain, independent GD iteration used to certify edge-of-stability regions.

Deliberately simple numpy: no compiled kernel, no packing, no symmetry tricks, so that it is an
independent check of what the basins sweep computed.
"""

from __future__ import annotations

import numpy as np


def limit_sharpness_by_iteration(model, theta0: np.ndarray, lr: np.ndarray, *,
                                 max_steps: int = 200_000, grad_tol: float = 1e-10,
                                 bound: float = 1e8) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(converged, sharpness)``: whether GD from each ``theta0[i]`` with step size
    ``lr[i]`` converged (gradient norm below ``grad_tol``), and the sharpness at its limit
    (NaN where it did not converge)."""
    theta = np.array(theta0, dtype=float)
    lr = np.broadcast_to(np.asarray(lr, dtype=float), theta.shape[:-1]).copy()
    live = np.ones(theta.shape[:-1], dtype=bool)
    converged = np.zeros_like(live)
    with np.errstate(all="ignore"):
        for _ in range(max_steps):
            if not live.any():
                break
            idx = np.flatnonzero(live)
            grad = model.grad(theta[idx])
            norm = np.sqrt(np.sum(grad * grad, axis=-1))
            done = norm < grad_tol
            converged[idx[done]] = True
            escaped = ~np.isfinite(norm) | (np.abs(theta[idx]).max(axis=-1) > bound)
            live[idx[done | escaped]] = False
            move = ~(done | escaped)
            theta[idx[move]] -= lr[idx[move], None] * grad[move]
    sharp = np.full(theta.shape[:-1], np.nan)
    if converged.any():
        sharp[converged] = model.sharpness(theta[converged])
    return converged, sharp
