"""Self-stabilisation as Damian, Nichani & Lee define it (their published code), on a network
and on a random second-order model: GD, the constrained trajectory theta+ (GD projected onto
the stable set {S <= 2/lr, grad L . u = 0} by the authors' projection step, 3 times) and the
predicted dynamics v <- v - lr [(x^2 - delta^2) grad S_perp / 2 + H v + u x y] about theta+.

Each case starts on GD's own path where lr S first exceeds ``START`` (2: at the edge, where
the recurrence's drive ``+lr delta^2 grad S_perp / 2`` stands for an active projection; starting
below the edge, at 1.9, that drive acts before the projection does and advances the predicted
oscillation) and runs until the step budget
or until the second Hessian eigenvalue at theta+ exceeds 1.9/lr. Reported: the RMS error of
the predicted x = u . v relative to GD's, the RMS error of the predicted sharpness in units of
2/lr, the mean relative loss error, the distance of GD to theta+, and <x^2> of GD against the
prediction's and delta^2 = 2 alpha / beta. Writes ``data/network_self_stabilisation.nc`` and
``.png`` (x, lr S - 2 and the loss over time). Needs JAX (``pip install "dynsys[jax]"``).

    python analyses/network_self_stabilisation.py [--quick] [--out data]
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import xarray as xr

import dynsys
from _common import parse_args

KEYS = ("tracked_steps", "x_rms_error", "sharpness_rms_error", "loss_rel_error",
        "constrained_distance", "mean_x2_true", "mean_x2_pred", "mean_delta2")


def random_second_order(D=5, P=50, seed=0, decay=0.4):
    """The random second-order model of analyses/self_stabilisation.py, as a JAX model."""
    import jax.numpy as jnp

    r = dynsys.SecondOrderRegression.random(D, P, sigma_z=1.0, sigma_J=1 / np.sqrt(P),
                                            sigma_Q=1 / np.sqrt(P), seed=seed)
    w = decay ** np.arange(D)
    z0, J0, Q = 3 * r.z0, r.J0 * w[:, None], r.Q * w[:, None, None]

    def loss(theta):
        z = z0 + J0 @ theta + 0.5 * jnp.einsum("apq,p,q->a", Q, theta, theta)
        return 0.5 * jnp.sum(z * z)
    return dynsys.Model.from_jax(loss, np.zeros(P), name=f"random second-order D={D} P={P}",
                                 meta={"D": D, "P": P, "seed": seed, "decay": decay})


START = 2.0


def edge_start(model, theta0, lr, steps, level=START, every=5):
    """GD's iterate where lr S first exceeds ``level``."""
    tr = dynsys.networks.spectrum_trajectory(model, theta0, lr=lr, steps=steps, every=every,
                                             save_theta=True, tol=1e-6)
    above = np.flatnonzero(lr * tr.sharpness.values > level)
    if above.size == 0:
        raise RuntimeError(f"GD never reached lr S = {level} on {model.name}")
    return tr.theta.values[above[0]], int(tr.check_step.values[above[0]])


def cases(quick):
    X, Y = dynsys.networks.digits(128, classes=10)
    # (quick: the same cases, fewer tracked steps; the width-8 network at lr = 0.2 of earlier
    # versions never reaches lr S = 2)
    net = dynsys.networks.mlp(X, Y, width=16, depth=2, activation="tanh", seed=0)
    rso = random_second_order()
    return [("network", net, net.theta0, 0.28, 1500),
            ("random second-order", rso, np.zeros(rso.dim), 0.04, 1000)]


def run(out, quick=False):
    steps = 60 if quick else 300
    sets, names, starts = [], [], []
    for label, model, theta0, lr, budget in cases(quick):
        start, at = edge_start(model, theta0, lr, budget)
        sets.append(dynsys.eos.stable_set_tracking(model, start, lr, steps=steps))
        names.append(f"{label} (P={model.dim}, lr={lr:g})")
        starts.append(at)
    data = {k: ("case", [float(d.attrs[k]) for d in sets], {"long_name": k.replace("_", " ")})
            for k in KEYS}
    data["lr"] = ("case", [float(d.attrs["lr"]) for d in sets], {"long_name": "step size"})
    data["start_step"] = ("case", starts,
                          {"long_name": f"GD step where lr S first exceeded {START:g}"})
    data["status"] = ("case", np.array([int(d.status) for d in sets], dtype=np.int8),
                      dynsys.eos.TrackingStatus.cf_attrs("how the tracking ended"))
    for var in ("x_true", "x_pred", "sharpness_true", "sharpness_constrained", "sharpness_pred",
                "loss_true", "loss_constrained", "loss_pred", "delta2"):
        data[var] = (("case", "step"), np.stack([d[var].values for d in sets]),
                     dict(sets[0][var].attrs))
    result = xr.Dataset(data, coords={"case": names, "step": np.arange(steps + 1)})
    result.attrs.update(dynsys._labels.provenance(None, analysis="network_self_stabilisation",
                                                  steps=steps))
    result.attrs["system"] = "; ".join(names)
    result.attrs["start_level"] = START
    out.mkdir(parents=True, exist_ok=True)
    dynsys.save(result, out / "network_self_stabilisation.nc")
    figure(result, out / "network_self_stabilisation.png")
    return result


def figure(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = result.sizes["case"]
    fig, axes = plt.subplots(n, 3, figsize=(12, 3.2 * n), squeeze=False)
    for i in range(n):
        r = result.isel(case=i)
        lr = float(r.lr)
        ax = axes[i]
        ax[0].plot(r.step, r.x_true, label="GD", lw=1)
        ax[0].plot(r.step, r.x_pred, "--", label="predicted", lw=1)
        ax[0].set_ylabel("x = u . (theta - theta+)")
        ax[1].plot(r.step, lr * r.sharpness_true - 2, label="GD", lw=1)
        ax[1].plot(r.step, lr * r.sharpness_pred - 2, "--", label="predicted", lw=1)
        ax[1].plot(r.step, lr * r.sharpness_constrained - 2, ":", label="theta+", lw=1)
        ax[1].set_ylabel("lr S - 2")
        ax[2].plot(r.step, r.loss_true, label="GD", lw=1)
        ax[2].plot(r.step, r.loss_pred, "--", label="predicted", lw=1)
        ax[2].plot(r.step, r.loss_constrained, ":", label="theta+", lw=1)
        ax[2].set_ylabel("loss")
        ax[0].set_title(str(r.case.values))
        for a in ax:
            a.set_xlabel(f"steps after lr S > {START:g}")
        ax[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="fewer tracked steps (tests)")
    try:
        import jax  # noqa: F401
    except ImportError:
        print('network_self_stabilisation skipped: JAX is not installed '
              '(pip install "dynsys[jax]")')
        return
    r = run(args.out, quick=args.quick)
    for i, c in enumerate(r.case.values):
        s = r.isel(case=i)
        print(f"{c}: tracked {int(s.tracked_steps)} steps from GD step {int(s.start_step)}; "
              f"x RMS error {float(s.x_rms_error):.3f} (relative), sharpness RMS error "
              f"{float(s.sharpness_rms_error):.3f} (units of 2/lr), loss error "
              f"{100 * float(s.loss_rel_error):.1f}%, |theta - theta+|/|theta| "
              f"{float(s.constrained_distance):.2e}; <x^2> GD {float(s.mean_x2_true):.3e}, "
              f"predicted {float(s.mean_x2_pred):.3e}, delta^2 {float(s.mean_delta2):.3e}")


if __name__ == "__main__":
    main()
