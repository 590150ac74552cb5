"""Progressive sharpening and the edge of stability in the 2-D model (docs/math.md section 3).

GD at lr = 1 from starts whose gradient-flow limit is sharper than 2/lr (theta_1 = 0.3,
eps theta_2^2 = c for a few c): the top NTK eigenvalue rises past 2/lr, then settles just below it
at lr lambda_inf ~ 2 - eps (1 - lr E)/2, nearly independent of the start.
Writes ``data/eos_trajectories.nc`` and ``data/eos_trajectories.png``.

    python -m dynsys.studies.eos_trajectories [--quick] [--out data]
    dynsys reproduce --only eos_trajectories [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr

from .. import plot
from .._io import save
from .._labels import provenance
from ..models import QuadraticRegression2D, gd_map
from ..orbits import trajectory
from ._common import parse_args


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    eps, target = 0.05, 0.0
    model = QuadraticRegression2D(eps, target)
    lr = 1.0
    steps = 5_000 if quick else 20_000
    starts = (2.2, 2.5, 3.0)
    runs = []
    for c in starts:
        ds = trajectory(model, [0.3, np.sqrt(c / eps)], lr=lr, steps=steps)
        runs.append(ds.expand_dims(start=[c]).drop_attrs())
    result = xr.concat(runs, dim="start", combine_attrs="drop")
    result["start"].attrs.update(long_name="eps theta_2(0)^2 (theta_1(0) = 0.3)", units="1")
    result["limit_lr_lambda"] = ("start", lr * result.ntk_eigenvalue.isel(step=-1).values,
                                 {"long_name": "lr x limiting top NTK eigenvalue"})
    result["predicted_lr_lambda"] = 2 - eps * (1 - lr * target) / 2
    result["predicted_lr_lambda"].attrs["long_name"] = "2 - eps (1 - lr E)/2 (docs/math.md)"
    result.attrs.update(provenance(gd_map(model, lr),
                                   analysis="eos_trajectories", steps=steps))
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "eos_trajectories.nc")
    plot.trajectory([result.sel(start=c).assign_attrs(param_lr=lr) for c in starts],
                    labels=[rf"$\varepsilon\theta_2(0)^2$ = {c:g}" for c in starts],
                    system=model,
                    path=out / "eos_trajectories.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="fewer steps (for tests)")
    result = run(args.out, quick=args.quick)
    for c in result.start.values:
        r = result.sel(start=c)
        print(f"start eps*theta_2^2={c:g}: lr*lambda_inf={float(r.limit_lr_lambda):.6f} "
              f"(formula {float(r.predicted_lr_lambda):.6f})")


if __name__ == "__main__":
    main()
