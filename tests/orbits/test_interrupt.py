"""Long compiled loops run in bounded slices: Ctrl-C (SIGINT) interrupts them within about a
second, and slicing does not change a single bit of the result (for basins:
tests/basins/test_basins.py compares sliced and whole chunks)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from _sigint import child, sigint_latency
from dynsys.orbits import _lyapunov
from dynsys.systems import _iterate

CHILD = child("henon = dynsys.maps.henon(1.4, 0.3)\n",
              "dynsys.lyapunov_spectrum(henon, [0.1, 0.1], steps=1000, transient=10)\n",
              "dynsys.lyapunov_spectrum(henon, [0.1, 0.1], steps=100, transient=10**10)\n")

# chaotic orbits run every step: 2e9 cell-steps, minutes in one compiled call
BASINS_CHILD = child(
    "f = dynsys.maps.logistic(3.9)\n",
    "dynsys.basins(f, [3.9], param=\"r\", grid=((0.01, 0.99, 50),), steps=100)\n",
    "dynsys.basins(f, [3.9], param=\"r\", grid=((0.01, 0.99, 10**6),), steps=2000)\n")


@pytest.mark.parametrize("source", [CHILD, BASINS_CHILD], ids=["lyapunov", "basins"])
def test_sigint_interrupts_a_long_compiled_loop_within_a_second(source):
    # the interrupt lands at the end of the running slice (Lyapunov: 2^18 steps, ~20 ms;
    # basins: 2^24 cell-steps, ~0.3 s for this map on a quiet core); the bound allows for a
    # loaded CI machine
    latency = sigint_latency(source)
    assert latency < (1.0 if source is CHILD else 3.0), latency


@pytest.mark.parametrize("system, x0", [
    (dynsys.maps.henon(1.4, 0.3), [0.1, 0.1]),                       # the 2-D loop
    (dynsys.maps.logistic(3.9), [0.3]),                              # the general loop
    (dynsys.gd_map(dynsys.QuadraticRegression2D(0.1), 1.9), [0.7, 1.3]),
])
def test_slicing_the_lyapunov_loop_changes_no_bit(system, x0, monkeypatch):
    kw = dict(steps=5000, transient=777, batches=7)
    whole = dynsys.lyapunov_spectrum(system, x0, **kw)
    monkeypatch.setattr(_lyapunov, "SLICE", _lyapunov.LOG_EVERY)     # slices of 32 steps
    sliced = dynsys.lyapunov_spectrum(system, x0, **kw)
    assert sliced.identical(whole)
    assert np.asarray(whole).tobytes() == np.asarray(sliced).tobytes()


def test_slicing_a_diverging_lyapunov_orbit_reports_the_same_step(monkeypatch):
    f = dynsys.maps.logistic(4.5)
    whole = dynsys.lyapunov_spectrum(f, [0.3], steps=500, transient=3)
    monkeypatch.setattr(_lyapunov, "SLICE", 1)
    sliced = dynsys.lyapunov_spectrum(f, [0.3], steps=500, transient=3)
    assert whole.attrs["diverged_at_step"] == sliced.attrs["diverged_at_step"] >= 1


@pytest.mark.parametrize("radius", [None, 2.0])
def test_slicing_a_trajectory_changes_no_bit(radius, monkeypatch):
    f = dynsys.maps.henon(1.4, 0.3)
    kw = {} if radius is None else {"radius": radius}
    whole = dynsys.trajectory(f, [0.1, 0.1], steps=1000, **kw)
    monkeypatch.setattr(_iterate, "SLICE", 7)
    sliced = dynsys.trajectory(f, [0.1, 0.1], steps=1000, **kw)
    assert sliced.identical(whole)
