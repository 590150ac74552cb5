"""Compiled hot loops of the basin sweep for any map with a numba kernel.

Every thread runs one worker (``prange`` over the threads) with its own pool of starts (chunks
of :data:`CHUNK` rows of the starts, interleaved over the workers), the design of the 2-D model's
loop (:mod:`dynsys.models._qr2d_kernels`). A worker keeps :data:`LANES` starts in a lane set and
runs blocks of :data:`~dynsys._stopping.COMPACT` steps on all of them, lanes interleaved, with no
branch in the step loop: a stopped lane is frozen, and a frozen state stops again at the same
test, so no stop flag is kept (a lane stopped in a block exactly when it used fewer steps than
its clock says). After a block the block-end tests run on each lane; a lane that stopped is
written out and refilled at once with the next start of the pool, so the lanes never starve. A
start whose next block is not a whole one before the Lyapunov window (the short block before the
window, the window itself with its tangent vector) runs alone from there to its end
(``_alone``). Every lane has its own clock and checkpoint, so each start follows exactly the steps,
tests and checkpoints it would follow alone: the results are those of the rule
(:mod:`dynsys._stopping`) bit for bit, whatever the order and the number of threads.

The map's step is called on small scratch arrays (a view of a lane's row would cost two atomic
reference-count updates per call), and the loops are compiled for each state dimension, so
that the loops over components unroll (:func:`_loops`). A kernel with a tuple step (GD on a
user gradient that numba compiles for a tuple, :class:`~dynsys.systems.AutoKernel`'s
``tstep``) runs the same tests on registers, with no scratch array, so the loop over the lanes
vectorises; its Lyapunov window takes one log per block of the product of the step norms
(:func:`_tuple_block`). Models may bring a loop of their own
(the ``grid_kernel`` hook); the numpy fallback in :mod:`._sweep` runs the same rule on whole
batches.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._numba import njit, numba
from .._outcomes import Outcome
from .._scratch import stack_array
from .._stopping import COMPACT
from .. import _stopping_nb as rule_tests

#: Least points per thread in one call of :func:`map_sweep` (see ``_sweep._pieces``).
BLOCK = 2048
#: Orbits a worker runs side by side (its lane set; each lane refilled as its orbit stops).
LANES = 16
#: Starts a worker takes from its pool at a time (chunk ``w``, ``w + T``, ... of worker ``w``).
CHUNK = 256
#: Most lanes a worker parks at the Lyapunov window (see ``worker`` in :func:`_loops`; about
#: 1.5 MiB for D = 2); a lane that reaches the window when the park is full runs on in place.
PARK = 1 << 14

_CONVERGED, _PERIODIC, _DIVERGED = int(Outcome.CONVERGED), int(Outcome.PERIODIC), int(
    Outcome.DIVERGED)
_UNDECIDED, _CHAOTIC = int(Outcome.UNDECIDED), int(Outcome.CHAOTIC)


# -- any map with a numba kernel ----------------------------------------------------------------
_LOOPS: dict = {}


def _loops(D: int, tup: int = 0):
    """Return the parallel sweep compiled for state dimension ``D`` (built once per process);
    with ``tup > 0`` the lanes call the kernel's tuple step, with a parameter tuple of
    ``tup - 1`` floats (see :func:`_tuple_block`)."""
    if (D, tup) in _LOOPS:
        return _LOOPS[D, tup]

    @njit(error_model="numpy", cache=False, inline="always")   # takes a dispatcher
    def tangent(step, jac, has_jac, x, y, p, v, jbuf, xh, yh):
        """Replace ``v`` by ``DF(x) v`` normalised; return log of its norm (``y = F(x)``)."""
        if has_jac:
            jac(x, p, jbuf)
            for r in range(D):
                s = 0.0
                for c in range(D):
                    s += jbuf[r, c] * v[c]
                yh[r] = s
        else:
            xn = 0.0
            for r in range(D):
                xn += x[r] * x[r]
            h = 1e-7 * (1.0 + np.sqrt(xn))
            for r in range(D):
                xh[r] = x[r] + h * v[r]
            step(xh, p, yh)
            for r in range(D):
                yh[r] = (yh[r] - y[r]) / h
        nrm = 0.0
        for r in range(D):
            nrm += yh[r] * yh[r]
        nrm = np.sqrt(nrm)
        for r in range(D):
            v[r] = yh[r] / nrm
        return np.log(nrm)

    @njit(error_model="numpy", cache=False, inline="always")   # takes a dispatcher
    def block(step, jac, has_jac, S, p, rule, t_lyap, scratch):
        """One block on every lane, lanes interleaved: lane ``i`` takes ``KB[i]`` steps (its
        block length, 0 for an empty lane) and carries its tangent vector when its clock is in
        the Lyapunov window. A lane that stops (or has taken its steps) is frozen; a frozen
        state stops again at the same test, so no stop flag is kept."""
        X, C, V, lsum, grow, cnt, T, TC, EV, IDX, KB = S
        xb, yb, vb, jbuf, xh, yh = scratch
        radius2 = rule.radius2
        tol2 = rule.tol2
        for s in range(COMPACT):
            for i in range(LANES):
                r2 = 0.0
                for c in range(D):
                    xc = X[i, c]
                    xb[c] = xc
                    r2 += xc * xc
                step(xb, p, yb)
                jump2 = 0.0
                for c in range(D):
                    jump2 += (yb[c] - xb[c]) * (yb[c] - xb[c])
                st = (rule_tests.diverged(r2, radius2) | rule_tests.converged(jump2, r2, tol2)
                      | (s >= KB[i]))
                if T[i] >= t_lyap and not st:
                    for c in range(D):
                        vb[c] = V[i, c]
                    lsum[i] += tangent(step, jac, has_jac, xb, yb, p, vb, jbuf, xh, yh)
                    for c in range(D):
                        V[i, c] = vb[c]
                for c in range(D):
                    X[i, c] = xb[c] if st else yb[c]
                cnt[i] += not st

    tblock = _tuple_block(D, tup - 1, block) if tup else None

    @njit(error_model="numpy", cache=False)   # takes a dispatcher: not cacheable
    def worker(w, nthreads, step, tstep, jac, has_jac, x0, p, rule, ends):
        code, period, used, final, ftle = ends
        n = x0.shape[0]
        steps = rule.steps
        radius2 = rule.radius2
        cap = rule_tests.checkpoint_interval(rule.max_period)
        first = rule_tests.first_interval(rule.max_period)
        t_lyap = max(steps - rule.lyapunov_steps, 0)
        n_lyap = steps - t_lyap
        xb = np.empty(D)
        yb = np.empty(D)
        scratch = (xb, yb, np.empty(D), np.empty((D, D)), np.empty(D), np.empty(D))
        X = np.full((LANES, D), np.nan)   # states (NaN: an empty lane, frozen)
        C = np.empty((LANES, D))          # checkpoints
        V = np.empty((LANES, D))          # tangent vectors
        lsum = np.zeros(LANES)                     # sums of their log growths
        grow = np.ones(LANES)                      # (tuple step) growth since the last log
        cnt = np.zeros(LANES, dtype=np.int64)      # iterations used
        T = np.zeros(LANES, dtype=np.int64)        # clock
        TC = np.zeros(LANES, dtype=np.int64)       # checkpoint time
        EV = np.zeros(LANES, dtype=np.int64)       # checkpoint interval
        IDX = np.full(LANES, -1, dtype=np.int64)   # start held (-1: a free lane)
        KB = np.zeros(LANES, dtype=np.int64)       # length of the lane's next block
        S = (X, C, V, lsum, grow, cnt, T, TC, EV, IDX, KB)
        save = (np.empty((LANES, D)), np.empty((LANES, D)), np.empty(LANES),
                np.empty(LANES, dtype=np.int64))
        pool = np.array([0, 0, w], dtype=np.int64)
        k0 = rule_tests.block_length(0, steps, t_lyap)
        # lanes that reach the Lyapunov window wait in the park (their whole state) while the
        # pool lasts, so that the lane set's blocks before the window carry no tangent; once
        # the pool is empty the free lanes take them back and run their windows together
        cap = min(PARK, -(-n // nthreads) + CHUNK) if t_lyap > 0 else 0
        PX = np.empty((cap, D))
        PC = np.empty((cap, D))
        PV = np.empty((cap, D))
        PL = np.empty(cap)
        PI = np.empty((cap, 5), dtype=np.int64)     # cnt, T, TC, EV, IDX
        parked = 0
        taken = 0
        active = 0
        refill = True
        while True:
            # the free lanes take the next starts of the pool, then the parked lanes
            for i in range(LANES):
                if IDX[i] >= 0:
                    continue
                if not refill:
                    if taken == parked:
                        break
                    q = taken
                    taken += 1
                    for c in range(D):
                        X[i, c] = PX[q, c]
                        C[i, c] = PC[q, c]
                        V[i, c] = PV[q, c]
                    lsum[i] = PL[q]
                    cnt[i] = PI[q, 0]
                    T[i] = PI[q, 1]
                    TC[i] = PI[q, 2]
                    EV[i] = PI[q, 3]
                    IDX[i] = PI[q, 4]
                    KB[i] = rule_tests.block_length(T[i], steps, t_lyap)
                    active += 1
                    continue
                j = _take(pool, nthreads, n)
                if j < 0:
                    refill = False
                    continue
                for c in range(D):
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
                KB[i] = k0
                active += 1
            if active == 0:
                break
            if tup:
                tblock(step, tstep, jac, has_jac, S, p, rule, t_lyap, scratch, save)
            else:
                block(step, jac, has_jac, S, p, rule, t_lyap, scratch)
            # the block-end tests of each lane; a lane that stops is written out and freed
            for i in range(LANES):
                j = IDX[i]
                if j < 0:
                    continue
                t = T[i] + KB[i]
                T[i] = t
                since = t - TC[i]
                oc = -1
                r2 = 0.0
                for c in range(D):
                    xb[c] = X[i, c]
                    r2 += xb[c] * xb[c]
                if cnt[i] < t:
                    oc = _DIVERGED if rule_tests.diverged(r2, radius2) else _CONVERGED
                else:
                    step(xb, p, yb)
                    jump2 = 0.0
                    back2 = 0.0
                    for c in range(D):
                        jump2 += (yb[c] - xb[c]) * (yb[c] - xb[c])
                        back2 += (xb[c] - C[i, c]) * (xb[c] - C[i, c])
                    if rule_tests.returned(back2, jump2, rule.rtol2, radius2):
                        oc = _PERIODIC
                if oc >= 0:
                    code[j] = oc
                    period[j] = 1 if oc == _CONVERGED else (since if oc == _PERIODIC else 0)
                    lam = np.nan
                elif t >= steps:
                    if tup:
                        # the tuple block scales the tangent by its 1-norm (the array block
                        # by its 2-norm): its log 2-norm completes the sum of log growths
                        vn = 0.0
                        for c in range(D):
                            vn += V[i, c] * V[i, c]
                        lam = (lsum[i] + 0.5 * np.log(vn)) / n_lyap if n_lyap > 0 else np.nan
                    else:
                        lam = lsum[i] / n_lyap if n_lyap > 0 else np.nan
                    code[j] = _CHAOTIC if lam > rule.chaos_threshold else _UNDECIDED
                    period[j] = 0
                else:
                    if since >= EV[i]:
                        TC[i] = t
                        EV[i] = min(2 * EV[i], cap)
                        for c in range(D):
                            C[i, c] = xb[c]
                    KB[i] = rule_tests.block_length(t, steps, t_lyap)
                    if refill and t >= t_lyap and parked < cap:
                        for c in range(D):
                            PX[parked, c] = X[i, c]
                            PC[parked, c] = C[i, c]
                            PV[parked, c] = V[i, c]
                            X[i, c] = np.nan
                        PL[parked] = lsum[i]
                        PI[parked, 0] = cnt[i]
                        PI[parked, 1] = t
                        PI[parked, 2] = TC[i]
                        PI[parked, 3] = EV[i]
                        PI[parked, 4] = j
                        parked += 1
                        IDX[i] = -1
                        KB[i] = 0
                        active -= 1
                    continue
                used[j] = cnt[i]
                for c in range(D):
                    final[j, c] = xb[c]
                ftle[j] = lam
                IDX[i] = -1
                KB[i] = 0
                for c in range(D):
                    X[i, c] = np.nan
                active -= 1

    @njit(parallel=True, error_model="numpy", cache=False)   # takes a dispatcher
    def sweep(nthreads, step, tstep, jac, has_jac, x0, p, rule, ends):
        for w in prange(nthreads):
            worker(w, nthreads, step, tstep, jac, has_jac, x0, p, rule, ends)

    _LOOPS[D, tup] = sweep
    return sweep


_TUPLE_BLOCK = """
def tblock(step, tstep, jac, has_jac, S, p, rule, t_lyap, scratch, save):
    X, C, V, lsum, grow, cnt, T, TC, EV, IDX, KB = S
    radius2 = rule.radius2
    tol2 = rule.tol2
    pt = ({pt},)
    window = False
    for i in range(LANES):
        window |= (T[i] >= t_lyap) & (KB[i] > 0)
    if not window:
        # the lanes' states, block lengths and step counts in stack arrays, components apart
        # (kept in registers over the block; counts and lengths as floats, exact here)
{falloc}
        kb = stack_array(LANES)
        cf = stack_array(LANES)
        for i in range(LANES):
{fload}
            kb[i] = KB[i]
            cf[i] = 0.0
        for s in range(COMPACT):
            for i in range(LANES):
{fget}
                r2 = 0.0{r2}
                y = tstep(({xs},), pt)
                jump2 = 0.0{jump2}
                st = diverged(r2, radius2) | converged(jump2, r2, tol2) | (s >= kb[i])
{fstore}
                cf[i] += 0.0 if st else 1.0
        for i in range(LANES):
{fsave}
            cnt[i] += int(cf[i])
        return
    SX, SV, SL, SC = save
    # the same with the tangents: states and tangents in stack arrays, components apart;
    # whether each lane's clock is in the window (fixed over the block), its growth since the
    # last log
{wfalloc}
{galloc}
    kb = stack_array(LANES)
    cf = stack_array(LANES)
    lw = stack_array(LANES)
    gr = stack_array(LANES)
    for i in range(LANES):
        for c in range(D):
            SX[i, c] = X[i, c]
            SV[i, c] = V[i, c]
        SL[i] = lsum[i]
        SC[i] = cnt[i]
{wfload}
{gload}
        kb[i] = KB[i]
        cf[i] = 0.0
        lw[i] = 1.0 if T[i] >= t_lyap else 0.0
        gr[i] = grow[i]
    for s in range(COMPACT):
        for i in range(LANES):
{wfget}
            r2 = 0.0{r2}
            y = tstep(({xs},), pt)
            jump2 = 0.0{jump2}
            st = diverged(r2, radius2) | converged(jump2, r2, tol2) | (s >= kb[i])
            inw = (lw[i] > 0.0) & (not st)
            h = 1e-7 * (1.0 + np.sqrt(r2))
            hi = 1.0 / h                    # one division, then products
{gget}
            z = tstep(({xh},), pt)
{diff}
            nrm = 0.0{nrm1}
            ni = 1.0 / nrm
{gstore}
            gr[i] = gr[i] * nrm if inw else gr[i]
{fstore2}
            cf[i] += 0.0 if st else 1.0
    for i in range(LANES):
{fsave2}
{gsave}
        cnt[i] += int(cf[i])
        grow[i] = gr[i]
    bad = False
    for i in range(LANES):
        g = grow[i]
        bad |= not (1e-280 < g < 1e280)
        lsum[i] += np.log(g)
        grow[i] = 1.0
    if bad:
        # a tangent grew or shrank too far for one product over the block: the block again,
        # with a log every step
        for i in range(LANES):
            for c in range(D):
                X[i, c] = SX[i, c]
                V[i, c] = SV[i, c]
            lsum[i] = SL[i]
            cnt[i] = SC[i]
        block(step, jac, has_jac, S, p, rule, t_lyap, scratch)
