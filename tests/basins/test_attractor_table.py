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


EPS = 0.1


def _chunk_loss(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return 0.5 * z * z


def _chunk_grad(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return z * t[0], -EPS * z * t[1]


def test_attractor_ids_do_not_depend_on_the_chunk_size():
    """A user loss with a continuum of minima (one fixed point per converged cell, many of them
    within the quantum of label_chunk's grouping of each other) and a chaotic set: the same
    basins call in one chunk and in eight gives the same attractor ids and table (before the
    fix a key met again in a later chunk was matched anew, and the chaotic set was numbered
    after the chunk's fixed points)."""
    import dynsys

    model = dynsys.Model.from_loss(_chunk_loss, grad=_chunk_grad, dim=2, name="chunks")
    grid = ((-3.0, 3.0, 64), (-12.0, 12.0, 64))
    rule = dynsys.StoppingRule(steps=200)
    one = dynsys.basins(model, [1.0], grid=grid, rule=rule, chunk_size=64 * 64)
    eight = dynsys.basins(model, [1.0], grid=grid, rule=rule, chunk_size=64 * 8)
    assert np.array_equal(one.outcome.values, eight.outcome.values)
    assert (one.outcome.values == 4).any() and one.attractor_kind.size > 100
    np.testing.assert_array_equal(one.attractor.values, eight.attractor.values)
    for name in ("attractor_kind", "attractor_period", "attractor_x"):
        np.testing.assert_array_equal(one[name].values, eight[name].values)


def test_a_grouping_key_met_again_in_a_later_chunk_keeps_its_id():
    """label_chunk groups a chunk's fixed points by a quantised key and adds each key's first
    cell: 1.4e-6 shares the key of 0.9e-6 (which matched the fixed point at 0), so in one
    chunk it takes id 0; split after 0.9e-6, it must take id 0 too, although it is farther
    than match_tol from 0."""
    from dynsys._outcomes import Outcome
    from dynsys.basins._attractors import label_chunk

    final = np.array([[0.0, 0.0], [0.9e-6, 0.0], [1.4e-6, 0.0]])
    outcome = np.full(3, int(Outcome.CONVERGED), dtype=np.int8)

    def run(splits):
        table = AttractorTable(2, 1e-6)
        ids = []
        for lo, hi in splits:
            ids.append(label_chunk(table, 1.0, outcome[lo:hi], np.ones(hi - lo, np.int16),
                                   final[lo:hi], np.zeros(hi - lo, bool), None))
        return np.concatenate(ids), len(table)

    whole, n_whole = run([(0, 3)])
    np.testing.assert_array_equal(whole, [0, 0, 0])
    for splits in ([(0, 2), (2, 3)], [(0, 1), (1, 2), (2, 3)]):
        ids, n = run(splits)
        np.testing.assert_array_equal(ids, whole)
        assert n == n_whole == 1
