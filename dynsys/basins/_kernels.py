"""Compiled hot loops of the basin sweep.

Every loop follows the plan of ``shared/bench/basins_ref.c``: the points of a chunk are split
into blocks of ``BLOCK`` points run in parallel (``prange`` over blocks); inside a block the live
points are kept packed in contiguous arrays and the time loop runs outside a branch-free,
vectorisable loop over them. Every ``COMPACT`` steps the points that stopped are written out and
the others packed again.

Stopping rules (``used`` counts the iterations applied before the rule fired):

* every step, on the current state ``x_t``: diverged when ``|x_t|^2 > radius^2`` or not finite;
  for the 2-D model converged when ``|z(x_t)| < tol`` (the rule of the C reference); for other
  maps converged when ``|F(x_t) - x_t|^2 <= tol^2 (1 + |x_t|^2)``;
* at the end of every block of ``COMPACT`` steps (cheap: once per block, not per step): the
  2-D model's jump rule above (it catches critical points with non-zero residual), and cycles:
  ``x_t`` is back at the state saved at the last checkpoint ``t_c`` to within ``cycle_rtol``
  times the one-step jump ``|F(x_t) - x_t|`` (which must stay below ``2 radius``). The relative
  test separates a cycle (the jump stays finite while the return distance shrinks) from an
  oscillating approach to a fixed point (both shrink together). ``t - t_c`` is then a multiple
  of the period; :func:`reduce_cycles` finds the minimal one. The checkpoint is refreshed
  after 64 steps, then after intervals doubling up to :func:`checkpoint_interval`
  (``16 max_period``): short periods are caught early, and every period up to ``max_period``
  divides some ``t - t_c`` of the longest interval.

Points still running in the last ``lyapunov_steps`` iterations carry a tangent vector; the mean
log growth rate over that window is their finite-time Lyapunov exponent (``ftle``), and a value
above ``threshold`` labels them chaotic.

Stop codes inside the loops: 0 running, 1 converged, 2 periodic, 3 diverged (outcome = code - 1).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import njit

#: Points per parallel block (their packed state stays in cache).
BLOCK = 2048
#: Compaction interval in steps (as in the C reference).
COMPACT = 16

CONVERGED, PERIODIC, DIVERGED, UNDECIDED, CHAOTIC = 0, 1, 2, 3, 4


@njit(error_model="numpy")
def checkpoint_interval(max_period):
    """Return the longest interval between cycle-detection checkpoints: ``COMPACT * max_period``
    (block ends fall at multiples of ``COMPACT`` after a checkpoint, and ``p`` divides
    ``COMPACT * p``)."""
    return COMPACT * max_period


@njit(error_model="numpy")
def _block_length(t, steps, t_lyap):
    k = min(COMPACT, steps - t)
    if t < t_lyap and t + k > t_lyap:
        k = t_lyap - t
    return k


# -- the 2-D model: a dedicated kernel ----------------------------------------------------------
@njit(error_model="numpy")
def _qr2d_block(a0, b0, lr, eps, target, steps, tol, radius2, max_period, rtol2, lyap_steps,
                threshold, code, period, used, final, ftle, jtol2, jshift):
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
    cap = checkpoint_interval(max_period)
    every = min(4 * COMPACT, cap)
    t_lyap = max(steps - lyap_steps, 0)
    live = m
    t = 0
    tc = 0
    while live > 0 and t < steps:
        k = _block_length(t, steps, t_lyap)
        if t < t_lyap:
            # the hot loop: the stopping rules of the C reference, branch-free
            for _ in range(k):
                for i in range(live):
                    x = a[i]
                    y = b[i]
                    z = 0.5 * (x * x - eps * y * y) - target
                    g = lr * z
                    st = stop[i] | (abs(z) < tol) | (not (x * x + y * y <= radius2))
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
                    st = stop[i] | (abs(z) < tol) | (not (x * x + y * y <= radius2))
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
            c = 0
            if stop[i]:
                c = 3 if not (r2 <= radius2) else 1
            else:
                g = lr * (0.5 * (x * x - eps * y * y) - target)
                jump2 = g * g * (x * x + eps2 * y * y)
                dx = x - ca[i]
                dy = y - cb[i]
                if jump2 <= jtol2 * (jshift + r2):
                    c = 1
                elif dx * dx + dy * dy <= rtol2 * jump2 and jump2 <= 4.0 * radius2:
                    c = 2
            if c != 0:
                j = idx[i]
                code[j] = c - 1
                period[j] = 1 if c == 1 else (since if c == 2 else 0)
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
        code[j] = CHAOTIC if lam > threshold else UNDECIDED
        period[j] = 0
        used[j] = cnt[i]
        final[j, 0] = a[i]
        final[j, 1] = b[i]
        ftle[j] = lam


@njit(parallel=True, error_model="numpy")
def qr2d_sweep(axis1, axis2, scale, lr, eps, target, steps, tol, radius, max_period, cycle_rtol,
               lyap_steps, threshold, code, period, used, final, ftle, jtol, jshift):
    """Run gradient descent on the 2-D model from the grid ``axis1 x axis2`` (C order, every
    coordinate multiplied by ``scale``).

    Fills ``code`` (outcome), ``period``, ``used`` (iterations applied), ``final`` (n, 2) (the
    state where the point stopped) and ``ftle`` (NaN unless the point ran through the Lyapunov
    window). Convergence: ``|z| < tol`` or ``|F(x) - x|^2 <= jtol^2 (jshift + |x|^2)``.
    """
    n2 = axis2.shape[0]
    n = axis1.shape[0] * n2
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(n, lo + BLOCK)
        a0 = np.empty(hi - lo)
        b0 = np.empty(hi - lo)
        for i in range(lo, hi):
            a0[i - lo] = axis1[i // n2] * scale
            b0[i - lo] = axis2[i % n2] * scale
        _qr2d_block(a0, b0, lr, eps, target, steps, tol, radius * radius,
                    max_period, cycle_rtol * cycle_rtol, lyap_steps, threshold, code[lo:hi],
                    period[lo:hi], used[lo:hi], final[lo:hi], ftle[lo:hi], jtol * jtol, jshift)


# -- any map with a numba kernel ----------------------------------------------------------------
@njit(error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _tangent(step, jac, has_jac, x, y, p, v, jbuf, xh, yh):
    """Replace ``v`` by ``DF(x) v`` normalised; return log of its norm (``y = F(x)`` given)."""
    d = x.shape[0]
    if has_jac:
        jac(x, p, jbuf)
        for r in range(d):
            s = 0.0
            for c in range(d):
                s += jbuf[r, c] * v[c]
            yh[r] = s
    else:
        xn = 0.0
        for r in range(d):
            xn += x[r] * x[r]
        h = 1e-7 * (1.0 + np.sqrt(xn))
        for r in range(d):
            xh[r] = x[r] + h * v[r]
        step(xh, p, yh)
        for r in range(d):
            yh[r] = (yh[r] - y[r]) / h
    nrm = 0.0
    for r in range(d):
        nrm += yh[r] * yh[r]
    nrm = np.sqrt(nrm)
    for r in range(d):
        v[r] = yh[r] / nrm
    return np.log(nrm)


@njit(error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _map_block(step, jac, has_jac, x0, p, steps, tol, radius2, max_period, rtol2, lyap_steps,
               threshold, code, period, used, final, ftle):
    m, d = x0.shape
    xs = x0.copy()
    cs = x0.copy()
    vs = np.zeros((m, d))
    vs[:, 0] = 1.0
    lsum = np.zeros(m)
    idx = np.arange(m)
    cnt = np.zeros(m, dtype=np.int64)
    stp = np.zeros(m, dtype=np.int64)
    y = np.empty(d)
    jbuf = np.empty((d, d))
    xh = np.empty(d)
    yh = np.empty(d)
    tol2 = tol * tol
    cap = checkpoint_interval(max_period)
    every = min(4 * COMPACT, cap)
    t_lyap = max(steps - lyap_steps, 0)
    live = m
    t = 0
    tc = 0
    while live > 0 and t < steps:
        k = _block_length(t, steps, t_lyap)
        tangent = t >= t_lyap
        for _ in range(k):
            for i in range(live):
                if stp[i] != 0:
                    continue
                x = xs[i]
                r2 = 0.0
                for c in range(d):
                    r2 += x[c] * x[c]
                if not (r2 <= radius2):
                    stp[i] = 3
                    continue
                step(x, p, y)
                jump2 = 0.0
                for c in range(d):
                    jump2 += (y[c] - x[c]) * (y[c] - x[c])
                if jump2 <= tol2 * (1.0 + r2):
                    stp[i] = 1
                    continue
                if tangent:
                    lsum[i] += _tangent(step, jac, has_jac, x, y, p, vs[i], jbuf, xh, yh)
                for c in range(d):
                    x[c] = y[c]
                cnt[i] += 1
        t += k
        since = t - tc
        w = 0
        for i in range(live):
            if stp[i] == 0:
                x = xs[i]
                step(x, p, y)
                jump2 = 0.0
                back2 = 0.0
                for c in range(d):
                    jump2 += (y[c] - x[c]) * (y[c] - x[c])
                    back2 += (x[c] - cs[i, c]) * (x[c] - cs[i, c])
                if back2 <= rtol2 * jump2 and jump2 <= 4.0 * radius2:
                    stp[i] = 2
            if stp[i] != 0:
                j = idx[i]
                code[j] = stp[i] - 1
                period[j] = 1 if stp[i] == 1 else (since if stp[i] == 2 else 0)
                used[j] = cnt[i]
                for c in range(d):
                    final[j, c] = xs[i, c]
                ftle[j] = np.nan
            else:
                for c in range(d):
                    xs[w, c] = xs[i, c]
                    cs[w, c] = cs[i, c]
                    vs[w, c] = vs[i, c]
                lsum[w] = lsum[i]
                idx[w] = idx[i]
                cnt[w] = cnt[i]
                stp[w] = 0
                w += 1
        live = w
        if since >= every:
            tc = t
            every = min(2 * every, cap)
            for i in range(live):
                for c in range(d):
                    cs[i, c] = xs[i, c]
    n_lyap = steps - t_lyap
    for i in range(live):
        j = idx[i]
        lam = lsum[i] / n_lyap if n_lyap > 0 else np.nan
        code[j] = CHAOTIC if lam > threshold else UNDECIDED
        period[j] = 0
        used[j] = cnt[i]
        for c in range(d):
            final[j, c] = xs[i, c]
        ftle[j] = lam


@njit(parallel=True, error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def map_sweep(step, jac, has_jac, x0, p, steps, tol, radius, max_period, cycle_rtol, lyap_steps,
              threshold, code, period, used, final, ftle):
    """Iterate the compiled map ``step`` from every row of ``x0`` (n, dim); outputs as
    :func:`qr2d_sweep`. ``jac`` is used for the tangent vector when ``has_jac``, else a
    forward difference of ``step``."""
    n = x0.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(n, lo + BLOCK)
        _map_block(step, jac, has_jac, x0[lo:hi], p, steps, tol, radius * radius, max_period,
                   cycle_rtol * cycle_rtol, lyap_steps, threshold, code[lo:hi], period[lo:hi],
                   used[lo:hi], final[lo:hi], ftle[lo:hi])


@njit(error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def reduce_cycles(step, x, p, detected, rtol, period, rep):
    """Find the minimal period and a canonical point of the cycles through the rows of ``x``.

    ``detected[i]`` is a return time found by the sweep (a multiple of the minimal period).
    Writes ``period[i]``, the smallest divisor ``q`` of it with ``|F^q(x) - x| <= rtol |F(x) - x|``,
    and ``rep[i]``, the lexicographically smallest of the ``q`` points of the cycle.
    """
    n, d = x.shape
    pmax = 1
    for i in range(n):
        pmax = max(pmax, detected[i])
    orbit = np.empty((pmax + 1, d))
    y = np.empty(d)
    for i in range(n):
        big = detected[i]
        orbit[0, :] = x[i]
        for k in range(big):
            step(orbit[k], p, y)
            orbit[k + 1, :] = y
        jump2 = 0.0
        for c in range(d):
            jump2 += (orbit[1, c] - orbit[0, c]) ** 2
        q = big
        for cand in range(1, big):
            if big % cand != 0:
                continue
            back2 = 0.0
            for c in range(d):
                back2 += (orbit[cand, c] - orbit[0, c]) ** 2
            if back2 <= rtol * rtol * jump2:
                q = cand
                break
        period[i] = q
        best = 0
        for k in range(1, q):
            for c in range(d):
                if orbit[k, c] < orbit[best, c]:
                    best = k
                    break
                if orbit[k, c] > orbit[best, c]:
                    break
        rep[i, :] = orbit[best]


@njit(parallel=True, error_model="numpy")
def qr2d_final(final, eps, target, loss, sharpness):
    """Fill the loss ``z^2 / 2`` and the sharpness (top Hessian eigenvalue, closed form for the
    2x2 Hessian ``J^T J + z diag(1, -eps)``) at the rows of ``final``; NaN where not finite."""
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
