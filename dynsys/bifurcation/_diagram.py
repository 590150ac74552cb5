"""Orbit diagrams: the long-time samples of an orbit for every value of a parameter."""

from __future__ import annotations

import time

import numpy as np
import xarray as xr

from .. import _stopping
from .. import _validate as check
from .._labels import provenance
from .._limits import require
from .._numba import numba
from .._outcomes import Outcome
from .._xr import dataset
from .._specialise import specialise
from .._stopping import ORBIT_RADIUS as RADIUS
from ..models import loss_and_sharpness, resolve_swept
from ..systems import compiled


#: The compiled orbit-diagram loop, as module text specialised to a map's kernel and dimension
#: by :func:`dynsys._specialise.specialise` (``step`` is inlined; ``DIM``, ``NPAR`` and the
#: buffer sizes are constants).
#:
#: Parameter values run in blocks of ``LANES`` (blocks in parallel). A block's states and
#: parameters are kept structure-of-arrays (component ``c`` of lane ``i`` at ``c * LANES + i``)
#: in buffers on the stack (:func:`dynsys._scratch.stack_array`; on the heap when they would be
#: large), and every step applies the map to all lanes in one loop: each lane's state and
#: parameters are gathered into small stack arrays, ``step`` is applied to them and the image
#: is written back in place (no second buffer, no copy). Once ``step`` is inlined the small
#: arrays live in registers and the loop over lanes vectorises across parameter values; the
#: block's states stay in registers across the steps when they fit.
#:
#: Divergence (rule 1 of :mod:`dynsys._stopping`: ``not r2 <= radius2``, NaN included) is found
#: exactly, at a window's cost of one addition per lane-step: over every ``CHECK`` steps each
#: lane sums the squared norms ``r2`` of its images (computed as the rule computes them; for a
#: one-dimensional map the square and the addition are one fused multiply-add, rounded once,
#: whose result is >= the rule's rounded square as well). The
#: terms are >= 0 and rounding is monotone, so the sum is >= every term: an image beyond the
#: radius makes the sum exceed ``radius2`` (or NaN, which stays NaN). A lane whose sum does is
#: replayed alone from the window's start (its checkpoint) by ``first_exit``, which applies the
#: rule to every image: it finds the first iterate beyond the radius, and the lane is dropped
#: (its later samples NaN); or it finds none (the sum of bounded terms exceeded ``radius2``,
#: possible only for orbits within a factor ``sqrt(CHECK)`` of the radius), and the block
#: tests the rule at every step for the rest of the call instead. Where the kernel's optional
#: ``escapes`` hook (:class:`~dynsys.MapKernel`) says an exit is permanent for every lane of a
#: block (as for the logistic map with a radius >= 2 + 4 / |r|), the block skips the sums: a
#: lane whose window ends beyond the radius left it in the window (and is replayed the same
#: way), one that ends within it never left: the map's arithmetic alone per step. The steps
#: before the kept window run without writing; samples are written after each of the last
#: ``keep`` steps (a dropped lane's samples from its exit on are written NaN, so ``out`` needs
#: no filling). One
#: call runs a slice of the steps for a range of blocks (see :func:`_run_sliced`), so that
#: Ctrl-C lands between calls.
_LOOP = """

@njit(cache=CACHE, error_model="numpy")
def first_exit(x0, p, t0, t1, radius2):
    # the first t in [t0, t1) whose iterate F^(t + 1 - t0)(x0) has diverged (t1: none)
    x = stack_array(DIM)
    y = stack_array(DIM)
    for c in range(DIM):
        x[c] = x0[c]
    for t in range(t0, t1):
        step(x, p, y)
        r2 = 0.0
        for c in range(DIM):
            r2 += y[c] * y[c]
        if diverged(r2, radius2):               # the library's rule (also catches NaN)
            return t
        for c in range(DIM):
            x[c] = y[c]
    return t1


@njit(inline="always", error_model="numpy")
def lane_step(xs, ps, x, p, y, i):
    # the image y of lane i's state, its state and parameters gathered into x and p
    for c in range(DIM):
        x[c] = xs[c * LANES + i]
    for j in range(NPAR):
        p[j] = ps[j * LANES + i]
    step(x, p, y)


@njit(inline="always", error_model="numpy")
def advance(xs, ps, acc, x, p, y):
    # one step of every lane, in place, adding each image's squared norm to the lane's acc
    for i in range(LANES):
        lane_step(xs, ps, x, p, y, i)
        if DIM == 1:
            # one rounding: fma(y, y, acc) >= round(y * y), the rule's r2 (acc >= 0)
            xs[i] = y[0]
            acc[i] = fma(y[0], y[0], acc[i])
        else:
            r2 = 0.0
            for c in range(DIM):
                xs[c * LANES + i] = y[c]
                r2 += y[c] * y[c]
            acc[i] += r2


@njit(inline="always", error_model="numpy")
def advance_plain(xs, ps, x, p, y):
    # one step of every lane, in place, nothing else (exits are permanent: see escapes)
    for i in range(LANES):
        lane_step(xs, ps, x, p, y, i)
        for c in range(DIM):
            xs[c * LANES + i] = y[c]


@njit(inline="always", error_model="numpy")
def advance_exact(xs, ps, acc, x, p, y, radius2):
    # the same step, setting acc to NaN exactly where the image is beyond the radius
    for i in range(LANES):
        lane_step(xs, ps, x, p, y, i)
        r2 = 0.0
        for c in range(DIM):
            xs[c * LANES + i] = y[c]
            r2 += y[c] * y[c]
        if diverged(r2, radius2):
            acc[i] = np.nan


@njit(cache=CACHE, parallel=True, error_model="numpy")
def diagram(state, dead, pmat, t0, t1, blk0, blk1, steps, keep, radius2, out, last):
    # steps [t0, t1) of blocks [blk0, blk1): one slice of the whole loop, the lanes' states
    # (state, padded to whole blocks) and their dead flags carried between calls; t0 and t1 are
    # multiples of CHECK (or t1 = steps), so the divergence checks fall where one call has them
    n = pmat.shape[0]
    first = steps - keep
    for blk in prange(blk0, blk1):
        lo = blk * LANES
        m = min(n, lo + LANES) - lo
        xs = BUFFER(NX)                         # the block's states, lanes innermost
        ck = BUFFER(NX)                         # their checkpoint (start of the window)
        ps = BUFFER(NP)                         # parameters, lanes innermost
        acc = stack_array(LANES)
        x = stack_array(DIM)
        y = stack_array(DIM)
        p = stack_array(NPAR)
        for i in range(LANES):
            row = lo + min(i, m - 1)            # padding lanes repeat the last value
            for j in range(NPAR):
                ps[j * LANES + i] = pmat[row, j]
            for c in range(DIM):
                xs[c * LANES + i] = state[lo + i, c]
        n_dead = 0
        for i in range(m):
            if dead[lo + i]:
                n_dead += 1
        # exits permanent for every lane (the kernel's escapes hook): the window's last state
        # alone tells whether a lane left the radius in it
        permanent = True
        for i in range(LANES):
            for j in range(NPAR):
                p[j] = ps[j * LANES + i]
            permanent = permanent and escapes(p, radius2)
        exact = False
        t = t0
        while t < t1 and n_dead < m:
            k = min(CHECK, t1 - t)
            for q in range(NX):
                ck[q] = xs[q]
            for i in range(LANES):
                acc[i] = 0.0
            pre = min(k, max(0, first - t))     # steps before the kept window
            if exact:
                for s in range(pre):
                    advance_exact(xs, ps, acc, x, p, y, radius2)
            elif permanent:
                for s in range(pre):
                    advance_plain(xs, ps, x, p, y)
            else:
                for s in range(pre):
                    advance(xs, ps, acc, x, p, y)
            for s in range(pre, k):
                if exact:
                    advance_exact(xs, ps, acc, x, p, y, radius2)
                elif permanent:
                    advance_plain(xs, ps, x, p, y)
                else:
                    advance(xs, ps, acc, x, p, y)
                for i in range(m):
                    if not dead[lo + i]:
                        for c in range(DIM):
                            out[lo + i, t + s - first, c] = xs[c * LANES + i]
            if permanent and not exact:
                for i in range(LANES):          # the rule's r2 of the window's last state
                    r2 = 0.0
                    for c in range(DIM):
                        r2 += xs[c * LANES + i] * xs[c * LANES + i]
                    acc[i] = r2
            # a lane with not acc <= radius2 may have diverged in the window (an image beyond
            # the radius makes its sum of squared norms exceed radius2, or NaN): replayed
            n_flagged = 0
            for i in range(LANES):
                n_flagged += not acc[i] <= radius2
            for i in range(m if n_flagged > 0 else 0):
                if not acc[i] <= radius2 and not dead[lo + i]:
                    for c in range(DIM):
                        x[c] = ck[c * LANES + i]
                    for j in range(NPAR):
                        p[j] = ps[j * LANES + i]
                    te = first_exit(x, p, t, t + k, radius2)
                    if te == t + k:             # bounded: the sum alone exceeded radius2
                        exact = True            # test every step from now on (this call)
                        continue
                    last[lo + i] = te
                    dead[lo + i] = True
                    n_dead += 1
                    for tt in range(max(te, first), steps):     # every later sample
                        for c in range(DIM):
                            out[lo + i, tt - first, c] = np.nan
            t += k
        for i in range(LANES):
            for c in range(DIM):
                state[lo + i, c] = xs[c * LANES + i]
"""


