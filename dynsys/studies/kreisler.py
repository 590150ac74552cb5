"""GFS sharpness along GD (Kreisler et al.): scalar networks of depth 2-4 and the 2-D model.

Many random starts and step sizes past the edge (lr phi(theta0) > 2), every run classified as
EoS (converged with 2 - delta <= lr S_inf <= 2, delta = 0.1), catapult (converged below that
band), diverged or undecided, and the increases reported per class; for the 2-D model also
violent starts with a large negative residual (z0 below x_-(eps), the lower branch of its
growth condition, at lr = 1; the scan's own lr = c / phi0 differs). The GFS sharpness phi is evaluated at every step, and the largest one-step increase
is recorded, with the parameters of every run in which it increases and whether the increase
happened at a step where the one-step growth condition holds (an imbalance factor
1 - lr^2 r^2/(w_i^2 w_j^2) of modulus > 1; for the 2-D model lr z > x_c). Writes
``data/kreisler.nc`` and ``data/kreisler.png``.

    python -m dynsys.studies.kreisler [--quick] [--out data]
    dynsys reproduce --only kreisler [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr

from .. import plot
from .._io import save
from .._labels import provenance
from ..eos import RunClass, eos_start, gfs_trajectory, kreisler_scan, qr2d_increase_threshold
from ..models import QuadraticRegression2D, ScalarNetwork
from ._common import parse_args


def _systems(quick: bool):
    n = 6 if quick else 40
    rng = np.random.default_rng(20230522)
    lr_gfs = [2.2, 3.0] if quick else [2.1, 2.4, 2.8, 3.0, 3.5, 4.0]
    for depth in (2, 3, 4):
        model = ScalarNetwork(depth, target=1.0, scale=1.0)
        yield f"scalar depth {depth}", model, rng.normal(size=(n, depth)) * 1.3, lr_gfs
    for eps in ((0.05,) if quick else (0.01, 0.05, 0.2)):
        model = QuadraticRegression2D(eps, 0.0)
        starts = eos_start(model, 1.0, rng.uniform(2.05, 4.0, n),
                           theta_1=rng.uniform(0.05, 2.5, n))
        # violent starts: z0 below x_-(eps) (the lower branch of the growth condition at lr 1)
        k = max(2, n // 4)
        x0 = qr2d_increase_threshold(eps, "lower") * rng.uniform(1.01, 1.3, k)
        a0 = rng.uniform(0.05, 1.0, k)
        violent = np.column_stack([a0, np.sqrt((a0 ** 2 - 2 * x0) / eps)])
        yield f"2-D eps {eps:g}", model, np.vstack([starts, violent]), lr_gfs


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    steps = 2000 if quick else 5000
    runs = []
    for name, model, starts, lr_gfs in _systems(quick):
        scan = kreisler_scan(model, starts, lr_gfs, steps=steps if model.dim > 2 or
                             isinstance(model, ScalarNetwork) else 4 * steps)
        flat = scan.drop_vars("theta0").stack(run=("start", "lr_gfs")).reset_index("run")
        theta = np.full((flat.sizes["run"], 4), np.nan)
        theta[:, :model.dim] = scan.theta0.values[flat.start.values]
        flat = flat.drop_vars(["start", "component"], errors="ignore")
        flat["lr_gfs_run"] = ("run", flat.lr_gfs.values)
        flat = flat.drop_vars("lr_gfs")
        flat["theta0"] = (("run", "component"), theta, {"long_name": "start (NaN-padded)"})
        flat["system"] = ("run", np.array([name] * flat.sizes["run"]))
        runs.append(flat)
    result = xr.concat(runs, dim="run", combine_attrs="drop")
    result = result.assign_coords(component=[f"theta_{i + 1}" for i in range(4)],
                                  run=np.arange(result.sizes["run"]))
    result["lr_gfs_run"].attrs.update(long_name="lr x GFS sharpness at the start", units="1")
    summary = []
    for name in dict.fromkeys(result.system.values):
        sub = result.where(result.system == name, drop=True)
        eos = sub.eos == 1
        inc = sub.max_increase.where(eos)
        calm = eos & (sub.growth_steps == 0)
        summary.append((name, int(eos.sum()), int((inc > 1e-10).sum()),
                        float(inc.max()) if bool(eos.any()) else float("nan"),
                        int(sub.unexplained_increases.where(eos).sum()), int(calm.sum()),
                        float(sub.max_increase.where(calm).max()) if bool(calm.any())
                        else float("nan")))
    names = [s[0] for s in summary]
    result["summary_runs_eos"] = ("system_name", [s[1] for s in summary],
                                  {"long_name": "EoS runs (converged, lr phi0 > 2)"})
    result["summary_runs_increasing"] = ("system_name", [s[2] for s in summary],
                                         {"long_name": "EoS runs in which phi increased"})
    result["summary_max_increase"] = ("system_name", [s[3] for s in summary],
                                      {"long_name": "largest relative one-step increase of phi "
                                                    "over EoS runs", "units": "1"})
    result["summary_unexplained"] = ("system_name", [s[4] for s in summary],
                                     {"long_name": "increases at steps failing the growth "
                                                   "condition", "units": "1"})
    result["summary_runs_calm"] = ("system_name", [s[5] for s in summary],
                                   {"long_name": "EoS runs in which the growth condition never "
                                                 "held"})
    result["summary_max_increase_calm"] = ("system_name", [s[6] for s in summary],
                                           {"long_name": "largest increase of phi over those "
                                                         "runs", "units": "1"})
    classes = list(RunClass)
    per = {"runs": [], "increasing": [], "max": []}
    for name in names:
        sub = result.where(result.system == name, drop=True)
        row = {"runs": [], "increasing": [], "max": []}
        for cls in classes:
            sel = sub.run_class == int(cls)
            inc = sub.max_increase.where(sel)
            row["runs"].append(int(sel.sum()))
            row["increasing"].append(int((inc > 1e-10).sum()))
            row["max"].append(float(inc.max()) if bool(sel.any()) else float("nan"))
        for key in per:
            per[key].append(row[key])
    dims = ("system_name", "run_class_name")
    result["class_runs"] = (dims, np.array(per["runs"]), {"long_name": "runs per class"})
    result["class_runs_increasing"] = (dims, np.array(per["increasing"]),
                                       {"long_name": "runs per class in which phi increased"})
    result["class_max_increase"] = (dims, np.array(per["max"]),
                                    {"long_name": "largest relative one-step increase of phi "
                                                  "per class", "units": "1"})
    result = result.assign_coords(system_name=names,
                                  run_class_name=[c.name.lower() for c in classes])
    result.attrs.update(provenance(ScalarNetwork(2), analysis="kreisler",
                                   steps=steps, noise=1e-10))
    result.attrs["system_params"] = "several systems (see system)"
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "kreisler.nc")
    # figure: a monotone EoS run and the worst increasing run of the depth-3 network
    net = ScalarNetwork(3)
    sub = result.where((result.system == "scalar depth 3") & (result.eos == 1), drop=True)
    calm = int(np.argmin(sub.max_increase.values))
    worst = int(np.argmax(sub.max_increase.values))
    trajs, labels = [], []
    for k, lab in ((calm, "monotone"), (worst, "largest increase")):
        th = sub.theta0.values[k, :3]
        trajs.append(gfs_trajectory(net, th, lr=float(sub.lr.values[k]), steps=steps))
        labels.append(f"depth 3, {lab}: lr phi0 = {float(sub.lr_gfs_run.values[k]):.2g}")
    plot.gfs_trajectory(trajs, labels=labels, path=out / "kreisler.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="fewer runs (for tests)")
    r = run(args.out, quick=args.quick)
    for name in r.system_name.values:
        s = r.sel(system_name=name)
        print(f"{name}: {int(s.summary_runs_eos)} EoS runs, {int(s.summary_runs_increasing)} "
              f"with an increase of phi (max {float(s.summary_max_increase):.3g}), "
              f"{int(s.summary_unexplained)} increases without the growth condition; "
              f"{int(s.summary_runs_calm)} runs never met it: max increase "
              f"{float(s.summary_max_increase_calm):.2g}")
        parts = [f"{c} {int(s.class_runs.sel(run_class_name=c))} "
                 f"({int(s.class_runs_increasing.sel(run_class_name=c))} increasing, max "
                 f"{float(s.class_max_increase.sel(run_class_name=c)):.3g})"
                 for c in r.run_class_name.values]
        print("    by class: " + "; ".join(parts))
    inc = r.where((r.eos == 1) & (r.max_increase > 1e-10), drop=True)
    for k in range(min(inc.sizes["run"], 5)):
        print(f"  increase {float(inc.max_increase[k]):.3g} at step {int(inc.increase_step[k])}: "
              f"{inc.system.values[k]}, theta0 = {np.round(inc.theta0.values[k], 3)}, "
              f"lr = {float(inc.lr[k]):.4g}")


if __name__ == "__main__":
    main()
