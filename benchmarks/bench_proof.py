"""Proof cost of certify_region against region size and against eps (boxes and seconds).

Regions are centred on a start well inside the edge-of-stability set, theta0 = (1.6, t2) and
lr = 0.64 with t2 chosen so that q = eps lr t2^2 = 2.478 at every eps (the same point of the
rescaled plane); the side ``w`` is relative (theta_1, theta_2 and lr each span ``w`` times their
value). Each proof runs the plain path and the path with reuse of proved lattice cells
(``ProofBudget(reuse=True)``), interleaved, ``--rounds`` times; min and median wall times.

    PYTHONPATH=. python benchmarks/bench_proof.py [--rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

import dynsys
from dynsys.rigorous import ProofBudget


def region(eps: float, w: float):
    t1, lr = 1.6, 0.64
    t2 = math.sqrt(2.478 / (eps * lr))
    return ((t1, t1 * (1 + w)), (t2, t2 * (1 + w))), (lr, lr * (1 + w))


def one(eps: float, w: float, reuse: bool, time_budget: float):
    U, lr = region(eps, w)
    budget = ProofBudget(reuse=reuse, cell_level=10, time=time_budget)
    t = time.perf_counter()
    cert = dynsys.certify_region(dynsys.QuadraticRegression2D(eps), U, lr, eps, budget=budget)
    return time.perf_counter() - t, cert


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--time", type=float, default=120.0, help="time budget per proof (s)")
    args = ap.parse_args(argv)
    sizes = [1e-4, 3e-4] if args.quick else [1e-4, 3e-4, 1e-3]
    epss = [0.05] if args.quick else [0.02, 0.05, 0.1]
    one(0.05, 1e-5, False, 10.0)          # compile
    one(0.05, 1e-5, True, 10.0)
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("eps    w       path   boxes  verdict    min_s   median_s  enclosure")
    for eps in epss:
        for w in (sizes if eps == 0.05 else sizes[:1]):
            times = {False: [], True: []}
            certs = {}
            for _ in range(args.rounds):
                for reuse in (False, True):
                    dt, cert = one(eps, w, reuse, args.time)
                    times[reuse].append(dt)
                    certs[reuse] = cert
            for reuse in (False, True):
                c = certs[reuse]
                e = c.enclosure
                print(f"{eps:<6g} {w:<7g} {'reuse' if reuse else 'plain':6s} "
                      f"{len(c.status):5d}  {c.verdict:9s} {min(times[reuse]):7.2f} "
                      f"{statistics.median(times[reuse]):9.2f}  [{e[0]:.9f}, {e[1]:.9f}]")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
