"""``basins_fractions`` on numba's threads (the basin kernel shares every chunk's starts among
them): the same fractions, attractor ids and points with one thread or two and pieces of any
size; a user's map or loss runs the kernel numba compiles from it."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.basins import _sweep as S
from dynsys._numba import numba


def _tanh_step(x, a):
    return np.array([np.tanh(a * x[0])])


def _loss(t):                      # the 2-D model's loss, eps = 0.1, target 0, by hand
    z = 0.5 * (t[0] * t[0] - 0.1 * t[1] * t[1])
    return 0.5 * z * z


def _grad(t):
    z = 0.5 * (t[0] * t[0] - 0.1 * t[1] * t[1])
    return np.array([z * t[0], -0.1 * z * t[1]])


CASES = {
    # a model's kernel: fixed points, cycles at the edge of stability, divergence
    "qr2d": (lambda: dynsys.QuadraticRegression2D(0.1), [(-2.0, 2.0), (-4.0, 4.0)],
             dynsys.linspace(0.6, 2.6, 6), {"steps": 1500}),
    "user map": (lambda: dynsys.Map(_tanh_step, dim=1, params={"a": 2.0}), [(-1.0, 2.0)],
                 dynsys.linspace(1.5, 3.0, 4), {"steps": 300}),
    "user loss": (lambda: dynsys.Model.from_loss(_loss, grad=_grad, dim=2),
                  [(-2.0, 2.0), (-4.0, 4.0)], dynsys.linspace(0.6, 2.6, 6), {"steps": 1500}),
}


@pytest.fixture
def threads():
    before = numba.get_num_threads()
    yield numba.set_num_threads
    numba.set_num_threads(before)


@pytest.mark.parametrize("case", ["qr2d", "user map",
                                  pytest.param("user loss", marks=pytest.mark.slow)])
def test_same_results_with_one_or_two_threads_and_any_pieces(case, threads, monkeypatch):
    make, box, values, kw = CASES[case]
    system = make()
    run = lambda: dynsys.basins_fractions(system, box, values, n=3000, seed=5, **kw)  # noqa: E731
    threads(1)
    ref = run()
    assert ref.attrs["compute_path"] == ("auto_kernel" if case.startswith("user")
                                         else "kernel")
    assert ref.sizes["attractor_id"] >= 1 and ref.attractor.values.max() >= 0
    for n_threads, call_work in ((2, S.CALL_WORK), (2, 5000)):
        threads(n_threads)
        monkeypatch.setattr(S, "CALL_WORK", call_work)    # pieces of a chunk (one call each)
        got = run()
        for name in ("fraction", "attractor", "attractor_point", "attractor_period",
                     "attractor_kind", "outcome_fraction", "n_starts"):
            np.testing.assert_array_equal(got[name].values, ref[name].values,
                                          err_msg=f"{name}, {n_threads} threads, "
                                                  f"pieces of {call_work} point-steps")
        assert got.identical(ref)
