"""The model protocol: a loss on R^P that gradient descent runs on."""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable

import numpy as np

from .. import _validate as check
from .. import systems
from ..systems import BatchFunction, MapKernel, numerical_gradient, numerical_jacobian


@dataclasses.dataclass(frozen=True)
class GridKernel:
    """A model's own compiled basin loop over a 2-D grid of starts (the ``grid_kernel`` hook).

    1. ``sweep(axis1, axis2, lr, rule, ends, *, scaling)``: run GD at step size ``lr`` from every
       point of the grid ``axis1 x axis2`` (C order), stopping by ``rule`` (a
       :class:`~dynsys.StoppingRule`, whose tests in :mod:`dynsys._stopping` the loop must call),
       and fill ``ends`` (an :class:`~dynsys._stopping.OrbitEnds` of flat arrays); ``scaling``
       allows a loop to use a scaling symmetry of the model as long as the results are those of
       plain GD;
    2. ``final(states, loss, sharpness)``: fill the loss and the sharpness at the final states
       (NaN where not finite);
    3. ``name``: recorded as the result's ``compute_path``;
    4. ``fused``: when True, ``sweep`` also takes ``finals=(loss, sharpness, family)`` (flat
       arrays) and fills them as each orbit stops: ``final``'s values (NaN also where the orbit
       diverged) and the family test (converged with residual norm at most ``sqrt(tol)``), so
       that no second pass over the results is needed.
    """

    sweep: Callable
    final: Callable
    name: str = "model"
    fused: bool = False


