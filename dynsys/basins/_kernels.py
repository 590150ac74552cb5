"""Compiled hot loops of the basin sweep for any map with a numba kernel.

The points of a chunk are split into blocks of ``BLOCK`` points run in parallel (``prange`` over
blocks); inside a block the live points are kept packed, and every
:data:`~dynsys._stopping.COMPACT` steps the points that stopped are written out and the others
packed again. The loop stops by the library's one rule (:mod:`dynsys._stopping`): divergence and
the step test every step, returns to the checkpoint (cycles) at every check, the Lyapunov window
at the end of the budget. Models may bring a loop of their own (the ``grid_kernel`` hook, e.g. the
2-D model's in :mod:`dynsys.models._qr2d_kernels`); the numpy fallback in :mod:`._sweep` runs the
same rule on whole batches.
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
def _map_block(step, jac, has_jac, x0, p, rule, ends):
    code, period, used, final, ftle = ends
    steps = rule.steps
    radius2 = rule.radius2
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
    cap = rule_tests.checkpoint_interval(rule.max_period)
    every = rule_tests.first_interval(rule.max_period)
    t_lyap = max(steps - rule.lyapunov_steps, 0)
    live = m
    t = 0
    tc = 0
    while live > 0 and t < steps:
        k = rule_tests.block_length(t, steps, t_lyap)
        tangent = t >= t_lyap
        for _ in range(k):
            for i in range(live):
                if stp[i] != 0:
                    continue
                x = xs[i]
                r2 = 0.0
                for c in range(d):
                    r2 += x[c] * x[c]
                if rule_tests.diverged(r2, radius2):
                    stp[i] = 1 + _DIVERGED
                    continue
                step(x, p, y)
                jump2 = 0.0
                for c in range(d):
                    jump2 += (y[c] - x[c]) * (y[c] - x[c])
                if rule_tests.converged(jump2, r2, rule.tol2):
                    stp[i] = 1 + _CONVERGED
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
                if rule_tests.returned(back2, jump2, rule.rtol2, radius2):
                    stp[i] = 1 + _PERIODIC
            if stp[i] != 0:
                j = idx[i]
                c = stp[i] - 1
                code[j] = c
                period[j] = 1 if c == _CONVERGED else (since if c == _PERIODIC else 0)
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
        code[j] = _CHAOTIC if lam > rule.chaos_threshold else _UNDECIDED
        period[j] = 0
        used[j] = cnt[i]
        for c in range(d):
            final[j, c] = xs[i, c]
        ftle[j] = lam


@njit(parallel=True, error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _map_sweep(step, jac, has_jac, x0, p, rule, ends):
    code, period, used, final, ftle = ends
    n = x0.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(n, lo + BLOCK)
        _map_block(step, jac, has_jac, x0[lo:hi], p, rule,
                   (code[lo:hi], period[lo:hi], used[lo:hi], final[lo:hi], ftle[lo:hi]))


def map_sweep(kernel, x0, p, rule, ends, step_scale=1.0):
    """Iterate the compiled map ``kernel`` (a :class:`~dynsys.MapKernel`) with parameter vector
    ``p`` from every row of ``x0`` (n, dim), stopping by ``rule`` (a
    :class:`~dynsys.StoppingRule`); fill ``ends`` (an :class:`~dynsys._stopping.OrbitEnds` of
    flat arrays); ``step_scale`` is the map's (see :class:`~dynsys.StoppingRule`). The
    tangent vector of the Lyapunov window uses ``kernel.jacobian`` when there is one, else a
    forward difference of ``kernel.step``."""
    has_jac = kernel.jacobian is not None
    _map_sweep(kernel.step, kernel.jacobian if has_jac else kernel.step, has_jac,
               np.ascontiguousarray(x0, dtype=float), p, rule.kernel(step_scale), tuple(ends))


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


