"""Scalar (depth-D, width-1) linear networks of Kreisler et al."""

from __future__ import annotations

import itertools

import numpy as np

from .. import _validate as check
from .._numba import njit
from ..systems import MapKernel
from . import _gfs_closed
from ._base import RegressionModel


def _products_without(w: np.ndarray, skip: tuple[int, ...]) -> np.ndarray:
    """Return ``prod_{k not in skip} w_k`` over the last axis (no division, safe at w = 0)."""
    keep = [k for k in range(w.shape[-1]) if k not in skip]
    if not keep:
        return np.ones(w.shape[:-1])
    return np.prod(w[..., keep], axis=-1)


@njit
def _scalar_gd_step(x, p, out):
    lr, target, scale = p[0], p[1], p[2]
    n = x.shape[0]
    prod = 1.0
    for i in range(n):
        prod *= x[i]
    r = lr * scale * (prod - target)
    for i in range(n):
        others = 1.0
        for k in range(n):
            if k != i:
                others *= x[k]
        out[i] = x[i] - r * others


class ScalarNetwork(RegressionModel):
    """Return the scalar network loss ``scale/2 (prod_i w_i - target)^2``.

    A regression model with one residual ``z = prod(w) - target`` and ``scale`` multiplying the
    loss (so its NTK is ``scale |grad prod(w)|^2``). Symmetries: flipping the signs of any two
    weights.

    Examples
    --------
    >>> import dynsys
    >>> net = dynsys.ScalarNetwork(depth=2, target=1.0)
    >>> float(net.loss([2.0, 1.0]))
    0.5
    >>> net.grad([2.0, 1.0])
    array([1., 2.])
    """

    def __init__(self, depth: int, target: float = 1.0, scale: float = 1.0):
        depth = check.integer("depth", depth, minimum=1)
        self.depth = self.dim = depth
        self.target = check.real("target", target)
        self.scale = check.real("scale", scale, positive=True)
        self.n_outputs = 1
        self.name = "ScalarNetwork"
        self.gd_kernel = MapKernel(_scalar_gd_step, None, ("lr",), (self.target, self.scale))
        flips = []
        for i, j in itertools.combinations(range(depth), 2):
            s = np.ones(depth)
            s[[i, j]] = -1.0
            flips.append(np.diag(s))
        self.symmetries = tuple(flips)

    def gfs_limit(self, theta):
        """Return ``(theta_inf, sharpness)`` of gradient flow from ``theta``, in closed form
        (the ``gfs_limit`` hook)."""
        return _gfs_closed.scalar_limit(self, np.asarray(theta, dtype=float))

    def gfs_growth(self, theta, lr):
        """Return whether one GD step at ``lr`` from ``theta`` can increase the GFS sharpness
        (an imbalance factor of modulus above 1; the ``gfs_growth`` hook)."""
        return _gfs_closed.scalar_growth(self, np.asarray(theta, dtype=float), float(lr))

    def describe(self) -> dict:
        return {"depth": self.depth, "target": self.target, "scale": self.scale}

    def residual(self, theta):
        w = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return (np.prod(w, axis=-1) - self.target)[..., None]

    def jacobian(self, theta):
        w = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            cols = [_products_without(w, (i,)) for i in range(self.depth)]
        return np.stack(cols, axis=-1)[..., None, :]

    def residual_hessian(self, theta):
        w = self._theta(theta)
        out = np.zeros(w.shape[:-1] + (1, self.depth, self.depth))
        with np.errstate(over="ignore", invalid="ignore"):
            for i, j in itertools.combinations(range(self.depth), 2):
                out[..., 0, i, j] = out[..., 0, j, i] = _products_without(w, (i, j))
        return out