class Model(abc.ABC):
    """A twice-differentiable loss ``L: R^P -> R`` that gradient descent runs on.

    What an implementer must provide (all vectorised over leading axes of ``theta``, shape
    ``(..., P)``):

    1. ``dim`` (P) and ``name``;
    2. ``loss(theta) -> (...)``;
    3. ``grad(theta) -> (..., P)``;
    4. ``hessian(theta) -> (..., P, P)``;
    5. ``describe() -> dict`` of its scalar parameters (recorded as provenance on every result;
       the default is empty).

    That is enough for every analysis: GD as a map (:func:`~dynsys.gd_map`), trajectories,
    orbits, basins (a numpy loop), bifurcations, gradient-flow solutions (an ODE solver). The
    optional hooks below unlock faster or exact paths; every algorithm asks for the hook, never
    for a class, and the conformance suite (``tests/test_conformance.py``) checks each hook a
    model has against the generic path:

    1. ``gd_kernel``: a :class:`~dynsys.MapKernel` of numba functions for the GD step (first
       parameter ``lr``, then its ``constants``). Unlocks the compiled loops of basins,
       trajectories, orbit diagrams, Lyapunov spectra and limit sharpness.
    2. ``grid_kernel``: a :class:`GridKernel`, the model's own basin loop over 2-D grids
       (the fastest path of :func:`~dynsys.basins`; the 2-D model has one).
    3. ``symmetries``: orthogonal matrices ``S`` with ``L(S theta) = L(theta)`` (GD commutes
       with them); orbits related by them are reported once.
    4. ``gfs_limit(theta) -> (theta_inf, sharpness)``: the gradient-flow solution in closed
       form; used by :func:`~dynsys.gfs_sharpness` (and so by the EoS analyses) instead of
       integrating the flow.
    5. ``gfs_growth(theta, lr) -> bool (...)``: whether one GD step at ``lr`` from ``theta``
       can increase the GFS sharpness (False only where it provably cannot: a necessary
       condition for an increase, from the flow's conserved quantities); used by
       :func:`~dynsys.kreisler_scan` to tell explained increases from unexplained ones.
       Without it every increase is reported, unclassified.
    6. ``default_box(lr) -> ((lo, hi), ...)``: the box of starts where the dynamics at step size
       ``lr`` happen, used for default grids (:func:`~dynsys.basins`,
       :func:`~dynsys.eos_region`).
    7. ``default_delta()``: the default width ``delta`` of the edge-of-stability band of
       :func:`~dynsys.eos_region` (Theorem 1's ``O(eps)``).
    8. ``gradient_flow(theta (N, P), *, rtol, tol, max_time) -> (theta_end, converged,
       time)``: the model integrates gradient flow itself (e.g. in one compiled loop: JAX
       models) until ``|grad L| <= tol``; used by :func:`~dynsys.gfs_sharpness` instead of
       scipy's Radau (``tests/networks/test_networks.py`` checks it against Radau).
    9. ``interval_kernel``: a rigorous enclosure of GD orbits (None by default), which unlocks
       :func:`~dynsys.certify_region`; it provides, as in
       :class:`dynsys.rigorous.RescaledPlaneKernel`: ``plane_box`` (a box of its state space
       containing the image of a region of starts and step sizes), ``may_meet`` (False only for
       boxes provably outside that image), ``starts`` (concrete starts of the region in a box),
       ``enclose`` (the compiled enclosure of boxes to a terminal set, with the limit of
       ``lr x sharpness`` enclosed) and ``gfs_lr_sharpness_lower`` (a lower bound of ``lr x``
       the gradient-flow-solution sharpness on a box).
    10. ``gfs_start(sharpness, theta_1) -> (..., P)``: starts whose gradient-flow solution has
        the given sharpness, with the given first coordinate (the inverse of ``gfs_limit``'s
        sharpness); used by :func:`~dynsys.eos_start` (and so by :func:`~dynsys.limit_offset`
        and the Kreisler study). It raises a ValueError naming ``sharpness`` or ``theta_1`` for
        values out of the model's reach.
    11. ``constant_residual_hessian``: for a :class:`RegressionModel` whose residuals are exactly
        quadratic in ``theta``, their Hessians ``Q`` (D, P, P), the same at every point (None
        otherwise); used by :func:`~dynsys.ntk_eigenvalue_derivatives` (Theorem 2), whose
        formulas hold only for a constant ``Q``.
    12. ``third_uu(theta, u) -> (P,)``: the contraction ``nabla^3 L(theta)[u, u]`` at one
        point (for ``u`` the top unit eigenvector, the gradient of the sharpness); used by the
        self-stabilisation analyses and :func:`~dynsys.eos.central_flow` instead of
        differencing the Hessian (autodiff models and second-order models have it).
    13. ``auto_gd_kernel(numpy_rate=None) -> MapKernel | None``: a GD kernel compiled on demand (models made by
        :meth:`from_loss` compile the user's functions with numba), asked for by
        :meth:`dynsys.GDMap.compiled` when there is no ``gd_kernel``.

    :class:`RegressionModel` adds residuals (NTK, families of minima).

    Examples
    --------
    A new model with a compiled GD kernel is one class in one file: GD on the double well
    ``L = (theta^2 - 1)^2 / 4``, whose kernel the basin sweep then runs.

    >>> import numba, numpy as np, dynsys
    >>> @numba.njit
    ... def double_well_step(x, p, out):          # p = (lr,)
    ...     out[0] = x[0] - p[0] * (x[0] ** 3 - x[0])
    >>> class DoubleWell(dynsys.Model):
    ...     dim, name = 1, "double_well"
    ...     gd_kernel = dynsys.MapKernel(double_well_step, None, ("lr",))
    ...     def loss(self, theta):
    ...         return 0.25 * (np.asarray(theta)[..., 0] ** 2 - 1.0) ** 2
    ...     def grad(self, theta):
    ...         theta = np.asarray(theta)
    ...         return theta ** 3 - theta
    ...     def hessian(self, theta):
    ...         return (3.0 * np.asarray(theta) ** 2 - 1.0)[..., None]
    >>> ds = dynsys.basins(DoubleWell(), [0.5], grid=((-1.5, 1.5, 7),), steps=2000)
    >>> ds.attrs["compute_path"], ds.final_theta.values[0, :, 0].round(6).tolist()
    ('kernel', [-1.0, -1.0, -1.0, 0.0, 1.0, 1.0, 1.0])
    """

    dim: int
    name: str = "model"
    gd_kernel: MapKernel | None = None
    grid_kernel: GridKernel | None = None
    symmetries: tuple = ()
    interval_kernel = None
    constant_residual_hessian = None

    @abc.abstractmethod
    def loss(self, theta) -> np.ndarray:
        """Return the loss at ``theta``, shape ``(...)``."""

    @abc.abstractmethod
    def grad(self, theta) -> np.ndarray:
        """Return the gradient at ``theta``, shape ``(..., P)``."""

    @abc.abstractmethod
    def hessian(self, theta) -> np.ndarray:
        """Return the Hessian at ``theta``, shape ``(..., P, P)``."""

    def describe(self) -> dict:
        """Return the model's scalar parameters."""
        return {}

    def sharpness(self, theta) -> np.ndarray:
        """Return the sharpness (top Hessian eigenvalue) at ``theta``, shape ``(...)``."""
        h = self.hessian(theta)
        with np.errstate(all="ignore"):
            ok = np.all(np.isfinite(h), axis=(-1, -2))
            safe = np.where(ok[..., None, None], h, 0.0)
            return np.where(ok, np.linalg.eigvalsh(safe)[..., -1], np.nan)

    def _theta(self, theta, name: str = "theta") -> np.ndarray:
        return check.array(name, theta, dim=self.dim, finite=False)

    @classmethod
    def from_loss(cls, loss, grad=None, hessian=None, *, dim: int, name: str | None = None,
                  vectorized: bool | None = None, jit: bool | None = None) -> LossModel:
        """Return a model for a user loss; missing derivatives are computed numerically.

        ``loss(theta)``, ``grad(theta)`` and ``hessian(theta)`` may be written for one point
        (``theta`` of shape ``(P,)``) or for batches. A numerical gradient is accurate to about
        1e-10 and a numerical Hessian (differences of the gradient) to about 1e-8 for losses
        with O(1) derivatives.

        Fast path: when the functions compile with numba for one point, the model's
        ``auto_gd_kernel`` hook compiles GD on them (``jit=None``, the default), and basins,
        basin fractions, trajectories, orbit diagrams and Lyapunov spectra run in the compiled
        loops. Only the given functions are compiled: a missing gradient is
        the same five-point difference of ``loss`` inside numba (``4 P`` loss calls per step:
        give ``grad`` for speed; for ``P <= 8`` the loss is called on tuples, which lets the
        basin loop vectorise, when that gives the same bits), a missing Hessian the difference
        of the gradient. A ``grad`` that returns a tuple (or ``np.array([...])`` of its
        entries, rewritten to a tuple when that gives the same bits) is the fastest. If they do
        not compile, one :class:`~dynsys.SlowPathWarning` says why and the numpy path runs;
        ``jit=True`` makes that an error and ``jit=False`` keeps the numpy path.

        Examples
        --------
        >>> import dynsys
        >>> m = dynsys.Model.from_loss(lambda t: 0.5 * 3.0 * t[0] ** 2, dim=1)
        >>> float(m.sharpness([0.7]).round(8))
        3.0
        """
        return LossModel(loss, grad, hessian, dim=dim, name=name, vectorized=vectorized,
                         jit=jit)

    @classmethod
    def from_jax(cls, loss, params, *, name: str | None = None, meta: dict | None = None):
        """Return an autodiff model of a JAX loss ``loss(params) -> scalar`` (needs JAX).

        ``params`` is any pytree of float arrays (the start); the model works on its flat
        float64 vector ``model.theta0`` and ``model.unflatten(theta)`` gives the pytree back.
        Derivatives are exact (JAX): gradient, Hessian-vector products, the top of the
        Hessian spectrum by Lanczos (:meth:`~dynsys.models.AutodiffModel.top_eigenpairs`) and
        ``grad S = nabla^3 L[u, u]``. Float64 is enforced (JAX's ``jax_enable_x64`` is switched
        on; float32 params are upcast with a warning). Raises ImportError naming the
        ``dynsys[jax]`` extra when JAX is not installed.

        Examples
        --------
        >>> import jax.numpy as jnp, numpy as np, dynsys
        >>> m = dynsys.Model.from_jax(lambda p: 1.5 * jnp.sum(p["w"] ** 2), {"w": np.ones(3)})
        >>> m.dim, float(m.sharpness(m.theta0))
        (3, 3.0)
        """
        from ._jax import from_jax

        return from_jax(loss, params, name=name, meta=meta)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"{type(self).__name__}({params})"


