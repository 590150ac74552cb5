"""The orbit-diagram loop runs in bounded slices (issue 14, item 9): Ctrl-C (SIGINT) interrupts a
long diagram within about a second, and slicing does not change a single bit of the result
(compared with one call of the compiled loop over all steps and blocks)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from _sigint import child, sigint_latency
from dynsys.bifurcation import _diagram
from dynsys.systems._iterate import RADIUS

# chaotic orbits, 10^12 lane-steps: minutes in one compiled call
CHILD = child("f = dynsys.maps.logistic()\n",
              "dynsys.bifurcation_diagram(f, [3.5, 3.9], x0=[0.3], steps=100, keep=5)\n",
              "dynsys.bifurcation_diagram(f, np.linspace(3.6, 3.99, 10**5), x0=[0.3],\n"
              "                           steps=10**7, keep=1)\n")


def test_sigint_interrupts_a_long_orbit_diagram_within_a_second():
    # a call aims at CALL_SECONDS = 0.1 s; the bound allows for a loaded CI machine
    latency = sigint_latency(CHILD)
    assert latency < 1.0, latency


def _one_call(mapping, param, values, x0, steps, keep):
    """``(out, last)`` of the compiled loop run in ONE call over all steps and blocks."""
    values = np.asarray(values, dtype=float)
    n = values.size
    pmat = np.repeat(mapping.param_vector()[None, :], n, axis=0)
    pmat[:, list(mapping.params).index(param)] = values
    x0 = np.asarray(x0, dtype=float)
    nblk = -(-n // _diagram.LANES)
    state = np.empty((nblk * _diagram.LANES, mapping.dim))
    state[:] = x0
    dead = np.zeros(nblk * _diagram.LANES, dtype=np.bool_)
    out = np.full((n, keep, mapping.dim), np.nan)
    last = np.full(n, steps, dtype=np.int64)
    loop = _diagram._diagram_kernel(mapping.kernel, mapping.dim)
    loop(state, dead, pmat, 0, steps, 0, nblk, steps, keep, RADIUS ** 2, out, last)
    return out, last


CASES = [   # (system, param, values, x0, steps, keep): many orbits diverge in the logistic case
    (dynsys.maps.logistic(), "r", np.linspace(2.5, 4.3, 300), [0.3], 997, 100),
    (dynsys.maps.henon(1.4, 0.3), "a", np.linspace(1.0, 1.5, 130), [0.1, 0.1], 501, 501),
    (dynsys.QuadraticRegression2D(0.1), "lr", np.linspace(0.5, 2.3, 70), [0.7, 1.3], 333, 50),
]


@pytest.mark.parametrize("system, param, values, x0, steps, keep", CASES,
                         ids=["logistic", "henon", "gd"])
@pytest.mark.parametrize("work, seconds", [(1, 1e9), (_diagram.LANES * _diagram.CHECK * 3, 1e9),
                                           (1 << 24, 0.0), (1 << 24, 1e9)],
                         ids=["CHECK-steps", "48-steps", "halving", "doubling"])
def test_slicing_the_orbit_diagram_changes_no_bit(system, param, values, x0, steps, keep,
                                                  work, seconds, monkeypatch):
    kw = dict(x0=x0, steps=steps, keep=keep, param=param)
    mapping = dynsys.gd_map(system, 1.0) if isinstance(system, dynsys.Model) else system
    out, last = _one_call(mapping, param, values, x0, steps, keep)
    monkeypatch.setattr(_diagram, "CALL_WORK", work)
    monkeypatch.setattr(_diagram, "CALL_SECONDS", seconds)
    calls = []
    real = _diagram._run_sliced

    def counting(loop, *args):
        def counted(*a):
            calls.append(a[3:5])
            return loop(*a)
        return real(counted, *args)

    monkeypatch.setattr(_diagram, "_run_sliced", counting)
    ds = dynsys.bifurcation_diagram(system, values, **kw)
    state = "theta" if isinstance(system, dynsys.Model) else "x"
    assert ds[state].values.tobytes() == out.tobytes()
    diverged = last < steps
    assert np.array_equal(ds.diverged_at.values, np.where(diverged, last + 1, -1))
    assert len(calls) > 1 and all(t0 % _diagram.CHECK == 0 for t0, _ in calls)
    monkeypatch.setattr(_diagram, "CALL_WORK", 1 << 24)
    monkeypatch.setattr(_diagram, "CALL_SECONDS", 0.1)
    assert dynsys.bifurcation_diagram(system, values, **kw).identical(ds)
