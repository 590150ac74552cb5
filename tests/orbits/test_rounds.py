"""Orbit searches whose answers do not depend on their settings (issue 11) and roots that are
roots (issue 14): every divisor of the period, seed rounds until nothing new, residual checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys

HENON = dynsys.maps.henon(1.4, 0.3)
HENON_BOX = [(-2, 2), (-1, 1)]


def primitive_orbits_of_the_doubling_map(d: int) -> int:
    """Orbits of minimal period d of a full 2-shift: (1/d) sum_{e | d} mu(d/e) 2^e."""
    def mobius(n):
        out, k = 1, 2
        while k * k <= n:
            if n % k == 0:
                n //= k
                if n % k == 0:
                    return 0
                out = -out
            k += 1
        return -out if n > 1 else out
    return sum(mobius(d // e) * 2 ** e for e in range(1, d + 1) if d % e == 0) // d


@pytest.mark.parametrize("n", [pytest.param(n, marks=pytest.mark.slow) if n >= 13 else n
                               for n in range(9, 15)])
def test_logistic_r4_point_counts_to_period_14_with_default_settings(n):
    # conjugate to the doubling map: F^n has exactly 2^n fixed points in [0, 1]; near x = 0
    # they are sin^2(pi k / (2^n +- 1)), closer than 1e-7 for n = 14
    ds = dynsys.periodic_orbits(dynsys.maps.logistic(4.0), n, bounds=(0, 1))
    assert int(ds.period.sum()) == 2 ** n
    for d in (d for d in range(1, n + 1) if n % d == 0):
        assert int((ds.period == d).sum()) == primitive_orbits_of_the_doubling_map(d)
    assert ds.attrs["complete"] == 1
    rounds = ds.attrs["new_orbits_per_round"]
    assert rounds.size == ds.attrs["seed_rounds"] and rounds[-2:].tolist() == [0, 0]
    first = ds.attrs["newton_starts"]
    assert ds.attrs["seeds_used"] == first * (2 ** rounds.size - 1)


def test_every_divisor_of_the_period_is_searched():
    # the reproducers: period 12 of Henon has the fixed points, period 11 of the
    # logistic map at r = 4 has x = 0
    ds = dynsys.periodic_orbits(HENON, 12, bounds=HENON_BOX)
    counts = np.bincount(ds.period.values, minlength=13)[1:]
    # Davidchack & Lai, Phys. Rev. E 60, 6172 (1999), Table I (all of it: test_henon_counts.py)
    assert counts[[0, 1, 2, 3, 5, 11]].tolist() == [2, 1, 0, 1, 2, 19]
    ds = dynsys.periodic_orbits(dynsys.maps.logistic(4.0), 11, bounds=(0, 1))
    fixed = ds.x.values[ds.period.values == 1, 0, 0]
    np.testing.assert_allclose(np.sort(fixed), [0.0, 0.75], atol=1e-15)


def test_henon_counts_do_not_depend_on_seed_box_or_seeding():
    reference = dynsys.periodic_orbits(HENON, 10, bounds=HENON_BOX)
    expected = np.bincount(reference.period.values, minlength=11)[1:]
    for options in ({"seed": 3}, {"bounds": [(-1.5, 1.5), (-0.5, 0.5)]},
                    {"transient": 0, "seed": 1}):
        ds = dynsys.periodic_orbits(HENON, 10, **{"bounds": HENON_BOX, **options})
        assert np.bincount(ds.period.values, minlength=11)[1:].tolist() == expected.tolist()
        assert ds.attrs["complete"] == 1
    # the same orbits, not only the same numbers
    other = dynsys.periodic_orbits(HENON, 10, bounds=HENON_BOX, seed=5)
    np.testing.assert_allclose(np.nan_to_num(other.x.values), np.nan_to_num(reference.x.values),
                               atol=1e-10)
    # prime orbits of periods 1, 2, 5, 10: 2, 1, 0, and the 10-cycles
    assert expected[[0, 1, 4]].tolist() == [2, 1, 0]


def test_a_budget_that_runs_out_is_recorded_as_incomplete():
    ds = dynsys.periodic_orbits(HENON, 8, bounds=HENON_BOX, starts=16, max_starts=40)
    assert ds.attrs["complete"] == 0
    # rounds of 16 and 32 seeds would exceed 40: one round
    assert ds.attrs["seeds_used"] == 16 and ds.attrs["seed_rounds"] == 1
    full = dynsys.periodic_orbits(HENON, 8, bounds=HENON_BOX)
    assert full.attrs["complete"] == 1
    assert ds.sizes["orbit"] <= full.sizes["orbit"]
    with pytest.raises(ValueError, match="max_starts"):
        dynsys.periodic_orbits(HENON, 2, bounds=HENON_BOX, max_starts=0)
    with pytest.raises(ValueError, match="residual_tol"):
        dynsys.periodic_orbits(HENON, 2, bounds=HENON_BOX, residual_tol=-1.0)


def residual(mapping, x, period=1):
    y = x
    for _ in range(period):
        y = mapping.step(y)
    return np.max(np.abs(y - x), axis=-1)


coefficient = st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False)


@settings(max_examples=25, deadline=None)
@given(a=st.lists(coefficient, min_size=4, max_size=4),
       q=st.lists(coefficient, min_size=3, max_size=3), c=st.lists(coefficient, min_size=2,
                                                                  max_size=2))
def test_fixed_points_of_random_quadratic_maps_have_small_residuals(a, q, c):
    # F(x, y) = A (x, y) + (q0 x^2 + q1 x y, q2 y^2) + c, written without a Jacobian
    A = np.array(a).reshape(2, 2)

    def step(v):
        x, y = v[..., 0], v[..., 1]
        quad = np.stack([q[0] * x * x + q[1] * x * y, q[2] * y * y], axis=-1)
        return v @ A.T + quad + np.array(c)
    m = dynsys.Map(step, dim=2, name="random_quadratic", vectorized=True)
    ds = dynsys.fixed_points(m, bounds=[(-3, 3), (-3, 3)], starts=64)
    tol = ds.attrs["residual_tol"]
    x = ds.x.values
    assert np.all(residual(m, x) <= tol * (1 + np.abs(x).max(axis=-1, initial=0)))
    assert ds.attrs["complete"] in (0, 1)


@settings(max_examples=40, deadline=None)
@given(coefs=st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=4, max_size=4))
def test_fixed_points_of_random_cubics_are_the_real_roots(coefs):
    # F(x) = c0 + c1 x + c2 x^2 + c3 x^3: fixed points are the real roots of F(x) - x in the
    # box, which numpy finds independently as eigenvalues of the companion matrix
    c0, c1, c2, c3 = np.round(coefs, 3)
    poly = np.polynomial.Polynomial([c0, c1 - 1.0, c2, c3]).trim()
    if poly.degree() == 0 and poly.coef[0] == 0:
        return                       # F(x) = x: every point is fixed (a family, not this test)
    roots = poly.roots()
    real = np.sort(roots[np.abs(roots.imag) < 1e-9].real)
    inside = real[(real > -1.9) & (real < 1.9)]
    if inside.size != np.unique(np.round(inside, 4)).size or np.any(
            np.abs(poly.deriv()(inside)) < 1e-3) or np.any(np.abs(np.abs(real) - 1.9) < 1e-3):
        return                       # (near-)double roots or roots on the edge: skip the example
    m = dynsys.Map(lambda x: c0 + c1 * x + c2 * x ** 2 + c3 * x ** 3, dim=1, name="cubic")
    ds = dynsys.fixed_points(m, bounds=(-1.9, 1.9))
    found = np.sort(ds.x.values[:, 0])
    np.testing.assert_allclose(found, inside, atol=1e-9)
    assert np.all(residual(m, ds.x.values) <= 1e-9 * (1 + np.abs(ds.x.values[:, 0])))


@pytest.mark.parametrize("mapping", [
    dynsys.Map(lambda x: x + 1.0, dim=1, name="shift"),
    dynsys.Map(lambda x: x + 1.0 + x ** 2, dim=1, name="no_real_root"),    # LSQ minimum at 0
    dynsys.Map(lambda v: np.array([v[0] + 1.0 + v[1] ** 2, np.sin(v[0])]), dim=2, name="s2",
               vectorized=False),
])
def test_no_fixed_point_and_no_jacobian_gives_an_empty_labelled_result(mapping):
    box = [(-5, 5)] * mapping.dim
    ds = dynsys.fixed_points(mapping, bounds=box)
    assert ds.sizes["point"] == 0
    assert ds.x.shape == (0, mapping.dim)
    assert "flag_values" in ds.stability.attrs and ds.attrs["complete"] == 1
    po = dynsys.periodic_orbits(mapping, 2, bounds=box)
    assert po.sizes["orbit"] == 0 and po.attrs["analysis"] == "periodic_orbits"
