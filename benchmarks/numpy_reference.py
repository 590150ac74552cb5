"""Plain-numpy basin loops for the 2-D model (the speed baselines).

Same per-step stopping rule as ``c/basins_rule.h``: a point stops when |z| < tol (converged)
or |theta| > R (diverged), else it runs ``max_steps`` iterations.

* :func:`basins_numpy` is the loop a researcher writes first: the whole grid is updated every
  step under a mask of the points still running, until all have stopped (the baseline of the
  issue's ">= 100x" requirement);
* :func:`basins_numpy_compacted` is a tuned numpy version that drops finished points from the
  working arrays every step (shown for context).
"""

from __future__ import annotations

import numpy as np


def basins_numpy(eps, target, lr, grid, max_steps, tol=1e-12, radius=1e6):
    """Return the iterations used by every grid point, shape ``(n1, n2)`` (masked loop)."""
    (lo1, hi1, n1), (lo2, hi2, n2) = grid
    a, b = np.meshgrid(np.linspace(lo1, hi1, n1), np.linspace(lo2, hi2, n2), indexing="ij")
    steps = np.zeros(a.shape, dtype=np.int64)
    done = np.zeros(a.shape, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(max_steps):
            z = 0.5 * (a * a - eps * b * b) - target
            done |= (np.abs(z) < tol) | (a * a + b * b > radius * radius)
            if done.all():
                break
            g = np.where(done, 0.0, lr * z)
            a = a - g * a
            b = b + g * eps * b
            steps += ~done
    return steps


def basins_numpy_compacted(eps, target, lr, grid, max_steps, tol=1e-12, radius=1e6):
    """Return the iterations used by every grid point, shape ``(n1, n2)`` (compacting loop)."""
    (lo1, hi1, n1), (lo2, hi2, n2) = grid
    a, b = np.meshgrid(np.linspace(lo1, hi1, n1), np.linspace(lo2, hi2, n2), indexing="ij")
    a, b = a.ravel(), b.ravel()
    steps = np.zeros(a.size, dtype=np.int64)
    alive = np.arange(a.size)
    with np.errstate(all="ignore"):
        for _ in range(max_steps):
            z = 0.5 * (a * a - eps * b * b) - target
            stop = (np.abs(z) < tol) | (a * a + b * b > radius * radius)
            if stop.any():
                keep = ~stop
                a, b, z, alive = a[keep], b[keep], z[keep], alive[keep]
            if alive.size == 0:
                break
            g = lr * z
            a = a - g * a
            b = b + g * eps * b
            steps[alive] += 1
    return steps.reshape(n1, n2)
