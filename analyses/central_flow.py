"""Central flows (Cohen, Damian et al.) against gradient descent's time averages.

The central flow with one eigenvalue at the edge (``dynsys.eos.central_flow``, docs/math.md
section 6): gradient flow ``dw/dt = -lr grad L`` until ``S(w) = 2/lr``, then
``dw/dt = -lr [grad L + sigma^2 grad S / 2]`` with ``sigma^2`` holding ``S`` at ``2/lr``; its
predicted time-averaged loss of GD is ``L(w) + sigma^2 / lr``. It is integrated from GD's own
start, on the same clock (time in steps), on a tanh network (digits) and on the random
second-order model of the self-stabilisation study, and compared with GD's centred moving
averages (window ``WINDOW`` steps) of the loss and of the sharpness. The flow stops, with a
labelled reason, where a second Hessian eigenvalue reaches ``2/lr``.

Reported per case (over the times where both the flow and GD are past the edge, up to the
flow's stop): the mean relative error of the predicted loss against GD's averaged loss, the
same for ``L(w)`` alone (without the ``sigma^2`` term), the mean ``|lr S_flow - lr <S>_GD|``,
GD's mean ``lr <S>``, the flow's largest ``|lr S - 2|`` on the edge, and before the edge the
relative loss error of the flow (gradient flow there) against GD; and the means over the whole
compared span of GD's loss (every step), of ``L(w)``, of the predicted loss and of GD's
``lr S`` (the moving window is shorter than GD's self-stabilisation cycles). Writes
``data/central_flow.nc`` and ``data/central_flow.png``. Needs JAX
(``pip install "dynsys[jax]"``); without it the script says so and exits.

    python analyses/central_flow.py [--quick] [--out data]
"""

from __future__ import annotations

import importlib.util
import os
import time as _time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                   "intra_op_parallelism_threads=1")

import numpy as np
import xarray as xr

import dynsys
from _common import parse_args

WINDOW = 40          # steps of GD's centred moving average
EVERY = 5            # sampling of the flow and of GD's sharpness
KEYS = ("t_edge_flow", "t_edge_gd", "t_stop", "loss_rel_error", "loss_rel_error_no_sigma2",
        "sharpness_error", "mean_lrS_gd", "max_edge_drift", "pre_edge_loss_error",
        "compared_from", "compared_to", "seconds_flow", "seconds_gd", "span_loss_gd",
        "span_loss_flow", "span_loss_predicted", "span_lrS_gd")


def random_second_order(D=5, P=50, seed=0, decay=0.4):
    """The random second-order model of the self-stabilisation study (analytic)."""
    r = dynsys.SecondOrderRegression.random(D, P, sigma_z=1.0, sigma_J=1 / np.sqrt(P),
                                            sigma_Q=1 / np.sqrt(P), seed=seed)
    w = decay ** np.arange(D)
    return dynsys.SecondOrderRegression(3 * r.z0, r.J0 * w[:, None], r.Q * w[:, None, None],
                                        name=f"random second-order D={D} P={P} seed={seed}")


def cases(quick):
    if quick:                       # the code path only: a tiny network, a few steps
        X, Y = dynsys.networks.digits(32, classes=10)
        net = dynsys.networks.mlp(X, Y, width=4, depth=1, activation="tanh", seed=0)
        return [("tanh network", net, net.theta0, 0.37, 150)]
    X, Y = dynsys.networks.digits(128, classes=10)
    net = dynsys.networks.mlp(X, Y, width=16, depth=2, activation="tanh", seed=0)
    rso = random_second_order()
    return [("tanh network", net, net.theta0, 0.28, 1500),
            ("random second-order", rso, np.zeros(rso.dim), 0.04, 1500)]


def moving_average(values, window):
    """Centred moving average over ``window`` samples (NaN where the window is incomplete)."""
    out = np.full(values.shape, np.nan)
    half = window // 2
    c = np.concatenate([[0.0], np.cumsum(values)])
    for i in range(half, values.size - half):
        lo, hi = i - half, i - half + window
        if hi <= values.size:
            out[i] = (c[hi] - c[lo]) / window
    return out


