"""Figure of a basin sweep: one panel per swept value, coloured by attractor, and the limit."""

from __future__ import annotations

import math

import numpy as np

from .. import _validate as check
from .._labels import decode_flags
from ._style import LR_SHARPNESS, axis_label, check_columns, finish, new_axes, tex

#: Colours of the outcomes that have no attractor (chosen apart from the white background and
#: from the attractor palette, and by lightness so that they stay apart in greyscale).
OUTCOME_COLOURS = {"converged": "#0b2a5b", "chaotic": "#000000", "undecided": "#7f7f7f",
                   "periodic": "#f4a340", "diverged": "#f2c9c9", "bounded": "#c7b8e0"}
#: Attractor colours (Okabe-Ito, colour-blind safe), reused cyclically past eight attractors.
ATTRACTOR_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                     "#f0e442", "#332288"]
_KIND_NAMES = {"fixed_point": "fixed point", "cycle": "{p}-cycle", "family": "curve of minima",
               "chaotic": "chaotic set"}


def _attractor_names(ds) -> list[str]:
    if "attractor_kind" not in ds:
        return []
    kinds = decode_flags(ds.attractor_kind)
    names = []
    for i, (k, p) in enumerate(zip(ds.attractor_kind.values, ds.attractor_period.values,
                                   strict=True)):
        names.append(f"{i}: " + _KIND_NAMES.get(kinds[int(k)], kinds[int(k)]).format(p=int(p)))
    return names


