"""Self-stabilisation (Damian et al.): the predicted 2-D dynamics beside true GD.

For the 2-D model and for a random second-order model, alpha = -grad L . grad S and
beta = |grad S|^2 are computed from the model's derivatives at a reference point on the edge
(S = 2/lr, alpha > 0); GD started at theta_ref + x0 u is compared with the map
x' = -(1 + lr y) x, y' = y + lr (alpha - beta x^2/2): the time-averaged x^2 against
2 alpha / beta and the sharpness y = S - 2/lr. Writes ``data/self_stabilisation.nc`` and
``data/self_stabilisation.png``.

    python analyses/self_stabilisation.py [--quick] [--out data]
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import xarray as xr
from scipy.optimize import brentq

import dynsys


def _edge_point_2d(model, q, lr=1.0):
    """A point of the 2-D model with eps theta_2^2 = q and sharpness 2/lr (z < 0 if q > 2)."""
    b = np.sqrt(q / model.eps)
    a = brentq(lambda a: float(model.sharpness([a, b])) - 2.0 / lr, 1e-3, 10.0, xtol=1e-15)
    return np.array([a, b])


def _edge_point_random(model, lr_fraction=0.5, k=20):
    """A point during progressive sharpening and the step size whose edge it is: (theta, lr).

    GD with lr0 = 0.5 / S(0) (stable throughout) runs k steps from 0 while the sharpness still
    rises (alpha > 0); lr is chosen so that this point is on the edge, S = 2/lr."""
    lr0 = lr_fraction / float(model.sharpness(np.zeros(model.dim)))
    tr = dynsys.trajectory(model, np.zeros(model.dim), lr=lr0, steps=k)
    theta = tr.theta.values[k]
    return theta, 2.0 / float(model.sharpness(theta))


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    steps = 400 if quick else 4000
    cases = []
    for eps, q in ((0.01, 2.1),) if quick else ((0.01, 2.02), (0.01, 2.1), (0.001, 2.02)):
        m = dynsys.QuadraticRegression2D(eps, 0.0)
        cases.append((f"2-D eps={eps:g}, eps theta_2^2={q:g}", m, _edge_point_2d(m, q), 1.0))
    m = dynsys.SecondOrderRegression.random(4, 30, sigma_z=1.0, sigma_J=1 / np.sqrt(30),
                                            sigma_Q=0.5 / np.sqrt(30), seed=1)
    theta, lr = _edge_point_random(m)
    cases.append(("random second-order D=4, P=30", m, theta, lr))
    rows = []
    sets = []
    for name, model, ref, lr in cases:
        ds = dynsys.self_stabilisation(model, ref, lr, x0=1e-3, steps=steps)
        sets.append((name, ds))
        rows.append((name, ds.attrs))
    keys = ("alpha", "beta", "predicted_mean_x2", "mean_x2_true", "mean_x2_pred",
            "mean_y_true", "mean_y_pred", "y_rms_error", "cos_u_grad_S", "param_lr")
    data = {k: ("case", [float(a.get(k, np.nan)) for _, a in rows]) for k in keys}
    result = xr.Dataset(data, coords={"case": [n for n, _ in rows], "step": np.arange(steps + 1)})
    for k in keys:
        result[k].attrs["long_name"] = k.replace("_", " ")
    result["x_true"] = (("case", "step"), np.stack([d.x_true.values for _, d in sets]),
                        {"long_name": "u . (theta - theta_ref) under GD"})
    result["y_true"] = (("case", "step"), np.stack([d.y_true.values for _, d in sets]),
                        {"long_name": "S - 2/lr under GD"})
    result["x_pred"] = (("case", "step"), np.stack([d.x_pred.values for _, d in sets]),
                        {"long_name": "x of the predicted map"})
    result["y_pred"] = (("case", "step"), np.stack([d.y_pred.values for _, d in sets]),
                        {"long_name": "y of the predicted map"})
    result.attrs.update(dynsys._labels.provenance(cases[0][1], analysis="self_stabilisation",
                                                  steps=steps, x0=1e-3))
    result.attrs["system_params"] = "several cases (see case)"
    out.mkdir(parents=True, exist_ok=True)
    dynsys.save(result, out / "self_stabilisation.nc")
    dynsys.plot.self_stabilisation([d for _, d in sets], labels=[n for n, _ in sets],
                                   path=out / "self_stabilisation.png")
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"))
    args = parser.parse_args(argv)
    r = run(args.out, quick=args.quick)
    for c in r.case.values:
        s = r.sel(case=c)
        print(f"{c}: alpha={float(s.alpha):.4g} beta={float(s.beta):.4g} "
              f"|u.gradS|/|gradS|={float(s.cos_u_grad_S):.3f}; <x^2>: 2alpha/beta="
              f"{float(s.predicted_mean_x2):.3e}, GD {float(s.mean_x2_true):.3e}, "
              f"map {float(s.mean_x2_pred):.3e}; <y>: GD {float(s.mean_y_true):.3e}, "
              f"map {float(s.mean_y_pred):.3e}")


if __name__ == "__main__":
    main()
