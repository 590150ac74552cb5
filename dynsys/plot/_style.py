"""The house style shared by every dynsys figure."""

from __future__ import annotations

import os


def pyplot():
    """Return ``matplotlib.pyplot`` with a non-interactive backend when there is no display."""
    import matplotlib

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 150, "savefig.bbox": "tight",
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "font.size": 10, "legend.frameon": False,
        "image.cmap": "viridis",
    })
    return plt


def axis_label(var, fallback: str) -> str:
    """Return ``long_name [units]`` from a DataArray's attrs (or ``fallback``)."""
    attrs = getattr(var, "attrs", {}) or {}
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