class LossModel(Model):
    """A model defined by a user loss function (see :meth:`Model.from_loss`)."""

    def __init__(self, loss, grad=None, hessian=None, *, dim, name=None, vectorized=None,
                 jit=None):
        self.dim = check.integer("dim", dim, minimum=1)
        if jit is not None and not isinstance(jit, bool | np.bool_):
            raise TypeError(f"jit must be True, False or None, got {jit!r}")
        self._jit = None if jit is None else bool(jit)
        self.name = str(name) if name is not None else getattr(loss, "__name__", "loss")
        self._loss = BatchFunction(loss, self.dim, (), vectorized=vectorized, name="loss")
        self._grad = (BatchFunction(grad, self.dim, (self.dim,), vectorized=vectorized,
                                    name="grad") if grad is not None else None)
        self._hess = (BatchFunction(hessian, self.dim, (self.dim, self.dim),
                                    vectorized=vectorized, name="hessian")
                      if hessian is not None else None)

    def loss(self, theta):
        return self._loss(self._theta(theta))

    def grad(self, theta):
        theta = self._theta(theta)
        if self._grad is not None:
            return self._grad(theta)
        return numerical_gradient(self._loss, theta)

    def hessian(self, theta):
        theta = self._theta(theta)
        if self._hess is not None:
            h = self._hess(theta)
        else:
            h = numerical_jacobian(self.grad, theta)
        return 0.5 * (h + np.swapaxes(h, -1, -2))

    def auto_gd_kernel(self, numpy_rate=None) -> MapKernel | None:
        """Return a GD kernel numba compiled from the user's functions (memoised), or None
        (with ``jit=False``, or after one :class:`~dynsys.SlowPathWarning` if they do not
        compile; ``numpy_rate(map)`` estimates the numpy path's speed for it).

        Examples
        --------
        >>> import dynsys
        >>> m = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] * t[1] - 1.0) ** 2,
        ...                            grad=lambda t: (t[1] * (t[0] * t[1] - 1.0),
        ...                                            t[0] * (t[0] * t[1] - 1.0)), dim=2)
        >>> import numpy as np
        >>> out = np.empty(2)
        >>> m.auto_gd_kernel().step(np.array([2.0, 1.0]), np.array([0.5]), out); out.tolist()
        [1.5, 0.0]
        """
        if self._jit is False:
            return None
        eye = np.eye(self.dim)

        def build():
            try:
                return systems.compile_gd_kernel(
                    self._loss.func, None if self._grad is None else self._grad.func,
                    None if self._hess is None else self._hess.func, self.dim,
                    lambda x: x - self.grad(x), lambda x: eye - self.hessian(x))
            except systems.Uncompilable as exc:
                return exc

        def warn():
            if numpy_rate is not None:
                from ._gd import gd_map

                rate = numpy_rate(gd_map(self, 1.0))
            else:
                rate = systems.numpy_rate(lambda x: x - self.grad(x), self.dim)
            systems.fallback_warning(f"model {self.name!r} (Model.from_loss)", str(result),
                                      rate)
            return True

        # memoised on the user's functions: models made from the same functions share it
        key = ("gd", self._grad.func if self._grad is not None else None,
               self._hess.func if self._hess is not None else None, self.dim)
        result = systems.memoised(self._loss.func, key, build, valid=lambda k: systems.matches(
            k, lambda x: x - self.grad(x), self.dim, [1.0]))
        if not isinstance(result, systems.Uncompilable):
            return result
        if self._jit:
            raise ValueError(f"model {self.name!r} was made with jit=True but numba cannot "
                             f"compile it: {result}")
        systems.memoised(self, "warned", warn)
        return None


