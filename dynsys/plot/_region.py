"""Figure of an edge-of-stability region: basins with the EoS set and the box U drawn on them."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .._labels import decode_flags
from ._basins import OUTCOME_COLOURS
from ._style import LR_SHARPNESS, axis_label, finish, new_axes


def eos_region(region, *, lr=None, path=None, ax=None, columns: int = 2):
    """Return a figure of a :func:`dynsys.eos_region` result (saved to ``path`` if given).

    Left: outcomes of GD at step size ``lr`` (default: the grid value nearest the middle of
    [eta_1, eta_2]) with the edge-of-stability set outlined and U drawn as a rectangle. Right:
    ``lr x`` limiting sharpness of converged starts (the edge is 2), with U.

    Examples
    --------
    >>> import dynsys
    >>> r = dynsys.eos_region(dynsys.QuadraticRegression2D(0.05),
    ...                       lr_range=dynsys.linspace(0.9, 1.1, 3),
    ...                       grid=((0.05, 1.0, 10), (4.0, 12.0, 10)), n_check=10, refine=0)
    >>> len(dynsys.plot.eos_region(r).axes)
    3
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch, Rectangle

    from ..eos import EoSRegion

    if not isinstance(region, EoSRegion):
        raise TypeError(f"region must be a result of dynsys.eos_region, got "
                        f"{type(region).__name__}")
    if lr is not None:
        lr = check.lr(lr)
    ds = region.dataset
    if lr is None:
        middle = np.mean(region.lr_interval) if not region.empty else ds.lr.values.mean()
        lr = float(ds.lr.values[np.argmin(np.abs(ds.lr.values - middle))])
    sl = ds.sel(lr=lr, method="nearest")
    lr = float(sl.lr)
    d1, d2 = [d for d in ds.outcome.dims if d != "lr"]
    x1, x2 = ds[d1].values, ds[d2].values
    flags = decode_flags(ds.outcome)
    codes = sorted(flags)
    cmap = ListedColormap([OUTCOME_COLOURS.get(flags[c], "#444444") for c in codes])
    norm = BoundaryNorm(np.arange(min(codes) - 0.5, max(codes) + 1.5), cmap.N)
    fig, axes = new_axes(ax, 1, 2, columns=columns, aspect=0.85)
    axes[0].pcolormesh(x1, x2, sl.outcome.transpose(d1, d2).values.T, cmap=cmap, norm=norm,
                       shading="nearest", rasterized=True)
    axes[0].contour(x1, x2, sl.eos.transpose(d1, d2).values.T.astype(float), levels=[0.5],
                    colors="#d62728", linewidths=1.2)
    converged = sl.outcome == next(c for c in codes if flags[c] == "converged")
    scaled = (lr * sl.final_sharpness).where(converged).transpose(d1, d2).values.T
    lo = max(0.0, 2.0 - 4 * region.delta)
    mesh = axes[1].pcolormesh(x1, x2, np.clip(scaled, lo, None), cmap="cividis", vmin=lo,
                              vmax=2.0, shading="nearest", rasterized=True)
    fig.colorbar(mesh, ax=axes[1], label=f"{LR_SHARPNESS} at the limit (edge: 2)")
    for ax in axes:
        if not region.empty:
            (a1, b1), (a2, b2) = region.U.bounds.values()
            ax.add_patch(Rectangle((a1, a2), b1 - a1, b2 - a2, fill=False, ec="#ffffff",
                                   lw=2.2))
            ax.add_patch(Rectangle((a1, a2), b1 - a1, b2 - a2, fill=False, ec="#000000",
                                   lw=1.0, ls="--"))
        ax.set_xlabel(axis_label(ds[d1], d1))
        ax.set_ylabel(axis_label(ds[d2], d2))
        ax.grid(False)
    present = set(np.unique(sl.outcome.values).tolist())
    handles = [Patch(facecolor=cmap(i), edgecolor="black", lw=0.5, label=flags[c])
               for i, c in enumerate(codes) if c in present]
    handles.append(Patch(facecolor="none", edgecolor="#d62728", label="EoS set"))
    handles.append(Patch(facecolor="none", edgecolor="black", ls="--", label="U"))
    axes[0].legend(handles=handles, fontsize=8, loc="upper right", frameon=True)
    title = rf"$\eta$ = {lr:.4g}"
    if not region.empty:
        title += f"; U x [{region.lr_interval[0]:.3g}, {region.lr_interval[1]:.3g}]"
    axes[0].set_title(title)
    axes[1].set_title(rf"$\delta$ = {region.delta:g} (units of {LR_SHARPNESS})")
    return finish(fig, path)