"""


def _tuple_block(D: int, NP: int, block):
    """Return the block of the lane set for a kernel with a tuple step ``tstep(x, p) -> y``
    (``x``, ``y`` and ``p`` tuples of ``D``, ``D`` and ``NP`` floats: an
    :class:`~dynsys.systems.AutoKernel` of GD on a user gradient that numba compiles for a
    tuple), written out for dimension ``D``.

    The state is the same as :func:`_loops`'s ``block`` computes (the same operations in the
    same order, on stack arrays with the components apart instead of the lanes' rows, so that
    the loop over the lanes vectorises). A block with no lane in the Lyapunov window takes no
    tangent. Otherwise every lane carries its tangent vector, in stack arrays too (branch-free;
    used only where the lane is in the window), stepped by the same forward difference of the
    step (with products by ``1 / h``) and scaled each step by its 1-norm (``block``: its
    2-norm, a second square root), a product by the reciprocal again; the log of the growth is
    taken once per block, of the product of the scalings, and the log of the tangent's 2-norm
    is added when the window ends (the exponent is the same in exact arithmetic whatever the
    scalings). If a product leaves
    ``[1e-280, 1e280]`` the block is run again by ``block`` (a log every step).
    """
    comp = range(D)

    def rows(indent: int, line: str) -> str:
        """``line`` (with ``{c}`` for the component) written for every component."""
        return "\n".join(" " * indent + line.format(c=c) for c in comp)

    sub = {
        "xs": ", ".join(f"x{c}" for c in comp),
        "pt": ", ".join(f"p[{k}]" for k in range(NP)),
        "r2": "".join(f" + x{c} * x{c}" for c in comp),
        "jump2": "".join(f" + (y[{c}] - x{c}) * (y[{c}] - x{c})" for c in comp),
        "xh": ", ".join(f"x{c} + h * v{c}" for c in comp),
        "nrm1": "".join(f" + abs(a{c})" for c in comp),
        # without tangents (inside ``if not window``)
        "falloc": rows(8, "f{c} = stack_array(LANES)"),
        "fload": rows(12, "f{c}[i] = X[i, {c}]"),
        "fget": rows(16, "x{c} = f{c}[i]"),
        "fstore": rows(16, "f{c}[i] = x{c} if st else y[{c}]"),
        "fsave": rows(12, "X[i, {c}] = f{c}[i]"),
        # with tangents
        "wfalloc": rows(4, "f{c} = stack_array(LANES)"),
        "galloc": rows(4, "g{c} = stack_array(LANES)"),
        "wfload": rows(8, "f{c}[i] = X[i, {c}]"),
        "gload": rows(8, "g{c}[i] = V[i, {c}]"),
        "wfget": rows(12, "x{c} = f{c}[i]"),
        "gget": rows(12, "v{c} = g{c}[i]"),
        "diff": rows(12, "a{c} = (z[{c}] - y[{c}]) * hi"),
        "gstore": rows(12, "g{c}[i] = a{c} * ni if inw else v{c}"),
        "fstore2": rows(12, "f{c}[i] = x{c} if st else y[{c}]"),
        "fsave2": rows(8, "X[i, {c}] = f{c}[i]"),
        "gsave": rows(8, "V[i, {c}] = g{c}[i]"),
    }
    src = _TUPLE_BLOCK.format(**sub)
    namespace = {"np": np, "LANES": LANES, "COMPACT": COMPACT, "D": D, "block": block,
                 "diverged": rule_tests.diverged, "converged": rule_tests.converged,
                 "stack_array": stack_array}
    exec(compile(src, f"<dynsys tuple block, dimension {D}>", "exec"), namespace)  # noqa: S102
    return njit(error_model="numpy", cache=False, inline="always")(namespace["tblock"])


@njit(error_model="numpy", inline="always")
def _take(pool, nthreads, n):
    """Return the next start of a worker's pool (chunks ``w``, ``w + T``, ... of ``CHUNK``
    starts), or -1."""
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


def map_sweep(kernel, x0, p, rule, ends, step_scale=1.0):
    """Iterate the compiled map ``kernel`` (a :class:`~dynsys.MapKernel`) with parameter vector
    ``p`` from every row of ``x0`` (n, dim), stopping by ``rule`` (a
    :class:`~dynsys.StoppingRule`); fill ``ends`` (an :class:`~dynsys._stopping.OrbitEnds` of
    flat arrays); ``step_scale`` is the map's (see :class:`~dynsys.StoppingRule`). The
    tangent vector of the Lyapunov window uses ``kernel.jacobian`` when there is one, else a
    forward difference of ``kernel.step``."""
    x0 = np.ascontiguousarray(x0, dtype=float)
    if x0.shape[0] == 0:
        return
    has_jac = kernel.jacobian is not None
    tstep = getattr(kernel, "tstep", None)
    tup = 1 + len(p) if tstep is not None and not has_jac else 0
    _loops(x0.shape[1], tup)(numba.get_num_threads(), kernel.step,
                             tstep if tup else kernel.step,
                             kernel.jacobian if has_jac else kernel.step, has_jac, x0, p,
                             rule.kernel(step_scale), tuple(ends))


@njit(parallel=True, error_model="numpy", cache=False)   # takes a dispatcher
def _final_blocks(final, states, loss, sharp):
    n = states.shape[0]
    for b in prange((n + CHUNK - 1) // CHUNK):
        lo = b * CHUNK
        hi = min(n, lo + CHUNK)
        final(states[lo:hi], loss[lo:hi], sharp[lo:hi])


def final_values(final, states, loss, sharp):
    """Fill ``loss`` and ``sharp`` at the rows of ``states`` by the compiled
    ``final(states, loss, sharp)`` (an :class:`~dynsys.systems._autojit.AutoKernel`'s), on
    all threads (one call per block of rows)."""
    _final_blocks(final, np.ascontiguousarray(states, dtype=float), loss, sharp)


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
