"""Throughput of dynsys.basins against the C reference and the plain-numpy loop, in one run.

    python benchmarks/bench_basins.py              # the issue-4 problem (1024^2, 20000 steps)
    python benchmarks/bench_basins.py --quick      # a smaller problem for a smoke run

Throughput = point-iterations (sum of the ``steps`` each point used) / wall time of a warm call.
The C reference (``shared/bench/basins_ref.c``) runs on one core; dynsys uses every core numba
is allowed (``NUMBA_NUM_THREADS``). The numpy loops run on a ``--numpy-n``^2 sub-grid of the same
domain (the same mix of fast and slow points, so the same throughput per point-iteration up to
sampling; the full grid would take many minutes).
Peak memory of a 4096 x 4096 sweep is measured in a fresh process with ``resource.getrusage``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
C_SOURCE = HERE.parent.parent / "shared" / "bench" / "basins_ref.c"


def run_c(args, source):
    exe = pathlib.Path(tempfile.gettempdir()) / "dynsys_basins_ref"
    if not exe.exists() or exe.stat().st_mtime < source.stat().st_mtime:
        subprocess.run(["gcc", "-O3", "-march=native", "-o", str(exe), str(source), "-lm"],
                       check=True)
    cmd = [str(exe), str(args.eps), str(args.target), str(args.lr), str(args.n),
           str(args.lo1), str(args.hi1), str(args.lo2), str(args.hi2), str(args.steps)]
    best = None
    for _ in range(args.repeat):
        total, seconds, _rate = subprocess.run(cmd, check=True, capture_output=True,
                                               text=True).stdout.split()
        if best is None or float(seconds) < best[1]:
            best = (int(total), float(seconds))
    return best, " ".join(cmd)


def run_dynsys(args):
    import dynsys

    model = dynsys.QuadraticRegression2D(args.eps, args.target)
    grid = ((args.lo1, args.hi1, args.n), (args.lo2, args.hi2, args.n))
    dynsys.basins(model, [args.lr], grid=((args.lo1, args.hi1, 8), (args.lo2, args.hi2, 8)),
                  steps=10)                                     # warm: JIT (cached) loaded
    best = None
    for _ in range(args.repeat):
        start = time.perf_counter()
        ds = dynsys.basins(model, [args.lr], grid=grid, steps=args.steps)
        seconds = time.perf_counter() - start
        total = int(ds.steps.sum())
        if best is None or seconds < best[1]:
            best = (total, seconds)
    return best, ds


def run_numpy(args, compacted=False):
    sys.path.insert(0, str(HERE))
    from numpy_reference import basins_numpy, basins_numpy_compacted

    grid = ((args.lo1, args.hi1, args.numpy_n), (args.lo2, args.hi2, args.numpy_n))
    start = time.perf_counter()
    steps = (basins_numpy_compacted if compacted else basins_numpy)(
        args.eps, args.target, args.lr, grid, args.steps)
    return (int(steps.sum()), time.perf_counter() - start)


def peak_memory(args):
    code = f"""
import resource, time, dynsys
model = dynsys.QuadraticRegression2D({args.eps}, {args.target})
t = time.perf_counter()
ds = dynsys.basins(model, [{args.lr}], grid=(({args.lo1}, {args.hi1}, {args.mem_n}),
                   ({args.lo2}, {args.hi2}, {args.mem_n})), steps={args.mem_steps})
t = time.perf_counter() - t
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, t, int(ds.steps.sum()))
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]) / 1024**2, float(out[1]), int(out[2])     # GiB (ru_maxrss is KiB)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--eps", type=float, default=0.1)
    p.add_argument("--target", type=float, default=0.0)
    p.add_argument("--lr", type=float, default=1.0)
    p.add_argument("--n", type=int, default=1024)
    p.add_argument("--lo1", type=float, default=-3.0)
    p.add_argument("--hi1", type=float, default=3.0)
    p.add_argument("--lo2", type=float, default=-12.0)
    p.add_argument("--hi2", type=float, default=12.0)
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--numpy-n", type=int, default=128)
    p.add_argument("--mem-n", type=int, default=4096)
    p.add_argument("--mem-steps", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--c-source", type=pathlib.Path, default=C_SOURCE)
    p.add_argument("--quick", action="store_true", help="256^2, 2000 steps, 1024^2 memory run")
    args = p.parse_args()
    if args.quick:
        args.n, args.steps, args.numpy_n, args.mem_n, args.mem_steps = 256, 2000, 64, 1024, 200
    import numba

    (c_total, c_sec), c_cmd = run_c(args, args.c_source)
    (d_total, d_sec), ds = run_dynsys(args)
    n_total, n_sec = run_numpy(args)
    k_total, k_sec = run_numpy(args, compacted=True)
    gib, mem_sec, _ = peak_memory(args)
    rate = {"C reference (1 core)": c_total / c_sec,
            f"dynsys.basins ({numba.get_num_threads()} threads)": d_total / d_sec,
            f"plain numpy, masked ({args.numpy_n}^2)": n_total / n_sec,
            f"numpy, compacting ({args.numpy_n}^2)": k_total / k_sec}
    print(f"2-D model eps={args.eps} target={args.target} lr={args.lr}, grid {args.n}^2 over "
          f"[{args.lo1}, {args.hi1}] x [{args.lo2}, {args.hi2}], steps={args.steps}")
    print(f"C command: {c_cmd}")
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(f"{'':34s} {'point-iterations':>17s} {'seconds':>9s} {'iter/s':>10s}")
    for (name, r), (tot, sec) in zip(rate.items(), [(c_total, c_sec), (d_total, d_sec),
                                                     (n_total, n_sec), (k_total, k_sec)],
                                     strict=True):
        print(f"{name:34s} {tot:17d} {sec:9.3f} {r:10.3e}")
    d_rate = d_total / d_sec
    print(f"ratio dynsys / C      = {d_rate / (c_total / c_sec):.2f}   (target >= 1.0)")
    print(f"ratio dynsys / numpy  = {d_rate / (n_total / n_sec):.0f}   (target >= 100)")
    print(f"ratio dynsys / compacting numpy = {d_rate / (k_total / k_sec):.0f}")
    print(f"outcomes: {dict(zip(ds.outcome.attrs['flag_meanings'].split(), np.bincount(ds.outcome.values.ravel(), minlength=5).tolist(), strict=True))}")
    print(f"peak memory, {args.mem_n}^2 grid, {args.mem_steps} steps: {gib:.2f} GiB "
          f"(target < 2 GiB), {mem_sec:.1f} s")


if __name__ == "__main__":
    main()
