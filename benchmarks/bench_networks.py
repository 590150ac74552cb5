"""Speed of GD with the sharpness tracked by Hessian-vector products (issue 12).

    python benchmarks/bench_networks.py            # P ~ 1e4 network, 300 steps
    python benchmarks/bench_networks.py --quick    # smoke run

1. Overhead: ``dynsys.networks.spectrum_trajectory(every=1)`` (a GD step, then the top Hessian
   eigenvalue by warm-started Lanczos, every step; on a JAX model all of it runs in one
   compiled ``lax.scan``, the ``gd_track`` hook) on a tanh network with ~10^4 parameters
   against two plain jitted JAX loops, each one ``lax.scan`` over the steps with the same GD
   steps and, after each, the same number of HVPs as dynsys's Lanczos used there: (a) the
   same Lanczos written by hand (same partial reorthogonalisation, counts known in advance so
   no convergence tests, one tridiagonal eigensolve per step), the same work; (b) warm-started
   power iteration, the cheapest update. All three timed in the same run, interleaved, min
   and median of ``--repeat`` rounds; compile time excluded.
2. Lanczos (the NumPy one on HVPs, and the compiled one of the fused path) against the dense
   Hessian (``jax.hessian`` + ``numpy.linalg.eigvalsh``) on a small network: the same top
   eigenvalue (difference printed) and the time ratio.
3. Lanczos against power iteration, both from the same random start: HVPs until the top
   eigenvalue is within 1e-6 (relative) of the dense value.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import dynsys
from _common import interleaved  # noqa: E402
from dynsys.models._jax import KRYLOV
from dynsys.models._lanczos import lanczos_top


def reference_power(net, lr, hvp_counts):
    """Reference (b), the plain jitted JAX loop with the cheapest eigenvalue update: one
    ``lax.scan`` over the steps, each a GD step (none before the first update, at the start)
    and then a warm-started power iteration with as many HVPs (one linearisation per step)
    as dynsys's Lanczos used there (``hvp_counts``, one per checkpoint)."""
    import jax
    import jax.numpy as jnp

    grad = jax.grad(net._f)

    @jax.jit
    def loop(theta, v, counts):
        def body(carry, im):
            (theta, v), (i, m) = carry, im
            theta = jax.lax.cond(i > 0, lambda t: t - lr * grad(t), lambda t: t, theta)
            hvp = jax.linearize(grad, theta)[1]

            def power(_, vl):
                v, _lam = vl
                w = hvp(v)
                return w / jnp.linalg.norm(w), jnp.vdot(v, w)
            v, lam = jax.lax.fori_loop(0, m, power, (v, 0.0))
            return (theta, v), lam
        (theta, v), lams = jax.lax.scan(body, (theta, v), (jnp.arange(counts.size), counts))
        return lams
    return _runner(net, loop, hvp_counts)


