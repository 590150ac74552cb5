"""Pieces shared by the benchmark scripts (imported by them as ``_common``; the scripts run as
``python benchmarks/NAME.py``, which puts this folder on ``sys.path``).

* :func:`interleaved`: every contender once (or a batch of back-to-back calls) per round, in
  turn, after untimed warm-up calls;
* the user's 2-D loss of ``bench_user_model.py`` and ``bench_user_analyses.py``: the 2-D
  model's loss (eps = :data:`EPS`, target 0) written by hand as a user would, with its
  gradient (as an array or a tuple) and Hessian.
"""

from __future__ import annotations

import time

import numpy as np

#: eps of the hand-written 2-D loss.
EPS = 0.1


def interleaved(funcs: dict, rounds: int, batch: float = 0.0) -> dict:
    """Return name -> list of ``rounds`` wall times per call: every function runs once per
    round (or, with ``batch`` > 0, back to back as many times as fill ``batch`` seconds, the
    time per call then being the batch's over its count), in turn, after untimed warm-up calls.

    The order rotates from round to round (round ``k`` starts with function ``k mod n``), so
    that no function always runs right after the same one: a call that follows a long one
    (pynamical's 0.1 s in Python) finds the worker threads asleep and the caches cold, and in a
    fixed order the same contender would pay for that in every round. For calls of about a
    millisecond that state still weighs on every single call (each finds what the other
    contender left in the caches); a batch of back-to-back calls, as ``timeit`` times them,
    measures the calls themselves, each contender's batch still interleaved with the others'."""
    number = {}
    for name, func in funcs.items():
        func()                                   # compilation, caches
        t0 = time.perf_counter()
        func()
        took = time.perf_counter() - t0
        number[name] = max(1, int(batch / took)) if batch > 0 and took > 0 else 1
    names = list(funcs)
    times = {name: [] for name in funcs}
    for k in range(rounds):
        for name in names[k % len(names):] + names[:k % len(names)]:
            func, count = funcs[name], number[name]
            t0 = time.perf_counter()
            for _ in range(count):
                func()
            times[name].append((time.perf_counter() - t0) / count)
    return times


def user_loss(t):
    """``L = z^2 / 2`` with ``z = (t_1^2 - EPS t_2^2) / 2``."""
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return 0.5 * z * z


def user_grad(t):
    """The gradient of :func:`user_loss`, an array."""
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return np.array([z * t[0], -EPS * z * t[1]])


def user_grad_tuple(t):
    """The gradient of :func:`user_loss`, a tuple (numba compiles it to registers)."""
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return z * t[0], -EPS * z * t[1]


def user_hess(t):
    """The Hessian of :func:`user_loss`."""
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    off = -EPS * t[0] * t[1]
    return np.array([[t[0] * t[0] + z, off], [off, EPS * EPS * t[1] * t[1] - EPS * z]])
