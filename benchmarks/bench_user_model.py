"""A user's own 2-D loss, through ``Model.from_loss``, against the built-in 2-D model.

    python benchmarks/bench_user_model.py            # 256^2 grid, 2000 steps, 5 rounds
    python benchmarks/bench_user_model.py --quick    # 128^2, 1000 steps, 3 rounds
    python benchmarks/bench_user_model.py --numpy    # also the numpy path (slow)

The loss is the 2-D model's (eps = 0.1, target 0), written by hand as a user would,
``L = z^2 / 2`` with ``z = (theta_1^2 - eps theta_2^2) / 2``, with its gradient (and, as a second
contender, without it: the gradient is then a five-point difference of the loss inside numba).
GD at lr = 1 from every point of the grid over [-3, 3] x [-12, 12], the default stopping rule.
Throughput = point-iterations used (sum of ``steps``) / wall time of a warm call. Contenders:

* ``builtin grid_kernel``: ``dynsys.basins`` on ``QuadraticRegression2D`` (its own loop);
* ``builtin gd_kernel``: the same model's hand-written numba GD step through the generic compiled
  loop (the loop every map or model with a kernel runs);
* ``user from_loss + grad`` (returning an array, or a tuple) and ``user from_loss, loss only``:
  the user model as ``dynsys.basins`` plans it (``compute_path`` auto_kernel: the user's
  functions compiled by numba, run in the same generic loop).

Only the hot loop is timed (the same for every contender): ``dynsys.basins`` then adds the
final loss and sharpness (numpy, in Python loops for functions written for one point) and the
attractor labelling (a user loss has no residuals, so its continuum of minima is labelled
as one fixed point per converged cell, which is slow for large grids).

Every round runs each contender once, in turn; the table gives min and median over rounds and
the ratio of each to the built-in kernels. The load average is printed before and after. The
first (cold) call of each, which compiles, is timed separately.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import dynsys
from _common import EPS, user_grad, user_grad_tuple, user_loss  # noqa: E402
from dynsys._stopping import OrbitEnds
from dynsys.basins import _api
from dynsys.basins._kernels import map_sweep
from dynsys.basins._sweep import numpy_sweep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--numpy", action="store_true")
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    n, steps = (128, 1000) if args.quick else (256, 2000)
    rounds = args.rounds or (3 if args.quick else 5)
    grid = ((-3.0, 3.0, n), (-12.0, 12.0, n))
    rule = dynsys.StoppingRule(steps=steps)
    builtin = dynsys.QuadraticRegression2D(EPS, 0.0)

    def hot_loop(system, path=None):
        """The sweep's hot loop as dynsys.basins plans it (``path`` forces one), timed alone:
        the final loss and sharpness and the attractor labelling are not included."""
        plan = _api._plan(system, [1.0], None, grid=grid, param=None, base=None, rule=rule,
                          scaling=True, chunk_size=None)
        if path is not None:
            plan.path = path
        label = _api._path_label(plan)

        def run():
            if plan.path == "model":
                out = {"outcome": np.empty(n * n, np.int8), "period": np.empty(n * n, np.int16),
                       "steps": np.empty(n * n, np.int32), "final": np.empty((n * n, 2)),
                       "lyapunov": np.empty(n * n)}
                ends = OrbitEnds(out["outcome"], out["period"], out["steps"], out["final"],
                                 out["lyapunov"])
                system.grid_kernel.sweep(plan.axes[0], plan.axes[1], 1.0, rule, ends,
                                         scaling=True)
            else:
                mapping = plan.map_at(1.0)
                ends = OrbitEnds(np.empty(n * n, np.int8), np.empty(n * n, np.int16),
                                 np.empty(n * n, np.int32), np.empty((n * n, 2)),
                                 np.empty(n * n))
                runner = map_sweep if plan.path == "kernel" else numpy_sweep
                args = ((mapping.kernel, plan.start_points(0), mapping.param_vector())
                        if plan.path == "kernel" else (mapping, plan.start_points(0)))
                runner(*args, rule, ends)
            return int(ends.used.sum()), label, np.bincount(ends.code, minlength=5)
        return run

    contenders = {
        "builtin grid_kernel": hot_loop(builtin),
        "builtin gd_kernel (generic loop)": hot_loop(builtin, "kernel"),
        "user from_loss + grad (array)": hot_loop(
            dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, name="by_hand")),
        "user from_loss + grad (tuple)": hot_loop(
            dynsys.Model.from_loss(user_loss, grad=user_grad_tuple, dim=2, name="by_hand_t")),
        "user from_loss, loss only": hot_loop(
            dynsys.Model.from_loss(user_loss, dim=2, name="by_hand_fd")),
    }
    if args.numpy:
        contenders["user from_loss + grad, numpy"] = hot_loop(
            dynsys.Model.from_loss(user_loss, grad=user_grad, dim=2, jit=False))
    print(f"grid {n}^2, {steps} steps, lr 1, eps {EPS}; NUMBA_NUM_THREADS="
          f"{os.environ.get('NUMBA_NUM_THREADS', 'default')} ({dynsys._numba.numba.get_num_threads()}"
          f" threads)")
    for name, run in contenders.items():
        t0 = time.perf_counter()
        _, path, counts = run()
        print(f"cold {name:36s} {time.perf_counter() - t0:7.2f} s  path {path:12s} "
              f"outcomes {counts.tolist()}")
    load0 = os.getloadavg()
    walls = {name: [] for name in contenders}
    work = {}
    for _ in range(rounds):
        for name, run in contenders.items():
            t0 = time.perf_counter()
            work[name], _, _ = run()
            walls[name].append(time.perf_counter() - t0)
    load1 = os.getloadavg()
    print(f"load average (1 min) before {load0[0]:.2f}, after {load1[0]:.2f}; {rounds} rounds")
    print(f"{'contender':38s} {'point-its':>11s} {'min s':>8s} {'med s':>8s} {'Mit/s(min)':>11s} "
          f"{'Mit/s(med)':>11s}")
    rate = {}
    for name in contenders:
        w = walls[name]
        rate[name] = (work[name] / min(w), work[name] / statistics.median(w))
        print(f"{name:38s} {work[name]:11d} {min(w):8.3f} {statistics.median(w):8.3f} "
              f"{rate[name][0] / 1e6:11.2f} {rate[name][1] / 1e6:11.2f}")
    for ref in ("builtin grid_kernel", "builtin gd_kernel (generic loop)"):
        for name in contenders:
            if name.startswith("user"):
                print(f"{ref} / {name}: throughput ratio min-based "
                      f"{rate[ref][0] / rate[name][0]:.2f}, median-based "
                      f"{rate[ref][1] / rate[name][1]:.2f}")


if __name__ == "__main__":
    main()
