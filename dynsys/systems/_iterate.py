"""Iterating a map for a fixed number of steps: the compiled loop and its numpy fallback.

Both stop by rule 1 of the library's stopping rule (:mod:`dynsys._stopping`): a state with
``|x| > radius`` or not finite has diverged.
"""

from __future__ import annotations

import numpy as np

from .. import _stopping
from .._specialise import specialise

#: The default divergence radius of fixed-step loops (:data:`dynsys._stopping.ORBIT_RADIUS`).
RADIUS = _stopping.ORBIT_RADIUS
#: Steps of one call of the compiled loop (a long orbit is computed in slices this long).
SLICE = 1 << 20


_ORBIT_LOOP = """
@njit(cache=CACHE)
def orbit_loop(x0, p, steps, radius2, out):
    dim = x0.shape[0]
    for j in range(dim):
        out[0, j] = x0[j]
    for t in range(steps):
        step(out[t], p, out[t + 1])
        r2 = 0.0
        for j in range(dim):
            r2 += out[t + 1, j] * out[t + 1, j]
        if diverged(r2, radius2):
            return t
    return steps
"""


def _orbit_kernel(kernel):
    """Return the loop filling ``out[0..steps]`` with the orbit of ``x0`` under ``kernel.step``
    (returning the last index within radius), specialised to the kernel: on numba's disk
    cache when the kernel's functions are importable by name (see :mod:`dynsys._specialise`)."""
    return specialise(_ORBIT_LOOP, "orbit_loop", step=kernel.step,
                      diverged=("dynsys._stopping_nb", "diverged"))


def orbit(system, x0: np.ndarray, steps: int, *, radius: float = RADIUS):
    """Return ``(states, last)``: the orbit ``(steps + 1, dim)`` of ``x0`` under the map
    ``system`` and the index of its last state within ``radius`` (``steps`` if it never left).

    States after divergence are NaN. Uses the map's compiled kernel when it has one.
    """
    out = np.full((steps + 1, system.dim), np.nan)
    radius2 = radius * radius
    kernel = getattr(system, "kernel", None)
    if kernel is not None:
        p = system.param_vector()
        start = np.ascontiguousarray(x0, dtype=float)
        done = 0
        loop = _orbit_kernel(kernel)
        while True:           # bounded slices: Ctrl-C lands between them (within ~0.1 s)
            k = min(SLICE, steps - done)
            last = done + loop(start, p, k, radius2, out[done:done + k + 1])
            if last < done + k or done + k == steps:
                break
            done += k
            start = out[done].copy()
        out[last + 1:] = np.nan
        return out, int(last)
    out[0] = x0
    x = np.asarray(x0, dtype=float)
    with np.errstate(all="ignore"):
        for t in range(steps):
            x = system.step(x)
            if _stopping.diverged(float(np.dot(x, x)), radius2):
                return out, t
            out[t + 1] = x
    return out, steps
