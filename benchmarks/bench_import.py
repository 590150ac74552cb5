"""Time of ``import dynsys`` and of a first call in a fresh process, against the libraries alone.

    python benchmarks/bench_import.py [--rounds 5]

Every round starts fresh interpreters, in turn (interleaved):

* ``import numpy, scipy, xarray, numba``: what dynsys cannot do without (the reference);
* ``import dynsys``;
* after an untimed ``import dynsys``, a first small ``basins`` call alone (the 2-D model, one
  step size, a 64 x 64 grid, 200 steps), then the same followed by a first
  ``lyapunov_spectrum`` call;
* ``import dynsys`` and both calls, timed together (what a fresh script waits for).

Numba kernels are loaded from the on-disk cache, which a warm-up process fills first; every
child counts the numba compilations of the whole process (cache misses of every dispatcher,
after the timing) and says whether it imported dask. Bytecode caching is switched on for the children (into a temporary
``PYTHONPYCACHEPREFIX``) as in an installed package, whatever ``PYTHONDONTWRITEBYTECODE`` says.
Wall time and the child's CPU time (``time.process_time``, all its threads), min and median over
the rounds; the load average is printed. On a loaded machine the CPU time is the closer guide
to what a quiet machine shows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

IMPORT = "import dynsys"
BASINS = ("dynsys.basins(dynsys.QuadraticRegression2D(0.1), [1.0], "
          "grid=((-3, 3, 64), (-12, 12, 64)), steps=200)")
LYAPUNOV = "dynsys.lyapunov_spectrum(dynsys.maps.henon(), [0.1, 0.1], steps=1000)"

REFERENCE = "numpy + scipy + xarray + numba alone"
# name: (untimed set-up, timed code)
SNIPPETS = {
    REFERENCE: ("", "import numpy, scipy, xarray, numba"),
    "(a) import dynsys": ("", IMPORT),
    "(b) first basins call (after import)": (IMPORT, BASINS),
    "(c) first basins + lyapunov (after import)": (IMPORT, BASINS + "\n" + LYAPUNOV),
    "(d) import + basins + lyapunov": ("", IMPORT + "\n" + BASINS + "\n" + LYAPUNOV),
}

WRAPPER = """\
import sys, time, json
{setup}
_w, _c = time.perf_counter(), time.process_time()
{code}
_w, _c = time.perf_counter() - _w, time.process_time() - _c
_compiled = 0
if "numba" in sys.modules:      # every compilation in the process (cache misses), untimed
    import gc
    from numba.core.dispatcher import Dispatcher
    _compiled = sum(sum(d._cache_misses.values()) for d in gc.get_objects()
                    if isinstance(d, Dispatcher))
print(json.dumps({{"wall": _w, "cpu": _c, "compiles": _compiled,
                  "dask": "dask" in sys.modules}}))
"""


def timed(setup: str, code: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", WRAPPER.format(setup=setup, code=code)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    rounds = max(3, args.rounds)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="dynsys-pyc-")
    for setup, code in SNIPPETS.values():     # warm: bytecode written, numba cache filled
        timed(setup, code, env)
    load0 = os.getloadavg()[0]
    runs = {name: [] for name in SNIPPETS}
    for _ in range(rounds):
        for name, (setup, code) in SNIPPETS.items():
            runs[name].append(timed(setup, code, env))
    print(f"load average (1 min) before {load0:.2f}, after {os.getloadavg()[0]:.2f}; "
          f"{rounds} interleaved rounds; wall and CPU seconds, min / median")
    for name, rs in runs.items():
        w, c = [r["wall"] for r in rs], [r["cpu"] for r in rs]
        compiles = max(r["compiles"] for r in rs)
        dask = "imports dask" if any(r["dask"] for r in rs) else "no dask"
        print(f"  {name:44s} wall {min(w):6.3f} / {statistics.median(w):6.3f} s   "
              f"cpu {min(c):6.3f} / {statistics.median(c):6.3f} s   "
              f"{compiles} compilations, {dask}")
    for key in ("wall", "cpu"):
        base = [r[key] for r in runs[REFERENCE]]
        dyn = [r[key] for r in runs["(a) import dynsys"]]
        print(f"  import dynsys minus the libraries alone, {key} (min, median): "
              f"{min(dyn) - min(base):+.3f} s, "
              f"{statistics.median(dyn) - statistics.median(base):+.3f} s")
    print("  targets: (a) < 1 s; (b) < 1 s (first basins call, warm cache)")


if __name__ == "__main__":
    main()
