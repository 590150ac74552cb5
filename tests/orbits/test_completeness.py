"""Completeness: orbit counts known in closed form or from the literature, and a brute-force
search for attracting cycles that ``periodic_orbits`` must not miss (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


def n_points(ds) -> int:
    """Number of periodic points: each orbit contributes its minimal period."""
    return int(ds.period.sum())


@pytest.mark.parametrize("n", range(1, 9))
def test_logistic_r4_has_two_to_the_n_periodic_points(n):
    # conjugate to the doubling map: F^n has exactly 2^n fixed points, all in [0, 1]
    ds = dynsys.periodic_orbits(dynsys.maps.logistic(4.0), n, bounds=(0, 1))
    assert n_points(ds) == 2 ** n
    # orbits of minimal period d: (1/d) sum_{e | d} mu(d/e) 2^e (Moebius inversion)
    mobius = {1: 1, 2: -1, 3: -1, 4: 0, 5: -1, 6: 1, 7: -1, 8: 0}
    for d in (d for d in range(1, n + 1) if n % d == 0):
        primitive = sum(mobius[d // e] * 2 ** e for e in range(1, d + 1) if d % e == 0) // d
        assert int((ds.period == d).sum()) == primitive
    assert np.all(ds.stability.values == 2)              # all repellers (|mu| = 2^d)


@pytest.mark.parametrize("n", range(1, 7))
def test_henon_horseshoe_has_two_to_the_n_periodic_points(n):
    # a > (5 + 2 sqrt 5)(1 + |b|)^2 / 4 (= 4.0 for b = 0.3): a hyperbolic full horseshoe
    # (Devaney & Nitecki 1979), conjugate to the 2-shift: exactly 2^n points of period n,
    # all real and inside |x|, |y| <= (1 + |b| + sqrt((1 + |b|)^2 + 4a)) / (2a) ~ 0.53
    ds = dynsys.periodic_orbits(dynsys.maps.henon(6.0, 0.3), n, bounds=[(-0.6, 0.6)] * 2)
    assert n_points(ds) == 2 ** n
    assert np.all(ds.stability.values == 1)              # every orbit a saddle


def test_henon_classical_orbit_counts():
    # prime periodic orbits of the Henon map at (1.4, 0.3) for periods 1..8:
    # 2, 1, 0, 1, 0, 2, 4, 7 (Davidchack & Lai, Phys. Rev. E 60, 6172 (1999), Table I)
    ds = dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 8, bounds=[(-2, 2), (-1, 1)])
    counts = np.bincount(ds.period.values, minlength=9)[1:]
    assert counts[[0, 1, 3, 7]].tolist() == [2, 1, 1, 7]   # periods 1, 2, 4, 8 divide 8
    ds6 = dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 6, bounds=[(-2, 2), (-1, 1)])
    assert np.bincount(ds6.period.values, minlength=7)[1:].tolist() == [2, 1, 0, 0, 0, 2]
    ds7 = dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 7, bounds=[(-2, 2), (-1, 1)])
    assert np.bincount(ds7.period.values, minlength=8)[1:].tolist() == [2, 0, 0, 0, 0, 0, 4]


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_hyperbolic_linear_map_has_only_the_origin(n):
    m = dynsys.maps.linear([[2.0, 1.0], [1.0, 1.0]])         # cat-map matrix, no eigenvalue 1
    ds = dynsys.periodic_orbits(m, n, bounds=[(-5, 5), (-5, 5)])
    assert ds.sizes["orbit"] == 1 and int(ds.period[0]) == 1
    np.testing.assert_allclose(ds.x.values[0, 0], [0.0, 0.0], atol=1e-14)
    golden = (3 + np.sqrt(5)) / 2
    np.testing.assert_allclose(ds.multipliers.values[0].real, [golden, 1 / golden], rtol=1e-12)


def attracting_cycles(mapping, grid, *, transient, max_period, tol=1e-9):
    """Brute force: iterate every grid point, return the distinct attracting cycles found."""
    x = mapping.iterate(grid, transient)
    x = x[np.all(np.isfinite(x), axis=-1) & np.all(np.abs(x) < 1e6, axis=-1)]
    cycles = []
    y = x.copy()
    period = np.zeros(len(x), dtype=int)
    for p in range(1, max_period + 1):
        y = mapping.step(y)
        hit = (period == 0) & np.all(np.abs(y - x) < tol, axis=-1)
        period[hit] = p
    for p in range(1, max_period + 1):
        for point in x[period == p]:
            if not any(c.shape[0] == p and np.min(np.abs(c - point).max(axis=-1)) < 1e-6
                       for c in cycles):
                orbit = [point]
                for _ in range(p - 1):
                    orbit.append(mapping.step(orbit[-1]))
                cycles.append(np.array(orbit))
    return cycles


@pytest.mark.parametrize("mapping,bounds,grid,period", [
    (dynsys.maps.logistic(3.5), [(0, 1)], np.linspace(0.001, 0.999, 400)[:, None], 4),
    (dynsys.maps.logistic(3.83), [(0, 1)], np.linspace(0.001, 0.999, 400)[:, None], 3),
    (dynsys.maps.henon(1.0, 0.3), [(-2, 2), (-1, 1)], None, 4),
    (dynsys.maps.henon(1.2, -0.3), [(-2, 2), (-1, 1)], None, 6),
])
def test_brute_force_attracting_cycles_are_all_found(mapping, bounds, grid, period):
    if grid is None:
        g = np.stack(np.meshgrid(np.linspace(-1.5, 1.5, 60), np.linspace(-0.5, 0.5, 60)), -1)
        grid = g.reshape(-1, 2)
    brute = attracting_cycles(mapping, grid, transient=3000, max_period=period)
    assert brute, "the brute-force search should find at least one attracting cycle"
    ds = dynsys.periodic_orbits(mapping, period, bounds=bounds)
    for cycle in brute:
        p = cycle.shape[0]
        assert period % p == 0
        rows = ds.isel(orbit=ds.period.values == p)
        match = [np.min(np.abs(rows.x.values[i, :p] - cycle[0]).max(axis=-1)) < 1e-7
                 for i in range(rows.sizes["orbit"])]
        assert sum(match) == 1, f"attracting {p}-cycle {cycle.tolist()} missed"
        assert bool(rows.stable.values[np.argmax(match)])
    # and periodic_orbits finds no attracting cycle the brute force missed
    assert int(ds.stable.sum()) == len(brute)


def test_brute_force_on_the_2d_model_converges_to_the_traced_family():
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    lr = 0.7
    f = dynsys.gd_map(model, lr)
    g = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 25), np.linspace(-5, 5, 25)), -1)
    end = f.iterate(g.reshape(-1, 2), 3000)
    end = end[np.all(np.abs(end) < 1e3, axis=-1)]
    bounded = end[np.abs(model.residual(end)[:, 0]) < 1e-8]
    assert len(bounded) > 100
    ds = dynsys.fixed_points(model, lr=lr, bounds=[(-3, 3), (-6, 6)])
    fam = ds.isel(point=ds.family.values >= 0)
    # every limit lies on a traced curve, in its transversally stable part
    d = np.linalg.norm(bounded[:, None] - fam.x.values[None], axis=-1)
    assert d.min(axis=1).max() < ds.attrs["family_step"]
    nearest = d.argmin(axis=1)
    lam = model.ntk_eigenvalue(bounded)
    assert np.all(lr * lam <= 2 + 1e-6)
    assert fam.stable.values[nearest].mean() > 0.95
