"""The house style shared by every dynsys figure."""

from __future__ import annotations

import os
import re

import numpy as np

#: Figure widths in inches: one column of a two-column paper (``columns=1``) and the full text
#: width (``columns=2``); the common journal and conference templates are within 5 % of these.
COLUMN_WIDTH = {1: 3.4, 2: 7.0}

_GREEK = {"theta", "eta", "lambda", "eps", "epsilon", "sigma", "alpha", "beta", "delta", "mu",
          "phi", "rho", "kappa", "tau", "omega", "gamma"}
_SYMBOLS = {"lr": r"step size $\eta$", "eps": r"$\varepsilon$", "step": "step $t$",
            "lr_gfs": r"$\eta\lambda_{\mathrm{GFS}}$", "lr_target": r"$\eta E$",
            "P": "$P$", "D": "$D$"}

#: The edge-of-stability quantity on every axis: step size times the top eigenvalue.
LR_SHARPNESS = r"$\eta\lambda$"


def tex(name: str) -> str:
    """Return the mathtext label of a dimension or state name (``theta_1`` -> ``$\\theta_1$``,
    ``lr`` -> step size ``$\\eta$``); other names unchanged."""
    name = str(name)
    if name in _SYMBOLS:
        return _SYMBOLS[name]
    m = re.fullmatch(r"([A-Za-z]+)_?(\d+)?", name)
    if m and (m.group(1) in _GREEK or len(m.group(1)) == 1):
        base = {"eps": "varepsilon"}.get(m.group(1), m.group(1))
        base = "\\" + base if m.group(1) in _GREEK else base
        return f"${base}_{{{m.group(2)}}}$" if m.group(2) else f"${base}$"
    return name


def check_columns(columns) -> int:
    """Return ``columns`` (1 or 2) or raise ValueError naming it."""
    if columns not in COLUMN_WIDTH or isinstance(columns, bool):
        raise ValueError(f"columns must be 1 (one column of a paper) or 2 (the full width), "
                         f"got {columns!r}")
    return int(columns)


def new_axes(ax, nrows: int, ncols: int, *, columns: int = 2, aspect: float = 0.62,
             sharex: bool = False):
    """Return ``(figure, flat array of nrows * ncols Axes)``: new ones sized for ``columns``
    (each row ``aspect`` times the width per panel), or the ``ax`` given (one Axes or a sequence
    of exactly ``nrows * ncols``), else ValueError naming ``ax``."""
    if ax is not None:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if axes.size != nrows * ncols or not all(hasattr(a, "plot") for a in axes):
            raise ValueError(f"ax must be {nrows * ncols} matplotlib Axes for this figure "
                             f"({nrows} x {ncols}), got {ax!r}")
        return axes[0].figure, axes
    plt = pyplot()
    width = COLUMN_WIDTH[check_columns(columns)]
    height = width / ncols * aspect * nrows if ncols > 1 else width * aspect * nrows
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, max(height, 1.6)), squeeze=False,
                             layout="constrained", sharex=sharex)
    return fig, axes.ravel()


def pair(ax, columns) -> tuple[int, int]:
    """Return the ``(rows, cols)`` of a two-panel figure: side by side at full width or when
    drawing into given Axes, stacked in one column (where side by side they would not fit)."""
    return (2, 1) if ax is None and columns == 1 else (1, 2)


def pyplot():
    """Return ``matplotlib.pyplot`` with a non-interactive backend when there is no display."""
    import matplotlib

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 150, "savefig.dpi": 300, "savefig.bbox": "tight",
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "font.size": 8, "axes.titlesize": 8,
        "axes.labelsize": 8, "legend.fontsize": 7, "xtick.labelsize": 7, "ytick.labelsize": 7,
        "legend.frameon": False, "image.cmap": "viridis", "mathtext.fontset": "cm",
        "lines.linewidth": 1.0,
    })
    return plt


def axis_label(var, fallback: str) -> str:
    """Return the axis label of a DataArray: the symbol of a coordinate named like one
    (``theta_1``, ``lr``), else ``long_name [units]`` from its attrs (or ``fallback``)."""
    attrs = getattr(var, "attrs", {}) or {}
    symbol = tex(getattr(var, "name", None) or fallback)
    if symbol != str(getattr(var, "name", None) or fallback):
        return symbol
    label = attrs.get("long_name", fallback)
    units = attrs.get("units")
    return f"{label} [{units}]" if units and units != "1" else str(label)


def finish(fig, path=None):
    """Return ``fig`` after saving it to ``path`` (if given)."""
    if path is not None:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path)
    return fig


def require_datasets(name: str, obj, needed, what: str, *, many: bool = False):
    """Return ``obj`` (with ``many``: a list of them, one allowed) after checking that it is an
    ``xr.Dataset`` holding the variables ``needed``; else raise TypeError naming ``name``."""
    import xarray as xr

    items = list(obj) if many and isinstance(obj, list | tuple) else [obj]
    if not items:
        raise ValueError(f"{name} must not be empty; expected {what}")
    for item in items:
        if not isinstance(item, xr.Dataset):
            raise TypeError(f"{name} must be {what}, got {type(item).__name__}")
        missing = [v for v in needed if v not in item.variables]
        if missing:
            raise TypeError(f"{name} must be {what}; the Dataset given has no {missing}")
    return items if many else obj


def require_labels(labels, n: int):
    """Return ``labels`` (None or a sequence of ``n`` strings), or raise naming ``labels``."""
    if labels is not None and (isinstance(labels, str) or not hasattr(labels, "__len__")
                               or len(labels) != n):
        raise ValueError(f"labels must be a sequence of {n} label(s), one per dataset, "
                         f"got {labels!r}")
    return labels
