"""Second-order regression models: residuals quadratic in the parameters."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._numba import njit
import functools

from ..systems import MapKernel
from . import _gfs_closed, _qr2d_kernels
from ._base import GridKernel, RegressionModel


class SecondOrderRegression(RegressionModel):
    """Return the model ``z(theta) = z0 + J0 theta + 1/2 Q(theta, theta)``, loss ``|z|^2 / 2``.

    Parameters
    ----------
    z0 : array (D,)
        Residuals at ``theta = 0``.
    J0 : array (D, P)
        Residual Jacobian at ``theta = 0``.
    Q : array (D, P, P)
        Residual Hessians, symmetric in the last two indices.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.SecondOrderRegression([-1.0], [[0.0, 0.0]], [np.diag([1.0, -0.1])])
    >>> m.residual([2.0, 0.0])
    array([1.])
    >>> m.ntk_eigenvalue([2.0, 0.0])
    array(4.)
    """

    def __init__(self, z0, J0, Q, *, name: str | None = None):
        z0 = check.array("z0", z0)
        if z0.ndim != 1 or z0.size < 1:
            raise ValueError(f"z0 must have shape (D,), got {z0.shape}")
        d = z0.shape[0]
        J0 = check.array("J0", J0)
        if J0.ndim != 2 or J0.shape[0] != d or J0.shape[1] < 1:
            raise ValueError(f"J0 must have shape (D, P) = ({d}, P), got {J0.shape}")
        p = J0.shape[1]
        Q = check.array("Q", Q)
        if Q.shape != (d, p, p):
            raise ValueError(f"Q must have shape (D, P, P) = ({d}, {p}, {p}), got {Q.shape}")
        if not np.allclose(Q, np.swapaxes(Q, 1, 2), rtol=1e-12, atol=1e-12 * max(1.0, np.abs(Q).max())):
            raise ValueError("Q must be symmetric in its last two indices")
        self.z0, self.J0, self.Q = z0.copy(), J0.copy(), Q.copy()
        self.n_outputs, self.dim = d, p
        self.name = str(name) if name else "SecondOrderRegression"
        self._meta: dict = {"D": d, "P": p}

    @classmethod
    def random(cls, D: int, P: int, *, sigma_z: float, sigma_J: float, sigma_Q: float = 1.0,
               seed: int) -> SecondOrderRegression:
        """Return a model with i.i.d. Gaussian ``z0``, ``J0`` and ``Q`` (seeded).

        Entries of ``z0`` and ``J0`` have variances ``sigma_z^2`` and ``sigma_J^2``; each
        ``Q_a = sigma_Q (G + G^T) / sqrt(2)`` with ``G`` standard normal, so off-diagonal
        entries have variance ``sigma_Q^2`` (GOE normalisation). No 1/sqrt(P) factors are
        applied: rescale the sigmas for the scaling you study.

        Examples
        --------
        >>> import dynsys
        >>> m = dynsys.SecondOrderRegression.random(3, 5, sigma_z=1.0, sigma_J=1.0, seed=0)
        >>> m.Q.shape
        (3, 5, 5)
        """
        D = check.integer("D", D, minimum=1)
        P = check.integer("P", P, minimum=1)
        sigma_z = check.real("sigma_z", sigma_z, nonnegative=True)
        sigma_J = check.real("sigma_J", sigma_J, nonnegative=True)
        sigma_Q = check.real("sigma_Q", sigma_Q, nonnegative=True)
        seed = check.integer("seed", seed, minimum=0)
        rng = np.random.default_rng(seed)
        z0 = sigma_z * rng.standard_normal(D)
        J0 = sigma_J * rng.standard_normal((D, P))
        g = rng.standard_normal((D, P, P))
        Q = sigma_Q * (g + np.swapaxes(g, 1, 2)) / np.sqrt(2.0)
        model = cls(z0, J0, Q)
        model._meta.update(sigma_z=sigma_z, sigma_J=sigma_J, sigma_Q=sigma_Q, seed=seed)
        return model

    def describe(self) -> dict:
        return dict(self._meta)

    def residual(self, theta):
        theta = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return (self.z0 + theta @ self.J0.T
                    + 0.5 * np.einsum("apq,...p,...q->...a", self.Q, theta, theta))

    def jacobian(self, theta):
        theta = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.J0 + np.einsum("apq,...q->...ap", self.Q, theta)

    def residual_hessian(self, theta):
        theta = self._theta(theta)
        return np.broadcast_to(self.Q, theta.shape[:-1] + self.Q.shape)

    @property
    def constant_residual_hessian(self) -> np.ndarray:
        """The residual Hessians ``Q`` (D, P, P), the same at every ``theta`` (the
        ``constant_residual_hessian`` hook; read-only).

        Examples
        --------
        >>> import dynsys
        >>> dynsys.QuadraticRegression2D(eps=0.1).constant_residual_hessian.tolist()
        [[[1.0, 0.0], [0.0, -0.1]]]
        """
        view = self.Q.view()
        view.flags.writeable = False
        return view
    def third_uu(self, theta, u):
        """Return ``nabla^3 L(theta)[u, u]`` at one point, shape ``(P,)`` (exact):
        ``scale (2 Q(u)^T J u + J^T q)`` with ``Q(u)_ap = sum_q Q_apq u_q``, ``q_a = u^T Q_a u``.
        For ``u`` the top unit Hessian eigenvector this is the gradient of the sharpness.

        Examples
        --------
        >>> import numpy as np, dynsys
        >>> m = dynsys.SecondOrderRegression.random(2, 3, sigma_z=1.0, sigma_J=1.0, seed=0)
        >>> T = dynsys.eos.third_derivative(m, [0.1, 0.2, 0.3], method="fd")
        >>> u = np.array([0.6, 0.0, 0.8])
        >>> bool(np.allclose(m.third_uu([0.1, 0.2, 0.3], u), T @ u @ u, atol=1e-6))
        True
        """
        theta = self._theta(theta)
        u = check.array("u", u, dim=self.dim)
        jac = self.jacobian(theta)
        Qu = np.einsum("apq,q->ap", self.Q, u)
        return self.scale * (2 * Qu.T @ (jac @ u) + jac.T @ (Qu @ u))


@njit
def _qr2d_gd_step(x, p, out):
    lr, eps, target = p[0], p[1], p[2]
    a, b = x[0], x[1]
    g = lr * (0.5 * (a * a - eps * b * b) - target)
    out[0] = a - g * a
    out[1] = b + g * eps * b


@njit
def _qr2d_gd_jacobian(x, p, out):
    lr, eps, target = p[0], p[1], p[2]
    a, b = x[0], x[1]
    z = 0.5 * (a * a - eps * b * b) - target
    # H = J^T J + z Q, J = (a, -eps b), Q = diag(1, -eps)
    out[0, 0] = 1.0 - lr * (a * a + z)
    out[0, 1] = lr * eps * a * b
    out[1, 0] = lr * eps * a * b
    out[1, 1] = 1.0 - lr * (eps * eps * b * b - eps * z)


class QuadraticRegression2D(SecondOrderRegression):
    """Return the 2-D model of Agarwala et al.: ``z = (theta_1^2 - eps theta_2^2)/2 - target``.

    The loss is ``z^2 / 2``; GD reads ``theta_1' = (1 - lr z) theta_1``,
    ``theta_2' = (1 + eps lr z) theta_2``. The top NTK eigenvalue is
    ``theta_1^2 + eps^2 theta_2^2``. The model is invariant under the sign flips of each
    coordinate (recorded in ``symmetries``).

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1, target=1.0)
    >>> m.residual([2.0, 1.0])
    array([0.95])
    >>> float(m.ntk_eigenvalue([2.0, 1.0]))
    4.01
    """

    def __init__(self, eps: float, target: float = 0.0):
        eps = check.real("eps", eps, nonnegative=True)
        target = check.real("target", target)
        super().__init__([-target], np.zeros((1, 2)), np.diag([1.0, -eps])[None],
                         name="QuadraticRegression2D")
        self.eps, self.target = eps, target
        self._meta = {"eps": eps, "target": target}
        self.gd_kernel = MapKernel(_qr2d_gd_step, _qr2d_gd_jacobian, ("lr",), (eps, target))
        self.grid_kernel = GridKernel(functools.partial(_qr2d_kernels.sweep_grid, eps, target,
                                                        scale=self.scale),
                                      functools.partial(_qr2d_kernels.final_values, eps, target),
                                      name="qr2d", fused=True)
        self.symmetries = tuple(np.diag(s) for s in ([1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]))

    def gfs_limit(self, theta):
        """Return ``(theta_inf, sharpness)`` of gradient flow from ``theta``, in closed form
        (the ``gfs_limit`` hook)."""
        return _gfs_closed.qr2d_limit(self, np.asarray(theta, dtype=float))

    def gfs_start(self, sharpness, theta_1):
        """Return starts ``(..., 2)`` whose gradient-flow solution has sharpness ``sharpness``,
        with first coordinate ``theta_1`` (the ``gfs_start`` hook; broadcast together).

        Inverts the closed form of the limit: it has ``eps b^2 = s - 2E`` and sharpness
        ``(1 + eps) (s - 2E) + 2E``, and ``|theta_1|^eps |theta_2|`` is conserved by the flow.

        Examples
        --------
        >>> import dynsys
        >>> m = dynsys.QuadraticRegression2D(eps=0.1, target=0.0)
        >>> th = m.gfs_start([3.0, 4.0], 0.5)
        >>> th.shape, dynsys.gfs_sharpness(m, th).round(12).tolist()
        ((2, 2), [3.0, 4.0])
        """
        lam = check.array("sharpness", sharpness)
        a0 = check.array("theta_1", theta_1)
        if not self.eps > 0:
            raise ValueError(f"eps must be > 0 for gfs_start (with eps = 0 every gradient-flow "
                             f"solution has sharpness 2 E), got {self.eps}")
        if np.any(a0 == 0):
            raise ValueError("theta_1 must be nonzero (theta_1 = 0 is invariant under the flow)")
        eps, E = self.eps, self.target
        if np.any(lam <= 2 * E) or np.any(lam <= 0):
            raise ValueError(f"sharpness must be > max(0, 2 E) = {max(0.0, 2 * E)}, got min "
                             f"{float(np.min(lam))}")
        excess = (lam - 2 * E) / (1 + eps)          # eps b_inf^2
        s = 2 * E + excess                          # a_inf^2
        with np.errstate(over="ignore", invalid="ignore"):
            b0 = np.sqrt(excess / eps) * np.exp(eps * (0.5 * np.log(s) - np.log(np.abs(a0))))
        if not np.all(np.isfinite(b0)):
            raise ValueError("sharpness and theta_1: the start theta_2 overflows float64 "
                             "(sharpness or |theta_1| too extreme for this eps)")
        a0, b0 = np.broadcast_arrays(a0, b0)
        return np.stack([a0, b0], axis=-1).astype(float)

    def gfs_growth(self, theta, lr):
        """Return whether one GD step at ``lr`` from ``theta`` can increase the GFS sharpness
        (``lr z > x_c(eps)`` or ``lr z < x_-(eps)``; the ``gfs_growth`` hook)."""
        return _gfs_closed.qr2d_growth(self, np.asarray(theta, dtype=float), float(lr))

    def default_box(self, lr: float):
        """Return ``((-c1, c1), (-c2, c2))``, twice the scales at which ``lr lambda = 2``:
        ``c1 = 2 sqrt(2/lr)``, ``c2 = 2 sqrt(2/(eps lr))`` (eps floored at 1e-3)."""
        c1 = 2.0 * np.sqrt(2.0 / lr)
        c2 = 2.0 * np.sqrt(2.0 / (max(self.eps, 1e-3) * lr))
        return ((-c1, c1), (-c2, c2))

    def default_delta(self) -> float:
        """Return ``eps``: the EoS band ``2 - eps <= lr S_inf <= 2`` of Theorem 1 (twice the
        leading-order offset ``eps (1 - lr E) / 2``)."""
        return float(self.eps)

    @property
    def interval_kernel(self):
        """The rigorous enclosure of GD orbits for eps > 0 (None otherwise): with target 0 the
        rescaled plane (the step size drops out), else the space of ``(p, q, e = lr x target)``."""
        if not self.eps > 0.0:
            return None
        from ..rigorous import RescaledPlaneKernel, RescaledSpaceKernel   # imported when asked

        if self.target != 0.0:
            return RescaledSpaceKernel(self.eps, target=self.target)
        return RescaledPlaneKernel(self.eps)

    def __repr__(self) -> str:
        return f"QuadraticRegression2D(eps={self.eps!r}, target={self.target!r})"