def compare(model, theta0, lr, steps):
    """GD and the central flow on one case: (per-time arrays, statistics)."""
    t0 = _time.perf_counter()
    gd = dynsys.networks.spectrum_trajectory(model, theta0, lr=lr, steps=steps, every=EVERY,
                                             top_k=2)
    t_gd = _time.perf_counter() - t0
    t0 = _time.perf_counter()
    cf = dynsys.eos.central_flow(model, theta0, lr, time=float(steps), every=float(EVERY))
    t_cf = _time.perf_counter() - t0
    times = cf.flow_time.values
    idx = np.round(times).astype(int)
    loss_gd = gd.loss.values
    loss_avg = moving_average(loss_gd, WINDOW)[idx]
    S_gd = gd.sharpness.values
    check = gd.check_step.values
    S_avg_full = moving_average(S_gd, WINDOW // EVERY)
    S_avg = np.interp(times, check, S_avg_full)
    S_raw = np.interp(times, check, S_gd)
    above = np.flatnonzero(lr * S_gd >= 2.0)
    t_edge_gd = float(check[above[0]]) if above.size else np.nan
    t_edge = float(cf.attrs["t_edge"])
    t_stop = float(cf.attrs["t_stop"])
    lo = max(t_edge, t_edge_gd) if np.isfinite(t_edge) and np.isfinite(t_edge_gd) else np.nan
    window = (times >= lo) & (times <= t_stop) & np.isfinite(loss_avg) & np.isfinite(S_avg)
    pre = times < (t_edge if np.isfinite(t_edge) else t_stop)
    with np.errstate(all="ignore"):
        rel = np.abs(cf.loss_predicted.values - loss_avg) / loss_avg
        rel0 = np.abs(cf.loss.values - loss_avg) / loss_avg
        stats = {
            "t_edge_flow": t_edge, "t_edge_gd": t_edge_gd, "t_stop": t_stop,
            "loss_rel_error": float(np.mean(rel[window])) if window.any() else np.nan,
            "loss_rel_error_no_sigma2": float(np.mean(rel0[window])) if window.any() else np.nan,
            "sharpness_error": float(np.mean(np.abs(lr * cf.sharpness.values - lr * S_avg)[window]))
            if window.any() else np.nan,
            "mean_lrS_gd": float(np.mean(lr * S_avg[window])) if window.any() else np.nan,
            "max_edge_drift": float(cf.attrs["max_edge_drift"]),
            "pre_edge_loss_error": float(np.nanmax(np.abs(cf.loss.values - loss_gd[idx])[pre]
                                                   / loss_gd[idx][pre])) if pre.any() else np.nan,
            "compared_from": float(lo), "compared_to": float(min(t_stop, times[window].max()))
            if window.any() else np.nan,
            "seconds_flow": t_cf, "seconds_gd": t_gd,
        }
        # means over the whole compared span (every GD step in it; the flow's samples)
        span = np.arange(int(np.ceil(lo)), int(stats["compared_to"]) + 1) if window.any() \
            else np.arange(0)
        stats["span_loss_gd"] = float(np.mean(loss_gd[span])) if span.size else np.nan
        stats["span_loss_flow"] = float(np.mean(cf.loss.values[window])) if span.size else np.nan
        stats["span_loss_predicted"] = (float(np.mean(cf.loss_predicted.values[window]))
                                        if span.size else np.nan)
        inspan = (check >= lo) & (check <= stats["compared_to"]) if span.size else check < 0
        stats["span_lrS_gd"] = float(np.mean(lr * S_gd[inspan])) if span.size else np.nan
    series = {"loss_gd": loss_gd[idx], "loss_gd_avg": loss_avg, "loss_flow": cf.loss.values,
              "loss_flow_predicted": cf.loss_predicted.values, "sharpness_gd": S_raw,
              "sharpness_gd_avg": S_avg, "sharpness_flow": cf.sharpness.values,
              "lambda_2_flow": cf.lambda_2.values, "sigma2_flow": cf.sigma2.values,
              "phase": cf.phase.values}
    return series, stats, cf


def run(out, quick=False):
    rows, names, flows = [], [], []
    for label, model, theta0, lr, steps in cases(quick):
        series, stats, cf = compare(model, theta0, lr, steps)
        rows.append((series, stats, lr, int(cf.status), cf.attrs["stop_reason"]))
        names.append(f"{label} (P={model.dim}, lr={lr:g})")
        flows.append(cf)
    n_time = max(len(r[0]["loss_gd"]) for r in rows)
    grid = EVERY * np.arange(n_time, dtype=float)

    def pad(a):
        b = np.full(n_time, np.nan)
        b[:a.size] = a
        return b
    long = {"loss_gd": "GD loss", "loss_gd_avg": f"GD loss, centred {WINDOW}-step average",
            "loss_flow": "L(w) along the central flow",
            "loss_flow_predicted": "L(w) + sigma^2/lr (predicted average loss)",
            "sharpness_gd": "GD sharpness",
            "sharpness_gd_avg": f"GD sharpness, centred {WINDOW}-step average",
            "sharpness_flow": "S(w) along the central flow",
            "lambda_2_flow": "second Hessian eigenvalue along the flow",
            "sigma2_flow": "sigma^2 along the flow"}
    data = {k: (("case", "flow_time"), np.stack([pad(r[0][k]) for r in rows]), {"long_name": v})
            for k, v in long.items()}
    data["phase"] = (("case", "flow_time"),
                     np.stack([np.pad(r[0]["phase"], (0, n_time - r[0]["phase"].size))
                               for r in rows]).astype(np.int8),
                     dynsys.eos.FlowPhase.cf_attrs("branch of the central flow"))
    for k in KEYS:
        data[k] = ("case", [float(r[1][k]) for r in rows], {"long_name": k.replace("_", " ")})
    data["lr"] = ("case", [r[2] for r in rows], {"long_name": "step size"})
    data["status"] = ("case", np.array([r[3] for r in rows], dtype=np.int8),
                      dynsys.eos.FlowStatus.cf_attrs("how the central flow ended"))
    result = xr.Dataset(data, coords={"case": names, "flow_time": grid})
    result["flow_time"].attrs.update(long_name="time in GD steps", units="1")
    result.attrs.update(dynsys._labels.provenance(None, analysis="central_flow", window=WINDOW,
                                                  every=EVERY, quick=int(quick)))
    result.attrs["system"] = "; ".join(names)
    result.attrs["stop_reasons"] = "; ".join(r[4] for r in rows)
    out.mkdir(parents=True, exist_ok=True)
    dynsys.save(result, out / "central_flow.nc")
    figure(result, out / "central_flow.png")
    return result


def figure(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = result.sizes["case"]
    fig, axes = plt.subplots(2, n, figsize=(6.5 * n, 6.5), squeeze=False, sharex="col")
    for i in range(n):
        r = result.isel(case=i)
        lr = float(r.lr)
        t = r.flow_time.values
        a0, a1 = axes[0, i], axes[1, i]
        a0.plot(t, r.loss_gd, color="0.7", lw=0.6, label="GD")
        a0.plot(t, r.loss_gd_avg, color="C0", lw=1.2, label=f"GD, {WINDOW}-step average")
        a0.plot(t, r.loss_flow, "C1--", lw=1, label="central flow L(w)")
        a0.plot(t, r.loss_flow_predicted, "C3", lw=1.2, label="L(w) + sigma^2/lr")
        a0.set_yscale("log")
        a0.set_ylabel("loss")
        a0.set_title(str(r.case.values), fontsize=10)
        a0.legend(fontsize=7)
        a1.plot(t, lr * r.sharpness_gd, color="0.7", lw=0.6, label="GD")
        a1.plot(t, lr * r.sharpness_gd_avg, color="C0", lw=1.2, label="GD average")
        a1.plot(t, lr * r.sharpness_flow, "C3", lw=1.2, label="central flow")
        a1.plot(t, lr * r.lambda_2_flow, "C2:", lw=1, label="central flow, 2nd eigenvalue")
        a1.axhline(2.0, color="k", lw=0.5)
        t_stop = float(r.t_stop)
        if int(r.status) != 0:
            for a in (a0, a1):
                a.axvline(t_stop, color="k", ls="--", lw=0.8)
            a1.annotate("flow stops: 2nd eigenvalue at 2/lr", (t_stop, 2.0), fontsize=7,
                        xytext=(-150, -30), textcoords="offset points")
        a1.set_ylabel("lr x eigenvalue")
        a1.set_xlabel("time (GD steps)")
        a1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="a tiny network for 150 steps (tests the code path only)")
    if importlib.util.find_spec("jax") is None:
        print('central_flow skipped: JAX is not installed (pip install "dynsys[jax]")')
        return
    r = run(args.out, quick=args.quick)
    reasons = r.attrs["stop_reasons"].split("; ")
    for i, c in enumerate(r.case.values):
        s = r.isel(case=i)
        print(f"{c}: flow at the edge from t = {float(s.t_edge_flow):.0f} (GD: "
              f"{float(s.t_edge_gd):.0f}), stopped at t = {float(s.t_stop):.0f} ({reasons[i]}); "
              f"compared over t = {float(s.compared_from):.0f}-{float(s.compared_to):.0f}: "
              f"predicted loss error {100 * float(s.loss_rel_error):.1f}% "
              f"(L(w) alone {100 * float(s.loss_rel_error_no_sigma2):.1f}%), "
              f"|lr S_flow - lr <S>_GD| {float(s.sharpness_error):.3f} (GD <lr S> "
              f"{float(s.mean_lrS_gd):.3f}); flow |lr S - 2| on the edge <= "
              f"{float(s.max_edge_drift):.1e}; before the edge loss error <= "
              f"{100 * float(s.pre_edge_loss_error):.2f}%; means over the span: GD loss "
              f"{float(s.span_loss_gd):.4g}, flow L(w) {float(s.span_loss_flow):.4g}, predicted "
              f"{float(s.span_loss_predicted):.4g}, GD lr S {float(s.span_lrS_gd):.3f}; "
              f"{float(s.seconds_flow):.0f} s flow, {float(s.seconds_gd):.0f} s GD")


if __name__ == "__main__":
    main()
