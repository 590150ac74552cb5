"""Basins throughput of two git revisions of dynsys, measured interleaved in one run.

    python benchmarks/compare_revisions.py OLD [NEW] [--rounds 5] [--n 1024] [--steps 20000]

Each revision is checked out into a temporary worktree; rounds alternate OLD, NEW, OLD, ... in
fresh processes (each warms its compiled kernels first, then times one call), so load on the
machine hits both alike. ``NEW`` defaults to the working tree. Prints min and median of the
throughput (point-iterations actually used per second) and the ratio NEW / OLD, and checks that
both give the same outcomes.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import dynsys
eps, n, steps, lrs = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
model = dynsys.QuadraticRegression2D(eps, 0.0)
grid = ((-3.0, 3.0, n), (-12.0, 12.0, n))
dynsys.basins(model, lrs, grid=((-3.0, 3.0, 8), (-12.0, 12.0, 8)), steps=10)
start = time.perf_counter()
ds = dynsys.basins(model, lrs, grid=grid, steps=steps)
seconds = time.perf_counter() - start
out = ds.outcome.values
print(json.dumps({"rate": float(ds.steps.sum()) / seconds, "seconds": seconds,
                  "digest": [int(np.sum(out == k)) for k in range(5)],
                  "used": int(ds.steps.sum())}))
"""


def worktree(rev: str, where: pathlib.Path) -> pathlib.Path:
    path = where / rev.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), rev],
                   check=True, capture_output=True)
    return path


def run(path: pathlib.Path, args) -> dict:
    cmd = [sys.executable, "-c", CHILD, str(path), str(args.eps), str(args.n), str(args.steps),
           json.dumps(args.lr)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=tempfile.gettempdir())
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new", nargs="?", default=None, help="default: the working tree")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--eps", type=float, default=0.1)
    parser.add_argument("--lr", type=float, nargs="+", default=[1.0])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        paths = {"old": worktree(args.old, tmp),
                 "new": worktree(args.new, tmp) if args.new else ROOT}
        try:
            results = {"old": [], "new": []}
            for _ in range(args.rounds):
                for key in ("old", "new"):
                    results[key].append(run(paths[key], args))
        finally:
            for key in ("old", "new"):
                if paths[key] != ROOT:
                    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                    str(paths[key])], capture_output=True)
    summary = {}
    for key, runs in results.items():
        rates = [r["rate"] for r in runs]
        summary[key] = (min(rates), statistics.median(rates), max(rates))
        print(f"{key:>4} ({args.old if key == 'old' else args.new or 'working tree'}): "
              f"min {summary[key][0]:.3e}  median {summary[key][1]:.3e}  "
              f"max {summary[key][2]:.3e} point-iter/s")
    same = all(r["digest"] == results["old"][0]["digest"] and r["used"] == results["old"][0]["used"]
               for r in results["old"] + results["new"])
    print(f"ratio new/old: median {summary['new'][1] / summary['old'][1]:.3f}, "
          f"best {summary['new'][2] / summary['old'][2]:.3f}; identical outcomes and steps: {same}")


if __name__ == "__main__":
    main()