def reference_lanczos(net, lr, hvp_counts, krylov=KRYLOV):
    """Reference (a), the same work written by hand: one ``lax.scan`` over the steps, each a
    GD step (none before the first update, at the start) and then Lanczos warm-started from
    the previous Ritz vector, with the same number of HVPs as dynsys's used there
    (``hvp_counts``, one per checkpoint; known in advance, so no convergence tests),
    the same reorthogonalisation (three-term recurrence; Simon's partial reorthogonalisation:
    the omega recurrence estimates the loss of orthogonality, and past sqrt(eps) the vector
    and the next are Gram-Schmidt'ed against the basis, twice if the first pass removed more
    than 1 - 1/sqrt(2) of the norm), and one eigensolve of the tridiagonal at the end.
    Written plainly: the Gram-Schmidt pass runs over the whole ``(krylov, P)`` basis array
    (unfilled rows are zero)."""
    import jax
    import jax.numpy as jnp

    grad = jax.grad(net._f)
    m_max = max(krylov, int(np.max(hvp_counts)))   # dynsys restarts past krylov; this does not
    eps = float(np.finfo(np.float64).eps)
    k = jnp.arange(m_max)

    def shift(x, by):                            # x[k + by], zero outside
        return jnp.roll(x, -by).at[-1 if by > 0 else 0].set(0.0)

    @jax.jit
    def loop(theta, v, counts):
        def body(carry, im):
            (theta, v), (i, m) = carry, im
            theta = jax.lax.cond(i > 0, lambda t: t - lr * grad(t), lambda t: t, theta)
            hvp = jax.linearize(grad, theta)[1]
            V = jnp.zeros((m_max, v.shape[0])).at[0].set(v / jnp.linalg.norm(v))

            def gram_schmidt(V, w, norm):
                w = w - (V @ w) @ V
                return jax.lax.cond(jnp.linalg.norm(w) < 0.7071 * norm,
                                    lambda w: w - (V @ w) @ V, lambda w: w, w)

            def step(j, state):
                V, a, b, om, om_old, again, anorm = state
                q = V[j]
                w = hvp(q)
                aj = jnp.vdot(q, w)
                b_old = jnp.where(j > 0, b[j - 1], 0.0)
                w = w - aj * q - b_old * V[j - 1]
                bj = jnp.linalg.norm(w)
                a = a.at[j].set(aj)
                anorm = jnp.maximum(anorm, abs(aj) + bj + b_old)
                t = (b * shift(om, 1) + (a - aj) * om + shift(b, -1) * shift(om, -1)
                     - b_old * om_old)
                t = t + jnp.where(t >= 0, 1.0, -1.0) * eps * (b + bj)
                new = jnp.where(k < j, t / bj, jnp.where(k == j, eps * anorm / bj, 0.0))
                lost = jnp.max(jnp.abs(new)) > np.sqrt(eps)
                w = jax.lax.cond(lost | again, lambda w: gram_schmidt(V, w, bj),
                                 lambda w: w, w)
                new = jnp.where((lost | again) & (k <= j), eps, new)
                new = jnp.where(k == j + 1, 1.0, new)
                bj = jnp.linalg.norm(w)
                row = jnp.minimum(j + 1, m_max - 1)
                V = V.at[row].set(jnp.where(j + 1 < m_max, w / bj, V[row]))
                return V, a, b.at[j].set(bj), new, om, lost & ~again, anorm
            om0 = jnp.zeros(m_max).at[0].set(1.0)
            V, a, b, *_ = jax.lax.fori_loop(
                0, m, step, (V, jnp.zeros(m_max), jnp.zeros(m_max), om0, jnp.zeros(m_max),
                             False, 0.0))
            diag = jnp.where(k < m, a, a[0] - 1.0 - 2.0 * jnp.abs(a[0]))
            off = jnp.where(k[:-1] < m - 1, b[:-1], 0.0)
            lam, S = jnp.linalg.eigh(jnp.diag(diag) + jnp.diag(off, 1) + jnp.diag(off, -1))
            u = S[:, -1] @ V
            return (theta, u / jnp.linalg.norm(u)), lam[-1]
        (theta, v), lams = jax.lax.scan(body, (theta, v), (jnp.arange(counts.size), counts))
        return lams
    return _runner(net, loop, hvp_counts)


def _runner(net, loop, hvp_counts):
    import jax.numpy as jnp

    counts = jnp.asarray(np.asarray(hvp_counts, dtype=np.int64))

    def run():
        theta = jnp.asarray(net.theta0)
        v = jnp.ones(net.dim) / np.sqrt(net.dim)
        return np.asarray(loop(theta, v, counts))
    return run


def _ratio(a, b):
    """Overheads of ``a`` over ``b`` (per-round times): of the minima, median of the ratios."""
    a, b = np.asarray(a), np.asarray(b)
    return 100 * (a.min() / b.min() - 1), 100 * (np.median(a / b) - 1)


