"""Basins throughput of two git revisions of dynsys, measured interleaved in one run.

    python benchmarks/compare_revisions.py OLD [NEW] [--rounds 5] [--n 1024] [--steps 20000]
    python benchmarks/compare_revisions.py main --system user --n 256 --steps 2000 --lr 0.5 1 2 4
    python benchmarks/compare_revisions.py main --system henon --n 256 --steps 2000 --lr 1.2 1.4

``--system``: ``qr2d`` (the 2-D model, its own loop; the default), ``qr2d-generic`` (the same
model's GD kernel through the generic compiled loop, the model's ``grid_kernel`` hidden),
``user`` (the same loss written by hand, ``Model.from_loss`` with its gradient: auto-compiled,
generic loop) or ``henon`` (the Henon map, generic loop; ``--lr`` are then values of ``a`` on the
grid [-1.5, 1.5]^2).

Each revision is exported into a temporary directory; rounds alternate OLD, NEW, OLD, ... in
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
system = sys.argv[6]
EPS = eps


def user_loss(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return 0.5 * z * z


def user_grad(t):
    z = 0.5 * (t[0] * t[0] - EPS * t[1] * t[1])
    return z * t[0], -EPS * z * t[1]


kw = {}
lo, hi = (-3.0, 3.0), (-12.0, 12.0)
if system == "qr2d":
    model = dynsys.QuadraticRegression2D(eps, 0.0)
elif system == "qr2d-generic":
    model = dynsys.QuadraticRegression2D(eps, 0.0)
    model.grid_kernel = None
elif system == "user":
    model = dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, name="by_hand")
else:
    model = dynsys.maps.henon()
    kw = {"param": "a"}
    lo, hi = (-1.5, 1.5), (-1.5, 1.5)
grid = ((*lo, n), (*hi, n))
dynsys.basins(model, lrs, grid=((*lo, 8), (*hi, 8)), steps=10, progress=False, **kw)
start = time.perf_counter()
ds = dynsys.basins(model, lrs, grid=grid, steps=steps, progress=False, **kw)
seconds = time.perf_counter() - start
out = ds.outcome.values
print(json.dumps({"rate": float(ds.steps.sum()) / seconds, "seconds": seconds,
                  "digest": [int(np.sum(out == k)) for k in range(5)],
                  "used": int(ds.steps.sum())}))
"""


def worktree(rev: str, where: pathlib.Path) -> pathlib.Path:
    """Return a directory holding the files of ``rev`` (exported, not a git worktree: nothing
    is registered in the repository)."""
    path = where / rev.replace("/", "_")
    path.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(path)], input=archive, check=True)
    return path


def run(path: pathlib.Path, args) -> dict:
    cmd = [sys.executable, "-c", CHILD, str(path), str(args.eps), str(args.n), str(args.steps),
           json.dumps(args.lr), args.system]
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
    parser.add_argument("--system", choices=["qr2d", "qr2d-generic", "user", "henon"],
                        default="qr2d")
    args = parser.parse_args()
    print(f"system {args.system}, n {args.n}, steps {args.steps}, values {args.lr}, "
          f"{args.rounds} rounds; load average {open('/proc/loadavg').read().split()[:3]}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        paths = {"old": worktree(args.old, tmp),
                 "new": worktree(args.new, tmp) if args.new else ROOT}
        results = {"old": [], "new": []}
        for _ in range(args.rounds):
            for key in ("old", "new"):
                results[key].append(run(paths[key], args))
    summary = {}
    for key, runs in results.items():
        rates = [r["rate"] for r in runs]
        summary[key] = (min(rates), statistics.median(rates), max(rates))
        secs = [r["seconds"] for r in runs]
        print(f"{key:>4} ({args.old if key == 'old' else args.new or 'working tree'}): "
              f"min {summary[key][0]:.3e}  median {summary[key][1]:.3e}  "
              f"max {summary[key][2]:.3e} point-iter/s; call {min(secs):.3f} s (min), "
              f"{statistics.median(secs):.3f} s (median)")
    same = all(r["digest"] == results["old"][0]["digest"] and r["used"] == results["old"][0]["used"]
               for r in results["old"] + results["new"])
    print(f"ratio new/old: median {summary['new'][1] / summary['old'][1]:.3f}, "
          f"best {summary['new'][2] / summary['old'][2]:.3f}, worst (min/min) "
          f"{summary['new'][0] / summary['old'][0]:.3f}; identical outcomes and steps: {same}; "
          f"load average after {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
