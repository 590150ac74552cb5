"""GFS sharpness along GD on a network (Kreisler et al. 2023, beyond scalar networks).

A tanh network (one hidden layer of 16, mean-squared error on a synthetic teacher-student set
of 8 points, P = 97) from several seeded initialisations, trained by full-batch GD at step sizes
``lr = c / phi(theta0)`` for several ``c`` (``phi``: the GFS sharpness, gradient flow integrated
to convergence by the network's compiled Dormand-Prince flow and polished by Newton steps).
``phi`` is evaluated every ``every`` steps; each run is classified as in the scalar-network scan
(EoS: converged from ``c > 2`` with ``2 - delta <= lr S_inf <= 2``; catapult: converged below
that band; diverged; undecided; below the edge), and the increases of ``phi`` between
checkpoints are reported per class. Networks have no closed-form growth condition, so no
increase is "explained". Writes ``data/network_kreisler.nc`` and ``data/network_kreisler.png``.
Needs JAX (``pip install "dynsys[jax]"``); without it the study says so and exits.

    python -m dynsys.studies.network_kreisler [--quick] [--out data]
    dynsys reproduce --only network_kreisler
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import numpy as np
import xarray as xr

from .. import networks
from .._io import save
from ..eos import RunClass, kreisler_scan
from ._common import finish_figure, jax_missing, parse_args, quantity_and_loss_axes

DEFAULT = dict(n=8, width=16, seeds=(0, 1), lr_gfs=(1.5, 2.05, 2.2, 3.0, 4.0), steps=1000,
               every=50)
QUICK = dict(n=8, width=16, seeds=(0,), lr_gfs=(2.2, 3.0), steps=200, every=50)
#: a network run counts as converged below this loss (MSE); GD at the edge converges slowly
CONVERGED_LOSS = 1e-8
NOISE = 1e-10


def _network(cfg, seed):
    X, Y = networks.teacher_student(cfg["n"], d_in=4, teacher_width=4, seed=0)
    return networks.mlp(X, Y, width=cfg["width"], depth=1, activation="tanh",
                        seed=seed)


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    cfg = QUICK if quick else DEFAULT
    net = _network(cfg, cfg["seeds"][0])
    starts = np.stack([_network(cfg, s).theta0 for s in cfg["seeds"]])
    scan = kreisler_scan(net, starts, list(cfg["lr_gfs"]), steps=cfg["steps"],
                         every=cfg["every"], converged_loss=CONVERGED_LOSS, paths=True)
    scan = scan.assign_coords(seed=("start", np.asarray(cfg["seeds"]),
                                    {"long_name": "initialisation seed", "units": "1"}))
    classes = list(RunClass)
    runs, increasing, worst = [], [], []
    for cls in classes:
        sel = scan.run_class == int(cls)
        inc = scan.max_increase.where(sel)
        runs.append(int(sel.sum()))
        increasing.append(int((inc > NOISE).sum()))
        worst.append(float(inc.max()) if bool(sel.any()) else float("nan"))
    scan["class_runs"] = ("run_class_name", runs, {"long_name": "runs per class"})
    scan["class_runs_increasing"] = ("run_class_name", increasing,
                                     {"long_name": "runs per class in which phi increased"})
    scan["class_max_increase"] = ("run_class_name", worst,
                                  {"long_name": "largest relative increase of phi between "
                                                "checkpoints per class", "units": "1"})
    scan = scan.assign_coords(run_class_name=[c.name.lower() for c in classes])
    out.mkdir(parents=True, exist_ok=True)
    save(scan, out / "network_kreisler.nc")
    figure(scan, out / "network_kreisler.png")
    return scan


def figure(scan, path):
    fig, top, bottom = quantity_and_loss_axes("loss (diverged runs left out)")
    names = {int(c): c.name.lower() for c in RunClass}
    steps = scan.check_step.values
    for j, c in enumerate(scan.lr_gfs.values):
        for i in range(scan.sizes["start"]):
            lr = float(scan.lr.values[i, j])
            cls = names[int(scan.run_class.values[i, j])]
            label = rf"$\eta\phi_0 = {c:g}$ ({cls})" if i == 0 else None
            top.plot(steps, lr * scan.gfs_sharpness_path.values[i, j], color=f"C{j}",
                     label=label, lw=1.2, marker=".", ms=3)   # phi at its checkpoints
            top.plot(steps, lr * scan.sharpness_path.values[i, j], color=f"C{j}", ls=":",
                     lw=0.8)
            if int(scan.run_class.values[i, j]) != int(RunClass.DIVERGED):
                bottom.plot(scan.step, scan.loss_path.values[i, j], color=f"C{j}", lw=0.8)
    top.axhline(2.0, color="k", lw=0.6)
    top.set_ylabel(r"$\eta\phi$ (solid), $\eta S$ (dotted)")
    top.set_title(f"GFS sharpness $\\phi$ along GD: {scan.attrs['system']}")
    top.legend(fontsize=6)
    top.set_xscale("symlog", linthresh=10)   # the runs settle within tens of steps
    top.set_xlim(left=0)
    finish_figure(fig, path)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="one initialisation, fewer steps (tests)")
    if jax_missing("network_kreisler"):
        return
    start = time.perf_counter()
    r = run(args.out, quick=args.quick)
    print(f"{r.sizes['start']} initialisations x {r.sizes['lr_gfs']} step sizes, phi every "
          f"{r.attrs['every']} steps: " + "; ".join(
              f"{c} {int(r.class_runs.sel(run_class_name=c))} "
              f"({int(r.class_runs_increasing.sel(run_class_name=c))} increasing, max "
              f"{float(r.class_max_increase.sel(run_class_name=c)):.3g})"
              for c in r.run_class_name.values))
    for i in range(r.sizes["start"]):
        for j in range(r.sizes["lr_gfs"]):
            s = r.isel(start=i, lr_gfs=j)
            print(f"  seed {int(s.seed)}, lr phi0 = {float(s.lr_gfs):g}: "
                  f"{RunClass(int(s.run_class)).name.lower()}, lr S_inf = "
                  f"{float(s.final_lr_sharpness):.4f}, max increase of phi "
                  f"{float(s.max_increase):.3g}, loss rose at {int(s.loss_oscillations)} "
                  f"steps, sharpness at {int(s.sharpness_oscillations)} checkpoints")
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
