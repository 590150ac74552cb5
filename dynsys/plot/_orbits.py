"""Figure of fixed points and periodic orbits: the orbits in state space and their multipliers."""

from __future__ import annotations

import numpy as np

from ._style import check_columns, finish, new_axes, require_datasets, tex

_PERIOD_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#332288"]


def orbits(ds, *, ax=None, columns: int = 1, path=None):
    """Return a figure of a :func:`dynsys.fixed_points` or :func:`dynsys.periodic_orbits` result.

    Left: every point of every orbit in the plane of the first two state components (for a
    one-dimensional map: the state against the orbit's index), coloured by minimal period,
    filled when linearly stable and hollow when not; the points of a cycle are joined in phase
    order, and points on a family (a curve of non-isolated fixed points) are drawn small.
    Right: the multipliers in the complex plane with the unit circle (stable inside).

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 2, bounds=[(-3, 3), (-3, 3)])
    >>> fig = dynsys.plot.orbits(ds)
    >>> len(fig.axes), fig.axes[1].get_xlabel()
    (2, 'Re $\\\\mu$')
    """
    require_datasets("ds", ds, ("x", "multipliers", "stable"),
                     "a result of dynsys.fixed_points or dynsys.periodic_orbits")
    check_columns(columns)
    fig, (a_state, a_mult) = new_axes(ax, 1, 2, columns=columns, aspect=1.0)
    x = ds.x.values
    index = "orbit" if "orbit" in ds.dims else "point"
    if "phase" not in ds.x.dims:
        x = x[:, None, :]                      # fixed points: one phase
    periods = ds.period.values if "period" in ds else np.ones(x.shape[0], dtype=int)
    family = ds.family.values if "family" in ds else np.full(x.shape[0], -1)
    labels = list(ds.component.values)
    seen = set()
    for k in range(x.shape[0]):
        period = int(periods[k])
        pts = x[k, :period]
        colour = _PERIOD_COLOURS[(period - 1) % len(_PERIOD_COLOURS)]
        stable = bool(np.asarray(ds.stable.values[k]).any())
        label = f"period {period}" if period not in seen else None
        seen.add(period)
        size = 2 if family[k] >= 0 else 5
        if x.shape[-1] >= 2:
            xs, ys = pts[:, 0], pts[:, 1]
        else:
            xs, ys = np.full(period, k), pts[:, 0]
        if period > 1:
            a_state.plot(np.r_[xs, xs[:1]], np.r_[ys, ys[:1]], "-", color=colour, lw=0.6,
                         alpha=0.6)
        a_state.plot(xs, ys, "o", ms=size, color=colour, mfc=colour if stable else "white",
                     mew=0.9, label=label)
        mu = np.asarray(ds.multipliers.values[k])
        a_mult.plot(mu.real, mu.imag, "o", ms=4, color=colour, mfc=colour if stable else "white",
                    mew=0.9)
    if x.shape[-1] >= 2:
        a_state.set_xlabel(tex(labels[0]))
        a_state.set_ylabel(tex(labels[1]))
    else:
        a_state.set_xlabel(f"{index} index")
        a_state.set_ylabel(tex(labels[0]))
    circle = np.exp(1j * np.linspace(0, 2 * np.pi, 200))
    a_mult.plot(circle.real, circle.imag, "k:", lw=0.8, label=r"$|\mu| = 1$")
    a_mult.set_aspect("equal", adjustable="datalim")
    a_mult.set_xlabel(r"Re $\mu$")
    a_mult.set_ylabel(r"Im $\mu$")
    if seen:
        a_state.legend(loc="best", title="filled: stable")
    return finish(fig, path)
