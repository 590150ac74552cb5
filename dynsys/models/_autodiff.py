"""The autodiff model protocol: a loss known through Hessian-vector products, not Hessians.

A network with P = 10^4 parameters has a Hessian of 10^8 entries; everything dynsys needs from
it (sharpness, the top of the spectrum, the gradient of the sharpness) can be had from
Hessian-vector products (HVPs) instead. This module states what an automatic-differentiation
backend provides and builds the rest on top, backend-neutral (NumPy arrays in and out); the JAX
adapter is :mod:`dynsys.models._jax` (``Model.from_jax``), and a PyTorch (``torch.func``)
adapter would implement the same few methods.
"""

from __future__ import annotations

import abc

import numpy as np

from .. import _validate as check
from ._base import Model
from ._lanczos import lanczos_top

#: models with at most this many parameters get their Hessian spectrum from the dense Hessian
#: (exact and cheaper than Lanczos at that size); larger ones by Lanczos on HVPs.
DENSE_MAX = 64

#: the largest P for which :meth:`AutodiffModel.hessian` assembles a dense Hessian.
HESSIAN_MAX = 4096


class AutodiffModel(Model):
    """A loss ``L: R^P -> R`` whose derivatives come from automatic differentiation.

    What an implementer (a backend adapter) provides, each for **one point** ``theta`` of
    shape ``(P,)``, float64 NumPy in and out:

    1. ``dim`` (P), ``name`` and ``describe()`` (scalar parameters, for provenance);
    2. ``loss_at(theta) -> float``;
    3. ``grad_at(theta) -> (P,)``;
    4. ``hvp(theta, v) -> (P,)``, the Hessian-vector product ``H(theta) v``;
    5. ``third_uu(theta, u) -> (P,)``, the contraction ``nabla^3 L(theta)[u, u]``, i.e. the
       gradient of ``theta -> u . H(theta) u`` at fixed ``u`` (for ``u`` the top unit
       eigenvector this is ``grad S``, the gradient of the sharpness).

    Optional hooks (used when present):

    6. ``loss_batch(theta (N, P)) -> (N,)`` and ``grad_batch(theta (N, P)) -> (N, P)``:
       vectorised evaluation (otherwise a loop over points);
    7. ``hessian_at(theta) -> (P, P)``: an exact dense Hessian for small P (otherwise it is
       assembled from P HVPs);
    8. ``gd_steps(theta, lr, steps) -> (theta_end, losses)``: ``steps`` GD steps in a
       compiled loop, ``losses[t]`` the loss before step ``t``; unlocks the fast path of
       :func:`dynsys.networks.spectrum_trajectory`;
    9. ``unflatten(theta)`` / ``flatten(params)``: the backend's parameter structure (a
       pytree) from the flat vector and back; ``theta0``, the flat initial parameters;
    10. ``hvp_operator(theta) -> (v -> H(theta) v)``: HVPs at a fixed point with the work
        that does not depend on ``v`` (the forward pass) done once; used by Lanczos.
    11. ``gd_track(theta, v, lr, *, every, checks, tol)`` and ``top_fused(theta, v, *, tol)``:
        GD fused with a warm-started top-eigenpair update (Lanczos) in one compiled call;
        the fast path of :func:`dynsys.networks.spectrum_trajectory` for ``top_k = 1``.
    12. ``gradient_flow``: the :class:`~dynsys.Model` hook 8 (compiled gradient flow).

    Provided here: ``loss``, ``grad`` and ``hessian`` over leading axes (the :class:`Model`
    protocol; ``hessian`` only up to ``P = HESSIAN_MAX``), :meth:`top_eigenpairs` (Lanczos on
    HVPs, warm-started), ``sharpness`` and :meth:`sharpness_gradient`.
    """

    hessian_max: int = HESSIAN_MAX
    dense_max: int = DENSE_MAX

    # -- what a backend provides ---------------------------------------------------------
    @abc.abstractmethod
    def loss_at(self, theta: np.ndarray) -> float:
        """Return the loss at one point ``theta`` (P,)."""

    @abc.abstractmethod
    def grad_at(self, theta: np.ndarray) -> np.ndarray:
        """Return the gradient at one point, shape (P,)."""

    @abc.abstractmethod
    def hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Return ``H(theta) v``, shape (P,)."""

    @abc.abstractmethod
    def third_uu(self, theta: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Return ``nabla^3 L(theta)[u, u]``, shape (P,)."""

    # -- the Model protocol ----------------------------------------------------------------
    def _points(self, theta):
        theta = self._theta(theta)
        return theta, theta.reshape(-1, self.dim)

    def loss(self, theta):
        theta, flat = self._points(theta)
        batch = getattr(self, "loss_batch", None)
        out = batch(flat) if batch is not None else np.array([self.loss_at(t) for t in flat])
        return np.asarray(out, dtype=float).reshape(theta.shape[:-1])

    def grad(self, theta):
        theta, flat = self._points(theta)
        batch = getattr(self, "grad_batch", None)
        out = batch(flat) if batch is not None else np.array([self.grad_at(t) for t in flat])
        return np.asarray(out, dtype=float).reshape(theta.shape)

    def hessian(self, theta):
        if self.dim > self.hessian_max:
            raise ValueError(f"a dense Hessian of a model with P = {self.dim} parameters is too "
                             f"large (limit hessian_max = {self.hessian_max}); use hvp, "
                             "top_eigenpairs or sharpness instead")
        theta, flat = self._points(theta)
        out = np.array([self._dense_hessian(t) for t in flat])
        return out.reshape(theta.shape + (self.dim,))

    def _dense_hessian(self, theta):
        dense = getattr(self, "hessian_at", None)
        if dense is not None:
            h = np.asarray(dense(theta), dtype=float)
        else:
            eye = np.eye(self.dim)
            h = np.array([self.hvp(theta, e) for e in eye])
        return 0.5 * (h + h.T)

    def sharpness(self, theta):
        """Return the sharpness (top Hessian eigenvalue) at ``theta``, shape ``(...)``.

        NaN where ``theta`` or the Hessian is not finite. Dense for ``P <= dense_max``,
        Lanczos on HVPs above.
        """
        theta, flat = self._points(theta)
        out = np.full(flat.shape[0], np.nan)
        for i, t in enumerate(flat):
            if np.all(np.isfinite(t)):
                vals = self._top(t, 1, None, 1e-11)[0]
                out[i] = vals[0]
        return out.reshape(theta.shape[:-1])

    # -- spectrum ------------------------------------------------------------------------
    def top_eigenpairs(self, theta, k: int = 1, *, v0=None, tol: float = 1e-11,
                       method: str = "auto", return_info: bool = False):
        """Return ``(values, vectors)``: the ``k`` largest Hessian eigenvalues (descending)
        and unit eigenvectors (columns, shape ``(P, k)``) at one point ``theta``.

        Parameters
        ----------
        k : int
            How many eigenpairs.
        v0 : array (P,) or (P, j), optional
            Warm start: the previous top eigenvector(s) (their sum starts the Krylov space).
        tol : float
            Lanczos stops when every pair has residual ``|H u - lambda u| <= tol * S``
            (at least 1e-12; the eigenvalue error is then at most that, and typically its
            square over the eigengap).
        method : {"auto", "lanczos", "dense"}
            ``"lanczos"``: Lanczos on HVPs with full reorthogonalisation, no dense Hessian;
            ``"dense"``: ``eigh`` of the dense Hessian; ``"auto"``: dense for
            ``P <= dense_max``, else Lanczos.
        return_info : bool
            Also return a dict with ``n_hvp``, the number of HVPs used.

        Eigenvalues are NaN (and the vectors NaN) when the Hessian is not finite.
        """
        theta = self._theta(theta)
        if theta.ndim != 1:
            raise ValueError(f"theta must be one point of shape ({self.dim},), got {theta.shape}")
        k = check.integer("k", k, minimum=1, maximum=self.dim)
        tol = check.real("tol", tol, nonnegative=True, hi=0.1)
        method = check.choice("method", method, ("auto", "lanczos", "dense"))
        if v0 is not None:
            v0 = check.array("v0", v0)
            if v0.shape[0] != self.dim or v0.ndim > 2:
                raise ValueError(f"v0 must have shape ({self.dim},) or ({self.dim}, j), "
                                 f"got {v0.shape}")
        vals, vecs, n = self._top(theta, k, v0, tol, method)
        return (vals, vecs, {"n_hvp": n}) if return_info else (vals, vecs)

    def _top(self, theta, k, v0, tol, method="auto"):
        P = self.dim
        nan = (np.full(k, np.nan), np.full((P, k), np.nan), 0)
        if not np.all(np.isfinite(theta)):
            return nan
        dense = method == "dense" or (method == "auto" and P <= self.dense_max) or k >= P - 1
        if dense:
            if P > self.hessian_max:
                raise ValueError(f"k = {k} eigenpairs of P = {P} parameters would need a dense "
                                 "Hessian; ask for fewer")
            h = self._dense_hessian(theta)
            if not np.all(np.isfinite(h)):
                return nan
            w, v = np.linalg.eigh(h)
            return w[::-1][:k].copy(), v[:, ::-1][:, :k].copy(), P
        start = None
        if v0 is not None:
            start = v0 if v0.ndim == 1 else v0.sum(axis=1)
        make = getattr(self, "hvp_operator", None)
        matvec = make(theta) if make is not None else (lambda x: self.hvp(theta, x))
        vals, vecs, n, ok = lanczos_top(matvec, P, k, start,
                                        tol=max(tol, 1e-12))
        if not ok and np.all(np.isfinite(vals)):
            raise RuntimeError(f"Lanczos did not converge to tol {max(tol, 1e-12):g} at "
                               f"P = {P}, k = {k}")
        return vals, vecs, n

    def sharpness_gradient(self, theta, *, v0=None):
        """Return ``(S, u, grad S)`` at one point: sharpness, top unit eigenvector and
        ``grad S = nabla^3 L[u, u]`` (by nested forward/reverse differentiation)."""
        theta = self._theta(theta)
        vals, vecs = self.top_eigenpairs(theta, 2 if self.dim > 1 else 1, v0=v0)
        if self.dim > 1 and not vals[0] - vals[1] > 1e-12 * max(1.0, abs(vals[0])):
            raise ValueError(f"the top Hessian eigenvalue at theta is degenerate (gap "
                             f"{vals[0] - vals[1]:.3g}); its gradient is not defined")
        u = vecs[:, 0]
        return float(vals[0]), u, np.asarray(self.third_uu(theta, u), dtype=float)
