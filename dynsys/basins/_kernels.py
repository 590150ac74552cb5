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

from .._numba import njit, numba
from .._outcomes import Outcome
from .._stopping import COMPACT
from .. import _stopping_nb as rule_tests

#: Least points per thread in one call of :func:`map_sweep` (see ``_sweep._pieces``).
BLOCK = 2048
#: Orbits a worker runs side by side (its lane set; each lane refilled as its orbit stops).
LANES = 16
#: Starts a worker takes from its pool at a time (chunk ``w``, ``w + T``, ... of worker ``w``).
CHUNK = 256

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


@njit(error_model="numpy", cache=False, inline="always")   # takes a dispatcher
def _put(ends, j, c, per, cnt, X, i, lam):
    """Write the end of the orbit of start ``j`` (held in lane ``i`` of ``X``)."""
    code, period, used, final, ftle = ends
    code[j] = c
    period[j] = per
    used[j] = cnt
    for r in range(X.shape[1]):
        final[j, r] = X[i, r]
    ftle[j] = lam


@njit(error_model="numpy", inline="always")
def _take(pool, nthreads, n):
    """Return the next start of a worker's pool (chunks ``w``, ``w + T``, ... of ``CHUNK``
    points), or -1."""
    if pool[0] >= pool[1]:
        lo = pool[2] * CHUNK
        if lo >= n:
            return -1
        pool[0] = lo
        pool[1] = min(lo + CHUNK, n)
        pool[2] += nthreads
    j = pool[0]
    pool[0] += 1
    return j


