"""Plot a trajectory: loss and lr x sharpness against step, with the edge and the GFS limit."""

from __future__ import annotations

import numpy as np

from ._style import LR_SHARPNESS, axis_label, finish, new_axes, require_datasets, require_labels

#: Losses below this fraction of a run's largest loss are round-off (a residual at machine
#: precision times the scale squared) and are not drawn.
ROUND_OFF = (1e3 * np.finfo(float).eps) ** 2


def trajectory(ds, *, path=None, ax=None, logx: bool = True, labels=None, system=None,
               columns: int = 1):
    """Return a figure of a model trajectory: loss (log scale) and ``lr x`` sharpness by step.

    The edge of stability ``lr S = 2`` is drawn dashed. With ``system`` (the model the runs
    used), each run's gradient-flow limit ``lr x`` GFS sharpness from its start is drawn
    dotted in its colour: where GD would have ended without the instability. ``ds`` is a result
    of :func:`dynsys.trajectory` on a model, or a list drawn on shared axes (``labels`` names
    them; by default by their step size). ``logx`` puts steps on a log axis (step 0 at 1).
    Losses below ``ROUND_OFF`` times the run's largest loss are round-off and not drawn, so
    the axis ends where the data stops meaning anything. ``ax``: two Axes (loss, sharpness).

    Examples
    --------
    >>> import dynsys
    >>> model = dynsys.QuadraticRegression2D(0.05)
    >>> run = dynsys.trajectory(model, [0.3, 7.0], lr=1.0, steps=2000)
    >>> fig = dynsys.plot.trajectory(run, system=model)
    >>> len(fig.axes), len(fig.axes[1].lines)        # run, edge, GFS limit
    (2, 3)
    """
    datasets = require_datasets("ds", ds, ("step", "loss", "sharpness"),
                                "a model trajectory of dynsys.trajectory (or a list of them)",
                                many=True)
    labels = require_labels(labels, len(datasets))
    if system is not None and not callable(getattr(system, "hessian", None)):
        raise TypeError(f"system must be the model the trajectories ran on, got "
                        f"{type(system).__name__}")
    fig, axes = new_axes(ax, 2, 1, columns=columns, aspect=0.45, sharex=True)
    for i, d in enumerate(datasets):
        lr = float(d.attrs.get("param_lr", np.nan))
        label = labels[i] if labels is not None else rf"$\eta$ = {lr:g}"
        steps = d.step.values + 1 if logx else d.step.values
        loss = d.loss.values
        with np.errstate(invalid="ignore"):
            floor = ROUND_OFF * np.nanmax(np.where(np.isfinite(loss), loss, np.nan))
            shown = np.where(loss > floor, loss, np.nan)
        axes[0].plot(steps, shown, label=label)
        top = d.ntk_eigenvalue if "ntk_eigenvalue" in d else d.sharpness
        line, = axes[1].plot(steps, lr * top, label=label)
        if system is not None:
            from ..eos import gfs_sharpness

            start = d.theta.isel(step=0).values if "theta" in d else d.attrs["x0"]
            gfs = lr * float(gfs_sharpness(system, start))
            axes[1].axhline(gfs, color=line.get_color(), ls=":", lw=1.0,
                            label=f"gradient-flow limit ({label})" if len(datasets) > 1
                            else "gradient-flow limit")
    axes[0].set_yscale("log")
    if logx:
        axes[1].set_xscale("log")
    axes[1].axhline(2.0, color="k", ls="--", lw=0.8, label=f"edge: {LR_SHARPNESS} = 2")
    axes[0].set_ylabel(axis_label(datasets[0].loss, "loss"))
    axes[1].set_ylabel(LR_SHARPNESS)
    axes[1].set_xlabel("step $t$" + (" + 1" if logx else ""))
    if ax is None:
        fig.legend(*axes[1].get_legend_handles_labels(), loc="outside lower center", ncols=2)
    else:
        axes[1].legend(loc="best")
    return finish(fig, path)
