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
    ...                       grid=((0.05, 1.0, 10), (4.0, 12.0, 10)), n_check=10, refine=0,
    ...                       prove=False)
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


#: colours of the proof statuses (proved, refuted, undecided)
STATUS_COLOURS = {"proved": "#2ca02c", "refuted": "#d62728", "undecided": "#ff7f0e"}


def proof_cover(cert, *, lr=None, background=None, candidate=None, path=None, ax=None,
                columns: int = 1):
    """Return a figure of the cover of a :func:`dynsys.certify_region` certificate, its boxes
    coloured by status (proved green, refuted red, undecided orange), over a basin map.

    The cover lives in the rescaled plane (``p = lr theta_1^2``, ``q = eps lr theta_2^2``); at
    one step size ``lr`` (default: the middle of the certificate's interval) each plane box is
    the rectangle ``theta_1 in sqrt([p]/lr)``, ``theta_2 in sqrt([q]/(eps lr))`` of starts,
    drawn in the theta plane. With a nonzero target (boxes in ``(p, q, e = lr x target)``) only
    the boxes whose ``e`` range contains ``lr x target`` are drawn (the slice at ``lr``).
    ``background`` (optional) is a :func:`dynsys.basins` Dataset
    (with an ``lr`` dimension, the value nearest ``lr`` is shown) drawn as ``lr x`` limiting
    sharpness of converged starts, other outcomes grey; ``candidate`` (optional,
    ``((lo1, hi1), (lo2, hi2))``) is outlined dashed, U of the certificate solid.

    Examples
    --------
    >>> import dynsys
    >>> cert = dynsys.certify_region(dynsys.QuadraticRegression2D(0.05),
    ...                              ((1.6, 1.6001), (8.8, 8.8001)), (0.64, 0.64001), 0.05)
    >>> len(dynsys.plot.proof_cover(cert).axes)
    1
    """
    from matplotlib.patches import Patch, Rectangle

    from ..eos import Certificate
    from ..rigorous import ProofStatus

    if not isinstance(cert, Certificate):
        raise TypeError(f"cert must be a result of dynsys.certify_region, got "
                        f"{type(cert).__name__}")
    lr = float(np.mean(cert.lr_interval)) if lr is None else check.lr(lr)
    eps = float(cert.kernel.eps)
    fig, axes = new_axes(ax, 1, 1, columns=columns, aspect=0.85)
    axis = axes[0]
    if background is not None:
        sl = background.sel(lr=lr, method="nearest") if "lr" in background.dims else background
        d1, d2 = [d for d in sl.outcome.dims]
        flags = decode_flags(sl.outcome)
        conv = next(c for c, name in flags.items() if name == "converged")
        scaled = (float(sl.lr) * sl.final_sharpness).where(sl.outcome == conv)
        lo = 2.0 - 2 * cert.delta
        x1, x2 = sl[d1].values, sl[d2].values
        axis.pcolormesh(x1, x2, (sl.outcome != conv).transpose(d1, d2).values.T.astype(float),
                        cmap="Greys", vmin=0, vmax=2, shading="nearest", rasterized=True)
        mesh = axis.pcolormesh(x1, x2, np.clip(scaled.transpose(d1, d2).values.T, lo, None),
                               cmap="cividis", vmin=lo, vmax=2.0, shading="nearest",
                               rasterized=True)
        fig.colorbar(mesh, ax=axis, label=f"{LR_SHARPNESS} at the limit (edge: 2)")
    names = ProofStatus.meanings()
    with np.errstate(invalid="ignore"):
        t1 = np.sqrt(np.maximum(cert.boxes[:, :2], 0) / lr)
        t2 = np.sqrt(np.maximum(cert.boxes[:, 2:4], 0) / (eps * lr))
    shown = np.ones(len(cert.status), dtype=bool)
    if cert.boxes.shape[1] == 6:
        # boxes in (p, q, e = lr x target): only those meeting e = lr x target at this lr
        e = lr * float(cert.kernel.target)
        shown = (cert.boxes[:, 4] <= e) & (e <= cert.boxes[:, 5])
        t1, t2 = t1[shown], t2[shown]
    for k, i in enumerate(np.flatnonzero(shown)):
        colour = STATUS_COLOURS[names.get(int(cert.status[i]), "undecided")]
        axis.add_patch(Rectangle((t1[k, 0], t2[k, 0]), t1[k, 1] - t1[k, 0], t2[k, 1] - t2[k, 0],
                                 fc=colour, ec="black", lw=0.2, alpha=0.6))
    (a1, b1), (a2, b2) = cert.U
    axis.add_patch(Rectangle((a1, a2), b1 - a1, b2 - a2, fill=False, ec="black", lw=1.2))
    handles = [Patch(fc=STATUS_COLOURS[s], ec="black", lw=0.5, alpha=0.6,
                     label=f"{s} ({cert.count(getattr(ProofStatus, s.upper()))})")
               for s in ("proved", "refuted", "undecided")]
    handles.append(Patch(fc="none", ec="black", label="U"))
    if candidate is not None:
        (c1, e1), (c2, e2) = candidate
        axis.add_patch(Rectangle((c1, c2), e1 - c1, e2 - c2, fill=False, ec="black", lw=1.0,
                                 ls="--"))
        handles.append(Patch(fc="none", ec="black", ls="--", label="candidate"))
    xs = np.concatenate([t1.ravel(), [a1, b1]])
    ys = np.concatenate([t2.ravel(), [a2, b2]])
    if candidate is None:
        pad1, pad2 = 0.15 * (xs.max() - xs.min()), 0.15 * (ys.max() - ys.min())
        axis.set_xlim(xs.min() - pad1, xs.max() + pad1)
        axis.set_ylim(ys.min() - pad2, ys.max() + pad2)
    axis.set_xlabel(r"$\theta_1$")
    axis.set_ylabel(r"$\theta_2$")
    axis.grid(False)
    axis.legend(handles=handles, fontsize=7, loc="upper right", frameon=True)
    axis.set_title(rf"proof cover at $\eta$ = {lr:.4g} ({cert.verdict}, $\delta$ = "
                   rf"{cert.delta:g})")
    return finish(fig, path)
