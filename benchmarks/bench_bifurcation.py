"""Timing of orbit diagrams and continuation (run: python benchmarks/bench_bifurcation.py)."""

from __future__ import annotations

import time

import numpy as np

import dynsys


def timed(label, func, repeat=3):
    func()                                    # compile / warm the numba cache
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - t0)
    print(f"{label:60s} {best:8.3f} s")
    return best


def numpy_orbit_diagram(eps, lrs, theta0, steps, keep):
    """The plain-numpy script a researcher would write: all step sizes at once, one step at a
    time, keeping the last ``keep`` iterates (divergent orbits silenced, not stopped)."""
    a = np.full(lrs.shape, theta0[0])
    b = np.full(lrs.shape, theta0[1])
    out = np.empty((keep, lrs.size, 2))
    with np.errstate(all="ignore"):
        for t in range(steps):
            z = 0.5 * (a * a - eps * b * b)
            a, b = a - lrs * z * a, b + lrs * eps * z * b
            if t >= steps - keep:
                out[t - steps + keep, :, 0], out[t - steps + keep, :, 1] = a, b
    return out


def main():
    model = dynsys.QuadraticRegression2D(0.05)
    theta0 = [0.3, np.sqrt(2.5 / 0.05)]
    fast = timed("orbit diagram, 2-D model, 2000 lr x 10000 steps (keep 100)",
                 lambda: dynsys.bifurcation_diagram(model, (0.3, 1.6, 2000), x0=theta0,
                                                    steps=10000, keep=100))
    slow = timed("  plain numpy, same problem (vectorised over lr)",
                 lambda: numpy_orbit_diagram(0.05, np.linspace(0.3, 1.6, 2000), theta0, 10000,
                                             100), repeat=1)
    print(f"  ratio numpy / dynsys = {slow / fast:.1f}x")
    timed("orbit diagram, logistic, 2000 r x 10000 steps (keep 100)",
          lambda: dynsys.bifurcation_diagram(dynsys.maps.logistic(), (2.5, 4.0, 2000),
                                             x0=[0.3], steps=10000, keep=100))
    plain = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.0})
    timed("orbit diagram, user map without kernel, 20 r x 1000 steps",
          lambda: dynsys.bifurcation_diagram(plain, (2.5, 4.0, 20), x0=[0.3], steps=1000,
                                             keep=10), repeat=1)

    def cascade():
        res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r",
                                  param_range=(2.5, 3.5675))
        for label in ("PD1", "PD2", "PD3"):
            res = res.switch(label)
        return res
    timed("continuation: logistic cascade to PD4 (3 switches)", cascade)
    timed("continuation: 2-D model curve flip (family, lr) + switch",
          lambda: dynsys.continuation(model, [np.sqrt(0.05) * 6.0, 6.0], param="lr",
                                      param_range=(0.3, 1.6)).switch("PD1", max_points=60))


if __name__ == "__main__":
    main()
