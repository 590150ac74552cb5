"""The edge of stability on a network (Cohen et al. 2021): progressive sharpening, then the
sharpness hovering at 2/lr while the loss keeps falling, non-monotonically.

A fully connected tanh network (2 hidden layers) with mean-squared error on a fixed subset of
scikit-learn's bundled digits (one-hot targets), trained by full-batch GD from one seeded
initialisation at several step sizes; the sharpness (top Hessian eigenvalue, Lanczos on
Hessian-vector products, warm-started) every few steps. For each step size: the first step
where lr S reaches 2, the mean and spread of lr S after it, the share of steps after it at
which the loss went up, and the loss at the edge and at the end. Writes
``data/network_eos.nc`` and ``data/network_eos.png`` (sharpness with the 2/lr lines, loss
below). Needs JAX (``pip install "dynsys[jax]"``); without it the study says so and exits.

    python -m dynsys.studies.network_eos [--quick] [--out data]
    dynsys reproduce --only network_eos
"""

from __future__ import annotations

import os
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
from .._labels import provenance
from .._outcomes import Outcome
from ._common import finish_figure, jax_missing, parse_args, quantity_and_loss_axes

FULL = dict(n=256, width=32, depth=2, lrs=(0.2, 0.25, 0.3), steps=4000, every=20)
QUICK = dict(n=128, width=16, depth=2, lrs=(0.22, 0.25, 0.28), steps=1500, every=25)


def summarise(ds, lr):
    """EoS statistics of one run: entry step, lr S after it, non-monotone share, losses."""
    S = ds.sharpness.values
    steps = ds.check_step.values
    loss = ds.loss.values
    reached = np.flatnonzero(lr * S >= 2.0)
    if reached.size == 0:
        return dict(edge_step=-1, mean_lrS=np.nan, std_lrS=np.nan, max_lrS=np.nan,
                    loss_up_share=np.nan, loss_at_edge=np.nan, loss_end=float(loss[-1]))
    k = int(steps[reached[0]])
    after = lr * S[reached[0]:]
    tail = loss[k:]
    return dict(edge_step=k, mean_lrS=float(after.mean()), std_lrS=float(after.std()),
                max_lrS=float(after.max()),
                loss_up_share=float(np.mean(np.diff(tail) > 0)) if tail.size > 1 else np.nan,
                loss_at_edge=float(loss[k]), loss_end=float(loss[-1]))


def run(out, quick=False):
    cfg = QUICK if quick else FULL
    X, Y = networks.digits(cfg["n"], classes=10, seed=0)
    net = networks.mlp(X, Y, width=cfg["width"], depth=cfg["depth"], activation="tanh",
                       seed=0)
    runs, stats = [], []
    for lr in cfg["lrs"]:
        ds = networks.spectrum_trajectory(net, net.theta0, lr=lr, steps=cfg["steps"],
                                          every=cfg["every"])
        runs.append(ds)
        stats.append(summarise(ds, lr))
    lrs = np.asarray(cfg["lrs"])
    result = xr.Dataset(
        {
            "loss": (("lr", "step"), np.stack([d.loss.values for d in runs]),
                     {"long_name": "training loss (MSE)", "units": "1"}),
            "sharpness": (("lr", "check"), np.stack([d.sharpness.values for d in runs]),
                          {"long_name": "sharpness (top Hessian eigenvalue)"}),
            "outcome": ("lr", np.array([int(d.outcome) for d in runs], dtype=np.int8),
                        Outcome.cf_attrs("outcome of gradient descent")),
        },
        coords={"lr": ("lr", lrs, {"long_name": "step size", "units": "1"}),
                "step": runs[0].step, "check_step": ("check", runs[0].check_step.values)},
    )
    longs = {"edge_step": "first checkpoint with lr S >= 2 (-1: never)",
             "mean_lrS": "mean lr S from the edge on", "std_lrS": "std of lr S from the edge on",
             "max_lrS": "max lr S from the edge on",
             "loss_up_share": "share of steps from the edge on where the loss increased",
             "loss_at_edge": "loss when lr S first reached 2", "loss_end": "final loss"}
    for key, long_name in longs.items():
        result[key] = ("lr", np.array([s[key] for s in stats]), {"long_name": long_name})
    result.attrs.update(provenance(net, analysis="network_eos",
                                   steps=cfg["steps"], every=cfg["every"],
                                   data="sklearn digits, fixed subset seed 0"))
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "network_eos.nc")
    figure(result, out / "network_eos.png")
    return result


def figure(result, path):
    fig, top, bottom = quantity_and_loss_axes()
    for i, lr in enumerate(result.lr.values):
        colour = f"C{i}"
        top.plot(result.check_step, result.sharpness[i], color=colour, label=rf"$\eta = {lr:g}$")
        top.axhline(2 / lr, color=colour, ls="--", lw=0.8)
        bottom.plot(result.step, result.loss[i], color=colour, lw=0.8)
    top.set_ylabel(r"sharpness $S$")
    top.set_title(f"GD on {result.attrs['system']}; dashed: $2/\\eta$")
    top.legend()
    finish_figure(fig, path)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="a smaller network and fewer steps (tests)")
    if jax_missing("network_eos"):
        return
    start = time.perf_counter()
    r = run(args.out, quick=args.quick)
    for i, lr in enumerate(r.lr.values):
        s = r.isel(lr=i)
        print(f"lr={lr:g} (2/lr={2 / lr:.3g}): edge at step {int(s.edge_step)}, lr S after "
              f"{float(s.mean_lrS):.3f} +- {float(s.std_lrS):.3f} (max {float(s.max_lrS):.3f}), "
              f"loss up at {100 * float(s.loss_up_share):.0f}% of steps, loss "
              f"{float(s.loss_at_edge):.4f} -> {float(s.loss_end):.4f}")
    print(f"({time.perf_counter() - start:.0f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()
