"""Figures of the edge-of-stability study."""

from __future__ import annotations

import numpy as np

from ._style import finish, new_axes, pair, pyplot, require_datasets, require_labels


def limit_offset(ds, *, path=None, ax=None, columns: int = 2):
    """Return a log-log figure of the offset ``lr delta`` against ``eps`` with the formula.

    ``ds`` is a :func:`dynsys.limit_offset` table; each ``lr E`` is one colour, each start a
    marker, the leading order ``eps (1 - lr E)/2`` a line; the right panel shows the relative
    error against ``eps`` (linear in ``eps`` where the limit is universal).
    """
    require_datasets("ds", ds, ("eps", "lr_target", "lr_gfs", "offset", "offset_formula",
                                "relative_error", "outcome"),
                     "a table of dynsys.limit_offset")
    plt = pyplot()
    fig, (ax, ax2) = new_axes(ax, *pair(ax, columns), columns=columns, aspect=0.85)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "os^vDx*"
    for j, tgt in enumerate(ds.lr_target.values):
        c = colours[j % len(colours)]
        sub = ds.isel(lr_target=j)
        ax.plot(ds.eps, sub.offset_formula, color=c, lw=1, label=f"lr E = {tgt:g}: formula")
        for k, g in enumerate(ds.lr_gfs.values):
            ok = sub.outcome.isel(lr_gfs=k) == 0
            off = sub.offset.isel(lr_gfs=k).where(ok)
            ax.plot(ds.eps, off, markers[k % len(markers)], color=c, ms=4, mfc="none")
            rel = np.abs(sub.relative_error.isel(lr_gfs=k).where(ok))
            ax2.plot(ds.eps, rel, markers[k % len(markers)], color=c, ms=4, mfc="none")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"$\varepsilon$")
    ax.set_ylabel(r"offset $\eta\delta = 2 - \eta\lambda_\infty$")
    ax.legend(fontsize=7, loc="upper left")
    ax2.plot(ds.eps, ds.eps * 2 * 27 / 32, "k:", lw=1, label="(27/16) eps: slope 1 (lr E = 0)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel(r"$\varepsilon$")
    ax2.set_ylabel("|offset - formula| / formula")
    ax2.set_title("markers: lr lambda_GFS in " + ", ".join(f"{v:g}" for v in ds.lr_gfs.values),
                  fontsize=8)
    ax2.legend(fontsize=7)
    return finish(fig, path)


def gfs_trajectory(datasets, *, labels=None, path=None, ax=None, columns: int = 1):
    """Return a figure of loss, ``lr`` x sharpness and ``lr`` x GFS sharpness against step.

    ``datasets``: results of :func:`dynsys.gfs_trajectory` (one or a list).
    """
    datasets = require_datasets("datasets", datasets, ("step", "loss", "sharpness",
                                                       "gfs_sharpness"),
                                "a result of dynsys.gfs_trajectory (or a list of them)",
                                many=True)
    labels = require_labels(labels, len(datasets))
    fig, axes = new_axes(ax, 3, 1, columns=columns, aspect=0.4, sharex=True)
    for i, d in enumerate(datasets):
        lr = float(d.attrs.get("param_lr", np.nan))
        label = labels[i] if labels is not None else f"lr = {lr:g}"
        steps = d.step.values + 1
        axes[0].plot(steps, d.loss.where(d.loss > 0), lw=0.8, label=label)
        top = d.ntk_eigenvalue if "ntk_eigenvalue" in d else d.sharpness
        axes[1].plot(steps, lr * top, lw=0.8, label=label)
        axes[2].plot(steps, lr * d.gfs_sharpness, lw=1.2, label=label)
    axes[0].set_yscale("log")
    axes[0].set_ylabel("loss")
    axes[1].set_ylabel(r"$\eta\lambda$")
    axes[2].set_ylabel(r"$\eta\lambda_{\mathrm{GFS}}$")
    for ax in axes[1:]:
        ax.axhline(2.0, color="k", ls="--", lw=1)
    axes[2].set_xscale("log")
    axes[2].set_xlabel("step $t$ + 1")
    axes[0].legend(fontsize=7)
    return finish(fig, path)


def self_stabilisation(datasets, *, labels=None, path=None, ax=None, columns: int = 2):
    """Return a figure of GD beside the self-stabilisation prediction, one column per dataset.

    ``datasets``: results of :func:`dynsys.self_stabilisation_tracking` (top: ``lr`` x the
    sharpness of GD, of the prediction ``S(theta+) + y*`` and of the constrained trajectory;
    bottom: ``x^2`` of GD and of the prediction with ``2 alpha_t / beta_t`` dashed and the
    averaging window shaded) or of :func:`dynsys.self_stabilisation` (frozen coefficients:
    ``x^2`` and ``y`` of GD and of the map, ``2 alpha / beta`` dashed).
    """
    datasets = require_datasets("datasets", datasets, ("step", "x_true", "x_pred"),
                                "a result of dynsys.self_stabilisation or "
                                "self_stabilisation_tracking (or a list of them)", many=True)
    labels = require_labels(labels, len(datasets))
    fig, axes = new_axes(ax, 2, len(datasets), columns=columns, aspect=0.75)
    axes = axes.reshape(2, len(datasets))
    for i, d in enumerate(datasets):
        ax1, ax2 = axes[0, i], axes[1, i]
        title = labels[i] if labels else d.attrs.get("system", "")
        if "sharpness_pred" in d:
            lr = float(d.attrs["lr"])
            ax1.plot(d.step, lr * d.sharpness_true, lw=0.8, label="GD")
            ax1.plot(d.step, np.clip(lr * d.sharpness_pred, -1, 5), lw=0.8, label="predicted")
            ax1.plot(d.step, lr * d.sharpness_constrained, "k:", lw=1,
                     label="constrained trajectory")
            ax1.axhline(2.0, color="k", lw=0.5)
            ax1.set_ylabel(r"$\eta\lambda$")
            ax1.set_title(title, fontsize=9)
            ax1.legend(fontsize=7)
            with np.errstate(all="ignore"):
                ax2.plot(d.step, d.x_true ** 2, lw=0.6, label="GD")
                ax2.plot(d.step, np.clip(d.x_pred ** 2, None, 1e3), lw=0.6, label="predicted")
                ab = d.two_alpha_over_beta.where(d.two_alpha_over_beta > 0)
            ax2.plot(d.step, ab, "k--", lw=1, label="2 alpha_t / beta_t")
            ax2.axvspan(d.attrs["window_start"], d.attrs["window_stop"] - 1, color="0.9",
                        zorder=-1)
            ax2.set_yscale("log")
            ax2.set_ylabel("x^2 = (u . (theta - theta+))^2")
            ax2.set_xlabel("step")
            ax2.legend(fontsize=7)
            continue
        with np.errstate(all="ignore"):
            ax1.plot(d.step, d.x_true ** 2, lw=0.8, label="GD")
            ax1.plot(d.step, np.clip(d.x_pred ** 2, None, 1e3), lw=0.8, label="predicted map")
        ax1.axhline(d.attrs["predicted_mean_x2"], color="k", ls="--", lw=1, label="2 alpha/beta")
        ax1.set_yscale("log")
        ax1.set_title(title, fontsize=9)
        ax1.set_ylabel("x^2")
        ax1.legend(fontsize=7)
        ax2.plot(d.step, d.y_true, lw=0.8, label="GD")
        ax2.plot(d.step, np.clip(d.y_pred, -10, 10), lw=0.8, label="predicted map")
        ax2.axhline(0, color="k", lw=0.5)
        ax2.set_ylabel("y = S - 2/lr")
        ax2.set_xlabel("step")
    return finish(fig, path)


def theorem2(ds, *, path=None, ax=None, columns: int = 2):
    """Return the Monte Carlo convergence figure of Theorem 2 (means with error bars against P).

    ``ds``: a :func:`dynsys.theorem2_monte_carlo` result, or a list of them (one per
    normalisation).
    """
    datasets = require_datasets("ds", ds, ("P", "mean_d1", "mean_lambda", "se_d1", "ratio_d2",
                                           "se_ratio", "ratio_d2_rb", "se_ratio_rb",
                                           "predicted_ratio"),
                                "a result of dynsys.theorem2_monte_carlo (or a list of them)",
                                many=True)
    fig, (ax1, ax2) = new_axes(ax, *pair(ax, columns), columns=columns, aspect=0.8)
    for d in datasets:
        label = d.attrs.get("normalisation", "")
        ax1.errorbar(d.P, d.mean_d1 / d.mean_lambda, yerr=d.se_d1 / d.mean_lambda, fmt="o-",
                     ms=4, capsize=3, label=label)
        ax2.errorbar(d.P, d.ratio_d2, yerr=d.se_ratio, fmt="o-", ms=4, capsize=3,
                     label=f"{label}: Monte Carlo")
        ax2.errorbar(d.P, d.ratio_d2_rb, yerr=d.se_ratio_rb, fmt="s--", ms=3, capsize=3,
                     label=f"{label}: Q averaged exactly")
        ax2.plot(d.P, d.predicted_ratio, "k:", lw=1)
    ax1.axhline(0, color="k", lw=0.8)
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("P (D/P fixed)")
    ax1.set_ylabel(r"$E[\dot\lambda] / E[\lambda]$")
    ax1.legend(fontsize=7)
    ax2.set_xscale("log", base=2)
    ax2.set_xlabel("P (D/P fixed)")
    ax2.set_ylabel(r"$E[\ddot\lambda] / E[\lambda]$  ($\sigma_z = 1$)")
    ax2.legend(fontsize=7)
    return finish(fig, path)
