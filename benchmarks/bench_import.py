"""Time of ``import dynsys`` and of a first call in a fresh process, against the libraries alone.

    python benchmarks/bench_import.py [--rounds 5]

Every round starts fresh interpreters, in turn: ``import numpy, scipy, xarray, numba`` (what
dynsys cannot do without), ``import dynsys``, and ``import dynsys`` followed by a first small
``basins`` and ``lyapunov_spectrum`` call (numba kernels loaded from the on-disk cache, which a
warm-up process fills first). Bytecode caching is switched on for the children (into a temporary
``PYTHONPYCACHEPREFIX``) as in an installed package, whatever ``PYTHONDONTWRITEBYTECODE`` says.
Min and median over the rounds; the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

SNIPPETS = {
    "numpy + scipy + xarray + numba": "import numpy, scipy, xarray, numba",
    "import dynsys": "import dynsys",
    "import dynsys + first basins + lyapunov call": (
        "import dynsys\n"
        "dynsys.basins(dynsys.QuadraticRegression2D(0.1), [1.0], grid=((-3, 3, 64), (-12, 12, 64)),"
        " steps=200)\n"
        "dynsys.lyapunov_spectrum(dynsys.maps.henon(), [0.1, 0.1], steps=1000)"),
}


def timed(code: str, env: dict) -> float:
    wrapper = ("import time\n_t = time.perf_counter()\n" + code +
               "\nprint(time.perf_counter() - _t)")
    out = subprocess.run([sys.executable, "-c", wrapper], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="dynsys-pyc-")
    for code in SNIPPETS.values():            # warm: bytecode written, numba cache filled
        timed(code, env)
    load0 = os.getloadavg()[0]
    times = {name: [] for name in SNIPPETS}
    for _ in range(max(3, args.rounds)):
        for name, code in SNIPPETS.items():
            times[name].append(timed(code, env))
    print(f"load average (1 min) before {load0:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{max(3, args.rounds)} interleaved rounds")
    for name, t in times.items():
        print(f"  {name:46s} min {min(t):6.3f} s  median {statistics.median(t):6.3f} s")
    base, dyn = times["numpy + scipy + xarray + numba"], times["import dynsys"]
    print(f"  import dynsys minus the libraries alone (min, median): {min(dyn) - min(base):.3f} s, "
          f"{statistics.median(dyn) - statistics.median(base):.3f} s   (target: import < 1 s)")


if __name__ == "__main__":
    main()
