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

#: Krylov dimension and restarts of the compiled Lanczos of ``JaxModel.gd_track``
KRYLOV, RESTARTS = 20, 100
#: when the compiled Lanczos reorthogonalises, it does so against the filled rows of its basis
#: in blocks of this many; in ``gd_track`` it tests convergence from ``TEST_SLACK`` products
#: before the count the previous update needed (an earlier test costs an eigensolve of the
#: small tridiagonal, a later one HVPs)
REORTH_BLOCK, TEST_SLACK = 4, 3
EPS = float(np.finfo(np.float64).eps)

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

        top, track = _make_tracker(jax, jnp, f, grad)
        self._top_fused = jax.jit(top, static_argnums=(3, 4))
        self._track = jax.jit(track, static_argnums=(3, 4, 5, 6))
        flow = _make_flow(jax, jnp, grad)
        self._flow = jax.jit(flow)
        self._flow_batch = jax.jit(jax.vmap(flow, in_axes=(0, None, None, None, None)))
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

    def gd_track(self, theta, v, lr, *, every: int, checks: int, tol: float = 1e-8,
                 krylov: int = KRYLOV, restarts: int = RESTARTS):
        """Return GD with the top Hessian eigenpair tracked, in one compiled call.

        ``checks`` times: ``every`` GD steps, then the top eigenpair at the new point by
        Lanczos on HVPs (Krylov dimension up to ``krylov``; partial reorthogonalisation,
        which keeps the basis orthogonal to sqrt(eps); the convergence test, an eigensolve
        of the tridiagonal, from ``TEST_SLACK`` products before the count the previous
        update needed; restarted from the Ritz vector at most ``restarts`` times)
        warm-started from the previous eigenvector (``v`` at first).
        Returns ``(theta_end, v_end, losses (checks * every,), top (checks,), n_hvp (checks,),
        converged (checks,), max_abs_theta (checks,))``, ``losses[t]`` the loss before step
        ``t``. Hook of :func:`dynsys.networks.spectrum_trajectory` (``top_k = 1``).
        """
        out = self._track(self._j(theta), self._j(v), float(lr), int(every), int(checks),
                          int(krylov), int(restarts), float(tol))
        return tuple(np.asarray(x) for x in out)

    def top_fused(self, theta, v, *, tol: float = 1e-8, krylov: int = KRYLOV,
                  restarts: int = RESTARTS):
        """Return ``(value, vector, n_hvp, converged)``: the top Hessian eigenpair at
        ``theta`` by the compiled Lanczos of :meth:`gd_track`, warm-started from ``v``."""
        out = self._top_fused(self._j(theta), self._j(v), float(tol), int(krylov),
                              int(restarts))
        return tuple(np.asarray(x) for x in out)

    def gradient_flow(self, theta, *, rtol: float = 1e-12, tol: float = 1e-11,
                      max_time: float = 1e9, max_steps: int = 200_000):
        """Return ``(theta_end, converged, time)``: gradient flow from each ``theta`` (P,) or
        (N, P) integrated in one compiled loop (Dormand-Prince 5(4), adaptive steps, a batch
        vectorised) until ``|grad L| <= tol`` (not converged after ``max_steps`` steps: a
        start far out, e.g. just before GD diverged, is too stiff to follow); ``converged``
        and ``time`` have the batch shape."""
        theta = self._theta(theta)
        run = self._flow if theta.ndim == 1 else self._flow_batch
        end, t, gnorm, _n = run(self._j(theta), float(rtol), float(tol), float(max_time),
                                int(max_steps))
        end, gnorm = np.asarray(end, dtype=float), np.asarray(gnorm, dtype=float)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(gnorm) & (gnorm <= tol) & np.all(np.isfinite(end), axis=-1)
        return end, ok, np.asarray(t, dtype=float)

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


