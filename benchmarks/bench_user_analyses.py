"""A user's own map and loss in the analyses that follow orbits, compiled against the numpy path,
and ``basins_fractions`` on one thread against two.

    python benchmarks/bench_user_analyses.py            # 5 rounds
    python benchmarks/bench_user_analyses.py --quick    # 3 rounds, smaller runs

Part 1, user models (``dynsys.Map`` of the Henon map written by hand with its Jacobian, and
``Model.from_loss`` of the 2-D model's loss, eps = 0.1, with its gradient and Hessian, as a user
writes them for one point): ``trajectory``, ``bifurcation_diagram`` and ``lyapunov_spectrum``
with ``jit=None`` (the default: numba compiles the user's functions, the compiled loops run)
against ``jit=False`` (the numpy path, one Python call per step). The compiled path is timed
warm (after one call that compiles, timed apart: in a new process the loops that take a user
kernel compile again, see docs/tutorial.md section 7). Each round runs every contender once, in
turn; the table gives min and median over rounds and the speed-up (numpy / compiled).

Part 2, ``basins_fractions`` of the 2-D model (a built-in kernel) and of the user loss above,
few starts and many step sizes, and many starts and few step sizes: numba set to one thread
against two (the basin kernel shares every chunk's starts among its threads); the same call,
interleaved, speed-ups against one thread in brackets. The results are checked to be identical. The load average is printed
before and after; the machine may be shared, so compare ratios within one run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

import dynsys
from _common import EPS, user_grad, user_hess, user_loss  # noqa: E402


def henon_step(x, a, b):
    return np.array([a - x[0] * x[0] + b * x[1], x[0]])


def henon_jac(x, a, b):
    return np.array([[-2.0 * x[0], b], [1.0, 0.0]])


def user_map(jit):
    return dynsys.Map(henon_step, henon_jac, dim=2, params={"a": 1.4, "b": 0.3}, jit=jit)


def user_model(jit):
    return dynsys.Model.from_loss(user_loss, grad=user_grad, hessian=user_hess, dim=2, jit=jit)


def load() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def analyses(quick: bool):
    """Return ``{name: callable(jit)}``: each analysis on a user map or model."""
    s = 4 if quick else 1
    return {
        "map trajectory": lambda jit: dynsys.trajectory(user_map(jit), [0.1, 0.1],
                                                        steps=100_000 // s),
        "model trajectory": lambda jit: dynsys.trajectory(user_model(jit), [0.7, 5.0], lr=0.9,
                                                          steps=20_000 // s),
        "map orbit diagram": lambda jit: dynsys.bifurcation_diagram(
            user_map(jit), dynsys.linspace(1.0, 1.4, 200 // s), param="a", x0=[0.1, 0.1],
            steps=1000, keep=50),
        "model orbit diagram": lambda jit: dynsys.bifurcation_diagram(
            user_model(jit), dynsys.linspace(0.5, 6.0, 100 // s), x0=[1.2, 3.0], steps=500,
            keep=20),
        "map Lyapunov": lambda jit: dynsys.lyapunov_spectrum(user_map(jit), [0.1, 0.1],
                                                             steps=40_000 // s, transient=100),
        "model Lyapunov": lambda jit: dynsys.lyapunov_spectrum(user_model(jit), [1.5, 1.0],
                                                               lr=0.3, steps=20_000 // s,
                                                               transient=0),
    }


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t0, out


def part1(rounds: int, quick: bool) -> None:
    runs = analyses(quick)
    print("## user models: compiled (jit=None, warm) vs numpy path (jit=False)")
    for name, fn in runs.items():
        cold, _ = timed(fn, None)
        print(f"  {name}: first compiled call (compiles) {cold:.2f} s")
    times = {(name, jit): [] for name in runs for jit in (None, False)}
    for _ in range(rounds):
        for name, fn in runs.items():
            for jit in (None, False):
                times[(name, jit)].append(timed(fn, jit)[0])
    print(f"{'analysis':22s} {'compiled min/med (s)':>22s} {'numpy min/med (s)':>20s} "
          f"{'speed-up (min, med)':>20s}")
    for name in runs:
        c, p = times[(name, None)], times[(name, False)]
        print(f"{name:22s} {min(c):10.4f} {statistics.median(c):10.4f} "
              f"{min(p):9.3f} {statistics.median(p):9.3f} "
              f"{min(p) / min(c):9.0f}x {statistics.median(p) / statistics.median(c):8.0f}x")


def part2(rounds: int, quick: bool) -> None:
    box = [(-3.0, 3.0), (-12.0, 12.0)]
    sizes = [(2000, dynsys.linspace(0.6, 1.6, 40)), (20_000 if quick else 50_000,
                                                    dynsys.linspace(0.6, 1.6, 6))]
    systems = {"builtin 2-D model": dynsys.QuadraticRegression2D(EPS),
               "user from_loss": user_model(None)}
    threads0 = numba.get_num_threads()
    modes = {"1 thread": 1, "2 threads": 2}

    def run(system, n, values, mode):
        numba.set_num_threads(modes[mode])
        try:
            return timed(dynsys.basins_fractions, system, box, values, n=n, steps=2000)
        finally:
            numba.set_num_threads(threads0)

    print("\n## basins_fractions, steps=2000 (min/median of the rounds, s)")
    for n, values in sizes:
        for name, system in systems.items():
            ref = None
            for mode in modes:                   # first calls: compile, and check results
                cold, ds = run(system, n, values, mode)
                ref = ds if ref is None else ref
                assert ds.identical(ref), f"results differ: {mode}"
            t = {mode: [] for mode in modes}
            for _ in range(rounds):
                for mode in modes:
                    t[mode].append(run(system, n, values, mode)[0])
            base = t["1 thread"]
            cells = "; ".join(f"{mode} {min(v):.3f}/{statistics.median(v):.3f} "
                              f"({min(base) / min(v):.2f}x/{statistics.median(base) / statistics.median(v):.2f}x)"
                              for mode, v in t.items())
            print(f"  {name}, {n} starts x {len(values)} values: {cells}; identical results")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--part", choices=("1", "2", "both"), default="both")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 5)
    print(f"load before: {load()}; numba threads {numba.get_num_threads()}; {rounds} rounds")
    np.seterr(all="ignore")
    if args.part in ("1", "both"):
        part1(rounds, args.quick)
    if args.part in ("2", "both"):
        part2(rounds, args.quick)
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
