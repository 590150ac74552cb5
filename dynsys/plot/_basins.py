"""Figure of a basin sweep: outcome maps faceted over the parameter, and the final sharpness."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._labels import decode_flags
from ._style import axis_label, finish, pyplot

#: Outcome colours, ordered by lightness so the maps stay readable in greyscale.
OUTCOME_COLOURS = {"converged": "#0b2a5b", "chaotic": "#a0439f", "undecided": "#8c8c8c",
                   "periodic": "#f4a340", "diverged": "#f7f7f7"}


def basins(ds, *, values=None, max_facets: int = 4, path=None):
    """Return a figure of a :func:`dynsys.basins` Dataset (saved to ``path`` if given).

    Top row: the outcome map at up to ``max_facets`` values of the swept parameter (evenly
    spaced through the sweep, or the ``values`` given), with a legend from the outcome's
    ``flag_meanings``. For models a last panel shows ``lr * final_sharpness`` of the converged
    points against ``lr`` (median and 5-95 % band) with the edge of stability
    ``sharpness = 2/lr`` (value 2) marked.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.basins(dynsys.QuadraticRegression2D(0.1), [0.5, 1.0],
    ...                    grid=((-2, 2, 16), (-4, 4, 16)), steps=300)
    >>> fig = dynsys.plot.basins(ds)
    >>> len(fig.axes) >= 3
    True
    """
    import xarray as xr
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    if not isinstance(ds, xr.Dataset) or "outcome" not in ds or "attractor" not in ds:
        raise TypeError("ds must be a Dataset returned by dynsys.basins (with 'outcome')")
    if not isinstance(max_facets, int) or max_facets < 1:
        raise ValueError(f"max_facets must be an integer >= 1, got {max_facets!r}")
    if values is not None:
        values = check.array("values", values)
    plt = pyplot()
    swept = ds.outcome.dims[0]
    grid_dims = ds.outcome.dims[1:]
    flags = decode_flags(ds.outcome)
    codes = sorted(flags)
    cmap = ListedColormap([OUTCOME_COLOURS.get(flags[c], "#444444") for c in codes])
    norm = BoundaryNorm(np.arange(min(codes) - 0.5, max(codes) + 1.5), cmap.N)
    all_values = ds[swept].values
    if values is None:
        pick = np.unique(np.linspace(0, all_values.size - 1, min(max_facets, all_values.size))
                         .round().astype(int))
    else:
        pick = [int(np.argmin(np.abs(all_values - v))) for v in np.atleast_1d(values)]
    has_sharp = "final_sharpness" in ds and swept == "lr"
    one_d = len(grid_dims) == 1
    n_maps = 1 if one_d else len(pick)
    ncols = n_maps + int(has_sharp)
    fig, axes = plt.subplots(1, ncols, figsize=(3.4 * ncols + 0.6, 3.4), squeeze=False,
                             layout="constrained")
    axes = axes[0]
    if one_d:
        ax = axes[0]
        x = ds[grid_dims[0]].values
        ax.pcolormesh(all_values, x, ds.outcome.values.T, cmap=cmap, norm=norm,
                      shading="nearest")
        ax.set_xlabel(axis_label(ds[swept], swept))
        ax.set_ylabel(axis_label(ds[grid_dims[0]], grid_dims[0]))
        ax.grid(False)
    else:
        d1, d2 = grid_dims[:2]
        x1, x2 = ds[d1].values, ds[d2].values
        for ax, k in zip(axes[:n_maps], pick, strict=True):
            img = ds.outcome.isel({swept: k}).transpose(d1, d2, ...).values
            if img.ndim > 2:
                img = img.reshape(img.shape[0], img.shape[1], -1)[..., 0]
            ax.pcolormesh(x1, x2, img.T, cmap=cmap, norm=norm, shading="nearest",
                          rasterized=True)
            ax.set_title(f"{swept} = {all_values[k]:.4g}")
            ax.set_xlabel(axis_label(ds[d1], d1))
            ax.set_ylabel(axis_label(ds[d2], d2))
            ax.grid(False)
    present = set(np.unique(ds.outcome.values).tolist())
    handles = [Patch(facecolor=cmap(i), edgecolor="black", linewidth=0.5, label=flags[c])
               for i, c in enumerate(codes) if c in present]
    axes[n_maps - 1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                            fontsize=8, frameon=False)
    if has_sharp:
        ax = axes[-1]
        conv = ds.outcome == next(c for c in codes if flags[c] == "converged")
        scaled = (ds.final_sharpness * ds[swept]).where(conv)
        flat = scaled.stack(cell=grid_dims).transpose(swept, "cell").values
        with np.errstate(all="ignore"):
            ok = np.isfinite(flat)
            lo = np.array([np.percentile(r[m], 5) if m.any() else np.nan
                           for r, m in zip(flat, ok, strict=True)])
            mid = np.array([np.median(r[m]) if m.any() else np.nan
                            for r, m in zip(flat, ok, strict=True)])
            hi = np.array([np.percentile(r[m], 95) if m.any() else np.nan
                           for r, m in zip(flat, ok, strict=True)])
        ax.fill_between(all_values, lo, hi, color="#8c8c8c", alpha=0.4, lw=0,
                        label="5-95 % of converged points")
        ax.plot(all_values, mid, "o-", color="#0b2a5b", ms=3, label="median")
        ax.axhline(2.0, color="#b2182b", ls="--", lw=1.2, label="sharpness = 2/lr")
        ax.set_xlabel(axis_label(ds[swept], swept))
        ax.set_ylabel("lr x final sharpness")
        ax.legend(fontsize=8)
    return finish(fig, path)
