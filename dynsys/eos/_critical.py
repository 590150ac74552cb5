"""eps_c: the largest eps for which the 2-D model has an edge-of-stability region at fixed delta."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._range import geomspace, linspace
from ..models import QuadraticRegression2D
from ._region import eos_region



def _bisect_geometric(holds, a: float, b: float, steps: int) -> tuple[float, float]:
    """Return the bracket ``(a, b)`` after ``steps`` geometric bisections, keeping ``holds(a)``
    true and ``holds(b)`` false."""
    for _ in range(steps):
        mid = float(np.sqrt(a * b))
        if holds(mid):
            a = mid
        else:
            b = mid
    return (a, b)

def eos_critical_eps(delta: float, **kwargs) -> xr.Dataset:
    """Deprecated: the root of offset(eps) = delta; use :func:`offset_root_eps` (same
    result) or, for eps_c as Theorem 1 means it, :func:`proved_critical_eps`."""
    warnings.warn("eos_critical_eps holds delta fixed, so it finds the root of "
                  "offset(eps) = delta, not Theorem 1's eps_c: use dynsys.offset_root_eps (same "
                  "result) or dynsys.proved_critical_eps; eos_critical_eps goes in the next "
                  "release", DeprecationWarning, stacklevel=2)
    return _offset_root(delta, **kwargs)


def _offset_root(delta: float, *, eps_values=geomspace(0.01, 0.4, 14), target: float = 0.0,
                     bisections: int = 5, lr_range=linspace(0.8, 1.25, 10), grid_n: int = 64,
                     steps: int = 50_000, n_check: int = 100, seed: int = 0,
                     progress=None) -> xr.Dataset:
    """Return a Dataset with the root of offset(eps) = delta: the largest eps at which
    :func:`eos_region` (random-checked, not proved) is non-empty at fixed delta.

    ``delta`` is held fixed (in units of ``lr x sharpness``) while eps varies, so the region
    must vanish once the limiting offset ``~ eps (1 - lr E)/2`` exceeds it: the leading-order
    prediction is ``eps_c ~ 2 delta / (1 - lr E)``. The scan runs over ``eps_values`` (an array
    or a range such as ``dynsys.geomspace(start, stop, num)``; the deprecated tuple
    ``(start, stop, num)`` means ``geomspace`` here), then bisects (in log eps)
    ``bisections`` times
    between the last non-empty and the first empty value after it. ``eps_c`` is the midpoint of
    the final bracket and ``eps_c_uncertainty`` its half-width; ``monotone`` says whether every
    scanned eps below the bracket had a region and every one above had none.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.offset_root_eps(0.05, eps_values=[0.05, 0.2], bisections=1, grid_n=24,
    ...                              lr_range=dynsys.linspace(0.9, 1.1, 3), n_check=10)
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
        warnings.warn(f"eps_values={eps_values!r} as a (start, stop, num) tuple is deprecated "
                      f"and will be removed in the next release; write "
                      f"dynsys.geomspace{eps_values!r} (the log-spaced values it means here)",
                      DeprecationWarning, stacklevel=3)
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
                            n_check=n_check, seed=seed, refine=0, prove=False)
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
            bracket = _bisect_geometric(evaluate, float(scan[last]), float(scan[last + 1]),
                                        bisections)
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


def _proved_region_at(eps: float, c: float, width: float, budget, h_max: float):
    """Return the certificate of the largest proved box of the search about the first centre
    that yields one, or None. Centres: lr = 1, theta_1 in (0.6, 0.3, 1.0), theta_2 chosen so
    that lr x the gradient-flow-solution sharpness is 2.2, 2.05 or 2.5 (started past the edge).
    At each centre :func:`~dynsys.eos._proved_box.largest_proved_box` (relative half-width from
    ``width / 2`` doubling up to ``h_max``, no bisection)."""
    from ._proved_box import largest_proved_box
    model = QuadraticRegression2D(eps)
    delta = c * eps
    for g in (2.2, 2.05, 2.5):
        for t1 in (0.6, 0.3, 1.0):
            p = t1 * t1
            q = (g / (1 + eps)) ** (1 + eps) / p ** eps
            t2 = float(np.sqrt(q / eps))
            centre = np.array([1.0, t1, t2])
            _, _, cert, _ = largest_proved_box(model, centre * (1 - h_max),
                                               centre * (1 + h_max), delta, [centre],
                                               budget=budget, h0=width / 2, bisections=0)
            if cert is not None:
                return cert
    return None


