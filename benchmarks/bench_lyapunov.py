"""Speed of dynsys.lyapunov_spectrum (issue 3): Henon (1.4, 0.3), 10^6 QR steps, warm.

    python benchmarks/bench_lyapunov.py            # Henon 10^6 steps plus the slower paths
    python benchmarks/bench_lyapunov.py --quick    # smaller runs for a smoke test

Times are best of ``--repeat`` warm calls (the numba kernels are loaded from the on-disk cache
or compiled by a first, untimed call). Paths measured:

* compiled kernel with the analytic Jacobian (the Henon map's ``MapKernel``): target < 1 s for
  10^6 steps;
* compiled kernel without a Jacobian (compiled fourth-order finite differences);
* the Python loop for a map with no kernel (10^4 steps, reported per step).

Recorded on the 2-core development machine (shared with other jobs), warm:
Henon 10^6 steps with the analytic kernel 0.08 s; with compiled finite differences 0.18 s;
Python loop about 39 us per step.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time

import numpy as np

import dynsys
from _common import interleaved  # noqa: E402


def numba_reference_source() -> str:
    return """
@numba.njit(cache=True, error_model="numpy")
def henon_deferred(a, b, x, y, transient, steps, every):
    # the best loop for this problem: Henon written out, 2-D QR in closed form, the logs of the
    # R diagonal taken once every `every` steps
    q00, q10, q01, q11 = 1.0, 0.0, 0.0, 1.0
    for _ in range(transient):
        x, y = 1.0 - a * x * x + y, b * x
    s0 = 0.0
    s1 = 0.0
    p0 = 1.0
    p1 = 1.0
    for t in range(steps):
        j00 = -2.0 * a * x
        m00 = j00 * q00 + q10
        m10 = b * q00
        m01 = j00 * q01 + q11
        m11 = b * q01
        r0 = np.sqrt(m00 * m00 + m10 * m10)
        c0 = m00 / r0
        c1 = m10 / r0
        r1 = c0 * m11 - c1 * m01
        q00, q10, q01, q11 = c0, c1, -c1, c0
        p0 *= r0
        p1 *= abs(r1)
        if (t + 1) % every == 0:
            s0 += np.log(p0)
            s1 += np.log(p1)
            p0 = 1.0
            p1 = 1.0
        x, y = 1.0 - a * x * x + y, b * x
    s0 += np.log(p0)
    s1 += np.log(p1)
    return s0 / steps, s1 / steps
"""


def numba_reference():
    """The deferred-log numba reference, compiled from a file under benchmarks/build/ (so it is
    cached on disk like the library's kernels)."""
    import importlib.util
    import pathlib

    build = pathlib.Path(__file__).resolve().parent / "build"
    build.mkdir(exist_ok=True)
    path = build / "lyapunov_reference.py"
    text = "import numba\nimport numpy as np\n" + numba_reference_source()
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    spec = importlib.util.spec_from_file_location("lyapunov_reference", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["lyapunov_reference"] = module
    spec.loader.exec_module(module)
    return module.henon_deferred


def best_time(func, repeat: int) -> tuple[float, object]:
    func()                                        # warm up (JIT cache / compile)
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        best = min(best, time.perf_counter() - t0)
    return best, out


def numpy_lyapunov_henon(a: float, b: float, x0, steps: int, transient: int = 1000):
    """The plain-numpy script a researcher would write: QR of the tangent map every step."""
    x = np.array(x0, dtype=float)
    for _ in range(transient):
        x = np.array([1 - a * x[0] ** 2 + x[1], b * x[0]])
    q = np.eye(2)
    sums = np.zeros(2)
    for _ in range(steps):
        jac = np.array([[-2 * a * x[0], 1.0], [b, 0.0]])
        x = np.array([1 - a * x[0] ** 2 + x[1], b * x[0]])
        q, r = np.linalg.qr(jac @ q)
        sums += np.log(np.abs(np.diag(r)))
    return np.sort(sums / steps)[::-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    steps = 100_000 if args.quick else 1_000_000
    py_steps = 1_000 if args.quick else 10_000

    henon = dynsys.maps.henon(1.4, 0.3)
    ref = numba_reference()
    lam = dynsys.lyapunov_spectrum(henon, [0.1, 0.1], steps=steps)
    ref_lam = ref(1.4, 0.3, 0.1, 0.1, 1000, steps, 32)
    times = interleaved({
        "dynsys": lambda: dynsys.lyapunov_spectrum(henon, [0.1, 0.1], steps=steps),
        "reference": lambda: ref(1.4, 0.3, 0.1, 0.1, 1000, steps, 32),
    }, args.repeat)
    d, r = times["dynsys"], times["reference"]
    print(f"load average (1 min) {os.getloadavg()[0]:.2f}; {args.repeat} interleaved rounds")
    print(f"Henon, compiled analytic Jacobian, {steps:.0e} steps: min {min(d):.4f} s, median "
          f"{statistics.median(d):.4f} s (exponents {lam.values.round(4).tolist()}, sum - ln 0.3 "
          f"= {float(lam.sum()) - np.log(0.3):.1e})")
    print(f"numba reference (Henon written out, logs every 32 steps): min {min(r):.4f} s, median "
          f"{statistics.median(r):.4f} s (exponents {np.round(ref_lam, 4).tolist()})")
    print(f"ratio reference / dynsys time (min, median) = {min(r) / min(d):.2f}, "
          f"{statistics.median(r) / statistics.median(d):.2f}   (target >= 0.5)")
    seconds = min(d)
    np_steps = 10_000 if args.quick else 100_000
    t0 = time.perf_counter()
    ref = numpy_lyapunov_henon(1.4, 0.3, [0.1, 0.1], np_steps)
    np_seconds = (time.perf_counter() - t0) * (steps + 1000) / (np_steps + 1000)
    print(f"plain numpy (np.linalg.qr per step), scaled to {steps:.0e} steps: {np_seconds:.1f} s "
          f"(exponents {ref.round(3).tolist()} from {np_steps:.0e} steps)")
    print(f"ratio numpy / dynsys = {np_seconds / seconds:.0f}x")

    no_jac = dynsys.Map(henon._step_fn, dim=2, params=henon.params, vectorized=True,
                        kernel=dataclasses.replace(henon.kernel, jacobian=None), name="henon")
    seconds, lam = best_time(lambda: dynsys.lyapunov_spectrum(no_jac, [0.1, 0.1], steps=steps),
                             args.repeat)
    print(f"Henon, compiled finite differences, {steps:.0e} steps: {seconds:.3f} s "
          f"(exponents {lam.values.round(4).tolist()})")

    python_map = dynsys.Map(henon._step_fn, henon._jac_fn, dim=2, params=henon.params,
                            vectorized=True, name="henon")
    seconds, lam = best_time(
        lambda: dynsys.lyapunov_spectrum(python_map, [0.1, 0.1], steps=py_steps, transient=100),
        max(1, args.repeat // 2))
    print(f"Henon, Python loop, {py_steps:.0e} steps: {seconds:.3f} s "
          f"({1e6 * seconds / (py_steps + 100):.1f} us per step)")


if __name__ == "__main__":
    main()
