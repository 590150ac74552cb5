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
