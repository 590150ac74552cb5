"""The 2-D model's compiled basin loop (its ``grid_kernel`` hook, see :class:`~dynsys.Model`).

Every thread runs one worker (``prange`` over the threads) with its own pool of starts (chunks
of :data:`CHUNK` grid points, interleaved over the workers). Before the Lyapunov window a worker
keeps :data:`LANES` starts in a lane set, small arrays that stay in L1, and runs blocks of
:data:`~dynsys._stopping.COMPACT` steps on all of them in a branch-free loop over the lanes
(it vectorises). A stopped lane is frozen, and a frozen state passes the per-step test again,
so no stop flag is kept: a lane stopped in a block exactly when it used fewer steps than its
clock says. After a block one more branch-free pass applies the block-end tests of the stopping
rule (:mod:`dynsys._stopping`) to every lane and refreshes the checkpoints that are due; only
the lanes that stopped or reach the window are then handled one by one, and each such lane is
refilled at once with the next start of the pool, so the lanes never starve. Every lane has its
own clock and checkpoint: each start follows exactly the steps, tests and checkpoints it would
follow alone, so the results are those of the rule bit for bit, whatever the order.

The checkpoint schedule depends on the step only, so all starts that reach the window share
it: they are collected (:data:`WINDOW` at a time) and run to their ends packed, carrying the
tangent vector (:func:`_window`); when the window covers (nearly) the whole budget every start
runs that way from step 0. The short block before the window (when it does not start on a
multiple of ``COMPACT``) runs one start at a time.

On exit the loss, the sharpness and the family test are computed from the final state (fused:
no second pass over the results). Convergence is the model's residual test ``|z| < tol`` every
step and the rule's step test at every check.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import njit, numba
from .._outcomes import Outcome
from .._stopping import COMPACT
from .. import _stopping_nb as rule_tests

#: Lanes per set (a multiple of the 8 double lanes of AVX-512).
LANES = 32
#: Grid points a worker takes from its pool at a time (chunk ``w``, ``w + T``, ... of worker ``w``).
CHUNK = 256
#: Starts run together through the Lyapunov window (kept packed, as they all start at one step).
WINDOW = 2048

_CONVERGED, _PERIODIC, _DIVERGED = int(Outcome.CONVERGED), int(Outcome.PERIODIC), int(
    Outcome.DIVERGED)
_UNDECIDED, _CHAOTIC = int(Outcome.UNDECIDED), int(Outcome.CHAOTIC)

# rows of a lane set's float state F and int state I (and of one point's p, q)
_X, _Y, _CX, _CY, _VA, _VB, _LS = 0, 1, 2, 3, 4, 5, 6
_CNT, _T, _TC, _EV, _IDX = 0, 1, 2, 3, 4
# what the block-end pass found for a lane
_RUN, _STOPPED, _CONV, _CYC, _LEAVE = 0, 1, 2, 3, 4


@njit(error_model="numpy", inline="always")
def _put(out, fin, j, c, per, used, x, y, lam):
    """Write the end of the orbit of start ``j``, with its loss, sharpness and family flag."""
    code, period, usedv, final, ftle, loss, sharp, fam = out
    eps, target, s, sqrt_tol, scale, fused = fin
    code[j] = c
    period[j] = per
    usedv[j] = used
    a = x / s
    b = y / s
    final[j, 0] = a
    final[j, 1] = b
    ftle[j] = lam
    if fused:
        z = 0.5 * (a * a - eps * b * b) - target
        h00 = a * a + z
        h11 = eps * eps * b * b - eps * z
        h01 = -eps * a * b
        mean = 0.5 * (h00 + h11)
        half = 0.5 * (h00 - h11)
        top = mean + np.sqrt(half * half + h01 * h01)
        ok = np.isfinite(top) and c != _DIVERGED
        lo = 0.5 * z * z if ok else np.nan
        loss[j] = lo
        sharp[j] = top if ok else np.nan
        fam[j] = c == _CONVERGED and np.sqrt(2.0 * lo / scale) <= sqrt_tol


@njit(error_model="numpy", inline="always")
def _finish(p, q, kr, t_lyap, out, fin):
    """Write a start that ran out of steps: chaotic or undecided by its Lyapunov exponent."""
    n_lyap = kr.steps - t_lyap
    lam = p[_LS] / n_lyap if n_lyap > 0 else np.nan
    _put(out, fin, q[_IDX], _CHAOTIC if lam > kr.chaos_threshold else _UNDECIDED, 0, q[_CNT],
         p[_X], p[_Y], lam)


@njit(error_model="numpy", inline="always")
def _to_window(p, q, geom, kr, cap, t_lyap, out, fin):
    """Run one start (float state ``p``, int state ``q``) one block at a time until it stops
    (return True, written out) or reaches the Lyapunov window (return False): the rule for one
    point, for the short block before the window (and the budget's end without a window)."""
    lr, eps, target, ztol, jshift = geom
    eps2 = eps * eps
    steps = kr.steps
    radius2 = kr.radius2
    while True:
        t = q[_T]
        if t >= steps:
            _finish(p, q, kr, t_lyap, out, fin)
            return True
        if t >= t_lyap:
            return False
        k = rule_tests.block_length(t, steps, t_lyap)
        x = p[_X]
        y = p[_Y]
        cnt = q[_CNT]
        stop = False
        for _ in range(k):
            z = 0.5 * (x * x - eps * y * y) - target
            g = lr * z
            stop = stop | (abs(z) < ztol) | rule_tests.diverged(x * x + y * y, radius2)
            if stop:
                break
            x = x - g * x
            y = y + g * eps * y
            cnt += 1
        t += k
        p[_X] = x
        p[_Y] = y
        q[_CNT] = cnt
        q[_T] = t
        since = t - q[_TC]
        r2 = x * x + y * y
        c = -1
        if stop:
            c = _DIVERGED if rule_tests.diverged(r2, radius2) else _CONVERGED
        else:
            g = lr * (0.5 * (x * x - eps * y * y) - target)
            jump2 = g * g * (x * x + eps2 * y * y)
            dx = x - p[_CX]
            dy = y - p[_CY]
            if rule_tests.converged(jump2, r2, kr.tol2, jshift):
                c = _CONVERGED
            elif rule_tests.returned(dx * dx + dy * dy, jump2, kr.rtol2, radius2):
                c = _PERIODIC
        if c >= 0:
            _put(out, fin, q[_IDX], c, 1 if c == _CONVERGED else (since if c == _PERIODIC else 0),
                 cnt, x, y, np.nan)
            return True
        if since >= q[_EV]:
            q[_TC] = t
            q[_EV] = min(2 * q[_EV], cap)
            p[_CX] = x
            p[_CY] = y


@njit(error_model="numpy", inline="always")
def _round(F, I, geom, radius2):
    """``COMPACT`` steps of GD on every lane of the main set (stopped and empty lanes frozen:
    a stopped state passes the per-step test again, so no stop flag is kept)."""
    lr, eps, target, ztol, jshift = geom
    for _ in range(COMPACT):
        for i in range(LANES):
            x = F[_X, i]
            y = F[_Y, i]
            z = 0.5 * (x * x - eps * y * y) - target
            g = lr * z
            st = (abs(z) < ztol) | rule_tests.diverged(x * x + y * y, radius2)
            F[_X, i] = x if st else x - g * x
            F[_Y, i] = y if st else y + g * eps * y
            I[_CNT, i] += not st

@njit(error_model="numpy", inline="always")
def _block_end(F, I, found, geom, kr, cap, limit):
    """The rule's block-end tests on every lane, branch-free: ``found[i]`` is what happened
    (stopped in the block, converged by the step test, back at the checkpoint, leaves the set
    because its clock passed ``limit``, or runs on); due checkpoints are refreshed (not on a
    cycle, whose return time ``t - tc`` is its period)."""
    lr, eps, target, ztol, jshift = geom
    eps2 = eps * eps
    radius2 = kr.radius2
    for i in range(LANES):
        x = F[_X, i]
        y = F[_Y, i]
        t = I[_T, i] + COMPACT
        I[_T, i] = t
        r2 = x * x + y * y
        g = lr * (0.5 * (x * x - eps * y * y) - target)
        jump2 = g * g * (x * x + eps2 * y * y)
        dx = x - F[_CX, i]
        dy = y - F[_CY, i]
        conv = rule_tests.converged(jump2, r2, kr.tol2, jshift)
        cyc = rule_tests.returned(dx * dx + dy * dy, jump2, kr.rtol2, radius2)
        f = _RUN
        f = _LEAVE if t > limit else f
        f = _CYC if cyc else f
        f = _CONV if conv else f
        f = _STOPPED if I[_CNT, i] < t else f
        found[i] = f
        ev = I[_EV, i]
        due = (t - I[_TC, i] >= ev) and not cyc
        I[_TC, i] = t if due else I[_TC, i]
        I[_EV, i] = min(2 * ev, cap) if due else ev
        F[_CX, i] = x if due else F[_CX, i]
        F[_CY, i] = y if due else F[_CY, i]


@njit(error_model="numpy", inline="always")
def _empty(F, I, lane, first):
    F[_X, lane] = np.nan
    F[_Y, lane] = np.nan
    F[_CX, lane] = np.nan
    F[_CY, lane] = np.nan
    F[_VA, lane] = 1.0
    F[_VB, lane] = 0.0
    F[_LS, lane] = 0.0
    I[_CNT, lane] = 0
    I[_T, lane] = 0
    I[_TC, lane] = 0
    I[_EV, lane] = first
    I[_IDX, lane] = -1


@njit(error_model="numpy", inline="always")
def _store(F, I, lane, p, q):
    for r in range(7):
        p[r] = F[r, lane]
    for r in range(5):
        q[r] = I[r, lane]


@njit(error_model="numpy", inline="always")
def _handle(F, I, found, lane, kr, out, fin):
    """Write out lane ``lane`` if the block-end pass found it stopped; return whether it did."""
    x = F[_X, lane]
    y = F[_Y, lane]
    f = found[lane]
    j = I[_IDX, lane]
    cnt = I[_CNT, lane]
    if f == _STOPPED:
        if rule_tests.diverged(x * x + y * y, kr.radius2):
            _put(out, fin, j, _DIVERGED, 0, cnt, x, y, np.nan)
        else:
            _put(out, fin, j, _CONVERGED, 1, cnt, x, y, np.nan)
        return True
    if f == _CONV:
        _put(out, fin, j, _CONVERGED, 1, cnt, x, y, np.nan)
        return True
    if f == _CYC:
        _put(out, fin, j, _PERIODIC, I[_T, lane] - I[_TC, lane], cnt, x, y, np.nan)
        return True
    return False


@njit(error_model="numpy")
def _window(W, m, t0, tc0, ev0, geom, kr, cap, t_lyap, out, fin):
    """Run ``m`` starts that are all at step ``t0`` (so they share the checkpoint time ``tc0``
    and interval ``ev0``, which depend on the step only) to their ends, kept packed: the loop
    for the Lyapunov window, where each point carries a tangent vector. ``W`` holds the
    points' ``(x, y, cx, cy)``, iterations used and indices, and work arrays."""
    P, Q, va, vb, lsum, stop = W
    lr, eps, target, ztol, jshift = geom
    a = P[_X]
    b = P[_Y]
    ca = P[_CX]
    cb = P[_CY]
    cnt = Q[_CNT]
    idx = Q[_IDX]
    eps2 = eps * eps
    steps = kr.steps
    radius2 = kr.radius2
    for i in range(m):
        va[i] = 1.0
        vb[i] = 0.0
        lsum[i] = 0.0
        stop[i] = False
    every = ev0
    live = m
    t = t0
    tc = tc0
    while live > 0 and t < steps:
        k = rule_tests.block_length(t, steps, t_lyap)
        if t < t_lyap:
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
                if rule_tests.converged(jump2, r2, kr.tol2, jshift):
                    c = _CONVERGED
                elif rule_tests.returned(dx * dx + dy * dy, jump2, kr.rtol2, radius2):
                    c = _PERIODIC
            if c >= 0:
                _put(out, fin, idx[i], c,
                     1 if c == _CONVERGED else (since if c == _PERIODIC else 0), cnt[i], x, y,
                     np.nan)
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
        lam = lsum[i] / n_lyap if n_lyap > 0 else np.nan
        _put(out, fin, idx[i], _CHAOTIC if lam > kr.chaos_threshold else _UNDECIDED, 0, cnt[i],
             a[i], b[i], lam)


@njit(error_model="numpy", inline="always")
def _push(W, m, p, q):
    """Append a start to the window batch; return the new count."""
    P, Q = W[0], W[1]
    for r in range(4):
        P[r, m] = p[r]
    Q[_CNT, m] = q[_CNT]
    Q[_IDX, m] = q[_IDX]
    return m + 1


@njit(error_model="numpy", inline="always")
def _take(pool, nthreads, n, n2):
    """Return the next start of a worker's pool, or -1; ``pool[3:5]`` is its (row, column),
    walked without a division per start."""
    if pool[0] >= pool[1]:
        lo = pool[2] * CHUNK
        if lo >= n:
            return -1
        pool[0] = lo
        pool[1] = min(lo + CHUNK, n)
        pool[2] += nthreads
        pool[3] = lo // n2
        pool[4] = lo % n2
    else:
        pool[4] += 1
        if pool[4] == n2:
            pool[4] = 0
            pool[3] += 1
    j = pool[0]
    pool[0] += 1
    return j


@njit(error_model="numpy")
def _worker(w, nthreads, axis1, axis2, scale, geom, kr, out, fin):
    n2 = axis2.shape[0]
    n = axis1.shape[0] * n2
    steps = kr.steps
    cap = rule_tests.checkpoint_interval(kr.max_period)
    first = rule_tests.first_interval(kr.max_period)
    t_lyap = max(steps - kr.lyapunov_steps, 0)
    pool = np.array([0, 0, w, 0, 0], dtype=np.int64)
    W = (np.empty((4, WINDOW)), np.empty((5, WINDOW), dtype=np.int64), np.empty(WINDOW),
         np.empty(WINDOW), np.empty(WINDOW), np.empty(WINDOW, dtype=np.bool_))
    if t_lyap < COMPACT:
        # the window (nearly) covers the budget: every start runs packed from step 0
        m = 0
        while True:
            j = _take(pool, nthreads, n, n2)
            if j >= 0:
                x0 = axis1[pool[3]] * scale
                y0 = axis2[pool[4]] * scale
                W[0][_X, m] = x0
                W[0][_Y, m] = y0
                W[0][_CX, m] = x0
                W[0][_CY, m] = y0
                W[1][_CNT, m] = 0
                W[1][_IDX, m] = j
                m += 1
            if m == WINDOW or (j < 0 and m > 0):
                _window(W, m, 0, 0, first, geom, kr, cap, t_lyap, out, fin)
                m = 0
            if j < 0:
                return
    p = np.empty(7)
    q = np.empty(5, dtype=np.int64)
    F = np.empty((7, LANES))
    I = np.empty((5, LANES), dtype=np.int64)
    found = np.empty(LANES, dtype=np.int64)
    for lane in range(LANES):
        _empty(F, I, lane, first)
    m = 0              # starts waiting for the window, all at step t_lyap
    tc_w = 0
    ev_w = first
    limit = t_lyap - COMPACT
    active = 0
    lane = 0
    refill = True
    while True:
        # give the free lanes the next starts of the pool
        while refill and lane < LANES:
            j = _take(pool, nthreads, n, n2)
            if j < 0:
                refill = False
                break
            x0 = axis1[pool[3]] * scale
            y0 = axis2[pool[4]] * scale
            F[_X, lane] = x0
            F[_Y, lane] = y0
            F[_CX, lane] = x0
            F[_CY, lane] = y0
            I[_CNT, lane] = 0
            I[_T, lane] = 0
            I[_TC, lane] = 0
            I[_EV, lane] = first
            I[_IDX, lane] = j
            active += 1
            lane += 1
            while lane < LANES and I[_IDX, lane] >= 0:
                lane += 1
        if active == 0:
            break
        _round(F, I, geom, kr.radius2)
        _block_end(F, I, found, geom, kr, cap, limit)
        for i in range(LANES):
            if found[i] == _RUN or I[_IDX, i] < 0:
                continue
            if not _handle(F, I, found, i, kr, out, fin):
                _store(F, I, i, p, q)
                if not _to_window(p, q, geom, kr, cap, t_lyap, out, fin):
                    tc_w = q[_TC]
                    ev_w = q[_EV]
                    m = _push(W, m, p, q)
                    if m == WINDOW:
                        _window(W, m, t_lyap, tc_w, ev_w, geom, kr, cap, t_lyap, out, fin)
                        m = 0
            _empty(F, I, i, first)
            active -= 1
        lane = 0
        while lane < LANES and I[_IDX, lane] >= 0:
            lane += 1
    if m > 0:
        _window(W, m, t_lyap, tc_w, ev_w, geom, kr, cap, t_lyap, out, fin)


@njit(parallel=True, error_model="numpy")
def _sweep(nthreads, axis1, axis2, scale, geom, rule, out, fin):
    for w in prange(nthreads):
        _worker(w, nthreads, axis1, axis2, scale, geom, rule, out, fin)


def sweep_grid(eps, target, axis1, axis2, lr, rule, ends, *, scaling=True, finals=None,
               scale=1.0):
    """Run GD on the 2-D model from the grid ``axis1 x axis2`` (C order) at step size ``lr``,
    stopping by ``rule`` (a :class:`~dynsys.StoppingRule`); fill ``ends`` (an
    :class:`~dynsys._stopping.OrbitEnds` of flat arrays: outcome code, period, iterations used,
    final state ``(n, 2)``, finite-time Lyapunov exponent) and, when ``finals`` is given (a
    :class:`~dynsys.models._base.FinalValues`), the loss, the sharpness and the family test
    (converged with residual at most ``sqrt(tol)``; ``scale`` is the model's loss scale) at the
    final states.

    Convergence is the residual test ``|z| < tol`` every step, and the step test of the rule at
    every check. With ``scaling`` the loop runs on ``u = sqrt(lr) theta`` with step size 1 and
    target ``lr target`` (``docs/math.md``, the scaling symmetry): every test rescales exactly
    (``z -> lr z``, ``|theta|^2 -> |u|^2 / lr``) and the Jacobian is unchanged.
    """
    axis1 = np.ascontiguousarray(axis1, dtype=float)
    axis2 = np.ascontiguousarray(axis2, dtype=float)
    kr = rule.kernel(step_scale=lr)
    fused = finals is not None
    if fused:
        loss, sharp, fam = finals
    else:
        loss, sharp, fam = np.empty(0), np.empty(0), np.empty(0, dtype=np.bool_)
    out = (*tuple(ends), loss, sharp, fam)
    if scaling and lr != 1.0:
        s = np.sqrt(lr)
        kr = kr._replace(radius2=kr.radius2 * lr)
        geom, start = (1.0, eps, lr * target, lr * rule.tol, lr), s
    else:
        geom, s, start = (lr, eps, target, rule.tol, 1.0), 1.0, 1.0
    fin = (float(eps), float(target), float(s), float(np.sqrt(rule.tol)), float(scale), fused)
    _sweep(numba.get_num_threads(), axis1, axis2, start, geom, kr, out, fin)


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
