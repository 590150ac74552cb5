"""The generic compiled basin loop (lanes refilled from per-thread pools) against the loop it
replaced (blocks of 2048 points drained with a compaction every 16 steps, copied below): the same
outcome, period, steps, final state and Lyapunov exponent, bit for bit, for every start (the
exponent to the forward difference's error where the loop runs a user gradient on tuples), over
maps and user models, step sizes and budgets that exercise divergence, convergence, cycles, the
Lyapunov window and the end of the budget."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numba import prange

import dynsys
from dynsys._numba import numba
from dynsys._outcomes import Outcome
from dynsys._stopping import OrbitEnds
from dynsys import _stopping_nb as rule_tests
from dynsys.basins import _kernels as K

BLOCK = 2048
_CONVERGED, _PERIODIC, _DIVERGED = int(Outcome.CONVERGED), int(Outcome.PERIODIC), int(
    Outcome.DIVERGED)
_UNDECIDED, _CHAOTIC = int(Outcome.UNDECIDED), int(Outcome.CHAOTIC)


# -- the previous loop (dynsys 6c62c5d, dynsys/basins/_kernels.py), kept as the reference -------
@numba.njit(error_model="numpy")
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


@numba.njit(error_model="numpy")
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


@numba.njit(parallel=True, error_model="numpy")
def _map_sweep(step, jac, has_jac, x0, p, rule, ends):
    code, period, used, final, ftle = ends
    n = x0.shape[0]
    nblocks = (n + BLOCK - 1) // BLOCK
    for blk in prange(nblocks):
        lo = blk * BLOCK
        hi = min(n, lo + BLOCK)
        _map_block(step, jac, has_jac, x0[lo:hi], p, rule,
                   (code[lo:hi], period[lo:hi], used[lo:hi], final[lo:hi], ftle[lo:hi]))


def old_sweep(kernel, x0, p, rule, ends, step_scale=1.0):
    has_jac = kernel.jacobian is not None
    _map_sweep(kernel.step, kernel.jacobian if has_jac else kernel.step, has_jac,
               np.ascontiguousarray(x0, dtype=float), p, rule.kernel(step_scale), tuple(ends))


# -- the systems ---------------------------------------------------------------------------------
EPS = 0.1


def user_loss(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return 0.5 * z * z


def user_grad(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return z * t[0], -EPS * z * t[1]


def user_hess(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return np.array([[t[0] * t[0] + z, -EPS * t[0] * t[1]],
                     [-EPS * t[0] * t[1], EPS * EPS * t[1] * t[1] - EPS * z]])


def quartic3(t):
    return 0.25 * (t[0] ** 2 + t[1] ** 2 + t[2] ** 2 - 1.0) ** 2 + 0.1 * t[0] * t[1] * t[2]


def user_step(x, a=1.4, b=0.3):
    return np.array([1.0 - a * x[0] * x[0] + x[1], b * x[0]])


def _maps():
    """``(name, map, starts)``: maps with a compiled kernel and starts of their basins."""
    rng = np.random.default_rng(7)
    out = []
    henon = dynsys.maps.henon()
    out.append(("henon", henon, rng.uniform(-1.5, 1.5, (3000, 2))))
    out.append(("logistic", dynsys.maps.logistic(r=3.7),
                rng.uniform(-0.2, 1.2, (3000, 1))))
    out.append(("logistic r=3.2", dynsys.maps.logistic(r=3.2), rng.uniform(-0.1, 1.1, (2000, 1))))
    user = dynsys.Map(user_step, dim=2, params={"a": 1.4, "b": 0.3}, name="user_henon")
    out.append(("user map", user.compiled() if hasattr(user, "compiled") else user,
                rng.uniform(-1.5, 1.5, (2000, 2))))
    grid = rng.uniform([-3.0, -12.0], [3.0, 12.0], (4000, 2))
    qr = dynsys.QuadraticRegression2D(EPS, 0.0)
    fl = dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, name="bits_grad")
    fh = dynsys.Model.from_loss(user_loss, grad=user_grad, hessian=user_hess, dim=2,
                                name="bits_hess")
    q3 = dynsys.Model.from_loss(quartic3, dim=3, name="bits_q3")
    for lr in (0.5, 1.0, 2.0, 4.0):
        out.append((f"qr2d gd_kernel lr={lr}", dynsys.gd_map(qr, lr), grid))
        out.append((f"from_loss+grad lr={lr}", dynsys.gd_map(fl, lr), grid))
    out.append(("from_loss+grad+hessian lr=1", dynsys.gd_map(fh, 1.0), grid))
    out.append(("from_loss 3-D lr=1.5", dynsys.gd_map(q3, 1.5), rng.uniform(-2.0, 2.0, (2000, 3))))
    return out


RULES = [
    dynsys.StoppingRule(steps=300, lyapunov_steps=100),             # window after 200 steps
    dynsys.StoppingRule(steps=1000),                                 # window over the budget
    dynsys.StoppingRule(steps=203, lyapunov_steps=37, max_period=8),  # blocks cut at the window
    dynsys.StoppingRule(steps=2000, lyapunov_steps=0, radius=1e3, tol=1e-9),
    dynsys.StoppingRule(steps=5, lyapunov_steps=3),                  # shorter than one block
]


def _ends(n, dim):
    return OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                     np.empty((n, dim)), np.empty(n))


def _compiled(mapping):
    m = mapping.compiled() if hasattr(mapping, "compiled") else mapping
    if m.kernel is None:
        pytest.skip("no compiled kernel")
    return m


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"steps{r.steps}-lyap{r.lyapunov_steps}")
def test_generic_kernel_bit_for_bit_against_previous_loop(rule):
    seen = set()
    for name, mapping, x0 in _maps():
        m = _compiled(mapping)
        x0 = np.ascontiguousarray(x0)
        n = x0.shape[0]
        new, ref = _ends(n, m.dim), _ends(n, m.dim)
        K.map_sweep(m.kernel, x0, m.param_vector(), rule, new, m.step_scale)
        old_sweep(m.kernel, x0, m.param_vector(), rule, ref, m.step_scale)
        for field in OrbitEnds._fields:
            a, b = getattr(new, field), getattr(ref, field)
            if field == "ftle" and getattr(m.kernel, "tstep", None) is not None:
                # the tuple-step loop takes its difference step once per block and scales the
                # tangent by its 1-norm, one log per block (the reference: per step, 2-norm,
                # a log every step): two forward-difference estimates of the same exponent,
                # for a compiled gradient each within 4e-6 of the exact one over a window of 3
                # steps and 2e-7 over 100 (measured against the exact Hessian on these starts;
                # see test_tuple_step_lyapunov_against_the_exact_hessian); where the gradient
                # is itself a difference of the loss, its round-off over h (about 1e-4 of the
                # Jacobian) dominates both
                assert np.array_equal(np.isnan(a), np.isnan(b)), name
                atol = 1e-3 if name.startswith("from_loss 3-D") else 1e-5
                np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=name)
                continue
            assert a.tobytes() == b.tobytes(), f"{name}: {field} differs"
        seen.update(np.unique(new.code).tolist())
    if rule.steps >= 300:       # the cases exercise every outcome
        assert {_CONVERGED, _PERIODIC, _DIVERGED} <= seen, seen


@pytest.mark.parametrize("threads", [1, 2])
def test_generic_kernel_independent_of_threads_and_order(threads):
    """Each start's result does not depend on the thread count nor on which starts share a
    call (lanes are refilled in pool order: a permutation reorders everything)."""
    name, mapping, x0 = _maps()[0]
    m = _compiled(mapping)
    rule = RULES[0]
    n = x0.shape[0]
    ref = _ends(n, 2)
    old_sweep(m.kernel, x0, m.param_vector(), rule, ref)
    perm = np.random.default_rng(3).permutation(n)
    new = _ends(n, 2)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        K.map_sweep(m.kernel, np.ascontiguousarray(x0[perm]), m.param_vector(), rule, new)
    finally:
        numba.set_num_threads(before)
    for field in OrbitEnds._fields:
        assert getattr(new, field).tobytes() == getattr(ref, field)[perm].tobytes(), field


def test_generic_kernel_empty_and_tiny_inputs():
    m = dynsys.maps.henon()
    for n in (0, 1, 3, K.LANES + 1):
        x0 = np.zeros((n, 2)) + 0.1
        new, ref = _ends(n, 2), _ends(n, 2)
        K.map_sweep(m.kernel, x0, m.param_vector(), RULES[0], new)
        old_sweep(m.kernel, x0, m.param_vector(), RULES[0], ref)
        for field in OrbitEnds._fields:
            assert getattr(new, field).tobytes() == getattr(ref, field).tobytes(), field


def _array_loss(t):
    return t[0] * t[0] + 0.5 * t[1] * t[1]


def _array_grad(t):
    g = t.copy()
    g[0] *= 2.0
    return g


def test_tuple_step_loop_runs_for_a_user_gradient():
    """A user gradient numba compiles for a tuple gets the tuple step (the fast loop); one that
    needs an array (``x.copy()``) does not, and runs the array loop."""
    fl = dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, name="bits_grad")
    assert _compiled(dynsys.gd_map(fl, 1.0)).kernel.tstep is not None
    fq = dynsys.Model.from_loss(_array_loss, grad=_array_grad, dim=2, name="array_grad")
    mq = dynsys.gd_map(fq, 0.3).compiled()
    assert mq.kernel is not None and mq.kernel.tstep is None
    x0 = np.random.default_rng(5).uniform(-1.0, 1.0, (100, 2))
    ends = _ends(100, 2)
    K.map_sweep(mq.kernel, x0, mq.param_vector(), RULES[0], ends)
    assert (ends.code == _CONVERGED).all()


def test_tuple_step_lyapunov_against_the_exact_hessian():
    """The finite-time Lyapunov exponent of the tuple-step loop (forward difference of the
    step, one log per block) against an independent one: the orbit iterated in numpy with the
    tangent carried by the exact Jacobian ``I - lr H`` of the loss, a log every step. Agree to
    1e-6 (the forward difference's error) on every start that runs out of steps."""
    def hess(t):
        z = 0.5 * (t[0] ** 2 - EPS * t[1] ** 2)
        return np.array([[t[0] ** 2 + z, -EPS * t[0] * t[1]],
                         [-EPS * t[0] * t[1], EPS ** 2 * t[1] ** 2 - EPS * z]])

    fl = dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, name="bits_grad")
    lr = 1.0
    m = _compiled(dynsys.gd_map(fl, lr))
    assert m.kernel.tstep is not None
    rule = dynsys.StoppingRule(steps=400, lyapunov_steps=300)
    x0 = np.random.default_rng(11).uniform([-3.0, -12.0], [3.0, 12.0], (3000, 2))
    ends = _ends(len(x0), 2)
    K.map_sweep(m.kernel, x0, m.param_vector(), rule, ends)
    ran_out = np.flatnonzero(np.isin(ends.code, [_UNDECIDED, _CHAOTIC]))
    assert ran_out.size >= 20
    worst = 0.0
    for j in ran_out[:60]:
        x = x0[j].copy()
        v = np.array([1.0, 0.0])
        total = 0.0
        for t in range(rule.steps):
            if t >= rule.steps - rule.lyapunov_steps:
                v = (np.eye(2) - lr * hess(x)) @ v
                nrm = np.linalg.norm(v)
                total += np.log(nrm)
                v /= nrm
            x = x - lr * np.asarray(user_grad(x), dtype=float)
        np.testing.assert_array_equal(x, ends.final[j])
        worst = max(worst, abs(total / rule.lyapunov_steps - ends.ftle[j]))
    assert worst < 1e-6, worst


