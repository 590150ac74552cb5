"""The 2-D model's basin loop (lanes refilled from a pool, per-lane clocks and checkpoints)
against the stopping rule run on one point at a time, in plain Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

import dynsys
from dynsys._stopping import OrbitEnds, block_length, checkpoint_interval, converged
from dynsys._stopping import diverged, first_interval, returned
from dynsys.models import _qr2d_kernels as Q


def one_point(x, y, eps, target, lr, rule):
    """The rule for one start of the 2-D model, written out plainly with the rule's tests
    (:mod:`dynsys._stopping`): (outcome, period, steps used, final x, final y, exponent)."""
    kr = rule.kernel()
    steps, tol, radius2 = kr.steps, kr.tol, kr.radius2
    t_lyap = max(steps - kr.lyapunov_steps, 0)
    cap, every = checkpoint_interval(kr.max_period), first_interval(kr.max_period)
    cx, cy, u, v, lsum, cnt, t, tc = x, y, 1.0, 0.0, 0.0, 0, 0, 0
    eps2 = eps * eps
    while t < steps:
        k = block_length(t, steps, t_lyap)
        stop = False
        for _ in range(k):
            z = 0.5 * (x * x - eps * y * y) - target
            if abs(z) < tol or diverged(x * x + y * y, radius2):
                stop = True
                break
            g = lr * z
            if t >= t_lyap:
                off = lr * eps * x * y
                j00 = 1.0 - lr * (x * x + z)
                j11 = 1.0 - lr * (eps2 * y * y - eps * z)
                u, v = j00 * u + off * v, off * u + j11 * v
            x, y = x - g * x, y + g * eps * y
            cnt += 1
        if t >= t_lyap:
            nrm = math.sqrt(u * u + v * v)
            lsum += math.log(nrm)
            u, v = u / nrm, v / nrm
        t += k
        r2 = x * x + y * y
        if stop:
            gone = bool(diverged(r2, radius2))
            return (2 if gone else 0), (0 if gone else 1), cnt, x, y, math.nan
        g = lr * (0.5 * (x * x - eps * y * y) - target)
        jump2 = g * g * (x * x + eps2 * y * y)
        if converged(jump2, r2, kr.tol2):
            return 0, 1, cnt, x, y, math.nan
        back2 = (x - cx) ** 2 + (y - cy) ** 2
        if returned(back2, jump2, kr.rtol2, radius2):
            return 1, t - tc, cnt, x, y, math.nan
        if t - tc >= every:
            tc, every, cx, cy = t, min(2 * every, cap), x, y
    n_lyap = steps - t_lyap
    lam = lsum / n_lyap if n_lyap > 0 else math.nan
    return (4 if lam > kr.chaos_threshold else 3), 0, cnt, x, y, lam


def run_kernel(eps, target, lr, axes, rule, threads=None, finals=False):
    n = len(axes[0]) * len(axes[1])
    ends = OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                     np.empty((n, 2)), np.empty(n))
    fin = (np.empty(n), np.empty(n), np.empty(n, dtype=bool)) if finals else None
    previous = dynsys._numba.numba.get_num_threads()
    if threads is not None:
        dynsys._numba.numba.set_num_threads(threads)
    try:
        Q.sweep_grid(eps, target, axes[0], axes[1], lr, rule, ends, scaling=False, finals=fin)
    finally:
        dynsys._numba.numba.set_num_threads(previous)
    return ends, fin


# budgets before / inside the window, windows not on multiples of 16, short cycles
RULES = [dict(steps=300, lyapunov_steps=50, max_period=3),
         dict(steps=200, lyapunov_steps=1000),
         dict(steps=77, lyapunov_steps=0, max_period=1),
         dict(steps=130, lyapunov_steps=121, max_period=5)]


@pytest.mark.parametrize("kw", RULES)
@pytest.mark.parametrize("lr", [0.7, 1.9])
def test_grid_kernel_equals_one_point_at_a_time(kw, lr):
    """Every start gets exactly the outcome, period, steps, final state (bit for bit) and
    exponent of the rule applied to it alone, although lanes are refilled in any order."""
    eps, target = 0.2, 0.5
    rule = dynsys.StoppingRule(tol=1e-10, radius=1e3, **kw)
    axes = (np.linspace(-2.5, 2.5, 23), np.linspace(-6.0, 6.0, 21))
    ends, _ = run_kernel(eps, target, lr, axes, rule)
    ref = np.array([one_point(a, b, eps, target, lr, rule) for a in axes[0] for b in axes[1]])
    np.testing.assert_array_equal(ends.code, ref[:, 0])
    np.testing.assert_array_equal(ends.period, ref[:, 1])
    np.testing.assert_array_equal(ends.used, ref[:, 2])
    np.testing.assert_array_equal(ends.final, ref[:, 3:5])
    running = ends.code >= 3
    np.testing.assert_allclose(ends.ftle[running], ref[running, 5], rtol=1e-12, atol=1e-14)
    assert np.all(np.isnan(ends.ftle[~running]))
    assert len(set(ends.code.tolist())) >= 2       # the grid mixes outcomes


def test_grid_kernel_threads_and_fused_finals():
    """One thread or two, the same results; the loss, sharpness and family test computed on
    exit equal the separate passes (NaN where diverged)."""
    from dynsys.basins._sweep import Plan, family_mask

    model = dynsys.QuadraticRegression2D(0.1, 0.0)
    rule = dynsys.StoppingRule(steps=500, lyapunov_steps=100)
    axes = (np.linspace(-3.0, 3.0, 41), np.linspace(-12.0, 12.0, 39))
    one, fin1 = run_kernel(0.1, 0.0, 1.3, axes, rule, threads=1, finals=True)
    most = dynsys._numba.numba.config.NUMBA_NUM_THREADS      # 2 where the machine allows
    two, fin2 = run_kernel(0.1, 0.0, 1.3, axes, rule, threads=min(2, most), finals=True)
    for name in OrbitEnds._fields:
        np.testing.assert_array_equal(getattr(one, name), getattr(two, name))
    for a, b in zip(fin1, fin2, strict=True):
        np.testing.assert_array_equal(a, b)
    loss, sharp = np.empty(one.code.size), np.empty(one.code.size)
    model.grid_kernel.final(one.final, loss, sharp)
    gone = one.code == dynsys.Outcome.DIVERGED
    loss[gone] = sharp[gone] = np.nan
    np.testing.assert_array_equal(fin1[0], loss)
    np.testing.assert_array_equal(fin1[1], sharp)
    plan = Plan(mapping=None, model=model, param="lr", values=np.array([1.3]), axes=list(axes),
                base=np.zeros(2), rule=rule, scaling=False, rows=41, path="model")
    np.testing.assert_array_equal(fin1[2], family_mask(plan, one.code, loss))
    assert fin1[2].any() and gone.any()