def _lanczos(jax, jnp, hvp, q, tol, m, test_from, basis=False):
    """Return ``(lam, u, n, res)`` (and the basis ``V`` (m, P) if ``basis``): one compiled
    Lanczos run of at most m products of ``hvp`` from q, stopped at residual <= tol |lam|.

    Three-term recurrence with partial reorthogonalisation (Simon 1984): the loss of
    orthogonality ``omega`` of the new vector against the basis is estimated by Simon's
    recurrence, and when it exceeds sqrt(eps) the new vector and the next one are
    reorthogonalised against the basis vectors made so far (a classical Gram-Schmidt
    pass over the filled blocks of ``REORTH_BLOCK`` rows, a second pass when the first
    removed more than 1 - 1/sqrt(2) of the norm), which keeps the basis orthogonal to
    about sqrt(eps) and the Ritz values accurate to rounding. The Ritz pair (eigh of the
    tridiagonal) and the residual test are computed from product ``test_from`` on, and
    whenever the recurrence breaks down or the basis is full."""
    lax = jax.lax
    P = q.shape[0]
    tiny = jnp.finfo(q.dtype).tiny
    sizes = [min(k, m) for k in range(REORTH_BLOCK, m + REORTH_BLOCK, REORTH_BLOCK)]

    def project(k):
        def run(V, w):
            Vk = V[:k]
            return w - (Vk @ w) @ Vk
        return run
    branches = [project(k) for k in sizes]

    def reorth(V, j, w):
        return lax.switch(j // REORTH_BLOCK, branches, V, w)

    def ritz(alpha, beta, n):
        idx = jnp.arange(m)
        real = idx < n
        pad = alpha[0] - 1.0 - 2.0 * jnp.abs(alpha[0])        # below every Ritz value
        diag = jnp.where(real, alpha, pad)
        off = jnp.where(idx[:-1] < n - 1, beta[:-1], 0.0)
        T = jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1)
        w, S = jnp.linalg.eigh(T)
        return w[-1], S[:, -1]

    def cond(st):
        j, _V, _a, _b, lam, res, _s, _om = st
        return (j < m) & ~(res <= tol * jnp.maximum(jnp.abs(lam), tiny))

    idx = jnp.arange(m)

    def body(st):
        j, V, alpha, beta, lam, res, s, (om, om_prev, force, anorm) = st
        v = V[j]
        w = hvp(v)
        scale = jnp.linalg.norm(w)
        a = jnp.vdot(v, w)
        prev = jnp.maximum(j - 1, 0)
        b_prev = jnp.where(j > 0, beta[prev], 0.0)
        w = w - a * v - b_prev * V[prev]
        b = jnp.linalg.norm(w)
        alpha = alpha.at[j].set(a)
        anorm = jnp.maximum(anorm, jnp.abs(a) + b + b_prev)
        # Simon's recurrence for omega_k ~ v_{j+1} . v_k (k < j), with rounding terms
        b_safe = jnp.maximum(b, tiny)
        up = jnp.concatenate([om[1:], jnp.zeros(1)])              # omega_{j, k+1}
        down = jnp.concatenate([jnp.zeros(1), om[:-1]])           # omega_{j, k-1}
        beta_down = jnp.concatenate([jnp.zeros(1), beta[:-1]])    # beta_{k-1}
        t = beta * up + (alpha - a) * om + beta_down * down - b_prev * om_prev
        t = t + jnp.where(t >= 0, 1.0, -1.0) * EPS * (beta + b)
        om_new = jnp.where(idx < j, t / b_safe, 0.0)
        om_new = jnp.where(idx == j, EPS * anorm / b_safe, om_new)
        lost = jnp.max(jnp.abs(om_new)) > jnp.sqrt(EPS)
        need = lost | force
        w, b = lax.cond(need, lambda: full(V, j, w, b), lambda: (w, b))
        om_new = jnp.where(need & (idx <= j), EPS, om_new)
        om_new = jnp.where(idx == j + 1, 1.0, om_new)
        beta = beta.at[j].set(b)
        small = ~(b > 1e-10 * scale)
        test = (j + 1 >= test_from) | (j + 1 >= m) | small

        def tested():
            lam, s = ritz(alpha, beta, j + 1)
            lim = 1e-14 * jnp.maximum(jnp.abs(lam), tiny)
            res = jnp.abs(b * s[j])
            res = jnp.where(jnp.isfinite(res), res, jnp.inf)
            return lam, jnp.where(b > lim, res, 0.0), s, b > lim

        lam, res, s, ok = lax.cond(test, tested, lambda: (lam, jnp.inf, s, True))
        nxt = jnp.where(ok, w / b, 0.0)
        row = jnp.minimum(j + 1, m - 1)                       # one row written, no copy
        V = V.at[row].set(jnp.where(j + 1 < m, nxt, V[row]))
        return j + 1, V, alpha, beta, lam, res, s, (om_new, om, lost & ~force, anorm)

    def full(V, j, w, before):
        """Full reorthogonalisation: a Gram-Schmidt pass, a second if it removed more
        than 1 - 1/sqrt(2) of the norm (Daniel-Gragg-Kaufman-Stewart)."""
        w = reorth(V, j, w)
        b = jnp.linalg.norm(w)
        return lax.cond(b < 0.7071 * before,
                        lambda: (lambda w2: (w2, jnp.linalg.norm(w2)))(reorth(V, j, w)),
                        lambda: (w, b))

    V0 = jnp.zeros((m, P)).at[0].set(q / jnp.linalg.norm(q))
    s0 = jnp.zeros(m).at[0].set(1.0)
    om0 = (jnp.zeros(m).at[0].set(1.0), jnp.zeros(m), False, 0.0)
    st = (0, V0, jnp.zeros(m), jnp.zeros(m), jnp.nan, jnp.inf, s0, om0)
    n, V, _alpha, _beta, lam, res, s, _om = lax.while_loop(cond, body, st)
    u = s @ V
    out = (lam, u / jnp.linalg.norm(u), n, res)
    return out + (V,) if basis else out