def basins(ds, *, values=None, colour: str = "attractor", max_facets: int | None = None,
           ncols: int | None = None, columns: int = 2, ax=None, path=None):
    """Return a figure of a :func:`dynsys.basins` Dataset, one panel per swept value.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`dynsys.basins`.
    values : array, optional
        The swept values to draw (nearest grid values). Default: every value, so no panel is
        dropped; with ``max_facets`` (an int) at most that many, evenly spaced, and the figure
        says how many of how many it shows.
    colour : {"attractor", "sharpness", "outcome"}
        ``"attractor"``: each start coloured by the id of the attractor it reached (legend: id,
        kind, period); ``"sharpness"`` (models): converged starts coloured by ``lr`` times the
        limiting sharpness, with a colour bar; ``"outcome"``: by outcome only. Starts with no
        attractor get their outcome's colour; diverged is light red, distinct from the white
        background (cells not computed stay white). Past eight attractors, one colour per
        kind (fixed point, each period, chaotic set), with the count in the legend.
    ncols : int, optional
        Panels per row (default: all in one row up to five panels, else four per row).
    columns : {1, 2}
        Width of the figure: one column of a paper or the full text width.
    ax : matplotlib Axes or sequence of Axes, optional
        Draw into these: one per panel, plus one for the limit panel of a model sweep.
    path : str, optional
        Where to save the figure.

    Returns
    -------
    matplotlib.figure.Figure
        For models a last panel shows ``lr`` times the final sharpness of the converged
        starts (median, 5-95 % band) against ``lr``, with the edge at 2.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.basins(dynsys.QuadraticRegression2D(0.1), [0.5, 1.0],
    ...                    grid=((-2, 2, 16), (-4, 4, 16)), steps=300)
    >>> fig = dynsys.plot.basins(ds)
    >>> len(fig.axes)                      # two panels and the limit panel
    3
    """
    import xarray as xr
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    if not isinstance(ds, xr.Dataset) or "outcome" not in ds or "attractor" not in ds:
        raise TypeError("ds must be a Dataset returned by dynsys.basins (with 'outcome')")
    if max_facets is not None and (not isinstance(max_facets, int) or max_facets < 1):
        raise ValueError(f"max_facets must be None or an integer >= 1, got {max_facets!r}")
    if colour not in ("attractor", "sharpness", "outcome"):
        raise ValueError(f"colour must be 'attractor', 'sharpness' or 'outcome', got "
                         f"{colour!r}")
    if ncols is not None and (not isinstance(ncols, int) or ncols < 1):
        raise ValueError(f"ncols must be an integer >= 1, got {ncols!r}")
    check_columns(columns)
    if values is not None:
        values = check.array("values", values)
    swept = ds.outcome.dims[0]
    grid_dims = ds.outcome.dims[1:]
    if colour == "sharpness" and ("final_sharpness" not in ds or swept != "lr"):
        raise ValueError("colour='sharpness' needs a basin sweep of a model over lr")
    flags = decode_flags(ds.outcome)
    all_values = ds[swept].values
    if values is not None:
        pick = [int(np.argmin(np.abs(all_values - v))) for v in np.atleast_1d(values)]
    elif max_facets is not None and max_facets < all_values.size:
        pick = list(np.unique(np.linspace(0, all_values.size - 1, max_facets).round()
                              .astype(int)))
    else:
        pick = list(range(all_values.size))
    has_limit = "final_sharpness" in ds and swept == "lr"
    one_d = len(grid_dims) == 1
    n_maps = 1 if one_d else len(pick)
    n_panels = n_maps + int(has_limit)
    per_row = 2 if columns == 1 else (n_panels if n_panels <= 5 else 4)   # fits the width
    cols = min(ncols or per_row, n_panels)
    rows = math.ceil(n_panels / cols)
    fig, axes = new_axes(ax, rows, cols, columns=columns, aspect=0.95) if ax is None else \
        new_axes(ax, 1, n_panels)
    for extra in axes[n_panels:]:
        extra.set_visible(False)

    # one integer image per panel: attractor ids 0..n-1, then one code per outcome without one
    names = _attractor_names(ds) if colour == "attractor" else []
    lookup = np.arange(len(names))
    if len(names) > len(ATTRACTOR_COLOURS):   # too many to tell apart: one colour per kind
        kinds = [n.split(": ", 1)[1] for n in names]
        classes = list(dict.fromkeys(kinds))
        lookup = np.array([classes.index(k) for k in kinds])
        names = [f"{c} ({kinds.count(c)})" if kinds.count(c) > 1 else c for c in classes]
    outcome_codes = sorted(flags)
    n_att = len(names)
    palette = [ATTRACTOR_COLOURS[i % len(ATTRACTOR_COLOURS)] for i in range(n_att)]
    palette += [OUTCOME_COLOURS.get(flags[c], "#444444") for c in outcome_codes]
    cmap = ListedColormap(palette)
    norm = BoundaryNorm(np.arange(-0.5, len(palette) + 0.5), cmap.N)
    converged_code = next(c for c in outcome_codes if flags[c] == "converged")

    def image(sel):
        out = sel.outcome.values.astype(int)
        img = n_att + np.searchsorted(outcome_codes, out)
        if n_att:
            att = sel.attractor.values
            img = np.where(att >= 0, lookup[np.clip(att, 0, None)], img)
        return img.astype(float)

    used = set()
    sharp_mesh = None
    lo_s = None
    if colour == "sharpness":
        conv = (ds.outcome == converged_code)
        scaled = (ds.final_sharpness * ds[swept]).where(conv).values
        finite = scaled[np.isfinite(scaled)]
        lo_s = float(np.percentile(finite, 1)) if finite.size else 0.0
    if one_d:
        a = axes[0]
        x = ds[grid_dims[0]].values
        img = image(ds)
        used.update(np.unique(img).astype(int).tolist())
        a.pcolormesh(all_values, x, img.T, cmap=cmap, norm=norm, shading="nearest",
                     rasterized=True)
        a.set_xlabel(axis_label(ds[swept], swept))
        a.set_ylabel(axis_label(ds[grid_dims[0]], grid_dims[0]))
        a.grid(False)
    else:
        d1, d2 = grid_dims[:2]
        x1, x2 = ds[d1].values, ds[d2].values
        for a, k in zip(axes[:n_maps], pick, strict=True):
            sel = ds.isel({swept: k}).transpose(d1, d2, ...)
            if sel.outcome.ndim > 2:
                sel = sel.isel({d: 0 for d in sel.outcome.dims[2:]})
            img = image(sel)
            used.update(np.unique(img).astype(int).tolist())
            a.pcolormesh(x1, x2, img.T, cmap=cmap, norm=norm, shading="nearest",
                         rasterized=True)
            if colour == "sharpness":
                s = (sel.final_sharpness * all_values[k]).where(
                    sel.outcome == converged_code).values
                sharp_mesh = a.pcolormesh(x1, x2, s.T, cmap="cividis", vmin=lo_s, vmax=2.0,
                                          shading="nearest", rasterized=True)
            a.set_title(f"{tex(swept)} = {all_values[k]:.4g}")
            a.set_xlabel(axis_label(ds[d1], d1))
            a.set_ylabel(axis_label(ds[d2], d2))
            a.grid(False)
    handles = [Patch(facecolor=palette[i], edgecolor="black", linewidth=0.4,
                     label=(names[i] if i < n_att else flags[outcome_codes[i - n_att]]))
               for i in sorted(used)
               if not (colour == "sharpness" and i == n_att + outcome_codes.index(converged_code))]
    if sharp_mesh is not None:
        fig.colorbar(sharp_mesh, ax=list(axes[:n_maps]), label=f"{LR_SHARPNESS} at the limit",
                     shrink=0.8)
    limit = _limit_panel(axes[n_panels - 1], ds, swept, grid_dims, converged_code) \
        if has_limit else []
    if ax is None and handles:
        # one legend under all panels: the colours of the maps, then the limit panel's lines
        # (inside that small panel a legend would cover its data or its y label)
        fig.legend(handles=handles + limit, loc="outside lower center",
                   ncols=min(len(handles) + len(limit), 3 if columns == 1 else 6),
                   title="attractor" if n_att else "outcome")
    else:
        if handles:
            axes[n_maps - 1].legend(handles=handles, loc="best", fontsize=6)
        if limit:
            axes[n_panels - 1].legend(handles=limit, loc="best", fontsize=6)
    if len(pick) < all_values.size and not one_d:
        fig.suptitle(f"{len(pick)} of {all_values.size} values of {tex(swept)} shown")
    return finish(fig, path)


def _limit_panel(a, ds, swept, grid_dims, converged_code) -> list:
    """Draw lr x final sharpness of the converged starts against lr, with the edge at 2;
    return the legend handles of what it drew."""
    all_values = ds[swept].values
    conv = ds.outcome == converged_code
    scaled = (ds.final_sharpness * ds[swept]).where(conv)
    flat = scaled.stack(cell=grid_dims).transpose(swept, "cell").values
    lo, mid, hi = (np.full(all_values.size, np.nan) for _ in range(3))
    for i, row in enumerate(flat):
        row = row[np.isfinite(row)]
        if row.size:
            lo[i], mid[i], hi[i] = np.percentile(row, [5, 50, 95])
    band = a.fill_between(all_values, lo, hi, color="#8c8c8c", alpha=0.4, lw=0,
                          label=f"{LR_SHARPNESS} at the limit: 5-95 %")
    line, = a.plot(all_values, mid, "o-", color="#0b2a5b", ms=3, label="median")
    edge = a.axhline(2.0, color="#b2182b", ls="--", lw=1.0, label=f"edge: {LR_SHARPNESS} = 2")
    a.set_xlabel(axis_label(ds[swept], swept))
    a.set_ylabel(f"{LR_SHARPNESS} at the limit")
    return [band, line, edge]


