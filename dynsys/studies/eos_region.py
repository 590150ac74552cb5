"""Theorem 1 made computable: the region U x [eta_1, eta_2] and eps_c for the 2-D model.

For eps in {0.02, 0.05, 0.1} (target 0): the largest box U (checked at random points, not proved) of starts and interval of
step sizes on which GD converges to a limiting lr x sharpness in [2 - delta, 2] from starts past
the edge (delta = eps, twice the leading-order offset), with the random-point check (a failure rate, not a proof). Then,
at fixed delta in {0.02, 0.05}, the largest eps with a non-empty region (eps_c) and its bracket,
against the leading-order prediction 2 delta. Also the basins of the whole symmetric domain
(eps = 0.05, four step sizes). Writes data/basins_2d.nc, data/eos_region.nc (the eps = 0.05
sweep, EoS set and U), data/eos_region_summary.nc, data/eos_critical_eps.nc and figures.

    python -m dynsys.studies.eos_region [--quick] [--out data]
    dynsys reproduce --only eos_region [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr

from .. import plot
from .._io import save
from .._range import geomspace, linspace
from .._version import __version__
from ..basins import basins
from ..eos import eos_region, offset_root_eps
from ..models import QuadraticRegression2D
from ..plot.style import finish, pyplot
from ._common import parse_args


def basins_overview(out: pathlib.Path, quick: bool = False):
    """Basins of the whole symmetric domain for a few step sizes (the picture U lives in)."""
    model = QuadraticRegression2D(0.05)
    n = 96 if quick else 256
    ds = basins(model, [0.5, 0.8, 1.0, 1.5], grid=((-3, 3, n), (-12, 12, n)),
                steps=20_000)
    save(ds, out / "basins_2d.nc")
    plot.basins(ds, path=out / "basins_2d.png")
    converged = ds.outcome == 0
    for lr in ds.lr.values:
        share = float(converged.sel(lr=lr).mean())
        print(f"basins eps=0.05 lr={lr:g}: {100 * share:.1f}% of [-3,3]x[-12,12] converges")
    return ds


def run(out: pathlib.Path, quick: bool = False):
    out.mkdir(parents=True, exist_ok=True)
    basins_overview(out, quick)
    lr_range = linspace(0.8, 1.25, 4 if quick else 10)
    n = 32 if quick else 96
    n_check = 40 if quick else 300
    rows, headline = [], None
    for eps in (0.02, 0.05, 0.1):
        model = QuadraticRegression2D(eps)
        t1_hi, t2_hi = 2.0 * np.sqrt(2.0 / 0.8), 3.0 * np.sqrt(2.0 / (eps * 0.8))
        grid = ((t1_hi / n, t1_hi, n), (t2_hi / n, t2_hi, n))
        region = eos_region(model, lr_range=lr_range, grid=grid, n_check=n_check,
                            refine=1 if quick else 4, seed=0, prove=False)
        print(f"eps={eps:g}: {region.summary()}")
        (a1, b1), (a2, b2) = region.U.bounds.values()
        rows.append({"eps": eps, "U_theta_1": (a1, b1), "U_theta_2": (a2, b2),
                     "lr_interval": region.lr_interval, "delta": region.delta,
                     "n_checked": region.certificate["n_checked"],
                     "n_failed": region.certificate["n_failed"],
                     "eos_fraction": float(region.dataset.eos.mean())})
        if eps == 0.05:
            headline = region
    summary = xr.Dataset(
        {
            "U_theta_1": (("eps", "end"), [r["U_theta_1"] for r in rows],
                          {"long_name": "U: range of initial theta_1"}),
            "U_theta_2": (("eps", "end"), [r["U_theta_2"] for r in rows],
                          {"long_name": "U: range of initial theta_2"}),
            "lr_interval": (("eps", "end"), [r["lr_interval"] for r in rows],
                            {"long_name": "[eta_1, eta_2]", "units": "1"}),
            "delta": ("eps", [r["delta"] for r in rows],
                      {"long_name": "tolerance below the edge, lr x sharpness units"}),
            "n_checked": ("eps", [r["n_checked"] for r in rows],
                          {"long_name": "random points checked by plain iteration"}),
            "n_failed": ("eps", [r["n_failed"] for r in rows],
                         {"long_name": "of which failed (final box)"}),
            "eos_fraction": ("eps", [r["eos_fraction"] for r in rows],
                             {"long_name": "fraction of the sweep with EoS behaviour"}),
        },
        coords={"eps": [r["eps"] for r in rows], "end": ["lo", "hi"]},
        attrs={"dynsys_version": __version__, "analysis": "eos_region_summary",
               "target": 0.0, "lr_range": np.asarray([lr_range.start, lr_range.stop]), "grid_n": n},
    )
    save(headline, out / "eos_region.nc")
    save(summary, out / "eos_region_summary.nc")
    plot.eos_region(headline, path=out / "eos_region.png")

    critical = []
    for delta in (0.02, 0.05):
        ds = offset_root_eps(delta,
                             eps_values=geomspace(0.005, 0.3, 6 if quick else 12),
                             bisections=2 if quick else 5, grid_n=24 if quick else 64,
                             n_check=20 if quick else 100)
        print(f"delta={delta:g}: eps_c = {ds.attrs['eps_c']:.4g} +- "
              f"{ds.attrs['eps_c_uncertainty']:.2g} (leading order 2 delta = {2 * delta:g})")
        critical.append(ds.expand_dims(delta=[delta]))
    crit = xr.concat(critical, dim="delta", join="outer", combine_attrs="drop_conflicts")
    crit["eps_c"] = ("delta", [c.attrs["eps_c"] for c in critical],
                     {"long_name": "largest eps with an EoS region"})
    crit["eps_c_uncertainty"] = ("delta", [c.attrs["eps_c_uncertainty"] for c in critical],
                                 {"long_name": "half-width of the eps_c bracket"})
    for key in ("eps_c", "eps_c_uncertainty", "eps_c_bracket", "delta", "predicted_eps_c",
                "monotone", "system_params", "param_eps"):
        crit.attrs.pop(key, None)
    save(crit, out / "eos_critical_eps.nc")
    _plot_critical(crit, out / "eos_critical_eps.png")
    return summary, crit


def _plot_critical(crit, path):

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for delta, style in zip(crit.delta.values, ("o-", "s-"), strict=False):
        d = crit.sel(delta=delta).dropna("eps", subset=["box_cells"])
        ax.plot(d.eps, d.box_cells, style, ms=3, label=f"delta = {delta:g}")
        ax.axvline(float(crit.eps_c.sel(delta=delta)), ls=":", color=ax.lines[-1].get_color())
        ax.axvline(2 * delta, ls="--", lw=0.8, color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("eps")
    ax.set_ylabel("grid cells in U x [eta_1, eta_2]")
    ax.set_title("region vanishes at eps_c (dotted); leading order 2 delta (dashed)")
    ax.legend()
    finish(fig, path)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="small resolution (for tests)")
    run(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
