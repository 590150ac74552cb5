"""The attractor table's spatial hash gives the ids of a scan of the whole table (the lookup it
replaced, kept below as the reference), on streams of candidates near the match boundary, at
many scales, with several kinds, periods and parameter values (continuation), and non-finite
points."""

from __future__ import annotations

import time

import numpy as np
import pytest

from dynsys.basins._attractors import CHAOTIC_SET, CYCLE, FAMILY, FIXED_POINT, AttractorTable


class ScanTable(AttractorTable):
    """The table with the lookup of dynsys 6c62c5d: one numpy pass over the whole table."""

    def _find(self, kind, period, point, value):
        same = self._same(kind, period)
        if kind == FAMILY:
            hits = same
        elif kind == CHAOTIC_SET:
            hits = same & (np.asarray(self.value[:self._n]) == value)
        else:
            with np.errstate(invalid="ignore", over="ignore"):
                dist = np.max(np.abs(self._point[:self._n] - point), axis=1)
            hits = same & (dist <= self.match_tol * self._scale[:self._n])
        if hits.any():
            return int(np.argmax(hits))
        return self._continue(kind, period, point)


def _stream(rng, dim, n, tol):
    """Candidates: clusters of points around centres at many scales, offsets of about the
    match radius (some just inside, some just outside), a few non-finite points."""
    centres = rng.standard_normal((n // 8 + 1, dim)) * 10.0 ** rng.uniform(-3, 4, (n // 8 + 1, 1))
    out = []
    for _ in range(n):
        c = centres[rng.integers(len(centres))]
        scale = 1.0 + np.max(np.abs(c))
        off = rng.uniform(-1.0, 1.0, dim) * tol * scale * rng.choice([0.5, 0.999, 1.0, 1.001, 3.0])
        x = c + off
        if rng.random() < 0.01:
            x[rng.integers(dim)] = rng.choice([np.nan, np.inf])
        kind = rng.choice([FIXED_POINT, FIXED_POINT, CYCLE, FAMILY, CHAOTIC_SET])
        period = 1 if kind in (FIXED_POINT, FAMILY) else (0 if kind == CHAOTIC_SET
                                                          else int(rng.choice([2, 4])))
        out.append((int(kind), period, x))
    return out


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
@pytest.mark.parametrize("tol", [1e-6, 1e-2])
def test_hashed_lookup_gives_the_ids_of_a_scan(dim, tol):
    rng = np.random.default_rng(dim * 100 + int(-np.log10(tol)))
    fast, scan = AttractorTable(dim, tol), ScanTable(dim, tol)
    for value in (0.5, 0.75, 1.0):
        for kind, period, x in _stream(rng, dim, 1500, tol):
            assert fast.add(kind, period, x, value) == scan.add(kind, period, x, value)
    assert len(fast) == len(scan) > 100
    for key in ("kind", "period", "value"):
        np.testing.assert_array_equal(fast.arrays()[key], scan.arrays()[key])
    np.testing.assert_array_equal(fast.arrays()["point"], scan.arrays()["point"])


def test_hashed_lookup_is_fast_for_a_continuum_of_fixed_points():
    """A user loss whose minima form a continuum: one fixed point per converged cell."""
    rng = np.random.default_rng(5)
    pts = rng.uniform(-3.0, 3.0, (20000, 2))
    table = AttractorTable(2, 1e-6)
    start = time.perf_counter()
    ids = [table.add(FIXED_POINT, 1, x, 1.0) for x in pts]
    seconds = time.perf_counter() - start
    assert ids == list(range(len(pts)))
    assert seconds < 10.0       # a scan of the table took about 30 s here
