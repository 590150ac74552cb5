"""eps_c: the largest eps for which the 2-D model has an edge-of-stability region at fixed delta."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models import QuadraticRegression2D
from ._region import eos_region


def eos_critical_eps(delta: float, *, eps_values=(0.01, 0.4, 14), target: float = 0.0,
                     bisections: int = 5, lr_range=(0.8, 1.25, 10), grid_n: int = 64,
                     steps: int = 50_000, n_check: int = 100, seed: int = 0,
                     progress=None) -> xr.Dataset:
    """Return a Dataset with eps_c: the largest eps at which :func:`eos_region` is non-empty.

    ``delta`` is held fixed (in units of ``lr x sharpness``) while eps varies, so the region
    must vanish once the limiting offset ``~ eps (1 - lr E)/2`` exceeds it: the leading-order
    prediction is ``eps_c ~ 2 delta / (1 - lr E)``. The scan runs over ``eps_values`` (an array
    or a log-spaced ``(start, stop, num)``), then bisects (in log eps) ``bisections`` times
    between the last non-empty and the first empty value after it. ``eps_c`` is the midpoint of
    the final bracket and ``eps_c_uncertainty`` its half-width; ``monotone`` says whether every
    scanned eps below the bracket had a region and every one above had none.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.eos_critical_eps(0.05, eps_values=[0.05, 0.2], bisections=1, grid_n=24,
    ...                              lr_range=(0.9, 1.1, 3), n_check=10)
    >>> bool(ds.non_empty.sel(eps=0.05)), bool(ds.non_empty.sel(eps=0.2))
    (True, False)
    """
    delta = check.real("delta", delta, positive=True)
    target = check.real("target", target)
    if isinstance(eps_values, tuple) and len(eps_values) == 3:
        lo = check.real("eps_values start", eps_values[0], positive=True)
        hi = check.real("eps_values stop", eps_values[1], positive=True)
        num = check.integer("eps_values num", eps_values[2], minimum=2)
        if not hi > lo:
            raise ValueError(f"eps_values: stop must be > start, got ({lo}, {hi})")
        scan = np.geomspace(lo, hi, num)
    else:
        scan = np.sort(check.value_range("eps_values", eps_values, positive=True))
    bisections = check.integer("bisections", bisections, minimum=0)
    grid_n = check.integer("grid_n", grid_n, minimum=4)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be a callable progress(done, total) or None, got "
                        f"{type(progress).__name__}")

    results: dict[float, dict] = {}

    def evaluate(eps: float) -> bool:
        model = QuadraticRegression2D(eps, target)
        lrs = check.value_range("lr_range", lr_range, positive=True)
        t1_hi = 2.0 * np.sqrt(2.0 / lrs.min())
        t2_hi = 3.0 * np.sqrt(2.0 / (eps * lrs.min()))
        grid = ((t1_hi / grid_n, t1_hi, grid_n), (t2_hi / grid_n, t2_hi, grid_n))
        region = eos_region(model, lr_range=lrs, grid=grid, delta=delta, steps=steps,
                            n_check=n_check, seed=seed, refine=0)
        results[eps] = {"non_empty": not region.empty,
                        "cells": int(region.dataset.attrs["grid_cells_in_box"]),
                        "eos_fraction": float(region.dataset.eos.mean())}
        if progress is not None:
            progress(len(results), len(scan) + bisections)
        return not region.empty

    flags = [evaluate(float(e)) for e in scan]
    non_empty_idx = [i for i, f in enumerate(flags) if f]
    if not non_empty_idx:
        bracket = (0.0, float(scan[0]))
    else:
        last = non_empty_idx[-1]
        if last == len(scan) - 1:
            bracket = (float(scan[-1]), np.inf)
        else:
            a, b = float(scan[last]), float(scan[last + 1])
            for _ in range(bisections):
                mid = float(np.sqrt(a * b))
                if evaluate(mid):
                    a = mid
                else:
                    b = mid
            bracket = (a, b)
    monotone = all(flags[:non_empty_idx[-1] + 1]) if non_empty_idx else True
    eps_sorted = np.array(sorted(results))
    ds = xr.Dataset(
        {
            "non_empty": ("eps", np.array([results[e]["non_empty"] for e in eps_sorted]),
                          {"long_name": "edge-of-stability region found"}),
            "box_cells": ("eps", np.array([results[e]["cells"] for e in eps_sorted]),
                          {"long_name": "grid cells in the largest box U x [eta_1, eta_2]"}),
            "eos_fraction": ("eps", np.array([results[e]["eos_fraction"] for e in eps_sorted]),
                             {"long_name": "fraction of the sweep with EoS behaviour"}),
        },
        coords={"eps": ("eps", eps_sorted, {"long_name": "eps (Q = diag(1, -eps))", "units": "1"})},
    )
    eps_c = float(np.mean(bracket)) if np.isfinite(bracket[1]) else np.inf
    ds.attrs.update(provenance(QuadraticRegression2D(float(scan[0]), target),
                               analysis="eos_critical_eps", delta=delta,
                               eps_c=eps_c, eps_c_uncertainty=float(np.diff(bracket)[0] / 2),
                               eps_c_bracket=np.asarray(bracket), monotone=int(monotone),
                               predicted_eps_c=2 * delta / (1 - target * float(
                                   np.mean(check.value_range("lr_range", lr_range))))))
    return ds
