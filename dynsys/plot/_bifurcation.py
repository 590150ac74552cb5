"""Plot continuation branches (stable solid, unstable dashed) over an orbit diagram."""

from __future__ import annotations

import numpy as np

from ._style import LR_SHARPNESS, axis_label, finish, new_axes, tex

_MODEL_VARIABLES = ("loss", "sharpness", "ntk_eigenvalue", "residual")
_COLOURS = ["C0", "C1", "C2", "C3", "C4", "C5", "C6"]


def _scaled(y: str):
    """Return ``(name, scaled)``: ``"lr*sharpness"`` means sharpness times the parameter."""
    if y.startswith("lr*"):
        return y[3:], True
    return y, False


def _state_name(ds) -> str:
    return "theta" if "theta" in ds else "x"


def _values_from_points(y, points, model, labels):
    """Return ``y`` evaluated on state points ``(..., dim)``."""
    if y in labels:
        return points[..., labels.index(y)]
    if model is None or y not in _MODEL_VARIABLES:
        raise ValueError(f"y must be one of the state components {labels}"
                         + (f" or one of {list(_MODEL_VARIABLES)}" if model is not None else "")
                         + f" (optionally prefixed 'lr*'), got {y!r}")
    with np.errstate(all="ignore"):
        if y == "residual":
            return model.residual(points)[..., 0]
        return getattr(model, y)(points)


def _curves_from_result(result, y):
    """Yield ``(param, values (s, period), stable (s,), period, dataset)`` per branch, with every
    point of each cycle."""
    name, _ = _scaled(y)
    for ds in result.branches:
        period = int(ds.attrs["period"])
        x = ds[_state_name(ds)].values
        p = ds[result.param].values
        pts = np.empty((x.shape[0], period, x.shape[1]))
        pts[:, 0] = x
        for j in range(1, period):
            for i in range(x.shape[0]):
                pts[i, j] = result.map.step(pts[i, j - 1], **{result.param: p[i]})
        values = _values_from_points(name, pts, result.model, list(ds.component.values))
        if "genuine" in ds:      # nodes of the unfolded map only (no real cycle): not drawn
            values = np.where(ds.genuine.values[:, None], values, np.nan)
        yield p, values, ds.stable.values, period, ds


def _curves_from_dataset(ds, param, y):
    name, _ = _scaled(y)
    branches = [ds] if "s" in ds.dims else [ds.where(ds.branch == b, drop=True)
                                           for b in np.unique(ds.branch.values)]
    periods = np.atleast_1d(ds.attrs.get("branch_periods", [ds.attrs.get("period", 1)]))
    for k, b in enumerate(branches):
        labels = list(b.component.values)
        if name in labels:
            values = b[_state_name(b)].sel(component=name).values
        elif name in b:
            values = b[name].values
        else:
            raise ValueError(f"y must be one of {labels} or a variable of the dataset, "
                             f"got {y!r}")
        period = int(periods[k]) if k < len(periods) else 1
        if "genuine" in b:
            values = np.where(b.genuine.values.astype(bool), values, np.nan)
        yield b[param].values, values[:, None], b.stable.values.astype(bool), period, b


def _special_from(obj, param, y, result=None):
    """Return a list of ``(label, param value, y value)`` of the special points."""
    name, _ = _scaled(y)
    out = []
    if result is not None:
        sp = result.special_points
        labels = list(sp.component.values)
        for label in sp.point.values:
            row = sp.sel(point=label)
            x = row[_state_name(sp)].values
            value = _values_from_points(name, x, result.model, labels)
            out.append((str(label), float(row[param]), float(value)))
    elif "point_kind" in obj:
        labels = list(obj.component.values)
        state = "point_theta" if "point_theta" in obj else "point_x"
        for label in obj.point.values:
            row = obj.sel(point=label)
            if name in labels:
                value = float(row[state].sel(component=name))
            elif f"point_{name}" in obj:
                value = float(row[f"point_{name}"])
            else:
                continue
            out.append((str(label), float(row[f"point_{param}"]), value))
    return out


#: Values below this fraction of a quantity's scale (at least 1) are round-off: drawn as 0.
ROUND_OFF = 1e-10


def _snap(values):
    """Return ``values`` with round-off (``|v| < ROUND_OFF * max(1, max |v|)``) set to 0."""
    values = np.array(values, dtype=float)
    finite = np.isfinite(values)
    if finite.any():
        scale = max(1.0, float(np.max(np.abs(values[finite]))))
        values[finite & (np.abs(values) < ROUND_OFF * scale)] = 0.0
    return values


