"""Continuation timings of two git revisions of dynsys, measured interleaved in one run.

    python benchmarks/compare_continuation.py OLD [NEW] [--rounds 3]

The two continuation benchmarks of ``bench_bifurcation.py`` (the logistic cascade to PD4 by
three switches; the 2-D model's curve flip, continued as a family in lr, and its switch), plus
the cascade to PD6 of ``bench_orbits.py`` where the revision has ``cascade``. Each revision is
checked out into a temporary worktree; rounds alternate OLD, NEW, OLD, ... in fresh processes
(each warms up first, then times one call per case), so load on the machine hits both alike.
``NEW`` defaults to the working tree. Prints min and median per case and the ratio NEW / OLD of
the medians (above 1: NEW is slower), with the special points each revision found (an old
revision may find fewer).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent

CHILD = r"""
import inspect, json, sys, time, warnings
sys.path.insert(0, sys.argv[1])
warnings.simplefilter("ignore")
import numpy as np
import dynsys
new_names = "param_range" in inspect.signature(dynsys.continuation).parameters

def cont(system, x0, rng, **kw):
    key = "param_range" if new_names else "bounds"
    return dynsys.continuation(system, x0, param=kw.pop("param"), **{key: rng}, **kw)

def cascade_pd4():
    res = cont(dynsys.maps.logistic(2.8), [0.6], (2.5, 3.5675), param="r")
    for label in ("PD1", "PD2", "PD3"):
        res = res.switch(label)
    return res

def model_flip():
    model = dynsys.QuadraticRegression2D(0.05)
    return cont(model, [np.sqrt(0.05) * 6.0, 6.0], (0.3, 1.6), param="lr").switch(
        "PD1", max_points=60)

def cascade_pd6():
    return cont(dynsys.maps.logistic(2.8), [1 - 1 / 2.8], (2.5, 3.5702),
                param="r").cascade(depth=5)

cases = {"cascade to PD4 (3 switches)": cascade_pd4, "2-D model flip + switch": model_flip}
if hasattr(getattr(dynsys, "ContinuationResult", object), "cascade"):
    cases["cascade(depth=5) to PD6"] = cascade_pd6
out = {}
for name, func in cases.items():
    func()
    t0 = time.perf_counter()
    res = func()
    seconds = time.perf_counter() - t0
    labels = [str(p) for p in np.atleast_1d(res.special_points.point.values)] \
        if "point" in res.special_points.coords else []
    out[name] = {"seconds": seconds, "points": labels}
print(json.dumps(out))
"""


def worktree(rev: str, where: pathlib.Path) -> pathlib.Path:
    path = where / rev.replace("/", "_").replace("^", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), rev],
                   check=True, capture_output=True)
    return path


def run(path: pathlib.Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True,
                         capture_output=True, text=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=None, help="default: the working tree")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average (1 min) at start {os.getloadavg()[0]:.2f}; {max(3, args.rounds)} "
          f"interleaved rounds")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        paths = {"old": worktree(args.old, tmp),
                 "new": worktree(args.new, tmp) if args.new else ROOT}
        try:
            results = {"old": [], "new": []}
            for _ in range(max(3, args.rounds)):
                for key in ("old", "new"):
                    results[key].append(run(paths[key]))
        finally:
            for key in ("old", "new"):
                if paths[key] != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(paths[key])], capture_output=True)
    print(f"load average (1 min) at end {os.getloadavg()[0]:.2f}")
    names = list(results["new"][0])
    for name in names:
        row = {}
        for key in ("old", "new"):
            if name not in results[key][0]:
                continue
            t = [r[name]["seconds"] for r in results[key]]
            row[key] = (min(t), statistics.median(t))
            print(f"{name:30s} {key:>3}: min {row[key][0]:7.3f} s  median {row[key][1]:7.3f} s"
                  f"  points {results[key][0][name]['points']}")
        if len(row) == 2:
            print(f"{name:30s} ratio new/old: min {row['new'][0] / row['old'][0]:.3f}, "
                  f"median {row['new'][1] / row['old'][1]:.3f}")


if __name__ == "__main__":
    main()