class RegressionModel(Model):
    """A least-squares model: loss ``scale/2 |z(theta)|^2`` with residuals ``z in R^D``.

    What an implementer provides, besides ``dim`` and ``name``: ``n_outputs`` (D), ``scale``,
    ``residual(theta) -> (..., D)``, ``jacobian(theta) -> (..., D, P)`` (dz/dtheta) and
    ``residual_hessian(theta) -> (..., D, P, P)``. Loss, gradient ``scale J^T z``, Hessian
    ``scale (J^T J + sum_a z_a d2z_a)``, the NTK ``scale J J^T`` and its top eigenvalue follow.
    At a zero-residual point the top NTK eigenvalue equals the sharpness.
    """

    n_outputs: int
    scale: float = 1.0

    @abc.abstractmethod
    def residual(self, theta) -> np.ndarray:
        """Return the residuals ``z`` at ``theta``, shape ``(..., D)``."""

    @abc.abstractmethod
    def jacobian(self, theta) -> np.ndarray:
        """Return the residual Jacobian ``dz/dtheta``, shape ``(..., D, P)``."""

    @abc.abstractmethod
    def residual_hessian(self, theta) -> np.ndarray:
        """Return the residual Hessians ``d2 z_a``, shape ``(..., D, P, P)``."""

    def loss(self, theta):
        z = self.residual(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return 0.5 * self.scale * np.sum(z * z, axis=-1)

    def grad(self, theta):
        theta = self._theta(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.scale * np.einsum("...ap,...a->...p", self.jacobian(theta),
                                          self.residual(theta))

    def hessian(self, theta):
        theta = self._theta(theta)
        jac = self.jacobian(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            gauss_newton = np.einsum("...ap,...aq->...pq", jac, jac)
            curvature = np.einsum("...a,...apq->...pq", self.residual(theta),
                                  self.residual_hessian(theta))
            return self.scale * (gauss_newton + curvature)

    def ntk(self, theta) -> np.ndarray:
        """Return the neural tangent kernel ``scale J J^T``, shape ``(..., D, D)``."""
        jac = self.jacobian(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            return self.scale * np.einsum("...ap,...bp->...ab", jac, jac)

    def ntk_eigenvalue(self, theta) -> np.ndarray:
        """Return the top eigenvalue of the NTK at ``theta``, shape ``(...)``."""
        k = self.ntk(theta)
        if k.shape[-1] == 1:
            return k[..., 0, 0]
        with np.errstate(all="ignore"):
            ok = np.all(np.isfinite(k), axis=(-1, -2))
            safe = np.where(ok[..., None, None], k, 0.0)
            return np.where(ok, np.linalg.eigvalsh(safe)[..., -1], np.nan)
