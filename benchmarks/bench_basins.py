"""Throughput of dynsys.basins against two C references, measured interleaved in one run.

    python benchmarks/bench_basins.py              # the README problem (1024^2, 20000 steps)
    python benchmarks/bench_basins.py --quick      # a smaller problem for a smoke run
    python benchmarks/bench_basins.py --numpy      # also the plain-numpy loops (slow)

Throughput = point-iterations (sum of the ``steps`` each point used) / wall time of a warm call.
Both C references live next to this file (``c/``) and are compiled here with
``gcc -O3 -march=native`` into ``benchmarks/build/`` (rebuilt when a source is newer):

* ``c/basins_naive.c``: the straightforward single-core loop (blocks of packed points, a
  branch-free loop over them that gcc vectorises, compaction every 16 steps);
* ``c/basins_simd.c``: the physical-limit loop (vector lanes held in registers and refilled from a
  per-thread pool, per-lane checkpoints, OpenMP on every core; AVX-512 where the CPU has it),
  run on all cores and on one core (``OMP_NUM_THREADS=1``).

Both apply the stopping rule of dynsys's 2-D basins kernel (``c/basins_rule.h``). dynsys uses every
core numba is allowed (``NUMBA_NUM_THREADS``). Every round runs each contender once, in turn, so a
change of machine load affects all of them alike; the table gives the min and the median over the
rounds of wall time and of CPU time (all threads of the process), and the ratios of dynsys to each
reference for both. The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
C_DIR = HERE / "c"
BUILD = HERE / "build"
C_PROGRAMS = {"naive": ("basins_naive.c", []), "simd": ("basins_simd.c", ["-fopenmp"])}


def build_c(name: str) -> pathlib.Path:
    """Compile ``c/<program>.c`` into ``build/`` unless an up-to-date binary is there."""
    source, flags = C_PROGRAMS[name]
    src = C_DIR / source
    exe = BUILD / f"basins_{name}"
    newest = max(src.stat().st_mtime, (C_DIR / "basins_rule.h").stat().st_mtime)
    if not exe.exists() or exe.stat().st_mtime < newest:
        if shutil.which("gcc") is None:
            raise SystemExit("gcc is needed to build the C references")
        BUILD.mkdir(exist_ok=True)
        subprocess.run(["gcc", "-O3", "-march=native", *flags, "-o", str(exe), str(src), "-lm"],
                       check=True)
    return exe


def c_args(args) -> list[str]:
    return [str(v) for v in (args.eps, args.target, args.lr, args.n, args.lo1, args.hi1,
                             args.lo2, args.hi2, args.steps)]


def run_c(exe: pathlib.Path, args, threads: int | None = None):
    """Return (point-iterations, wall s, CPU s, outcome counts) of one run of a C reference."""
    env = dict(os.environ)
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    out = subprocess.run([str(exe), *c_args(args)], check=True, capture_output=True, text=True,
                         env=env).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), [int(v) for v in out[3:8]]


def dynsys_runner(args):
    import dynsys

    model = dynsys.QuadraticRegression2D(args.eps, args.target)
    grid = ((args.lo1, args.hi1, args.n), (args.lo2, args.hi2, args.n))
    dynsys.basins(model, [args.lr], grid=((args.lo1, args.hi1, 8), (args.lo2, args.hi2, 8)),
                  steps=10)                                     # warm: JIT (cached) loaded

    def run():
        w0, c0 = time.perf_counter(), time.process_time()
        ds = dynsys.basins(model, [args.lr], grid=grid, steps=args.steps)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        counts = np.bincount(ds.outcome.values.ravel(), minlength=5).tolist()
        return int(ds.steps.sum()), wall, cpu, counts

    return run


def numpy_runner(args, compacted: bool):
    sys.path.insert(0, str(HERE))
    from numpy_reference import basins_numpy, basins_numpy_compacted

    grid = ((args.lo1, args.hi1, args.numpy_n), (args.lo2, args.hi2, args.numpy_n))
    func = basins_numpy_compacted if compacted else basins_numpy

    def run():
        w0, c0 = time.perf_counter(), time.process_time()
        steps = func(args.eps, args.target, args.lr, grid, args.steps)
        return int(steps.sum()), time.perf_counter() - w0, time.process_time() - c0, None

    return run


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
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 3)")
    p.add_argument("--numpy", action="store_true", help="also time the plain-numpy loops")
    p.add_argument("--numpy-n", type=int, default=128)
    p.add_argument("--memory", action="store_true", help="also the 4096^2 peak-memory run")
    p.add_argument("--mem-n", type=int, default=4096)
    p.add_argument("--mem-steps", type=int, default=2000)
    p.add_argument("--quick", action="store_true", help="256^2, 2000 steps, 3 rounds")
    args = p.parse_args()
    if args.quick:
        args.n, args.steps, args.numpy_n, args.mem_n, args.mem_steps = 256, 2000, 32, 1024, 200
        args.rounds = 3
    if args.rounds < 3:
        p.error("--rounds must be at least 3 (min and median of >= 3 rounds)")
    import numba

    threads = numba.get_num_threads()
    naive, simd = build_c("naive"), build_c("simd")
    contenders = {
        f"dynsys.basins ({threads} threads)": dynsys_runner(args),
        "C naive (1 core)": lambda: run_c(naive, args),
        f"C SIMD limit ({os.cpu_count()} cores)": lambda: run_c(simd, args),
        "C SIMD limit (1 core)": lambda: run_c(simd, args, threads=1),
    }
    if args.numpy:
        contenders[f"plain numpy, masked ({args.numpy_n}^2)"] = numpy_runner(args, False)
        contenders[f"numpy, compacting ({args.numpy_n}^2)"] = numpy_runner(args, True)
    load0 = os.getloadavg()
    results = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, run in contenders.items():
            results[name].append(run())
    load1 = os.getloadavg()

    print(f"2-D model eps={args.eps} target={args.target} lr={args.lr}, grid {args.n}^2 over "
          f"[{args.lo1}, {args.hi1}] x [{args.lo2}, {args.hi2}], steps={args.steps}; "
          f"{args.rounds} interleaved rounds")
    print(f"load average (1 min) before {load0[0]:.2f}, after {load1[0]:.2f}")
    print(f"{'':32s} {'point-its':>11s} {'wall min':>9s} {'median':>8s} {'it/s (min)':>11s} "
          f"{'CPU s min':>9s} {'it/CPU-s':>10s}")
    rate, cpu_rate = {}, {}
    for name, rows in results.items():
        total = rows[0][0]
        walls = [r[1] for r in rows]
        cpus = [r[2] for r in rows]
        rate[name] = (total / min(walls), total / statistics.median(walls))
        cpu_rate[name] = (total / min(cpus), total / statistics.median(cpus))
        print(f"{name:32s} {total:11d} {min(walls):9.3f} {statistics.median(walls):8.3f} "
              f"{rate[name][0]:11.3e} {min(cpus):9.3f} {cpu_rate[name][0]:10.3e}")
    dyn = next(iter(results))
    print("ratios of dynsys (min-time / median-time):")
    for name in list(results)[1:]:
        print(f"  wall, dynsys / {name:30s} {rate[dyn][0] / rate[name][0]:6.2f} "
              f"{rate[dyn][1] / rate[name][1]:6.2f}")
    for name in list(results)[1:4]:
        print(f"  per CPU second, dynsys / {name:20s} {cpu_rate[dyn][0] / cpu_rate[name][0]:6.2f} "
              f"{cpu_rate[dyn][1] / cpu_rate[name][1]:6.2f}")
    names = ("converged", "periodic", "diverged", "undecided", "chaotic")
    for name in list(results)[:4]:
        print(f"outcomes {name:30s} {dict(zip(names, results[name][0][3], strict=True))}")
    if args.memory:
        gib, mem_sec, _ = peak_memory(args)
        print(f"peak memory, {args.mem_n}^2 grid, {args.mem_steps} steps: {gib:.2f} GiB "
              f"(target < 2 GiB), {mem_sec:.1f} s")


if __name__ == "__main__":
    main()
