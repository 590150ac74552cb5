"""Bifurcations in the step size of the 2-D model (docs/math.md section 3).

The headline figure: orbit diagrams of the sharpness, of lr x sharpness and of the residual z
against lr at a fixed initial theta, with the edge of stability (2/lr, resp. 2) overlaid and the
continuation of the solution-curve point GD converges to at small lr: its flip sits exactly at
lr lambda = 2. The dataset also holds the flip's normal-form coefficients over a grid of
(eps, lr E): off the axes the flip of the curve is of elliptic type (alpha beta < 0, no
2-cycles; closed form alpha beta = -4 lr eps (1 + eps)^2 S P with S = eps lr theta_2^2,
P = lr theta_1^2), and on the axis theta_2 = 0 (E > 0) a supercritical flip (c = 4/E) with a
genuine stable 2-cycle. Writes ``data/bifurcation_2d.nc`` and ``data/bifurcation_2d.png``.

    python -m dynsys.studies.bifurcation_2d [--quick] [--out data]
    dynsys reproduce --only bifurcation_2d [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr

from .. import plot
from .._io import save
from .._labels import provenance
from .._range import linspace
from ..bifurcation import bifurcation_diagram, continuation
from ..models import QuadraticRegression2D
from ..plot import style
from ._common import parse_args


def normal_form_table(eps_values, lrE_values, lr=1.0):
    """Return alpha, beta and the closed form of alpha beta at the curve's flip point."""
    shape = (len(eps_values), len(lrE_values))
    rate, drift, closed = np.full(shape, np.nan), np.full(shape, np.nan), np.full(shape, np.nan)
    kind = np.full(shape, "", dtype="<U13")
    for i, eps in enumerate(eps_values):
        for j, lrE in enumerate(lrE_values):
            target = lrE / lr
            S = 2 * (1 - lrE) / (1 + eps)                 # flip point: P + eps S = 2
            P = 2 * lrE + S
            theta = np.array([np.sqrt(P / lr), np.sqrt(S / (eps * lr))])
            model = QuadraticRegression2D(eps, target)
            res = continuation(model, theta, param="lr", param_range=(0.5 * lr, 1.5 * lr),
                               start=0.7 * lr, max_points=60)
            pd = res["PD1"]
            rate[i, j], drift[i, j] = float(pd.rate), float(pd.drift)
            kind[i, j] = str(pd.criticality.values)
            closed[i, j] = -4 * lr * eps * (1 + eps) ** 2 * S * P
    dims = ("eps", "lr_target")
    return xr.Dataset({
        "flip_rate": (dims, rate, {"long_name": "alpha in u'' = u + alpha u v"}),
        "flip_drift": (dims, drift, {"long_name": "beta in v'' = v + beta u^2"}),
        "flip_product_closed_form": (dims, closed,
                                     {"long_name": "-4 lr eps (1 + eps)^2 S P"}),
        "flip_type": (dims, kind, {"long_name": "elliptic (no 2-cycles) or hyperbolic"}),
    }, coords={"eps": np.asarray(eps_values), "lr_target": np.asarray(lrE_values)})


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    eps, target = 0.05, 0.0
    model = QuadraticRegression2D(eps, target)
    theta0 = np.array([0.3, np.sqrt(2.5 / eps)])
    n_lr, steps, keep = (300, 3000, 40) if quick else (2000, 10000, 100)
    diagram = bifurcation_diagram(model, linspace(0.3, 1.6, n_lr), x0=theta0,
                                  steps=steps, keep=keep)

    # continuation of the curve point GD reaches at the smallest lr (close to the GF solution)
    converged = diagram.theta.isel(lr=0, sample=-1).values
    cont = continuation(model, converged, param="lr", param_range=(0.3, 1.6),
                        start=float(diagram.lr[0]))
    switched = cont.switch("PD1", max_points=60)      # unfolded: shows there is no 2-cycle
    pd = cont["PD1"]
    lam = float(model.ntk_eigenvalue(pd.theta.values))

    table = normal_form_table([0.01, 0.02, 0.05, 0.1, 0.2] if not quick else [0.02, 0.1],
                              [-0.5, 0.0, 0.5, 0.9] if not quick else [0.0, 0.5])

    axis_model = QuadraticRegression2D(0.1, 0.5)
    axis = continuation(axis_model, [1.0, 0.0], param="lr", param_range=(1.0, 2.3))
    axis = axis.switch("PD1")
    axis_cycle = axis.branches[1]

    c = cont.to_dataset()
    c = c.rename({v: f"continuation_{v}" for v in c.data_vars})
    c = c.rename_dims({"node": "continuation_node", "point": "special_point"})
    c = c.rename_vars({"point": "special_point"}).set_index(special_point="special_point") \
        if "point" in c.coords else c
    c.attrs = {}
    result = xr.merge([diagram, table, c], compat="override", join="outer",
                      combine_attrs="override")
    result.attrs.update(provenance(
        model, analysis="bifurcation_2d", steps=steps, keep=keep, x0=theta0,
        flip_lr=float(pd.lr), flip_lr_lambda=float(pd.lr) * lam,
        flip_rate=float(pd.rate), flip_drift=float(pd.drift),
        flip_type=str(pd.criticality.values),
        max_unfolding_switched=float(np.abs(switched.branches[1].unfolding).max()),
        axis_flip_lr=float(axis["PD1"].lr), axis_normal_form=float(axis["PD1"].normal_form),
        axis_cycle_genuine=int(axis_cycle.genuine.values.all()),
        axis_cycle_stable=int(axis_cycle.stable.values[1:].all())))
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "bifurcation_2d.nc")

    plt = style.pyplot()
    fig, axes = plt.subplots(3, 1, figsize=(7.0, 9.0), sharex=True)
    plot.bifurcation(cont, diagram=diagram, y="sharpness", ax=axes[0])
    plot.bifurcation(cont, diagram=diagram, y="lr*sharpness", ax=axes[1])
    plot.bifurcation(cont, diagram=diagram, y="residual", ax=axes[2])
    axes[1].set_ylim(0, 2.6)
    axes[0].set_title(f"GD on the 2-D model, eps = {eps}, E = {target}, "
                      f"theta0 = ({theta0[0]:.2g}, {theta0[1]:.3g})", fontsize=9)
    for ax in axes[:2]:
        ax.set_xlabel("")
    style.finish(fig, out / "bifurcation_2d.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="smaller sweep (for tests)")
    r = run(args.out, quick=args.quick)
    a = r.attrs
    print(f"flip of the solution curve: lr = {a['flip_lr']:.12f}, lr*lambda = "
          f"{a['flip_lr_lambda']:.12f}, alpha = {a['flip_rate']:.4g}, beta = "
          f"{a['flip_drift']:.4g} ({a['flip_type']}); switched branch max |unfolding| = "
          f"{a['max_unfolding_switched']:.3g} (no genuine 2-cycles)")
    print(f"axis flip (eps 0.1, E 0.5): lr = {a['axis_flip_lr']:.12f}, c = "
          f"{a['axis_normal_form']:.6g}; 2-cycle genuine={a['axis_cycle_genuine']}, "
          f"stable={a['axis_cycle_stable']}")
    prod = (r.flip_rate * r.flip_drift).values
    print("alpha*beta / closed form:\n", np.round(prod / r.flip_product_closed_form.values, 6))
    print("flip types:\n", r.flip_type.values)


if __name__ == "__main__":
    main()