@njit(error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _map_worker(w, nthreads, step, jac, has_jac, x0, p, rule, ends):
    n, d = x0.shape
    steps = rule.steps
    radius2 = rule.radius2
    tol2 = rule.tol2
    cap = rule_tests.checkpoint_interval(rule.max_period)
    first = rule_tests.first_interval(rule.max_period)
    t_lyap = max(steps - rule.lyapunov_steps, 0)
    n_lyap = steps - t_lyap
    X = np.empty((LANES, d))          # states
    C = np.empty((LANES, d))          # checkpoints
    V = np.empty((LANES, d))          # tangent vectors
    lsum = np.zeros(LANES)
    cnt = np.zeros(LANES, dtype=np.int64)      # iterations used
    T = np.zeros(LANES, dtype=np.int64)        # clock
    TC = np.zeros(LANES, dtype=np.int64)       # checkpoint time
    EV = np.zeros(LANES, dtype=np.int64)       # checkpoint interval
    IDX = np.full(LANES, -1, dtype=np.int64)   # start held (-1: free lane)
    KB = np.zeros(LANES, dtype=np.int64)       # length of the lane's current block
    LIM = np.zeros(LANES, dtype=np.int64)      # steps it still takes in it (0: stopped)
    STP = np.zeros(LANES, dtype=np.int64)      # 1 + outcome of a stop in the block
    xb = np.empty(d)
    yb = np.empty(d)
    vb = np.empty(d)
    jbuf = np.empty((d, d))
    xh = np.empty(d)
    yh = np.empty(d)
    pool = np.array([0, 0, w], dtype=np.int64)
    active = 0
    refill = True
    for i in range(LANES):
        if not refill:
            break
        j = _take(pool, nthreads, n)
        if j < 0:
            refill = False
            break
        for c in range(d):
            X[i, c] = x0[j, c]
            C[i, c] = x0[j, c]
            V[i, c] = 0.0
        V[i, 0] = 1.0
        lsum[i] = 0.0
        cnt[i] = 0
        T[i] = 0
        TC[i] = 0
        EV[i] = first
        IDX[i] = j
        active += 1
    while active > 0:
        for i in range(LANES):
            k = rule_tests.block_length(T[i], steps, t_lyap) if IDX[i] >= 0 else 0
            KB[i] = k
            LIM[i] = k
            STP[i] = 0
        # one block of each lane's own length, lanes interleaved
        for s in range(COMPACT):
            for i in range(LANES):
                if s >= LIM[i]:
                    continue
                r2 = 0.0
                for c in range(d):
                    xc = X[i, c]
                    xb[c] = xc
                    r2 += xc * xc
                if rule_tests.diverged(r2, radius2):
                    STP[i] = 1 + _DIVERGED
                    LIM[i] = 0
                    continue
                step(xb, p, yb)
                jump2 = 0.0
                for c in range(d):
                    jump2 += (yb[c] - xb[c]) * (yb[c] - xb[c])
                if rule_tests.converged(jump2, r2, tol2):
                    STP[i] = 1 + _CONVERGED
                    LIM[i] = 0
                    continue
                if T[i] >= t_lyap:
                    for c in range(d):
                        vb[c] = V[i, c]
                    lsum[i] += _tangent(step, jac, has_jac, xb, yb, p, vb, jbuf, xh, yh)
                    for c in range(d):
                        V[i, c] = vb[c]
                for c in range(d):
                    X[i, c] = yb[c]
                cnt[i] += 1
        # the block-end tests of each lane; a lane that stops is written out and refilled
        for i in range(LANES):
            j = IDX[i]
            if j < 0:
                continue
            t = T[i] + KB[i]
            T[i] = t
            since = t - TC[i]
            oc = -1
            if STP[i] != 0:
                oc = STP[i] - 1
            else:
                for c in range(d):
                    xb[c] = X[i, c]
                step(xb, p, yb)
                jump2 = 0.0
                back2 = 0.0
                for c in range(d):
                    jump2 += (yb[c] - xb[c]) * (yb[c] - xb[c])
                    back2 += (xb[c] - C[i, c]) * (xb[c] - C[i, c])
                if rule_tests.returned(back2, jump2, rule.rtol2, radius2):
                    oc = _PERIODIC
            if oc >= 0:
                _put(ends, j, oc, 1 if oc == _CONVERGED else (since if oc == _PERIODIC else 0),
                     cnt[i], X, i, np.nan)
            elif t >= steps:
                lam = lsum[i] / n_lyap if n_lyap > 0 else np.nan
                _put(ends, j, _CHAOTIC if lam > rule.chaos_threshold else _UNDECIDED, 0,
                     cnt[i], X, i, lam)
            else:
                if since >= EV[i]:
                    TC[i] = t
                    EV[i] = min(2 * EV[i], cap)
                    for c in range(d):
                        C[i, c] = X[i, c]
                continue
            # the lane is free: the next start of the pool
            IDX[i] = -1
            active -= 1
            if refill:
                j = _take(pool, nthreads, n)
                if j < 0:
                    refill = False
                else:
                    for c in range(d):
                        X[i, c] = x0[j, c]
                        C[i, c] = x0[j, c]
                        V[i, c] = 0.0
                    V[i, 0] = 1.0
                    lsum[i] = 0.0
                    cnt[i] = 0
                    T[i] = 0
                    TC[i] = 0
                    EV[i] = first
                    IDX[i] = j
                    active += 1


@njit(parallel=True, error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
def _map_sweep(nthreads, step, jac, has_jac, x0, p, rule, ends):
    for w in prange(nthreads):
        _map_worker(w, nthreads, step, jac, has_jac, x0, p, rule, ends)


def map_sweep(kernel, x0, p, rule, ends, step_scale=1.0):
    """Iterate the compiled map ``kernel`` (a :class:`~dynsys.MapKernel`) with parameter vector
    ``p`` from every row of ``x0`` (n, dim), stopping by ``rule`` (a
    :class:`~dynsys.StoppingRule`); fill ``ends`` (an :class:`~dynsys._stopping.OrbitEnds` of
    flat arrays); ``step_scale`` is the map's (see :class:`~dynsys.StoppingRule`). The
    tangent vector of the Lyapunov window uses ``kernel.jacobian`` when there is one, else a
    forward difference of ``kernel.step``."""
    has_jac = kernel.jacobian is not None
    _map_sweep(numba.get_num_threads(), kernel.step,
               kernel.jacobian if has_jac else kernel.step, has_jac,
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