def overhead(quick, repeat):
    n, width = (128, 24) if quick else (256, 64)
    steps = 40 if quick else 300
    X, Y = dynsys.networks.digits(n, classes=10)
    net = dynsys.networks.mlp(X, Y, width=width, depth=2, activation="tanh", seed=0)
    lr = 0.2

    def ours():
        return dynsys.networks.spectrum_trajectory(net, net.theta0, lr=lr, steps=steps,
                                                   every=1, tol=1e-6)
    ds = ours()                                  # compiles; gives the HVP counts
    counts = ds.n_hvp.values                     # at the start, then after each step
    runs = {"dynsys": ours, "lanczos": reference_lanczos(net, lr, counts),
            "power": reference_power(net, lr, counts)}
    lams = runs["lanczos"]()                     # compiles
    runs["power"]()
    err = np.max(np.abs(lams[1:] - ds.sharpness.values[1:]) / ds.sharpness.values[1:])
    load = [os.getloadavg()[0]]
    times = interleaved(runs, repeat)
    load.append(os.getloadavg()[0])
    med = {k: np.median(v) for k, v in times.items()}
    print(f"[1] P = {net.dim}, {steps} GD steps + top-eigenvalue update every step "
          f"({int(counts.sum())} HVPs: {counts[0]} at the start, {counts[1:].mean():.1f} per "
          f"step), {repeat} interleaved "
          f"rounds, load average {min(load):.1f}-{max(load):.1f}:")
    print(f"    dynsys spectrum_trajectory      {min(times['dynsys']):.3f} s "
          f"(median {med['dynsys']:.3f})")
    print(f"    (a) hand-written JAX Lanczos    {min(times['lanczos']):.3f} s "
          f"(median {med['lanczos']:.3f}); its eigenvalues vs dynsys's: max relative "
          f"difference {err:.1e}")
    print(f"    (b) JAX GD + power iteration    {min(times['power']):.3f} s "
          f"(median {med['power']:.3f})")
    for key, label in (("lanczos", "(a)"), ("power", "(b)")):
        lo, mid = _ratio(times["dynsys"], times[key])
        print(f"    dynsys overhead over {label}: {lo:+.1f}% (minima), {mid:+.1f}% (median of "
              f"the per-round ratios)")


def lanczos_vs_dense(quick, repeat):
    n, width = (64, 8) if quick else (128, 16)
    X, Y = dynsys.networks.digits(n, classes=10)
    net = dynsys.networks.mlp(X, Y, width=width, depth=2, activation="tanh", seed=0)
    theta = net.theta0
    start = np.random.default_rng(0).standard_normal(net.dim)
    dense = np.linalg.eigvalsh(net.hessian_at(theta))[-1]
    vals, _, info = net.top_eigenpairs(theta, 1, tol=1e-10, return_info=True)
    lam, _u, n_fused, _ok = net.top_fused(theta, start, tol=1e-10)
    times = interleaved({
        "dense": lambda: np.linalg.eigvalsh(net.hessian_at(theta))[-1],
        "lanczos": lambda: net.top_eigenpairs(theta, 1, tol=1e-10, return_info=True),
        "fused": lambda: net.top_fused(theta, start, tol=1e-10)}, repeat)
    t_dense, t_lanczos, t_fused = times["dense"], times["lanczos"], times["fused"]
    a, b, c = min(t_lanczos), min(t_dense), min(t_fused)
    print(f"[2] P = {net.dim}: Lanczos {vals[0]:.12f} ({info['n_hvp']} HVPs, {a * 1e3:.1f} ms), "
          f"compiled Lanczos {float(lam):.12f} ({int(n_fused)} HVPs, {c * 1e3:.1f} ms), "
          f"dense eigvalsh {dense:.12f} ({b * 1e3:.1f} ms); |difference| "
          f"{abs(vals[0] - dense):.1e} / {abs(float(lam) - dense):.1e}, dense / Lanczos time "
          f"{b / a:.1f} / {b / c:.1f} (min of {repeat}; medians {np.median(t_dense) * 1e3:.1f}, "
          f"{np.median(t_lanczos) * 1e3:.1f}, {np.median(t_fused) * 1e3:.1f} ms)")

    start = np.random.default_rng(0).standard_normal(net.dim)
    target = 1e-6 * dense
    lanczos_n = None
    for m in range(1, 200):                      # Krylov dimension m from the same start
        val = lanczos_top(lambda x: net.hvp(theta, x), net.dim, 1, start, tol=1e-14,
                          max_dim=m, max_restarts=0)[0][0]
        if abs(val - dense) <= target:
            lanczos_n = m
            break
    v = start / np.linalg.norm(start)
    power_n = None
    for i in range(1, 100_000):
        w = net.hvp(theta, v)
        lam = v @ w
        v = w / np.linalg.norm(w)
        if abs(lam - dense) <= target:
            power_n = i
            break
    print(f"[3] HVPs to the top eigenvalue within 1e-6 relative, same start: Lanczos "
          f"{lanczos_n}, power iteration {power_n}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    overhead(args.quick, args.repeat)
    lanczos_vs_dense(args.quick, args.repeat)


if __name__ == "__main__":
    main()