def proved_critical_eps(*, c: float = 1.0, eps_bracket=(0.01, 0.4), bisections: int = 6,
                        width: float = 1e-4, budget=None, h_max: float = 0.01) -> xr.Dataset:
    """Return a Dataset with eps_c as Theorem 1 means it: the largest eps with a proved region.

    ``delta = c eps`` (in units of ``lr x sharpness``). At each eps the largest-proved-box search
    of :func:`dynsys.eos_region` runs, with a small budget, about a few centres started past the
    edge (lr = 1; boxes of relative side ``width``, doubled while proved up to a relative
    half-width ``h_max``; each step a proof with :func:`dynsys.certify_region`); eps is
    *proved* when a box is. The box proved at each eps is in the result (``U_*``,
    ``lr_interval``). Bisection (in log eps)
    between a proved lower end and an unproved upper end of ``eps_bracket``, every step a
    proof. The result's ``eps_c_bracket`` is ``(largest proved eps, smallest eps where no
    candidate was proved)``: the lower end is a theorem; the upper end says only that this
    search found no proved region there (absence is not proved).

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.proved_critical_eps(eps_bracket=(0.05, 0.4), bisections=0)  # doctest: +SKIP
    >>> bool(ds.proved.sel(eps=0.05))  # doctest: +SKIP
    True
    """
    from ..rigorous import ProofBudget
    c = check.real("c", c, positive=True)
    if not hasattr(eps_bracket, "__len__") or len(eps_bracket) != 2:
        raise TypeError(f"eps_bracket must be a (lo, hi) pair, got {eps_bracket!r}")
    lo = check.real("eps_bracket lo", eps_bracket[0], positive=True)
    hi = check.real("eps_bracket hi", eps_bracket[1], positive=True)
    if not hi > lo:
        raise ValueError(f"eps_bracket must have lo < hi, got ({lo}, {hi})")
    bisections = check.integer("bisections", bisections, minimum=0)
    width = check.real("width", width, positive=True, hi=0.1)
    h_max = check.real("h_max", h_max, positive=True, hi=0.5)
    budget = ProofBudget(time=20.0, max_boxes=200, initial_width=1.6e-2,
                         split_width=1.6e-2) if budget is None else budget
    if not isinstance(budget, ProofBudget):
        raise TypeError(f"budget must be a dynsys.rigorous.ProofBudget, got {budget!r}")
    results: dict[float, object] = {}

    def proved(eps):
        results[eps] = _proved_region_at(eps, c, width, budget, h_max)
        return results[eps] is not None

    if not proved(lo):
        bracket = (0.0, lo)
    elif proved(hi):
        bracket = (hi, np.inf)
    else:
        bracket = _bisect_geometric(proved, lo, hi, bisections)
    eps_sorted = np.array(sorted(results))
    enc = np.array([results[e].enclosure if results[e] is not None else (np.nan, np.nan)
                    for e in eps_sorted])
    ds = xr.Dataset(
        {"proved": ("eps", np.array([results[e] is not None for e in eps_sorted]),
                    {"long_name": "a region of edge-of-stability behaviour was proved"}),
         "limit": (("eps", "bound"), enc,
                   {"long_name": "proved enclosure of lr x sharpness at the limit",
                    "units": "1"}),
         "U_theta_1": (("eps", "bound"), _bounds(results, eps_sorted, lambda r: r.U[0]),
                       {"long_name": "proved U: initial theta_1"}),
         "U_theta_2": (("eps", "bound"), _bounds(results, eps_sorted, lambda r: r.U[1]),
                       {"long_name": "proved U: initial theta_2"}),
         "lr_interval": (("eps", "bound"), _bounds(results, eps_sorted,
                                                   lambda r: r.lr_interval),
                         {"long_name": "proved [eta_1, eta_2]", "units": "1"})},
        coords={"eps": ("eps", eps_sorted, {"long_name": "eps (Q = diag(1, -eps))",
                                            "units": "1"}),
                "bound": ("bound", ["lo", "hi"])})
    ds.attrs.update(provenance(QuadraticRegression2D(lo), analysis="proved_critical_eps",
                               c=c, eps_c_bracket=np.asarray(bracket), width=width,
                               h_max=h_max,
                               meaning="lower end proved; upper end: no region proved there"))
    return ds


def _bounds(results, eps_sorted, get):
    return np.array([get(results[e]) if results[e] is not None else (np.nan, np.nan)
                     for e in eps_sorted], dtype=float).reshape(-1, 2)


def offset_root_eps(delta: float, **kwargs) -> xr.Dataset:
    """Return the eps at which the limit offset reaches ``delta`` (delta held fixed).

    This is what :func:`eos_critical_eps` computed: the root of ``offset(eps) = delta`` (a
    random-checked region exists below it), not eps_c of Theorem 1 (``delta = c eps``, see
    :func:`proved_critical_eps`). Same arguments as before.
    """
    return _offset_root(delta, **kwargs)
