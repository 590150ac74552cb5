"""The JAX backend of the autodiff model protocol (``Model.from_jax``).

JAX is an optional dependency (``pip install "dynsys[jax]"``); nothing else in dynsys imports
it. Importing this module does not import JAX either: :func:`from_jax` does, on first use.

Float64 is enforced: building a model switches JAX's ``jax_enable_x64`` flag on (a global JAX
setting; dynsys needs float64 for every comparison it makes to 1e-10), and float32 (or other
floating) parameters are upcast with a warning. The parameters may be any pytree of arrays;
the model works on the flat vector ``theta`` (``jax.flatten_util.ravel_pytree`` order) and
``model.unflatten(theta)`` gives the pytree back.
"""

from __future__ import annotations

import warnings

import numpy as np

from ._autodiff import AutodiffModel

EXTRA = 'JAX is needed for Model.from_jax: install it with  pip install "dynsys[jax]"'


def import_jax():
    """Return the ``jax`` module with float64 enabled, or raise ImportError naming the extra."""
    try:
        import jax
    except ImportError as err:
        raise ImportError(EXTRA) from err
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
    return jax


class JaxModel(AutodiffModel):
    """A model defined by a JAX loss of a pytree of parameters (see :func:`from_jax`)."""

    def __init__(self, loss, params, *, name=None, meta=None):
        jax = import_jax()
        import jax.numpy as jnp
        from jax.flatten_util import ravel_pytree

        if not callable(loss):
            raise TypeError(f"loss must be callable, got {type(loss).__name__}")
        leaves = jax.tree_util.tree_leaves(params)
        if not leaves:
            raise ValueError("params must contain at least one array")
        upcast = []

        def to64(leaf):
            arr = np.asarray(leaf)
            if arr.dtype.kind in "iub":
                raise TypeError(f"params must be floating-point arrays, got dtype {arr.dtype}")
            if arr.dtype.kind == "c":
                raise TypeError("params must be real, got a complex array")
            if arr.dtype != np.float64:
                upcast.append(str(arr.dtype))
            return jnp.asarray(arr, dtype=jnp.float64)

        params = jax.tree_util.tree_map(to64, params)
        if upcast:
            warnings.warn(f"params of dtype {sorted(set(upcast))} upcast to float64 (dynsys "
                          "computes in float64)", UserWarning, stacklevel=4)
        flat, unravel = ravel_pytree(params)
        self._unravel = unravel
        self.theta0 = np.asarray(flat, dtype=float)
        self.dim = int(flat.shape[0])
        self.name = str(name) if name is not None else getattr(loss, "__name__", "jax loss")
        self._meta = dict(meta or {})
        self._meta.setdefault("P", self.dim)

        def f(theta):
            return loss(unravel(theta))

        try:
            value = jax.eval_shape(f, flat)
        except Exception as err:          # noqa: BLE001 - the user's loss failed to trace
            raise ValueError(f"loss(params) failed on the given params: {err}") from err
        if value.shape != ():
            raise ValueError(f"loss must return a scalar, got an array of shape {value.shape}")
        if not jnp.issubdtype(value.dtype, jnp.floating):
            raise TypeError(f"loss must return a real float, got dtype {value.dtype}")

        low = _low_precision(jax, f, flat)
        if low:
            warnings.warn(f"the loss computes in {sorted(low)} somewhere (arrays made before "
                          "float64 was enabled, or an explicit cast?): derivatives will not be "
                          "float64-accurate", UserWarning, stacklevel=4)
        grad = jax.grad(f)

        def hvp(theta, v):
            return jax.jvp(grad, (theta,), (v,))[1]

        def third_uu(theta, u):                # grad of u . H(theta) u: reverse over forward
            return jax.grad(lambda t: jnp.vdot(u, hvp(t, u)))(theta)

        def gd_steps(theta, lr, steps):
            def body(th, _):
                value, g = jax.value_and_grad(f)(th)
                return th - lr * g, value
            return jax.lax.scan(body, theta, None, length=steps)

        self._f = jax.jit(f)
        self._grad = jax.jit(grad)
        self._vloss = jax.jit(jax.vmap(f))
        self._vgrad = jax.jit(jax.vmap(grad))
        self._hvp = jax.jit(hvp)
        # H at a fixed theta as a linear map: the forward pass is done once (linearize), and
        # its residuals travel as a pytree into one compiled apply
        self._linearize = jax.jit(lambda theta: jax.linearize(grad, theta)[1])
        self._apply = jax.jit(lambda lin, v: lin(v))
        self._hess = jax.jit(jax.hessian(f))
        self._third = jax.jit(third_uu)
        self._gd = jax.jit(gd_steps, static_argnums=2)
        self._jnp = jnp

    # the protocol ------------------------------------------------------------------------
    def _j(self, x):
        return self._jnp.asarray(np.asarray(x, dtype=float))

    def loss_at(self, theta):
        return float(self._f(self._j(theta)))

    def grad_at(self, theta):
        return np.asarray(self._grad(self._j(theta)))

    def hvp(self, theta, v):
        return np.asarray(self._hvp(self._j(theta), self._j(v)))

    def hvp_operator(self, theta):
        """Return ``v -> H(theta) v`` with the linearisation at ``theta`` computed once."""
        lin = self._linearize(self._j(theta))
        apply, jnp = self._apply, self._jnp
        return lambda v: np.asarray(apply(lin, jnp.asarray(v)))

    def third_uu(self, theta, u):
        return np.asarray(self._third(self._j(theta), self._j(u)))

    def loss_batch(self, theta):
        return np.asarray(self._vloss(self._j(theta)))

    def grad_batch(self, theta):
        return np.asarray(self._vgrad(self._j(theta)))

    def hessian_at(self, theta):
        return np.asarray(self._hess(self._j(theta)))

    def gd_steps(self, theta, lr, steps):
        end, losses = self._gd(self._j(theta), float(lr), int(steps))
        return np.asarray(end), np.asarray(losses)

    def unflatten(self, theta):
        """Return the parameter pytree of the flat vector ``theta`` (P,)."""
        theta = self._theta(theta)
        if theta.shape != (self.dim,):
            raise ValueError(f"theta must have shape ({self.dim},), got {theta.shape}")
        return self._unravel(self._j(theta))

    def flatten(self, params) -> np.ndarray:
        """Return the flat vector (P,) of a parameter pytree of this model's structure."""
        from jax.flatten_util import ravel_pytree

        flat, _ = ravel_pytree(params)
        flat = np.asarray(flat, dtype=float)
        if flat.shape != (self.dim,):
            raise ValueError(f"params flatten to {flat.shape[0]} numbers, the model has "
                             f"{self.dim}")
        return flat

    def describe(self) -> dict:
        return dict(self._meta)


def _low_precision(jax, f, flat) -> set:
    """Return the floating dtypes narrower than float64 anywhere in the traced loss."""
    found = set()

    def visit(jaxpr):
        for var in list(jaxpr.constvars) + list(jaxpr.invars):
            _note(var.aval)
        for eqn in jaxpr.eqns:
            for var in eqn.outvars:
                _note(var.aval)
            for param in eqn.params.values():
                inner = getattr(param, "jaxpr", None)
                if inner is not None:
                    visit(getattr(inner, "jaxpr", inner))

    def _note(aval):
        dtype = getattr(aval, "dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating) and dtype.itemsize < 8:
            found.add(str(dtype))

    closed = jax.make_jaxpr(f)(flat)
    for const in closed.consts:
        dtype = getattr(const, "dtype", None)
        if dtype is not None and np.issubdtype(dtype, np.floating) and dtype.itemsize < 8:
            found.add(str(dtype))
    visit(closed.jaxpr)
    return found


def from_jax(loss, params, *, name=None, meta=None) -> JaxModel:
    """Return a :class:`JaxModel` of ``loss(params) -> scalar`` (see ``Model.from_jax``)."""
    return JaxModel(loss, params, name=name, meta=meta)
