"""Henon (1.4, 0.3) periodic-orbit counts per minimal period against the published table
(docs/math.md section 7), with default settings, and against an independent finder.

Periods up to 16 are searched here (about 15 s on a quiet core); all 20 are in the study
``dynsys.studies.henon_orbit_counts``, whose dataset ``data/henon_orbit_counts.nc`` is checked
below.
"""

from __future__ import annotations

import functools
import pathlib

import numpy as np
import pytest

import dynsys
from dynsys.studies import henon_orbit_counts as study

ROOT = pathlib.Path(__file__).resolve().parents[2]
A, B = 1.4, 0.3
HENON = dynsys.maps.henon(A, B)
BOX = [(-2, 2), (-1, 1)]

# n(p), periodic orbits of minimal period p = 1..20 of the Henon map at (a, b) = (1.4, 0.3):
# R. L. Davidchack and Y.-C. Lai, Phys. Rev. E 60, 6172 (1999), Table I.
DAVIDCHACK_LAI = (2, 1, 0, 1, 0, 2, 4, 7, 6, 10, 14, 19, 32, 44, 72, 102, 166, 233, 364, 535)


@functools.lru_cache(maxsize=None)
def search(period):
    """The default search at ``period`` (shared by the tests below)."""
    return dynsys.periodic_orbits(HENON, period, bounds=BOX)


def counts(ds, period):
    return np.bincount(ds.period.values, minlength=period + 1)[1:]


def test_the_study_uses_the_same_table():
    assert study.PUBLISHED == DAVIDCHACK_LAI
    # N(p) = sum_{d | p} d n(d): 2 + 2 + 4 + 8 * 7 = 64 points of period dividing 8
    assert study.periodic_points(DAVIDCHACK_LAI)[[0, 1, 3, 7]].tolist() == [2, 4, 8, 64]


@pytest.mark.parametrize("period", range(9, 17))
def test_counts_per_minimal_period_equal_the_published_table(period):
    # a search at p returns every orbit of minimal period dividing p: periods 9..16 cover the
    # minimal periods 1..16, the small ones several times
    ds = search(period)
    found = counts(ds, period)
    divisors = [d for d in range(1, period + 1) if period % d == 0]
    assert [int(found[d - 1]) for d in divisors] == [DAVIDCHACK_LAI[d - 1] for d in divisors]
    assert int(found.sum()) == sum(DAVIDCHACK_LAI[d - 1] for d in divisors)
    assert ds.attrs["complete"] == 1


def henon_step(x):
    return np.stack([1 - A * x[..., 0] ** 2 + x[..., 1], B * x[..., 0]], axis=-1)


def multiple_shooting(X, iterations=40):
    """Newton on the cyclic system F(X_k) - X_{k+1} = 0 for a batch of guesses X (m, p, 2),
    written here independently of dynsys; returns the converged orbits."""
    m, p, _ = X.shape
    eye = np.eye(2)
    for _ in range(iterations):
        R = henon_step(X) - np.roll(X, -1, axis=1)
        J = np.zeros((m, 2 * p, 2 * p))
        for k in range(p):
            J[:, 2 * k, 2 * k] = -2 * A * X[:, k, 0]
            J[:, 2 * k, 2 * k + 1] = 1.0
            J[:, 2 * k + 1, 2 * k] = B
            j = (k + 1) % p
            J[:, 2 * k:2 * k + 2, 2 * j:2 * j + 2] -= eye
        with np.errstate(all="ignore"):
            step = np.linalg.solve(J + 1e-300, -R.reshape(m, -1)[..., None])[..., 0]
        X = X + step.reshape(m, p, 2)
        X[~np.isfinite(X)] = 0.0
    R = np.abs(henon_step(X) - np.roll(X, -1, axis=1)).max(axis=(1, 2))
    return X[(R < 1e-11) & (np.abs(X).max(axis=(1, 2)) < 3)]


@pytest.mark.parametrize("period", [10, 12, 14])
def test_an_independent_finder_finds_nothing_periodic_orbits_misses(period):
    # close returns of a long trajectory on the attractor, refined by multiple shooting: a
    # different seeding and a different Newton system; every orbit it finds must be listed
    x = HENON.iterate(np.array([[0.1, 0.1]]), 1000)[0]
    traj = np.empty((60_000, 2))
    for i in range(traj.shape[0]):
        traj[i] = x
        x = np.array([1 - A * x[0] ** 2 + x[1], B * x[0]])
    i = np.flatnonzero(np.abs(traj[period:] - traj[:-period]).max(axis=1) < 0.05)
    guesses = np.stack([traj[i + k] for k in range(period)], axis=1)[::3]
    orbits = multiple_shooting(guesses)
    assert orbits.shape[0] > 100
    ds = search(period)
    listed = np.concatenate([ds.x.values[j, : int(ds.period[j])] for j in range(ds.sizes["orbit"])])
    owner = np.repeat(np.arange(ds.sizes["orbit"]), ds.period.values)
    hit = set()
    for orbit in orbits:
        d = np.abs(listed - orbit[0]).max(axis=1)
        assert d.min() < 1e-8, f"orbit through {orbit[0]} missed"
        hit.add(int(owner[np.argmin(d)]))
    # the close returns see a good part of the orbits, so the check has teeth
    # (they hit 11 of 13, 23 of 25 and 42 of 51 orbits at p = 10, 12, 14)
    assert len(hit) >= 0.75 * ds.sizes["orbit"]


def test_the_study_dataset_matches_the_table_for_all_twenty_periods():
    ds = dynsys.load(ROOT / "data" / "henon_orbit_counts.nc")
    assert ds.period.values.tolist() == list(range(1, 21))
    assert ds.orbits_published.values.tolist() == list(DAVIDCHACK_LAI)
    assert ds.orbits.values.tolist() == list(DAVIDCHACK_LAI)
    assert ds.orbits_check.values.tolist() == list(DAVIDCHACK_LAI)
    assert ds.match.values.all() and ds.complete.values.all()
    assert ds.attrs["all_match"] == 1 and ds.attrs["check_matches"] == 1
