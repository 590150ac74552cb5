"""Timing of orbit diagrams and continuation against references, interleaved in one run.

    python benchmarks/bench_bifurcation.py            # the README problems
    python benchmarks/bench_bifurcation.py --quick    # smaller problems, a smoke run

Orbit diagram of the logistic map (2000 r x 10000 steps, the last 100 kept), against

* a numba loop written for this one problem: the logistic map written out, SIMD across r in
  blocks of 64 values, parallel over blocks (the best loop for it on this CPU);
* pynamical's ``simulate`` (if ``pip install pynamical`` worked; it is not a dependency);

first dynsys and the numba loop in rounds of their own, then all three in rounds together (the
order rotating from round to round, see ``_common.interleaved``), each twice: one call per
contender per round, and batches of back-to-back calls (:data:`BATCH` seconds of each);

and of the 2-D model (2000 step sizes x 10000 steps, with loss, sharpness and NTK eigenvalue at
the kept samples) against the plain-numpy loop vectorised over step sizes. Every round runs each
contender once in turn (after an untimed warm-up); min and median over the rounds are printed.
Continuation (the logistic cascade, the 2-D model's flip) is timed after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numba
import numpy as np
from numba import prange

import dynsys
from _common import interleaved  # noqa: E402


@numba.njit(parallel=True, cache=True)
def logistic_reference(rs, x0, steps, keep, out):
    """The logistic orbit diagram written out: blocks of 64 r values advanced together."""
    n = rs.shape[0]
    for blk in prange((n + 63) // 64):
        lo = blk * 64
        m = min(n, lo + 64) - lo
        r = np.empty(64)
        x = np.full(64, x0)
        for i in range(64):
            r[i] = rs[lo + min(i, m - 1)]
        for _ in range(steps - keep):
            for i in range(64):
                x[i] = r[i] * x[i] * (1.0 - x[i])
        for t in range(keep):
            for i in range(64):
                x[i] = r[i] * x[i] * (1.0 - x[i])
            for i in range(m):
                out[lo + i, t] = x[i]


def numpy_orbit_diagram(eps, lrs, theta0, steps, keep):
    """The plain-numpy script a researcher would write: all step sizes at once, one step at a
    time, keeping the last ``keep`` iterates (divergent orbits silenced, not stopped)."""
    a = np.full(lrs.shape, theta0[0])
    b = np.full(lrs.shape, theta0[1])
    out = np.empty((keep, lrs.size, 2))
    with np.errstate(all="ignore"):
        for t in range(steps):
            z = 0.5 * (a * a - eps * b * b)
            a, b = a - lrs * z * a, b + lrs * eps * z * b
            if t >= steps - keep:
                out[t - steps + keep, :, 0], out[t - steps + keep, :, 1] = a, b
    return out


#: seconds of back-to-back calls that a batched round times of each contender (timeit's idea:
#: a call of about a millisecond, timed alone, measures the caches the previous one left)
BATCH = 0.02


def report(times: dict, base: str) -> None:
    for name, t in times.items():
        lo, mid = min(t), statistics.median(t)
        if mid < 0.1:
            print(f"  {name:58s} min {lo * 1e3:8.3f} ms median {mid * 1e3:8.3f} ms")
        else:
            print(f"  {name:58s} min {lo:8.4f} s  median {mid:8.4f} s")
    for name, t in times.items():
        if name != base:
            b = times[base]
            print(f"  ratio {name} / dynsys time (min, median): {min(t) / min(b):.2f}, "
                  f"{statistics.median(t) / statistics.median(b):.2f}")


def timed(label, func, repeat=3):
    func()                                    # compile / warm the numba cache
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:60s} {best:8.3f} s")
    return best


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    n, steps, keep = (400, 2000, 50) if args.quick else (2000, 10000, 100)
    rounds = max(3, args.rounds)
    print(f"load average (1 min) at start {os.getloadavg()[0]:.2f}; {rounds} interleaved rounds; "
          f"{numba.get_num_threads()} numba threads")

    logistic = dynsys.maps.logistic()
    rs = np.linspace(2.5, 4.0, n)
    ref_out = np.empty((n, keep))
    contenders = {
        f"dynsys, logistic, {n} r x {steps} steps": lambda: dynsys.bifurcation_diagram(
            logistic, dynsys.linspace(2.5, 4.0, n), x0=[0.3], steps=steps, keep=keep),
        "numba reference (SIMD across r, blocks of 64)": lambda: logistic_reference(
            rs, 0.3, steps, keep, ref_out),
    }
    try:
        import pynamical
    except ImportError:
        print("  pynamical is not installed (pip install pynamical): not compared")
    else:
        contenders["pynamical.simulate"] = lambda: pynamical.simulate(
            num_gens=keep, rate_min=2.5, rate_max=4.0, num_rates=n, num_discard=steps - keep)
    pair = dict(list(contenders.items())[:2])
    times = interleaved(pair, rounds)
    print("orbit diagram, logistic map, dynsys and the reference in rounds of their own, "
          "one call each per round (target: reference / dynsys >= 0.5):")
    report(times, next(iter(contenders)))
    times = interleaved(pair, rounds, batch=BATCH)
    print(f"the same, each round timing back-to-back calls for {BATCH * 1e3:.0f} ms of each "
          "(time per call):")
    report(times, next(iter(contenders)))
    if len(contenders) > 2:
        times = interleaved(contenders, rounds)
        print("the same with pynamical in the rounds, one call each (target: pynamical / "
              "dynsys >= 5; its 0.1 s of pandas before a call leaves caches cold and threads "
              "asleep):")
        report(times, next(iter(contenders)))
        times = interleaved(contenders, rounds, batch=BATCH)
        print(f"and in batches of {BATCH * 1e3:.0f} ms:")
        report(times, next(iter(contenders)))
    ds = dynsys.bifurcation_diagram(logistic, dynsys.linspace(2.5, 4.0, n), x0=[0.3],
                                    steps=steps, keep=keep)
    logistic_reference(rs, 0.3, steps, keep, ref_out)
    print(f"  largest difference dynsys - reference: "
          f"{np.nanmax(np.abs(ds.x.values[..., 0] - ref_out)):.1e}")

    model = dynsys.QuadraticRegression2D(0.05)
    theta0 = [0.3, np.sqrt(2.5 / 0.05)]
    lrs = np.linspace(0.3, 1.6, n)
    times = interleaved({
        f"dynsys, 2-D model, {n} lr x {steps} steps (with loss, sharpness, NTK)":
            lambda: dynsys.bifurcation_diagram(model, dynsys.linspace(0.3, 1.6, n), x0=theta0,
                                               steps=steps, keep=keep),
        "plain numpy, vectorised over lr (states only)":
            lambda: numpy_orbit_diagram(0.05, lrs, theta0, steps, keep),
    }, rounds if args.quick else 3)
    print("orbit diagram, 2-D model:")
    report(times, next(iter(times)))

    plain = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.0})
    timed("orbit diagram, user map without kernel, 20 r x 1000 steps",
          lambda: dynsys.bifurcation_diagram(plain, dynsys.linspace(2.5, 4.0, 20), x0=[0.3],
                                             steps=1000, keep=10), repeat=1)

    def cascade():
        res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r",
                                  param_range=(2.5, 3.5675))
        for label in ("PD1", "PD2", "PD3"):
            res = res.switch(label)
        return res
    timed("continuation: logistic cascade to PD4 (3 switches)", cascade)
    timed("continuation: 2-D model curve flip (family, lr) + switch",
          lambda: dynsys.continuation(model, [np.sqrt(0.05) * 6.0, 6.0], param="lr",
                                      param_range=(0.3, 1.6)).switch("PD1", max_points=60))


if __name__ == "__main__":
    main()
