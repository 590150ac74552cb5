"""Timing of the period-doubling cascade and of complete periodic-orbit searches (issue 11).

Run: python benchmarks/bench_orbits.py [--quick]

* ``cascade``: the logistic map from r = 2.8, ``continuation(...).cascade(depth=5)`` to PD6
  (best of 3; the three-switch cascade to PD4 is in ``bench_bifurcation.py``);
* ``periodic_orbits`` of Henon (1.4, 0.3) in [-2, 2] x [-1, 1] at periods 12 and 20 with
  default settings (one run each: the seed rounds stop when two in a row find nothing new),
  printing the counts per minimal period, the rounds, the seeds used and whether the search
  is complete; ``--quick`` does periods 8 and 12 only.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import dynsys


def best_of(func, repeat=3):
    func()
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def cascade_pd6():
    res = dynsys.continuation(dynsys.maps.logistic(2.8), [1 - 1 / 2.8], param="r",
                              param_range=(2.5, 3.5702))
    return res.cascade(depth=5)


def main(quick: bool):
    t, res = best_of(cascade_pd6)
    d = res.doublings
    print(f"{'cascade: logistic to PD6 (cascade(depth=5))':58s} {t:8.3f} s   "
          f"PD6 = {float(d.r[-1]):.10f}, delta = {d.attrs['feigenbaum_estimate']:.5f}")
    henon = dynsys.maps.henon(1.4, 0.3)
    for period in ((8, 12) if quick else (12, 20)):
        t0 = time.perf_counter()
        ds = dynsys.periodic_orbits(henon, period, bounds=[(-2, 2), (-1, 1)])
        t = time.perf_counter() - t0
        counts = np.bincount(ds.period.values, minlength=period + 1)[1:]
        print(f"{f'periodic_orbits: Henon, period {period}':58s} {t:8.3f} s   "
              f"orbits per minimal period {counts.tolist()}, rounds "
              f"{ds.attrs['new_orbits_per_round'].tolist()}, seeds {ds.attrs['seeds_used']}, "
              f"complete {ds.attrs['complete']}")


if __name__ == "__main__":
    main("--quick" in sys.argv)