#: The default of the kernel's optional ``escapes`` hook (:class:`~dynsys.MapKernel`).
_NEVER_ESCAPES = """
@njit(inline="always")
def escapes(p, radius2):
    return False
"""

#: Parameter values per block of the compiled loop, and the steps between its divergence checks.
LANES = 64
CHECK = 256
#: The most float64 a block keeps on the stack (states, checkpoint, parameters: 64 KiB);
#: larger maps keep them on the heap, in the same layout.
STACK_FLOATS = 8192
#: The most lane-steps per call of the compiled loop (about 0.02-0.1 s for the built-in maps on
#: one core), the lane-steps of the first call at most (``CHECK`` steps of a group of blocks),
#: and the time a call aims at: each next call is sized from the time the previous one took
#: (at most :data:`CALL_GROWTH` times more steps, at least half as many), so that even a slow
#: user kernel is cut into short calls and an interrupt (SIGINT) lands at the end of the running
#: one, while a fast one runs in a few calls (each pays the thread launch).
CALL_WORK = 1 << 27
FIRST_WORK = 1 << 24
CALL_SECONDS = 0.1
CALL_GROWTH = 64.0


def _diagram_kernel(kernel, dim: int):
    """Return the orbit-diagram loop specialised to ``kernel.step`` and ``dim`` (cached on disk
    when the step is importable)."""
    dim = int(dim)
    npar = len(kernel.param_names) + len(kernel.constants)
    on_stack = (2 * dim + npar) * LANES <= STACK_FLOATS
    head = (f"DIM = {dim}\nNPAR = {npar}\nLANES = {LANES}\nCHECK = {CHECK}\n"
            f"NX = {dim * LANES}\nNP = {npar * LANES}\n")
    source = _LOOP.replace("BUFFER", "stack_array" if on_stack else "np.empty")
    hooks = {"escapes": kernel.escapes}
    if kernel.escapes is None:                  # exits may be undone: test every step
        source = _NEVER_ESCAPES + source
        hooks = {}
    return specialise(head + source, "diagram", inline=("step", "diverged", *hooks),
                      step=kernel.step, diverged=("dynsys._stopping_nb", "diverged"),
                      stack_array=("dynsys._scratch", "stack_array"),
                      fma=("dynsys._scratch", "fma"), **hooks)