@pytest.mark.parametrize("park", [0, 5])
def test_a_full_park_changes_no_bit(park, monkeypatch):
    """Lanes that reach the Lyapunov window wait in a park of at most ``PARK`` lanes; when it is
    full (or has no room at all) the rest run their windows in place: the same results."""
    rule = RULES[0]
    cases = [c for c in _maps() if c[0] in ("henon", "from_loss+grad lr=1.0")]
    refs = []
    for _, mapping, x0 in cases:
        m = _compiled(mapping)
        ref = _ends(x0.shape[0], m.dim)
        K.map_sweep(m.kernel, np.ascontiguousarray(x0), m.param_vector(), rule, ref)
        refs.append(ref)
    monkeypatch.setattr(K, "PARK", park)
    monkeypatch.setattr(K, "_LOOPS", {})          # compiled again with the small park
    for (name, mapping, x0), ref in zip(cases, refs, strict=True):
        m = _compiled(mapping)
        new = _ends(x0.shape[0], m.dim)
        K.map_sweep(m.kernel, np.ascontiguousarray(x0), m.param_vector(), rule, new)
        for field in OrbitEnds._fields:
            assert getattr(new, field).tobytes() == getattr(ref, field).tobytes(), (name, field)
    assert (refs[0].code == _UNDECIDED).any() or (refs[0].code == _CHAOTIC).any()