def _make_tracker(jax, jnp, f, grad):
    """Return ``top(theta, v, tol, m, restarts, test_from)`` and
    ``track(theta, v, lr, every, checks, m, restarts, tol)``: compiled Lanczos for the top
    Hessian eigenpair (HVPs by one linearisation at ``theta``) and GD fused with it."""
    lax = jax.lax

    def lanczos(hvp, q, tol, m, test_from):
        return _lanczos(jax, jnp, hvp, q, tol, m, test_from)

    def top(theta, v, tol, m, restarts, test_from=1):
        hvp = jax.linearize(grad, theta)[1]

        def cond(st):
            r, _u, lam, res, _n = st
            return (r <= restarts) & ~(res <= tol * jnp.abs(lam)) & jnp.isfinite(lam)

        def body(st):
            r, u, _lam, _res, n = st
            lam, u, k, res = lanczos(hvp, u, tol, m, jnp.where(r == 0, test_from, 1))
            return r + 1, u, lam, res, n + k

        good = jnp.all(jnp.isfinite(v)) & (jnp.linalg.norm(v) > 0)
        v = jnp.where(good, v, jnp.ones_like(v))
        _r, u, lam, res, n = lax.while_loop(cond, body, (0, v, 1.0, jnp.inf, 0))
        ok = res <= tol * jnp.abs(lam)
        return lam, u, n, ok

    def track(theta, v, lr, every, checks, m, restarts, tol):
        def gd(th, _):
            value, g = jax.value_and_grad(f)(th)
            return th - lr * g, value

        def check(carry, _):
            th, u, n_prev = carry
            th, losses = lax.scan(gd, th, None, length=every)
            # the previous update's product count predicts this one's: test from a little
            # before it (testing earlier only costs eigensolves, testing later would cost HVPs)
            lam, u_new, n, ok = top(th, u, tol, m, restarts,
                                    jnp.maximum(n_prev - TEST_SLACK, 1))
            u = jnp.where(jnp.all(jnp.isfinite(u_new)), u_new, u)
            return (th, u, n), (losses, lam, n, ok, jnp.max(jnp.abs(th)))

        (theta, v, _n), (losses, lams, ns, oks, big) = lax.scan(
            check, (theta, v, 1), None, length=checks)
        return theta, v, losses.reshape(-1), lams, ns, oks, big

    return top, track


# Dormand-Prince 5(4): nodes, stages, 5th-order weights and the error weights (5th - 4th)
_DP_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0)
_DP_A = ((),
         (1 / 5,),
         (3 / 40, 9 / 40),
         (44 / 45, -56 / 15, 32 / 9),
         (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
         (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656))
_DP_B = (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84)
_DP_E = (35 / 384 - 5179 / 57600, 0.0, 500 / 1113 - 7571 / 16695, 125 / 192 - 393 / 640,
         -2187 / 6784 + 92097 / 339200, 11 / 84 - 187 / 2100, -1 / 40)


def _make_flow(jax, jnp, grad):
    """Return ``flow(theta, rtol, tol, max_time, max_steps) -> (theta, t, |grad|, steps)``:
    gradient flow ``theta' = -grad L`` by adaptive Dormand-Prince 5(4) in one ``while_loop``
    (first-same-as-last: six gradients per step), stopped at ``|grad L| <= tol``."""

    def flow(theta, rtol, tol, max_time, max_steps):
        atol = rtol * 1e-2 * jnp.maximum(1.0, jnp.max(jnp.abs(theta)))
        k1 = -grad(theta)
        h0 = jnp.minimum(1.0, 0.01 * jnp.maximum(1.0, jnp.linalg.norm(theta))
                         / jnp.maximum(jnp.linalg.norm(k1), 1e-300))

        def cond(state):
            _y, k, t, _h, n = state
            g = jnp.linalg.norm(k)
            return (g > tol) & (t < max_time) & (n < max_steps) & jnp.isfinite(g)

        def body(state):
            y, k, t, h, n = state
            ks = [k]
            for i in range(1, 6):
                yi = y + h * sum(a * kj for a, kj in zip(_DP_A[i], ks, strict=True))
                ks.append(-grad(yi))
            y_new = y + h * sum(b * kj for b, kj in zip(_DP_B, ks, strict=True))
            k_new = -grad(y_new)
            err_vec = h * (sum(e * kj for e, kj in zip(_DP_E[:6], ks, strict=True))
                           + _DP_E[6] * k_new)
            scale = atol + rtol * jnp.maximum(jnp.abs(y), jnp.abs(y_new))
            err = jnp.sqrt(jnp.mean((err_vec / scale) ** 2))
            ok = (err <= 1.0) & jnp.all(jnp.isfinite(y_new)) & jnp.isfinite(err)
            factor = jnp.where(jnp.isfinite(err),
                               jnp.clip(0.9 * jnp.maximum(err, 1e-10) ** -0.2, 0.2, 5.0), 0.2)
            y = jnp.where(ok, y_new, y)
            k = jnp.where(ok, k_new, k)
            t = jnp.where(ok, t + h, t)
            return y, k, t, h * factor, n + 1

        y, k, t, _h, n = jax.lax.while_loop(cond, body, (theta, k1, 0.0, h0, 0))
        return y, t, jnp.linalg.norm(k), n

    return flow


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
