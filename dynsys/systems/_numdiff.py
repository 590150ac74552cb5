"""Numerical derivatives by fourth-order central differences, vectorised over batches.

The five-point stencil ``(f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h`` has truncation
error ``h^4 f^(5) / 30`` and round-off ``~ eps |f| / h``; with ``h = 1e-3 max(1, |x|)`` both are
near 1e-12 relative for functions with O(1) derivatives, comfortably inside the 1e-8 target.
"""

from __future__ import annotations

import numpy as np

_STENCIL = np.array([-2.0, -1.0, 1.0, 2.0])
_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0


def _steps(x: np.ndarray, rel: float) -> np.ndarray:
    return rel * np.maximum(1.0, np.abs(x))


def jacobian(func, x: np.ndarray, *, rel_step: float = 1e-3) -> np.ndarray:
    """Return the derivative ``(..., *out, dim)`` of ``func: (..., dim) -> (..., *out)`` at ``x``.

    ``func`` must accept a batch; all ``4 * dim`` evaluations are made in one call.
    """
    x = np.asarray(x, dtype=float)
    dim = x.shape[-1]
    batch = x.shape[:-1]
    h = _steps(x, rel_step)                                   # (..., dim)
    eye = np.eye(dim)
    # points[..., k, j, :] = x + stencil_k * h_j * e_j
    offsets = _STENCIL[:, None, None] * (h[..., None, :, None] * eye)  # (..., 4, dim, dim)
    points = x[..., None, None, :] + offsets
    values = np.asarray(func(points), dtype=float)           # (..., 4, dim, *out)
    out_shape = values.shape[len(batch) + 2:]
    values = values.reshape(*batch, 4, dim, -1)
    deriv = np.einsum("k,...kjm->...mj", _WEIGHTS, values) / h[..., None, :]
    return deriv.reshape(*batch, *out_shape, dim)


def gradient(func, x: np.ndarray, *, rel_step: float = 1e-3) -> np.ndarray:
    """Return the gradient ``(..., dim)`` of a scalar ``func: (..., dim) -> (...)`` at ``x``."""
    return jacobian(func, x, rel_step=rel_step)