def _distinct(values, rel: float = 1e-9):
    """Return ``values`` (param, sample) with samples that agree with an earlier sample of the
    same row to ``rel`` (round-off around one point of an orbit) set to NaN: a fixed point is
    one dot, a 4-cycle four, and no cloud of round-off is drawn."""
    out = np.array(values, dtype=float)
    for row in out:
        finite = np.isfinite(row)
        if not finite.any():
            continue
        scale = max(float(np.max(np.abs(row[finite]))), 1e-300)
        key = np.where(finite, np.round(row / (rel * scale)), np.nan)
        _, first = np.unique(key[finite], return_index=True)
        keep = np.zeros(row.size, dtype=bool)
        keep[np.flatnonzero(finite)[first]] = True
        row[~keep] = np.nan
    return out


def _draw_segments(ax, p, values, stable, colour, label):
    """Draw one curve, solid where stable and dashed where not."""
    n = len(p)
    start = 0
    first = True
    for i in range(1, n + 1):
        if i == n or stable[i] != stable[start]:
            stop = min(i + 1, n)   # overlap one node so the curve is continuous
            ax.plot(p[start:stop], values[start:stop], color=colour,
                    ls="-" if stable[start] else "--", lw=1.4,
                    label=label if first else None)
            first = False
            start = i


