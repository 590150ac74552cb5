"""Plot a trajectory: loss and sharpness against step, with the 2/lr edge."""

from __future__ import annotations

import numpy as np

from ._style import axis_label, finish, pyplot, require_datasets, require_labels


def trajectory(ds, *, path=None, ax=None, logx: bool = True, labels=None):
    """Return a figure of a model trajectory: loss (log scale) and ``lr x`` sharpness by step.

    The edge of stability ``lr S = 2`` is drawn as a dashed line. ``ds`` is a result of
    :func:`dynsys.trajectory` on a model; a list of such datasets is drawn on shared axes
    (``labels`` names them; by default by their step size). ``logx`` puts steps on a log axis
    (step 0 is drawn at 1).
    """
    datasets = require_datasets("ds", ds, ("step", "loss", "sharpness"),
                                "a model trajectory of dynsys.trajectory (or a list of them)",
                                many=True)
    labels = require_labels(labels, len(datasets))
    plt = pyplot()
    if ax is None:
        fig, axes = plt.subplots(2, 1, figsize=(6.4, 5.2), sharex=True)
    else:
        axes = ax
        fig = axes[0].figure
    for i, d in enumerate(datasets):
        lr = float(d.attrs.get("param_lr", np.nan))
        label = labels[i] if labels is not None else f"lr = {lr:g}"
        steps = d.step.values + 1 if logx else d.step.values
        axes[0].plot(steps, d.loss.where(d.loss > 0), lw=1, label=label)
        top = d.ntk_eigenvalue if "ntk_eigenvalue" in d else d.sharpness
        axes[1].plot(steps, lr * top, lw=1, label=label)
    axes[0].set_yscale("log")
    if logx:
        axes[1].set_xscale("log")
    axes[1].axhline(2.0, color="k", ls="--", lw=1, label="edge: lr S = 2")
    axes[0].set_ylabel(axis_label(datasets[0].loss, "loss"))
    axes[1].set_ylabel("lr x top NTK eigenvalue" if "ntk_eigenvalue" in datasets[0]
                       else "lr x sharpness")
    axes[1].set_xlabel(axis_label(datasets[0].step, "step") + (" + 1" if logx else ""))
    axes[1].legend(loc="best")
    return finish(fig, path)
