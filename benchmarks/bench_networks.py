"""Speed of GD with the sharpness tracked by Hessian-vector products (issue 12).

    python benchmarks/bench_networks.py            # P ~ 1e4 network, 300 steps
    python benchmarks/bench_networks.py --quick    # smoke run

1. Overhead: ``dynsys.networks.spectrum_trajectory(every=1)`` (a GD step, then the top Hessian
   eigenvalue by warm-started Lanczos, every step; on a JAX model all of it runs in one
   compiled ``lax.scan``, the ``gd_track`` hook) on a tanh network with ~10^4 parameters
   against a plain jitted JAX loop doing the same work: one ``lax.scan`` over the steps, each
   a GD step and as many warm-started power-iteration HVPs as dynsys's Lanczos used after that
   step. Both are timed in the same run, interleaved, min and median of ``--repeat`` rounds;
   compile time excluded.
2. Lanczos (the NumPy one on HVPs, and the compiled one of the fused path) against the dense
   Hessian (``jax.hessian`` + ``numpy.linalg.eigvalsh``) on a small network: the same top
   eigenvalue (difference printed) and the time ratio.
3. Lanczos against power iteration, both from the same random start: HVPs until the top
   eigenvalue is within 1e-6 (relative) of the dense value.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

import dynsys
from dynsys.models._lanczos import lanczos_top


def reference_loop(net, lr, steps, hvp_counts):
    """The plain jitted JAX loop: one ``lax.scan`` over the steps, each a GD step and then a
    warm-started power iteration with as many HVPs (one linearisation per step) as dynsys's
    Lanczos used after that step."""
    import jax
    import jax.numpy as jnp

    f = net._f
    grad = jax.grad(f)

    @jax.jit
    def loop(theta, v, counts):
        def body(carry, m):
            theta, v = carry
            theta = theta - lr * grad(theta)
            hvp = jax.linearize(grad, theta)[1]

            def power(_, vl):
                v, _lam = vl
                w = hvp(v)
                return w / jnp.linalg.norm(w), jnp.vdot(v, w)
            v, lam = jax.lax.fori_loop(0, m, power, (v, 0.0))
            return (theta, v), lam
        (theta, v), lams = jax.lax.scan(body, (theta, v), counts)
        return lams

    counts = jnp.asarray(np.asarray(hvp_counts, dtype=np.int64))

    def run():
        theta = jnp.asarray(net.theta0)
        v = jnp.ones(net.dim) / np.sqrt(net.dim)
        return np.asarray(loop(theta, v, counts))
    return run


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
    counts = ds.n_hvp.values[1:]                 # the update after each step
    ref = reference_loop(net, lr, steps, counts)
    ref()                                        # compiles
    t_ours, t_ref = [], []
    for _ in range(repeat):                      # interleaved
        t0 = time.perf_counter()
        ours()
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ref()
        t_ref.append(time.perf_counter() - t0)
    a, b = min(t_ours), min(t_ref)
    ratios = np.array(t_ours) / np.array(t_ref)
    print(f"[1] P = {net.dim}, {steps} GD steps + top-eigenvalue update every step "
          f"({int(counts.sum())} HVPs, {counts.mean():.1f} per step), load average "
          f"{os.getloadavg()[0]:.1f}:")
    print(f"    dynsys spectrum_trajectory {a:.3f} s (median {np.median(t_ours):.3f}), plain "
          f"jitted JAX loop {b:.3f} s (median {np.median(t_ref):.3f}); overhead of the "
          f"minima {100 * (a / b - 1):+.1f}%, median of the per-round ratios "
          f"{100 * (np.median(ratios) - 1):+.1f}%")


def lanczos_vs_dense(quick, repeat):
    n, width = (64, 8) if quick else (128, 16)
    X, Y = dynsys.networks.digits(n, classes=10)
    net = dynsys.networks.mlp(X, Y, width=width, depth=2, activation="tanh", seed=0)
    theta = net.theta0
    start = np.random.default_rng(0).standard_normal(net.dim)
    net.top_fused(theta, start, tol=1e-10)       # compiles
    net.hessian_at(theta)
    t_dense, t_lanczos, t_fused = [], [], []
    for _ in range(repeat):                      # interleaved
        t0 = time.perf_counter()
        dense = np.linalg.eigvalsh(net.hessian_at(theta))[-1]
        t_dense.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        vals, _, info = net.top_eigenpairs(theta, 1, tol=1e-10, return_info=True)
        t_lanczos.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        lam, _u, n_fused, _ok = net.top_fused(theta, start, tol=1e-10)
        t_fused.append(time.perf_counter() - t0)
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