def _step_time(probe, x0, p, n, radius2):
    """Return the time of one step of the orbit of ``x0`` run alone by ``probe`` (the loop's
    ``first_exit``), measured over at least ``n`` steps and 20 us (fewer if it diverges)."""
    while True:
        tic = time.perf_counter()
        done = min(n, probe(x0, p, 0, n, radius2) + 1)
        took = time.perf_counter() - tic
        if took >= 2e-5 or done < n or n >= 1 << 20:
            return max(took, 1e-9) / done
        n *= 4


def _run_sliced(loop, x0, pmat, steps, keep, radius2, out, last):
    """Run the compiled loop over all ``steps`` for every row of ``pmat`` in short calls (at
    most :data:`CALL_WORK` lane-steps, about :data:`CALL_SECONDS` each), with the arithmetic of
    one call: the lanes' states and dead flags carry over, and the steps are cut at multiples
    of ``CHECK`` (where one call tests for divergence anyway). Writes ``out`` and ``last``."""
    n = pmat.shape[0]
    nblk = -(-n // LANES)
    state = np.empty((nblk * LANES, x0.shape[0]))
    state[:] = x0
    dead = np.zeros(nblk * LANES, dtype=np.bool_)
    last[:] = steps
    # blocks per call: all of them if CHECK steps of all fit, else a share (>= one per thread)
    threads = numba.get_num_threads()
    group = max(threads, min(FIRST_WORK, CALL_WORK) // (LANES * CHECK))
    cut = CHECK
    probe = getattr(getattr(loop, "py_func", None), "__globals__", {}).get("first_exit")
    if probe is not None and steps > CHECK:
        # the first call from the time of one orbit's steps alone (no thread launch in it): a
        # lane-step of the loop, vectorised across lanes, costs less than a step of one orbit
        lanes = min(nblk, group) * LANES
        per_step = _step_time(probe, x0, pmat[0], min(steps, CHECK), radius2)
        cut = int(CALL_SECONDS * min(threads, nblk) / (per_step * lanes)) // CHECK * CHECK
    for blk0 in range(0, nblk, group):
        blk1 = min(nblk, blk0 + group)
        lanes = (blk1 - blk0) * LANES
        most = max(CHECK, CALL_WORK // lanes // CHECK * CHECK)
        cut = min(cut, most)
        t0 = 0
        while t0 < steps and not dead[blk0 * LANES:min(n, blk1 * LANES)].all():
            t1 = min(steps, t0 + cut)
            tic = time.perf_counter()
            loop(state, dead, pmat, t0, t1, blk0, blk1, steps, keep, radius2, out, last)
            took = time.perf_counter() - tic
            grow = CALL_GROWTH if took <= 0 else min(CALL_GROWTH,
                                                     max(0.5, CALL_SECONDS / took))
            cut = min(most, max(CHECK, int((t1 - t0) * grow) // CHECK * CHECK))
            t0 = t1


def _at_samples(func, out, finite, n_out=None):
    """Return ``func`` evaluated at the finite samples of ``out`` (n, keep, dim), NaN elsewhere
    (the samples after an orbit left the radius are never evaluated); a list of ``n_out`` such
    arrays for a ``func`` that returns that many."""
    values = [np.full(out.shape[:-1], np.nan) for _ in range(n_out or 1)]
    if finite.any():
        with np.errstate(all="ignore"):
            got = func(out[finite])
            for v, g in zip(values, got if n_out else (got,), strict=True):
                v[finite] = g
    return values if n_out else values[0]


def _python_diagram(mapping, param, values, x0, steps, keep, radius2, out, last):
    """The pure-Python fallback of :func:`_diagram_kernel` for maps without a kernel."""
    first = steps - keep
    with np.errstate(all="ignore"):
        for i, value in enumerate(values):
            m = mapping.with_params(**{param: float(value)})
            x = x0.copy()
            last[i] = steps
            for t in range(steps):
                x = m.step(x)
                if _stopping.diverged(float(np.dot(x, x)), radius2):
                    last[i] = t
                    break
                if t >= first:
                    out[i, t - first] = x


def _resolve(system, param):
    """Return ``(map, model, param)`` for a Model or Map and an optional parameter name."""
    return resolve_swept(system, param)


def bifurcation_diagram(system, values=None, *, x0, steps: int = 1000, keep: int = 100,
                        param: str | None = None, radius: float | None = None,
                        lr_range=None, divergence_bound: float | None = None) -> xr.Dataset:
    """Return the orbit diagram: the last ``keep`` of ``steps`` iterates of ``x0`` for every
    parameter value, as an ``xr.Dataset`` over dims (``lr`` or ``param``, ``sample``).

    Parameters
    ----------
    system : Model or Map
        A model (gradient descent on it, parameter ``lr``) or any map.
    values : array or dynsys.linspace
        The parameter values (step sizes for models and GD maps). ``lr_range=`` is the same
        argument under the name of a step-size sweep (deprecated for other parameters).
        Ranges are explicit, ``dynsys.linspace(start, stop, num)`` or ``dynsys.geomspace``;
        a bare ``(start, stop, num)`` tuple is deprecated (it reads like three values).
    x0 : array (dim,)
        The initial state, the same for every parameter value.
    steps : int
        Iterations per parameter value (>= 1).
    keep : int
        How many of the final iterates to record (1 <= keep <= steps): samples are iterates
        ``steps - keep + 1, ..., steps``.
    param : str, optional
        The parameter swept: ``"lr"`` for models and GD maps (the default); for other maps one
        of their parameters (the default when the map has exactly one).
    radius : float
        An orbit with ``|x| > radius`` (or not finite) has diverged (default 1e30, as for every
        loop that follows one orbit); its remaining samples are NaN and its ``outcome`` is
        ``diverged``. No warnings are raised. ``divergence_bound`` is its deprecated name.

    Returns
    -------
    xarray.Dataset
        ``theta`` (models and GD maps) or ``x`` over (the swept parameter, ``sample``,
        ``component``: the state components); for models also ``loss``, ``sharpness`` and
        (regression models) ``ntk_eigenvalue`` over (param, ``sample``); ``outcome``
        (:class:`~dynsys.Outcome`: bounded or diverged) and ``diverged_at`` (the first iterate
        beyond the radius, -1 if none) over param.

    Notes
    -----
    Maps with a compiled ``kernel`` (built-in maps, GD on the built-in models) run in a
    numba loop parallel over parameter values; other maps use a Python loop.

    Examples
    --------
    >>> import dynsys, numpy as np
    >>> ds = dynsys.bifurcation_diagram(dynsys.maps.logistic(), [2.8, 3.2], x0=[0.3],
    ...                                 steps=2000, keep=4)
    >>> np.unique(ds.x.sel(r=3.2).round(6)).size
    2
    """
    mapping, model, param = _resolve(system, param)
    values = check.swept_values("bifurcation_diagram", values, lr_range, param)
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got shape {x0.shape}")
    steps = check.integer("steps", steps, minimum=1)
    keep = check.integer("keep", keep, minimum=1, maximum=steps)
    radius = check.real("radius", check.renamed("bifurcation_diagram", "divergence_bound",
                                                divergence_bound, "radius", radius,
                                                default=RADIUS),
                        positive=True, hi=_stopping.MAX_RADIUS)
    radius2 = radius * radius

    n = values.size
    require("keep", 8 * n * keep * mapping.dim * 2,
            f"{n} values x {keep} kept iterates x {mapping.dim} float64, and their loss")
    last = np.empty(n, dtype=np.int64)
    mapping = compiled(mapping)      # a kernel numba compiles from a user's functions
    kernel = mapping.kernel
    # the compiled loop writes every sample (NaN after an exit); the Python loop does not
    shape = (n, keep, mapping.dim)
    out = np.empty(shape) if kernel is not None else np.full(shape, np.nan)
    if kernel is not None:
        base = mapping.param_vector()
        pmat = np.repeat(base[None, :], n, axis=0)
        pmat[:, list(mapping.params).index(param)] = values
        _run_sliced(_diagram_kernel(kernel, mapping.dim), np.ascontiguousarray(x0), pmat,
                    steps, keep, radius2, out, last)
    else:
        _python_diagram(mapping, param, values, x0, steps, keep, radius2, out, last)

    is_model = model is not None
    state = "theta" if is_model else "x"
    labels = [f"{state}_{i + 1}" for i in range(mapping.dim)]
    diverged = last < steps
    data = {
        state: ((param, "sample", "component"), out,
                {"long_name": "parameters" if is_model else "state"}),
        "outcome": ((param,), np.where(diverged, np.int8(Outcome.DIVERGED),
                                       np.int8(Outcome.BOUNDED)),
                    Outcome.cf_attrs("outcome of the orbit")),
        "diverged_at": ((param,), np.where(diverged, last + 1, -1).astype(np.int64),
                        {"long_name": "first iterate beyond the divergence radius (-1: none)",
                         "units": "1", "missing_value": np.int64(-1)}),
    }
    if is_model:
        finite = np.all(np.isfinite(out), axis=-1)         # the kept samples of bounded orbits
        loss, sharpness = _at_samples(lambda th: loss_and_sharpness(model, mapping, th), out,
                                      finite, 2)
        data["loss"] = ((param, "sample"), loss, {"long_name": "loss"})
        data["sharpness"] = ((param, "sample"), sharpness,
                             {"long_name": "sharpness (top Hessian eigenvalue)"})
        if callable(getattr(model, "ntk_eigenvalue", None)):
            data["ntk_eigenvalue"] = ((param, "sample"),
                                      _at_samples(model.ntk_eigenvalue, out, finite),
                                      {"long_name": "top NTK eigenvalue"})
            if model.n_outputs == 1:
                data["residual"] = ((param, "sample"),
                                    _at_samples(lambda th: model.residual(th)[..., 0], out,
                                                finite),
                                    {"long_name": "residual z"})
    coords = {
        param: ((param,), values, {"long_name": "step size" if param == "lr"
                                   else f"parameter {param}", "units": "1"}),
        "sample": (("sample",), np.arange(steps - keep + 1, steps + 1),
                   {"long_name": "iterate", "units": "1"}),
        "component": (("component",), np.array(labels)),
    }
    described = model if is_model else mapping
    attrs = provenance(described, analysis="bifurcation_diagram", param=param, steps=steps,
                       keep=keep, x0=x0, radius=radius, compiled=int(kernel is not None))
    attrs.pop(f"param_{param}", None)       # the swept parameter is the coordinate
    return dataset(data, coords, attrs)     # xr.Dataset(data, coords, attrs), without dask
