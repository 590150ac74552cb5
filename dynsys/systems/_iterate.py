"""Iterating a map: the compiled loop and its pure-Python fallback."""

from __future__ import annotations

import numpy as np

from .._numba import njit

#: States with a component larger than this in absolute value count as diverged.
DIVERGENCE_BOUND = 1e30


@njit(cache=False)   # takes a dispatcher: not cacheable
def _orbit_kernel(step, x0, p, steps, bound, out):
    """Fill ``out[0..steps]`` with the orbit of ``x0``; return the last finite index."""
    dim = x0.shape[0]
    for j in range(dim):
        out[0, j] = x0[j]
    for t in range(steps):
        step(out[t], p, out[t + 1])
        for j in range(dim):
            v = out[t + 1, j]
            if not (abs(v) <= bound):   # also catches NaN
                return t
    return steps


def orbit(system, x0: np.ndarray, steps: int, *, bound: float = DIVERGENCE_BOUND):
    """Return ``(states, last)``: the orbit ``(steps + 1, dim)`` of ``x0`` under the map
    ``system`` and the index of its last state within ``bound`` (``steps`` if it never left).

    States after divergence are NaN. Uses the map's compiled kernel when it has one.
    """
    out = np.full((steps + 1, system.dim), np.nan)
    kernel = getattr(system, "kernel", None)
    if kernel is not None:
        last = _orbit_kernel(kernel.step, np.ascontiguousarray(x0, dtype=float),
                             system.param_vector(), steps, bound, out)
        out[last + 1:] = np.nan
        return out, int(last)
    out[0] = x0
    x = np.asarray(x0, dtype=float)
    with np.errstate(all="ignore"):
        for t in range(steps):
            x = system.step(x)
            if not np.all(np.abs(x) <= bound):
                return out, t
            out[t + 1] = x
    return out, steps
