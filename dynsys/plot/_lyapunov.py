"""Figure of a Lyapunov spectrum with its convergence trace."""

from __future__ import annotations

import numpy as np

from ._style import finish, new_axes, pyplot, require_datasets

#: Exponents drawn in their own panel (the distance panel shows all of them).
MAX_PANELS = 4


def lyapunov(trace, *, spectrum=None, ax=None, columns: int = 2, path=None):
    """Return a figure of the running estimates of a Lyapunov spectrum: each exponent
    averaged over the first ``t`` steps against ``t``, one panel per exponent (the first
    four) with its final value and, given ``spectrum``, +- 2 standard errors; and a last panel
    with the distance of every running estimate to the final one on log-log axes, with a
    ``t^(-1/2)`` guide (the distance falls to 0 at ``t = T`` by construction).

    Parameters
    ----------
    trace : xarray.Dataset
        A result of :func:`dynsys.lyapunov_convergence`.
    spectrum : xarray.DataArray, optional
        The :func:`dynsys.lyapunov_spectrum` of the same orbit: its value +- 2 standard
        errors (batch means) is drawn as a band at the right end of the left panel.
    ax : matplotlib Axes, optional
        ``min(dim, 4) + 1`` Axes to draw into.
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
    >>> tr = dynsys.lyapunov_convergence(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1],
    ...                                  steps=20_000, checkpoints=40)
    >>> len(dynsys.plot.lyapunov(tr).axes)      # one panel per exponent and the distances
    3
    """
    require_datasets("trace", trace, ("running_estimate", "lyapunov_exponent"),
                     "a Dataset of dynsys.lyapunov_convergence")
    plt = pyplot()
    t = trace.step.values.astype(float)
    run = trace.running_estimate.values
    final = trace.lyapunov_exponent.values
    shown = min(run.shape[1], MAX_PANELS)
    n_panels = shown + 1
    cols = n_panels if columns == 2 else 2
    rows = -(-n_panels // cols)
    fig, axes = new_axes(ax, rows, cols, columns=columns, aspect=0.8) if ax is None else \
        new_axes(ax, 1, n_panels)
    for extra in axes[n_panels:]:
        extra.set_visible(False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    stderr = None
    if spectrum is not None:
        stderr = np.atleast_1d(np.asarray(spectrum.attrs.get("standard_error"), dtype=float))
        if stderr.size != run.shape[1]:
            raise ValueError(f"spectrum has {stderr.size} exponents, trace {run.shape[1]}")
    gap_axes = axes[shown]
    styles = ["-", "--", "-.", ":"]
    for j in range(run.shape[1]):
        c = colours[j % len(colours)]
        name = rf"$\lambda_{{{j + 1}}}$"
        if j < shown:
            a = axes[j]
            a.plot(t, run[:, j], color=c)
            a.axhline(final[j], color=c, ls=":", lw=0.8)
            title = f"{name} = {final[j]:.4g}"
            if stderr is not None and np.isfinite(stderr[j]):
                title += rf" $\pm$ {stderr[j]:.1g}"
                a.axhspan(final[j] - 2 * stderr[j], final[j] + 2 * stderr[j], color=c,
                          alpha=0.2, lw=0)             # +- 2 s.e. (batch means)
            a.set_title(title)
            a.set_xscale("log")
            a.set_xlabel("steps averaged $t$")
            a.set_ylabel(rf"running estimate {name}$(t)$")
        gap = np.abs(run[:-1, j] - final[j])
        ok = gap > 0
        gap_axes.plot(t[:-1][ok], gap[ok], color=c, ls=styles[j % len(styles)], label=name)
    finite = np.abs(run[:-1] - final)
    finite = finite[np.isfinite(finite) & (finite > 0)]
    if finite.size:
        scale = float(np.median(finite)) * np.sqrt(np.median(t))
        gap_axes.plot(t, scale / np.sqrt(t), "k", lw=0.6, alpha=0.6, label=r"$\propto t^{-1/2}$")
        gap_axes.set_xscale("log")
        gap_axes.set_yscale("log")
    gap_axes.set_title("distance to the final estimate")
    gap_axes.set_xlabel("steps averaged $t$")
    gap_axes.set_ylabel(r"$|\lambda_j(t) - \lambda_j(T)|$")
    gap_axes.legend(loc="best", fontsize=6)
    if shown < run.shape[1]:
        fig.suptitle(f"running estimates of the first {shown} of {run.shape[1]} exponents")
    return finish(fig, path)
