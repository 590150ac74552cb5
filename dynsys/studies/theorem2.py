"""Theorem 2 of Agarwala et al.: E[d lambda/dt] and E[d2 lambda/dt2]/E[lambda] at a random start.

Monte Carlo over random second-order models (``SecondOrderRegression.random``, seeded) for
growing P at D/P = 1/2, under the derived normalisation (Q off-diagonal variance 1/(2 D P),
J entries variance 1/P) and, for contrast, Q scaled by 1/P. The derivative formulas (module
docstring of ``dynsys.eos._theorem2``) are first checked against finite differences of lambda
along a numerically integrated gradient flow. Writes ``data/theorem2.nc`` (table: D, P, means
and standard errors) and ``data/theorem2.png``.

    python -m dynsys.studies.theorem2 [--quick] [--out data]
    dynsys reproduce --only theorem2 [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr
from scipy.integrate import solve_ivp

from .. import plot
from .._io import save
from ..eos import ntk_eigenvalue_derivatives, theorem2_monte_carlo
from ..models import SecondOrderRegression
from ._common import parse_args


def derivative_check(seed: int = 4, h: float = 2e-3) -> dict:
    """Return the formula and finite-difference derivatives of lambda along gradient flow."""
    m = SecondOrderRegression.random(3, 5, sigma_z=1.0, sigma_J=1.0, seed=seed)
    th0 = np.full(5, 0.1)

    def lam_at(t):
        if t == 0:
            x = th0
        else:
            sol = solve_ivp(lambda _t, x: -m.grad(x), (0.0, t), th0, method="DOP853",
                            rtol=1e-13, atol=1e-14)
            x = sol.y[:, -1]
        return float(m.ntk_eigenvalue(x))

    lam = [lam_at(k * h) for k in (-2, -1, 0, 1, 2)]
    fd1 = (lam[0] - 8 * lam[1] + 8 * lam[3] - lam[4]) / (12 * h)
    fd2 = (-lam[0] + 16 * lam[1] - 30 * lam[2] + 16 * lam[3] - lam[4]) / (12 * h * h)
    _, d1, d2 = ntk_eigenvalue_derivatives(m, th0)
    return {"check_d1": d1, "check_d1_fd": fd1, "check_d2": d2, "check_d2_fd": fd2}


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    Ps = [8, 16] if quick else [16, 32, 64, 128]
    samples = 20 if quick else 150
    sets = [theorem2_monte_carlo(Ps, ratio=0.5, samples=samples, normalisation=n,
                                 seed=2023) for n in ("theorem", "inverse_P")]
    result = xr.concat([s.drop_attrs() for s in sets], dim="normalisation")
    result = result.assign_coords(normalisation=["theorem", "inverse_P"])
    result["normalisation"].attrs["long_name"] = ("theorem: Q off-diagonal variance 1/(2DP); "
                                                  "inverse_P: 1/(2P^2)")
    for v in sets[0].data_vars:
        result[v].attrs.update(sets[0][v].attrs)
    result.attrs.update(sets[0].attrs)
    result.attrs.pop("normalisation", None)
    result.attrs.update(derivative_check())
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "theorem2.nc")
    plot.theorem2(sets, path=out / "theorem2.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="small sizes (for tests)")
    r = run(args.out, quick=args.quick)
    a = r.attrs
    print(f"derivative check: d1 {a['check_d1']:.8g} (FD {a['check_d1_fd']:.8g}), "
          f"d2 {a['check_d2']:.8g} (FD {a['check_d2_fd']:.8g})")
    for n in r.normalisation.values:
        s = r.sel(normalisation=n)
        print(f"normalisation {n} (limit {float(s.predicted_ratio[0]):g}):")
        for P in s.P.values:
            t = s.sel(P=P)
            print(f"  D={int(t.D)} P={P}: E[dlam/dt]={float(t.mean_d1):+.4f} +- "
                  f"{float(t.se_d1):.4f} (E[lam]={float(t.mean_lambda):.3f}); "
                  f"E[d2lam]/E[lam]={float(t.ratio_d2):.3f} +- {float(t.se_ratio):.3f} "
                  f"(Q-averaged {float(t.ratio_d2_rb):.3f} +- {float(t.se_ratio_rb):.3f})")


if __name__ == "__main__":
    main()
