"""Interval primitives and Lohner enclosures against ball arithmetic and plain iteration."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numba import njit

flint = pytest.importorskip("flint")

from dynsys.rigorous._interval import down, iadd, idiv, imul, iscale, isqr, isub, up  # noqa: E402
from dynsys.rigorous._lohner import _init_set, _xs, lohner_step, terminal_lemma  # noqa: E402


@njit
def _ops(a, b):
    out = np.empty((a.shape[0], 6, 2))
    for i in range(a.shape[0]):
        out[i, 0] = iadd(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        out[i, 1] = isub(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        out[i, 2] = imul(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        out[i, 3] = idiv(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        out[i, 4] = isqr(a[i, 0], a[i, 1])
        out[i, 5] = iscale(b[i, 0], a[i, 0], a[i, 1])
    return out


@njit
def _next(x):
    a = np.empty_like(x)
    b = np.empty_like(x)
    for i in range(x.size):
        a[i] = down(x[i])
        b[i] = up(x[i])
    return a, b


def test_down_up_equal_nextafter_bit_for_bit():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-300, 300, 5000),
                        [0.0, -0.0, 5e-324, -5e-324, np.inf, -np.inf, 2.2250738585072014e-308]])
    a, b = _next(x)
    with np.errstate(over="ignore"):
        assert np.array_equal(a, np.nextafter(x, -np.inf))
        assert np.array_equal(b, np.nextafter(x, np.inf))


def test_primitives_contain_the_exact_result():
    """Endpoints are floats, hence exact balls: arb computes every result exactly enough to
    decide containment, and the exact result over the operands must lie inside."""
    rng = np.random.default_rng(1)
    n = 3000
    scale = 10.0 ** rng.integers(-8, 8, (n, 2))
    a = np.sort(rng.standard_normal((n, 2)) * scale, axis=1)
    b = np.sort(rng.standard_normal((n, 2)) * scale[:, ::-1], axis=1)
    b[::7, 0] = b[::7, 1]        # some point intervals
    out = _ops(a, b)
    flint.ctx.prec = 300
    try:
        for i in range(0, n, 3):
            A = [flint.arb(float(v)) for v in a[i]]
            B = [flint.arb(float(v)) for v in b[i]]
            exact = {
                0: [A[0] + B[0], A[1] + B[1]],
                1: [A[0] - B[1], A[1] - B[0]],
                2: [x * y for x in A for y in B],
                4: [x * x for x in A] + ([flint.arb(0)] if a[i, 0] <= 0 <= a[i, 1] else []),
                5: [B[0] * x for x in A],
            }
            if not (b[i, 0] <= 0 <= b[i, 1]):
                exact[3] = [x / y for x in A for y in B]
            for k, vals in exact.items():
                lo, hi = flint.arb(float(out[i, k, 0])), flint.arb(float(out[i, k, 1]))
                for v in vals:
                    assert lo <= v <= hi, (k, a[i], b[i], out[i, k])
    finally:
        flint.ctx.prec = 53


def _pq_step(p, q, eps):
    x = (p - q) / 2
    return (1 - x) ** 2 * p, (1 + eps * x) ** 2 * q


@settings(max_examples=12, deadline=None)
@given(p=st.floats(0.8, 3.4), q=st.floats(2.1, 3.0), w=st.floats(1e-7, 2e-4),
       eps=st.sampled_from([0.02, 0.05, 0.1]), parallelepiped=st.booleans())
def test_float_orbits_stay_inside_the_enclosure(p, q, w, eps, parallelepiped):
    """1,000 points of a small box, iterated in floats, lie in the enclosure at every step
    (up to the floats' own rounding, far below the enclosure's width)."""
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(p - w, p + w, 1000), rng.uniform(q - w, q + w, 1000)])
    clo, chi, A = np.empty(2), np.empty(2), np.empty((2, 2))
    rlo, rhi = np.empty(2), np.empty(2)
    work = [np.empty((2, 2)), np.empty((2, 2, 2)), np.empty((2, 2, 2)), np.empty((2, 2, 2)),
            np.empty((2, 2, 2)), np.empty((4, 2))]
    _init_set(p - w, p + w, q - w, q + w, clo, chi, A, rlo, rhi)
    for _ in range(150):
        if not lohner_step(clo, chi, A, rlo, rhi, eps, *work, parallelepiped):
            break
        pts = np.column_stack(_pq_step(pts[:, 0], pts[:, 1], eps))
        r = np.linalg.solve(A, (pts - clo).T).T        # coordinates of the points in the set
        width = rhi - rlo
        if not np.all(np.isfinite(width)) or width.max() > 1.0:
            break
        slack = 1e-12 * (1 + np.abs(r).max())
        assert np.all(r >= rlo - slack) and np.all(r <= rhi + slack)


def test_terminal_lemma_encloses_the_limit():
    eps = 0.05
    p = q = 1.87
    p += 1e-6
    ok, lo, hi = terminal_lemma((p - q) / 2, (p - q) / 2, (p + q) / 2, (p + q) / 2, eps)
    assert ok
    for _ in range(20000):
        p, q = _pq_step(p, q, eps)
    assert lo <= p <= hi and lo <= q <= hi and hi - lo < 1e-4


def test_terminal_lemma_refuses_past_the_edge():
    # at p = q = 1.95 / (1 + 0.05) * 1.1 the transversal multiplier exceeds 1 in modulus
    s = 1.1 * 2 / 1.05
    assert not terminal_lemma(-1e-6, 1e-6, s, s, 0.05)[0]


def test_xs_is_exact_for_a_point_set():
    clo, chi, A = np.array([2.0, 1.0]), np.array([2.0, 1.0]), np.eye(2)
    x = _xs(clo, chi, A, np.zeros(2), np.zeros(2))
    assert x[0] <= 0.5 <= x[1] and x[2] <= 1.5 <= x[3]
