"""The compiled GD loop of limit_sharpness (and so limit_offset) runs in bounded slices (issue 14,
item 9): Ctrl-C (SIGINT) interrupts a long run within about a second, and slicing does not change
a single bit of the result (compared with one call of the compiled loop over all steps)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from _sigint import child, sigint_latency
from dynsys.eos import _converge

# 500 starts x 10^7 steps (tol=1e-15 is never met here): ~1 min in one call
CHILD = child("m = dynsys.QuadraticRegression2D(1e-5, 0.3)\nth = dynsys.eos_start(m, 1.0, [3.0])\n",
              "dynsys.limit_sharpness(m, th, 1.0, steps=10)\n",
              "dynsys.limit_sharpness(m, np.repeat(th, 500, axis=0), 1.0, tol=1e-15)\n")


def test_sigint_interrupts_a_long_limit_sharpness_within_a_second():
    # a call aims at CALL_SECONDS = 0.1 s; the bound allows for a loaded CI machine
    latency = sigint_latency(CHILD)
    assert latency < 1.0, latency


def _one_call(model, starts, lr, rule):
    """``(last, used, outcome)`` of the compiled loop run in ONE call over all steps."""
    mapping = dynsys.gd_map(model, lr)
    out = np.array(starts, dtype=float)
    used = np.full(len(out), rule.steps, dtype=np.int64)
    outcome = np.full(len(out), _converge._RUNNING, dtype=np.int8)
    _converge._converge_kernel(mapping.kernel)(out, mapping.param_vector(), rule.kernel(lr),
                                               0, rule.steps, used, outcome)
    outcome[outcome == _converge._RUNNING] = dynsys.Outcome.UNDECIDED
    return out, used, outcome


@pytest.mark.parametrize("first, work, seconds", [(1, 1, 1e9), (7, 100, 1e9), (1024, 1 << 22, 0.0),
                                                  (3, 1 << 22, 1e9)],
                         ids=["one-step", "ragged", "halving", "doubling"])
def test_slicing_limit_sharpness_changes_no_bit(first, work, seconds, monkeypatch):
    m = dynsys.QuadraticRegression2D(0.01, 0.3)
    starts = np.concatenate([dynsys.eos_start(m, 1.0, np.linspace(2.2, 3.6, 5)),  # undecided
                             [[0.3, 0.3], [0.1, 1.0], [1.0, 0.5]],                 # converge
                             np.random.default_rng(0).normal(0, 30, (4, 2))])      # diverge
    steps = 3000
    rule = dynsys.StoppingRule(steps=steps, tol=1e-12, radius=1e30)
    last, used, outcome = _one_call(m, starts, 1.0, rule)
    assert set(outcome.tolist()) == {0, 2, 3}
    whole = dynsys.limit_sharpness(m, starts, 1.0, steps=steps)
    monkeypatch.setattr(_converge, "FIRST_CUT", first)
    monkeypatch.setattr(_converge, "CALL_WORK", work)
    monkeypatch.setattr(_converge, "CALL_SECONDS", seconds)
    sliced = dynsys.limit_sharpness(m, starts, 1.0, steps=steps)
    assert sliced.identical(whole)
    ok = outcome != dynsys.Outcome.DIVERGED
    assert sliced.theta_inf.values[ok].tobytes() == last[ok].tobytes()
    assert np.array_equal(sliced.steps.values, used)
    assert np.array_equal(sliced.outcome.values, outcome)
