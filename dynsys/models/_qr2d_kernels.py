"""The 2-D model's compiled basin loop (its ``grid_kernel`` hook, see :class:`~dynsys.Model`).

The loop is specialised for the 2-D model: the points of a chunk are split into blocks of
``BLOCK`` points run in parallel (``prange`` over blocks); inside a block the live points are kept
packed in contiguous arrays and the time loop runs outside a branch-free, vectorisable loop over
them. Every :data:`~dynsys._stopping.COMPACT` steps the points that stopped are written out and
the others packed again. It stops by the library's one rule (:mod:`dynsys._stopping`), with the
model's residual test ``|z| < tol`` as the cheap per-step convergence test.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import njit
from .._outcomes import Outcome
from .. import _stopping_nb as rule_tests

#: Points per parallel block (their packed state stays in cache).
BLOCK = 2048

_CONVERGED, _PERIODIC, _DIVERGED = int(Outcome.CONVERGED), int(Outcome.PERIODIC), int(
    Outcome.DIVERGED)
_UNDECIDED, _CHAOTIC = int(Outcome.UNDECIDED), int(Outcome.CHAOTIC)


@njit(error_model="numpy")
def _block(a0, b0, geom, rule, ends):
    """Run one block of starts ``(a0, b0)``; ``geom = (lr, eps, target, ztol, jshift)`` in the
    kernel's coordinates; write where each orbit ended into the block's slices of ``ends``."""
    lr, eps, target, ztol, jshift = geom
    code, period, used, final, ftle = ends
    m = a0.shape[0]
    a = a0.copy()
    b = b0.copy()
    ca = a0.copy()
    cb = b0.copy()
    va = np.ones(m)
    vb = np.zeros(m)
    lsum = np.zeros(m)
    idx = np.arange(m)
    cnt = np.zeros(m, dtype=np.int64)
    stop = np.zeros(m, dtype=np.bool_)
    eps2 = eps * eps
    steps = rule.steps
    radius2 = rule.radius2
    cap = rule_tests.checkpoint_interval(rule.max_period)
    every = rule_tests.first_interval(rule.max_period)
    t_lyap = max(steps - rule.lyapunov_steps, 0)
    live = m
    t = 0
    tc = 0
    while live > 0 and t < steps:
        k = rule_tests.block_length(t, steps, t_lyap)
        if t < t_lyap:
            # the hot loop: divergence and the residual test every step, branch-free
            for _ in range(k):
                for i in range(live):
                    x = a[i]
                    y = b[i]
                    z = 0.5 * (x * x - eps * y * y) - target
                    g = lr * z
                    st = stop[i] | (abs(z) < ztol) | rule_tests.diverged(x * x + y * y, radius2)
                    a[i] = x if st else x - g * x
                    b[i] = y if st else y + g * eps * y
                    cnt[i] += not st
                    stop[i] = st
        else:
            # the Lyapunov window: the same loop carrying a tangent vector (renormalised below)
            for _ in range(k):
                for i in range(live):
                    x = a[i]
                    y = b[i]
                    z = 0.5 * (x * x - eps * y * y) - target
                    g = lr * z
                    st = stop[i] | (abs(z) < ztol) | rule_tests.diverged(x * x + y * y, radius2)
                    # DF = I - lr H at x, H = J^T J + z diag(1, -eps)
                    off = lr * eps * x * y
                    j00 = 1.0 - lr * (x * x + z)
                    j11 = 1.0 - lr * (eps2 * y * y - eps * z)
                    u = va[i]
                    v = vb[i]
                    va[i] = u if st else j00 * u + off * v
                    vb[i] = v if st else off * u + j11 * v
                    a[i] = x if st else x - g * x
                    b[i] = y if st else y + g * eps * y
                    cnt[i] += not st
                    stop[i] = st
            for i in range(live):
                nrm = np.sqrt(va[i] * va[i] + vb[i] * vb[i])
                lsum[i] += np.log(nrm)
                va[i] /= nrm
                vb[i] /= nrm
        t += k
        since = t - tc
        w = 0
        for i in range(live):
            x = a[i]
            y = b[i]
            r2 = x * x + y * y
            c = -1
            if stop[i]:
                c = _DIVERGED if rule_tests.diverged(r2, radius2) else _CONVERGED
            else:
                g = lr * (0.5 * (x * x - eps * y * y) - target)
                jump2 = g * g * (x * x + eps2 * y * y)
                dx = x - ca[i]
                dy = y - cb[i]
                if rule_tests.converged(jump2, r2, rule.tol2, jshift):
                    c = _CONVERGED
                elif rule_tests.returned(dx * dx + dy * dy, jump2, rule.rtol2, radius2):
                    c = _PERIODIC
            if c >= 0:
                j = idx[i]
                code[j] = c
                period[j] = 1 if c == _CONVERGED else (since if c == _PERIODIC else 0)
                used[j] = cnt[i]
                final[j, 0] = x
                final[j, 1] = y
                ftle[j] = np.nan
            else:
                a[w] = x
                b[w] = y
                ca[w] = ca[i]
                cb[w] = cb[i]
                va[w] = va[i]
                vb[w] = vb[i]
                lsum[w] = lsum[i]
                idx[w] = idx[i]
                cnt[w] = cnt[i]
                stop[w] = False
                w += 1
        live = w
        if since >= every:
            tc = t
            every = min(2 * every, cap)
            for i in range(live):
                ca[i] = a[i]
                cb[i] = b[i]
    n_lyap = steps - t_lyap
    for i in range(live):
        j = idx[i]
        lam = lsum[i] / n_lyap if n_lyap > 0 else np.nan
        code[j] = _CHAOTIC if lam > rule.chaos_threshold else _UNDECIDED
        period[j] = 0
        used[j] = cnt[i]
        final[j, 0] = a[i]
        final[j, 1] = b[i]
        ftle[j] = lam


@njit(parallel=True, error_model="numpy")
def _sweep(axis1, axis2, scale, geom, rule, ends):
    n2 = axis2.shape[0]
    n = axis1.shape[0] * n2
    code, period, used, final, ftle = ends
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(n, lo + BLOCK)
        a0 = np.empty(hi - lo)
        b0 = np.empty(hi - lo)
        for i in range(lo, hi):
            a0[i - lo] = axis1[i // n2] * scale
            b0[i - lo] = axis2[i % n2] * scale
        _block(a0, b0, geom, rule, (code[lo:hi], period[lo:hi], used[lo:hi], final[lo:hi],
                                    ftle[lo:hi]))


def sweep_grid(eps, target, axis1, axis2, lr, rule, ends, *, scaling=True):
    """Run GD on the 2-D model from the grid ``axis1 x axis2`` (C order) at step size ``lr``,
    stopping by ``rule`` (a :class:`~dynsys.StoppingRule`); fill ``ends`` (an
    :class:`~dynsys._stopping.OrbitEnds` of flat arrays: outcome code, period, iterations used,
    final state ``(n, 2)``, finite-time Lyapunov exponent).

    Convergence is the residual test ``|z| < tol`` every step, and the step test of the rule at
    every check. With ``scaling`` the loop runs on ``u = sqrt(lr) theta`` with step size 1 and
    target ``lr target`` (``docs/math.md``, the scaling symmetry): every test rescales exactly
    (``z -> lr z``, ``|theta|^2 -> |u|^2 / lr``) and the Jacobian is unchanged.
    """
    axis1 = np.ascontiguousarray(axis1, dtype=float)
    axis2 = np.ascontiguousarray(axis2, dtype=float)
    kr = rule.kernel(step_scale=lr)
    if scaling and lr != 1.0:
        s = np.sqrt(lr)
        kr = kr._replace(radius2=kr.radius2 * lr)
        _sweep(axis1, axis2, s, (1.0, eps, lr * target, lr * rule.tol, lr), kr, tuple(ends))
        ends.final[...] /= s
    else:
        _sweep(axis1, axis2, 1.0, (lr, eps, target, rule.tol, 1.0), kr, tuple(ends))


@njit(parallel=True, error_model="numpy")
def _final(final, eps, target, loss, sharpness):
    for i in prange(final.shape[0]):
        a = final[i, 0]
        b = final[i, 1]
        z = 0.5 * (a * a - eps * b * b) - target
        h00 = a * a + z
        h11 = eps * eps * b * b - eps * z
        h01 = -eps * a * b
        mean = 0.5 * (h00 + h11)
        half = 0.5 * (h00 - h11)
        top = mean + np.sqrt(half * half + h01 * h01)
        ok = np.isfinite(top)
        loss[i] = 0.5 * z * z if ok else np.nan
        sharpness[i] = top if ok else np.nan


def final_values(eps, target, final, loss, sharpness):
    """Fill the loss ``z^2 / 2`` and the sharpness (closed form for the 2x2 Hessian
    ``J^T J + z diag(1, -eps)``) at the rows of ``final``; NaN where not finite."""
    _final(np.ascontiguousarray(final), eps, target, loss, sharpness)
