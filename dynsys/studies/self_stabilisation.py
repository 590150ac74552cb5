"""Self-stabilisation (Damian et al.): GD beside the paper's prediction along the constrained
trajectory (projected GD onto the stable set {S <= 2/lr, grad L . u = 0}).

Cases: a random second-order model (D = 5, P = 50, output weights 0.4^a so that the loss has a
slow tail and the sharpening is sustained) started on GD's own path where lr S first exceeds
2 (the edge: the recurrence's delta^2 drive stands for an active projection), and the 2-D model (eps = 0.01) started past the edge (GFS sharpness > 2/lr). For each:
the true and predicted sharpness, x^2 and the time average of x^2 against 2 alpha_t / beta_t
(over whole self-stabilisation cycles of GD). Writes ``data/self_stabilisation.nc`` and
``data/self_stabilisation.png``.

    python -m dynsys.studies.self_stabilisation [--quick] [--out data]
    dynsys reproduce --only self_stabilisation [--quick] [--out data]
"""

from __future__ import annotations

import pathlib

import numpy as np
import xarray as xr

from .. import eos, plot
from .._io import save
from .._labels import provenance
from ..models import QuadraticRegression2D, SecondOrderRegression
from ..orbits import trajectory
from ._common import parse_args

KEYS = ("mean_x2_true", "mean_x2_pred", "mean_two_alpha_over_beta", "mean_sharpness_true",
        "mean_sharpness_pred", "sharpness_rms_error", "mean_cos_u_grad_S", "mean_alpha",
        "fraction_active", "lr", "window_start", "window_stop")


def random_model(D: int = 5, P: int = 50, seed: int = 0, decay: float = 0.4):
    """The random second-order model of the study (rows of z weighted by decay^a)."""
    r = SecondOrderRegression.random(D, P, sigma_z=1.0, sigma_J=1 / np.sqrt(P),
                                     sigma_Q=1 / np.sqrt(P), seed=seed)
    w = decay ** np.arange(D)
    return SecondOrderRegression(3 * r.z0, r.J0 * w[:, None], r.Q * w[:, None, None],
                                 name=f"random second-order D={D} P={P} seed={seed}")


def edge_start(model, lr, level=2.0, steps=1000):
    """GD's iterate from 0 where lr S first exceeds ``level`` (progressive sharpening)."""
    tr = trajectory(model, np.zeros(model.dim), lr=lr, steps=steps)
    k = int(np.argmax(lr * tr.sharpness.values > level))
    if lr * tr.sharpness.values[k] <= level:
        raise RuntimeError("GD never sharpened to the requested level")
    return tr.theta.values[k]


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    steps = 400 if quick else 3000
    cases = []
    m = random_model()
    cases.append(("random D=5 P=50, lr=0.04", m, edge_start(m, 0.04), 0.04))
    m2 = QuadraticRegression2D(0.01, 0.0)
    cases.append(("2-D eps=0.01, lr=1", m2, np.array([1.2, np.sqrt(2.3 / 0.01)]), 1.0))
    sets = [eos.self_stabilisation_tracking(model, th0, lr, steps=steps)
            for _, model, th0, lr in cases]
    names = [c[0] for c in cases]
    data = {k: ("case", [float(d.attrs.get(k, np.nan)) for d in sets],
                {"long_name": k.replace("_", " ")}) for k in KEYS}
    result = xr.Dataset(data, coords={"case": names, "step": np.arange(steps + 1)})
    for var in ("sharpness_true", "sharpness_pred", "sharpness_constrained", "x_true", "x_pred",
                "two_alpha_over_beta", "alpha", "cos_u_grad_S"):
        result[var] = (("case", "step"), np.stack([d[var].values for d in sets]),
                       dict(sets[0][var].attrs))
    result.attrs.update(provenance(cases[0][1], analysis="self_stabilisation",
                                   steps=steps))
    result.attrs["system_params"] = "several cases (see case)"
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "self_stabilisation.nc")
    plot.self_stabilisation(sets, labels=names, path=out / "self_stabilisation.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="fewer steps (for tests)")
    r = run(args.out, quick=args.quick)
    for c in r.case.values:
        s = r.sel(case=c)
        lr = float(s["lr"])
        print(f"{c}: |u.gradS|/|gradS|={float(s.mean_cos_u_grad_S):.3g}, alpha={float(s.mean_alpha):.3g}; "
              f"<x^2> GD {float(s.mean_x2_true):.3e}, predicted {float(s.mean_x2_pred):.3e}, "
              f"2alpha/beta {float(s.mean_two_alpha_over_beta):.3e}; <S> GD "
              f"{float(s.mean_sharpness_true):.4g}, predicted {float(s.mean_sharpness_pred):.4g} "
              f"(2/lr = {2 / lr:.4g}); RMS sharpness error / (2/lr) "
              f"{float(s.sharpness_rms_error):.3f}; steps {int(s.window_start)}-"
              f"{int(s.window_stop) - 1}")


if __name__ == "__main__":
    main()
