"""Figure of a Kreisler scan: runs per class and their largest sharpness increase."""

from __future__ import annotations

import numpy as np

from .._labels import decode_flags
from ._style import LR_SHARPNESS, finish, new_axes, require_datasets

#: One colour per run class (Okabe-Ito), in the order of the RunClass table.
CLASS_COLOURS = {"eos": "#0072b2", "catapult": "#e69f00", "diverged": "#d55e00",
                 "undecided": "#7f7f7f", "below_edge": "#009e73"}


def flags_code(flags: dict, name: str) -> int:
    """Return the code of ``name`` in a ``{code: name}`` table (-1 if absent)."""
    return next((c for c, n in flags.items() if n == name), -1)


def kreisler_scan(ds, *, ax=None, columns: int = 2, path=None):
    """Return a figure of a :func:`dynsys.kreisler_scan`: the number of runs of each class
    (eos, catapult, diverged, undecided, below the edge) for every ``lr lambda_GFS`` as
    stacked bars with their counts (left), and each run's largest relative increase of the
    GFS sharpness, coloured by class, with the rounding level ``noise`` (right; diverged runs
    are left out there, values below the rounding level are drawn on it).

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`dynsys.kreisler_scan`.
    ax : two matplotlib Axes, optional
    columns : {1, 2}
        Width of a new figure.
    path : str, optional
        Where to save the figure.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.kreisler_scan(dynsys.ScalarNetwork(3), [[1.5, 0.6, 1.2], [0.9, 1.1, 0.7]],
    ...                           [2.2, 2.6], steps=2000)
    >>> len(dynsys.plot.kreisler_scan(ds).axes)
    2
    """
    require_datasets("ds", ds, ("run_class", "max_increase", "lr_gfs"),
                     "a Dataset of dynsys.kreisler_scan")
    if ax is not None or columns == 2:
        fig, (a, b) = new_axes(ax, 1, 2, columns=columns, aspect=0.75)
    else:                                       # one column: the panels stacked
        fig, (a, b) = new_axes(None, 2, 1, columns=1, aspect=0.62)
    flags = decode_flags(ds.run_class)
    lrs = ds.lr_gfs.values
    x = np.arange(lrs.size)
    classes = ds.run_class.transpose("lr_gfs", ...).values.reshape(lrs.size, -1)
    bottom = np.zeros(lrs.size)
    for code, name in flags.items():
        counts = (classes == code).sum(axis=1)
        if not counts.any():
            continue
        colour = CLASS_COLOURS.get(name, "#444444")
        bars = a.bar(x, counts, bottom=bottom, color=colour, label=name.replace("_", " "),
                     width=0.7)
        a.bar_label(bars, labels=[str(c) if c else "" for c in counts], label_type="center",
                    fontsize=6, color="white" if name in ("eos", "diverged") else "black")
        bottom += counts
    a.set_xticks(x, [f"{v:g}" for v in lrs])
    a.set_xlabel(rf"{LR_SHARPNESS}$_{{\mathrm{{GFS}}}}$ at the start")
    a.set_ylabel(f"runs (of {classes.shape[1]} starts)")
    a.grid(axis="x", visible=False)
    own_figure = ax is None
    if not own_figure:
        a.legend(loc="upper right", fontsize=6, title="run class", title_fontsize=6)
        a.set_ylim(0, classes.shape[1] * 1.45)   # room for the legend above the bars
    inc = ds.max_increase.transpose("lr_gfs", ...).values.reshape(lrs.size, -1)
    noise = float(ds.attrs.get("noise", 0.0) or 0.0)
    floor = max(noise, 1e-17)
    rng = np.random.default_rng(0)               # jitter only spreads the markers
    for code, name in flags.items():
        sel = classes == code
        if not sel.any() or name == "diverged":      # the increase of a diverging run is moot
            continue
        rows, _ = np.nonzero(sel)
        jitter = rng.uniform(-0.2, 0.2, rows.size)
        b.plot(x[rows] + jitter, np.maximum(inc[sel], floor), "o", ms=2.5, mfc="none",
               color=CLASS_COLOURS.get(name, "#444444"), label=name.replace("_", " "))
    if noise > 0:
        b.axhline(noise, color="black", ls=":", lw=0.8, label="rounding level")
    if own_figure:     # one legend for both panels, under them
        handles, labels = a.get_legend_handles_labels()
        extra = [h for h in b.get_lines() if h.get_label() == "rounding level"]
        fig.legend(handles=handles + extra, labels=labels + [h.get_label() for h in extra],
                   loc="outside lower center", ncols=min(len(handles) + len(extra),
                                                         3 if columns == 1 else 6),
                   title="run class", title_fontsize=6)
    shown = inc[(classes != flags_code(flags, "diverged")) & np.isfinite(inc)]
    top = max(float(shown.max()) if shown.size else floor, floor)
    b.set_ylim(floor / 3, top * 3)               # never a degenerate log axis
    b.set_yscale("log")
    b.set_xticks(x, [f"{v:g}" for v in lrs])
    b.set_xlabel(rf"{LR_SHARPNESS}$_{{\mathrm{{GFS}}}}$ at the start")
    b.set_ylabel(r"max. relative increase of $\lambda_{\mathrm{GFS}}$")
    b.set_title("runs that did not diverge", fontsize=7)
    if not own_figure:
        b.legend(loc="best", fontsize=6)
    return finish(fig, path)