def bifurcation(result, *, diagram=None, path=None, y: str | None = None, ax=None,
                edge: bool | None = None, columns: int = 1):
    """Return a bifurcation figure: continuation branches (stable solid, unstable dashed, every
    point of each cycle), special points marked and labelled, over an orbit diagram.

    Nodes of a family continuation whose unfolding is non-zero (no genuine fixed point or
    cycle, see :func:`dynsys.continuation`) are not drawn.

    Parameters
    ----------
    result : ContinuationResult, xarray.Dataset or None
        A :func:`dynsys.continuation` result, its ``to_dataset()``, one branch Dataset, or an
        orbit diagram (:func:`dynsys.bifurcation_diagram`) on its own.
    diagram : xarray.Dataset, optional
        An orbit diagram drawn underneath (grey dots).
    path : str, optional
        Where to save the figure.
    y : str, optional
        What to plot against the parameter: a state component (``"x_1"``, ``"theta_2"``), a
        model quantity (``"sharpness"``, ``"ntk_eigenvalue"``, ``"loss"``, ``"residual"``),
        optionally prefixed ``"lr*"`` to multiply it by the parameter. Default: for a model
        swept in ``lr``, ``"lr*sharpness"`` (the edge of stability is the line at 2); for a
        map the first state component. Step sizes where GD diverged are marked on the axis;
        values below ``ROUND_OFF`` of the quantity's scale (at least 1) are drawn as 0, and
        samples that repeat an earlier one to round-off are drawn once.
    ax : matplotlib Axes, optional
    columns : {1, 2}
        Width of a new figure: one column of a paper or the full text width.
    edge : bool, optional
        Draw the edge of stability (``2/lr`` for sharpness, ``2`` for ``lr*sharpness``);
        default on for those quantities.

    Examples
    --------
    >>> import dynsys
    >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
    ...                           bounds=(2.5, 3.5)).switch("PD1")
    >>> fig = dynsys.plot.bifurcation(res)
    >>> fig.axes[0].get_xlabel()
    'parameter r'
    """
    import xarray as xr

    from ..bifurcation import ContinuationResult

    if isinstance(result, xr.Dataset) and "sample" in result.dims and diagram is None:
        diagram, result = result, None
    if result is not None and not (isinstance(result, ContinuationResult) or (
            isinstance(result, xr.Dataset) and "stable" in result and "component" in result.coords
            and ("s" in result.dims or "branch" in result))):
        raise TypeError(f"result must be a ContinuationResult of dynsys.continuation, its "
                        f"to_dataset() or one of its branches, or an orbit diagram, got "
                        f"{type(result).__name__}")
    if diagram is not None and not (isinstance(diagram, xr.Dataset) and "sample" in diagram.dims
                                    and "component" in diagram.coords):
        raise TypeError(f"diagram must be an orbit diagram of dynsys.bifurcation_diagram, got "
                        f"{type(diagram).__name__}")
    if result is None and diagram is None:
        raise ValueError("nothing to plot: give a continuation result or a diagram")
    if y is not None and not isinstance(y, str):
        raise TypeError(f"y must be a str such as 'x_1' or 'lr*sharpness', got {y!r}")
    fig, (ax,) = new_axes(ax, 1, 1, columns=columns, aspect=0.7)
    source = result if result is not None else diagram
    if isinstance(source, ContinuationResult):
        param = source.param
        labels = [f"{'theta' if source.model is not None else 'x'}_{i + 1}"
                  for i in range(source.map.dim)]
    else:
        param = str(source.attrs.get("param", "lr"))
        labels = list(source.component.values)
    if y is None:   # models: the edge-of-stability view; maps: the first state component
        is_model = (source.model is not None if isinstance(source, ContinuationResult)
                    else "sharpness" in source)
        y = "lr*sharpness" if is_model and param == "lr" else labels[0]
    name, scaled = _scaled(y)

    if diagram is not None:
        dparam = str(diagram.attrs.get("param", param))
        p = diagram[dparam].values
        if name in labels:
            vals = diagram[_state_name(diagram)].sel(component=name).values
        elif name in diagram:
            vals = diagram[name].values
        else:
            raise ValueError(f"y {y!r} is not in the diagram")
        if scaled:
            vals = vals * p[:, None]
        vals = _distinct(_snap(vals))
        pp = np.broadcast_to(p[:, None], vals.shape)
        ax.plot(pp.ravel(), vals.ravel(), ".", ms=1.0, color="0.3", alpha=0.6, rasterized=True,
                label="orbit diagram")
        if "outcome" in diagram:
            from .._labels import decode_flags

            flags = decode_flags(diagram.outcome)
            diverged = np.isin(diagram.outcome.values,
                               [c for c, m in flags.items() if m == "diverged"])
            if diverged.any():
                ax.plot(p[diverged], np.zeros(int(diverged.sum())), "|", color="#b2182b",
                        ms=6, mew=1.0, transform=ax.get_xaxis_transform(), clip_on=False,
                        label="diverged")
        ax.set_xlabel(axis_label(diagram[dparam], dparam))

    if result is not None:
        curves = (_curves_from_result(result, y) if isinstance(result, ContinuationResult)
                  else _curves_from_dataset(result, param, y))
        for k, (p, values, stable, period, ds) in enumerate(curves):
            colour = _COLOURS[int(np.log2(period)) % len(_COLOURS)] if period & (period - 1) == 0 \
                else _COLOURS[k % len(_COLOURS)]
            if scaled:
                values = values * p[:, None]
            values = _snap(values)
            for j in range(values.shape[1]):
                _draw_segments(ax, p, values[:, j], stable, colour,
                               f"period {period}" if j == 0 else None)
        ref = result if isinstance(result, ContinuationResult) else None
        for label, pv, yv in _special_from(result, param, y, ref):
            if scaled:
                yv *= pv
            ax.plot([pv], [yv], "o", ms=5, mfc="white", mec="k", zorder=5)
            ax.annotate(label, (pv, yv), textcoords="offset points", xytext=(4, 4), fontsize=8)
        if diagram is None:
            ax.set_xlabel("step size" if param == "lr" else f"parameter {param}")
    if edge is None:
        edge = name in ("sharpness", "ntk_eigenvalue")
    if edge:
        lo, hi = ax.get_xlim()
        grid = np.linspace(max(lo, 1e-9), hi, 200)
        ax.plot(grid, np.full_like(grid, 2.0) if scaled else 2.0 / grid, "k:", lw=1,
                label=f"edge: {LR_SHARPNESS} = 2" if scaled else r"edge: $2/\eta$")
        if not scaled:
            data = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()[:-1]]
            finite = np.concatenate([d[np.isfinite(d)] for d in data] or [np.zeros(0)])
            if finite.size:
                ax.set_ylim(top=1.1 * finite.max())
    ylabel = {"sharpness": "sharpness $S$", "ntk_eigenvalue": r"top NTK eigenvalue $\lambda$",
              "loss": "loss $L$", "residual": "residual $z$"}.get(name, tex(name))
    if scaled and name in ("sharpness", "ntk_eigenvalue") and param == "lr":
        ax.set_ylabel(LR_SHARPNESS)
    else:
        ax.set_ylabel(f"{tex(param)} x {ylabel}" if scaled else ylabel)
    handles, _ = ax.get_legend_handles_labels()
    if handles:
        ax.legend(loc="best", fontsize=8)
    return finish(fig, path)