def _matrix_loss(t):
    return 0.5 * (t @ t)             # needs an array: no tuple step


def test_tuple_step_for_a_loss_without_gradient():
    """A loss alone gets the tuple step (its five-point differences called on tuples) when numba
    compiles it for a tuple; one that needs an array does not, and both run."""
    fl = dynsys.Model.from_loss(user_loss, dim=2, name="bits_loss_only")
    m = _compiled(dynsys.gd_map(fl, 1.0))
    assert m.kernel.tstep is not None
    fm = dynsys.Model.from_loss(_matrix_loss, dim=2, name="matrix_loss")
    mm = _compiled(dynsys.gd_map(fm, 0.3))
    assert mm.kernel.tstep is None
    # the tuple step against the array step of the same kernel: the same bits
    x0 = np.random.default_rng(6).uniform(-3.0, 3.0, (500, 2))
    runs = []
    for kernel in (m.kernel, dataclasses.replace(m.kernel, tstep=None)):
        ends = _ends(500, 2)
        K.map_sweep(kernel, x0, m.param_vector(), RULES[0], ends)
        runs.append(ends)
    for field in ("code", "period", "used", "final"):
        assert getattr(runs[0], field).tobytes() == getattr(runs[1], field).tobytes(), field
    assert len(np.unique(runs[0].code)) >= 2
    ends = _ends(500, 2)
    K.map_sweep(mm.kernel, x0, mm.param_vector(), RULES[0], ends)
    assert (ends.code == _CONVERGED).any()
