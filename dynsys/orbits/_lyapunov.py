"""Lyapunov spectra by the QR (Benettin) method, compiled when the map has a numba kernel."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._numba import njit
from .._specialise import specialise
from .._xr import dataarray
from .. import _stopping
from .._outcomes import Outcome
from .._stopping import ORBIT_RADIUS as RADIUS
from ..systems import compiled
from ..models import resolve_system


#: Logarithms of the QR diagonal are taken once every this many steps (the products in between
#: are accumulated; a product leaving [1e-200, 1e200] is logged at once, so nothing overflows).
LOG_EVERY = 32


@njit(error_model="numpy")
def _gram_schmidt(m, q, r):
    """QR of ``m`` (dim, dim) by modified Gram-Schmidt with re-orthogonalisation: write the
    orthonormal factor into ``q`` and ``|R_jj|`` into ``r`` (0 where a column collapsed)."""
    dim = m.shape[0]
    v = np.empty(dim)
    for j in range(dim):
        for k in range(dim):
            v[k] = m[k, j]
        for _ in range(2):                      # "twice is enough"
            for i in range(j):
                c = 0.0
                for k in range(dim):
                    c += q[k, i] * v[k]
                for k in range(dim):
                    v[k] -= c * q[k, i]
        norm = 0.0
        for k in range(dim):
            norm += v[k] * v[k]
        norm = np.sqrt(norm)
        if norm > 1e-300:
            r[j] = norm
            for k in range(dim):
                q[k, j] = v[k] / norm
        else:                                   # the column collapsed: |R_jj| = 0 (log -inf);
            r[j] = 0.0                          # continue with any orthogonal direction
            best = -1.0
            for e in range(dim):
                for k in range(dim):
                    v[k] = 1.0 if k == e else 0.0
                for i in range(j):
                    c = q[e, i]
                    for k in range(dim):
                        v[k] -= c * q[k, i]
                nv = 0.0
                for k in range(dim):
                    nv += v[k] * v[k]
                if nv > best:
                    best = nv
                    for k in range(dim):
                        q[k, j] = v[k]
            nv = 0.0
            for k in range(dim):
                nv += q[k, j] * q[k, j]
            for k in range(dim):
                q[k, j] /= np.sqrt(nv)


@njit(error_model="numpy")
def _qr_general(jm, q, m, r):
    """Replace the frame ``q`` by the orthonormal factor of ``jm @ q`` (:func:`_gram_schmidt`);
    write ``|R_jj|`` into ``r``."""
    dim = q.shape[0]
    for i in range(dim):
        for j in range(dim):
            s = 0.0
            for k in range(dim):
                s += jm[i, k] * q[k, j]
            m[i, j] = s
    _gram_schmidt(m, q, r)


@njit(error_model="numpy")
def _no_jacobian(x, p, out):
    """Stands in for a missing Jacobian kernel (never called; numba needs a typed name)."""
    out[0, 0] = np.nan


#: The compiled QR loop, as module text specialised to a map's kernel by
#: :func:`dynsys._specialise.specialise` (``step``, ``jac`` and the helpers are bound globals).
_LOOP = """
@njit(cache=CACHE, error_model="numpy")
def jacobian_at(x, p, out, xp, f1, f2, f3, f4):
    if ANALYTIC:
        jac(x, p, out)
        return
    dim = x.shape[0]                 # fourth-order central differences of step
    for j in range(dim):
        h = 1e-3 * max(1.0, abs(x[j]))
        for k in range(dim):
            xp[k] = x[k]
        xp[j] = x[j] - 2.0 * h
        step(xp, p, f1)
        xp[j] = x[j] - h
        step(xp, p, f2)
        xp[j] = x[j] + h
        step(xp, p, f3)
        xp[j] = x[j] + 2.0 * h
        step(xp, p, f4)
        for i in range(dim):
            out[i, j] = (f1[i] - 8.0 * f2[i] + 8.0 * f3[i] - f4[i]) / (12.0 * h)


@njit(cache=CACHE, error_model="numpy")
def benettin2(x, q, p, transient, steps, n_batches, radius2, log_every, sums):
    # the loop of benettin for dim 2 with the frame and the products in registers; the QR in
    # closed form: the second column of the frame is the first turned by 90 degrees, so that
    # r0 r1 = |det(jm q)|
    y = np.empty(2)
    jm = np.empty((2, 2))
    m = np.empty((2, 2))
    r = np.empty(2)
    xp, f1, f2, f3, f4 = (np.empty(2), np.empty(2), np.empty(2), np.empty(2), np.empty(2))
    q00, q10, q01, q11 = q[0, 0], q[1, 0], q[0, 1], q[1, 1]
    p0 = 1.0
    p1 = 1.0
    batch_len = max(steps // n_batches, 1)
    b = 0
    left_batch = batch_len if n_batches > 1 else steps
    left_group = log_every
    for t in range(transient + steps):
        jacobian_at(x, p, jm, xp, f1, f2, f3, f4)
        m00 = jm[0, 0] * q00 + jm[0, 1] * q10
        m10 = jm[1, 0] * q00 + jm[1, 1] * q10
        m01 = jm[0, 0] * q01 + jm[0, 1] * q11
        m11 = jm[1, 0] * q01 + jm[1, 1] * q11
        r0 = np.sqrt(m00 * m00 + m10 * m10)
        if r0 > 1e-300:
            a = m00 / r0
            c = m10 / r0
            r1 = abs(a * m11 - c * m01)
            q00, q10, q01, q11 = a, c, -c, a
            if not r1 > 1e-300:
                r1 = 0.0
        else:                                   # the first column collapsed
            q[0, 0], q[1, 0], q[0, 1], q[1, 1] = q00, q10, q01, q11
            qr_general(jm, q, m, r)
            q00, q10, q01, q11 = q[0, 0], q[1, 0], q[0, 1], q[1, 1]
            r0, r1 = r[0], r[1]
        step(x, p, y)
        y0 = y[0]
        y1 = y[1]
        if diverged(y0 * y0 + y1 * y1, radius2):   # the library's rule (also catches NaN)
            q[0, 0], q[1, 0], q[0, 1], q[1, 1] = q00, q10, q01, q11
            return t + 1
        x[0] = y0
        x[1] = y1
        if t < transient:
            continue
        u = p0 * r0
        if 1e-200 < u < 1e200:
            p0 = u
        else:                                   # rare: log now (exact also for 0, inf, NaN)
            sums[b, 0] += np.log(p0) + np.log(r0)
            p0 = 1.0
        u = p1 * r1
        if 1e-200 < u < 1e200:
            p1 = u
        else:
            sums[b, 1] += np.log(p1) + np.log(r1)
            p1 = 1.0
        left_batch -= 1
        left_group -= 1
        if left_group == 0 or left_batch == 0:
            sums[b, 0] += np.log(p0)
            sums[b, 1] += np.log(p1)
            p0 = 1.0
            p1 = 1.0
            left_group = log_every
            if left_batch == 0 and b < n_batches - 1:
                b += 1
                left_batch = (batch_len if b < n_batches - 1
                              else steps - batch_len * (n_batches - 1))
    q[0, 0], q[1, 0], q[0, 1], q[1, 1] = q00, q10, q01, q11
    return -1


@njit(cache=CACHE, error_model="numpy")
def benettin(x, q, p, transient, steps, n_batches, radius2, log_every, sums):
    # x (the state) and q (the orthonormal frame) are updated in place, so that a long run is
    # made of calls over slices of it (see _sliced)
    dim = x.shape[0]
    y = np.empty(dim)
    jm = np.empty((dim, dim))
    m = np.empty((dim, dim))
    r = np.empty(dim)
    prod = np.ones(dim)
    xp, f1, f2, f3, f4 = (np.empty(dim), np.empty(dim), np.empty(dim), np.empty(dim),
                          np.empty(dim))
    if dim == 2:
        return benettin2(x, q, p, transient, steps, n_batches, radius2, log_every, sums)
    batch_len = max(steps // n_batches, 1)
    b = 0
    left_batch = batch_len if n_batches > 1 else steps
    left_group = log_every
    for t in range(transient + steps):
        jacobian_at(x, p, jm, xp, f1, f2, f3, f4)
        qr_general(jm, q, m, r)
        step(x, p, y)
        r2 = 0.0
        for k in range(dim):
            r2 += y[k] * y[k]
        if diverged(r2, radius2):              # the library's rule (also catches NaN)
            return t + 1
        for k in range(dim):
            x[k] = y[k]
        if t < transient:
            continue
        for j in range(dim):
            pj = prod[j] * r[j]
            if 1e-200 < pj < 1e200:
                prod[j] = pj
            else:                                # rare: log now (exact also for 0, inf, NaN)
                sums[b, j] += np.log(prod[j]) + np.log(r[j])
                prod[j] = 1.0
        left_batch -= 1
        left_group -= 1
        if left_group == 0 or left_batch == 0:
            for j in range(dim):
                sums[b, j] += np.log(prod[j])
                prod[j] = 1.0
            left_group = log_every
            if left_batch == 0 and b < n_batches - 1:
                b += 1
                left_batch = (batch_len if b < n_batches - 1
                              else steps - batch_len * (n_batches - 1))
    return -1
"""


#: Steps of one call of the compiled loop: a long run is cut into calls this long (at most),
#: so that Ctrl-C (handled by Python between calls) lands within a fraction of a second.
SLICE = 1 << 18


def _sliced(loop, x, p, transient, steps, n_batches, radius2, sums, slice_steps=None) -> int:
    """Run the compiled QR loop over ``transient + steps`` iterations in bounded slices, with
    the arithmetic of one call: the state and the frame carry over, and the measured steps are
    cut at the points where the loop flushes its products anyway (batch ends and every
    ``LOG_EVERY`` steps). Return the step at which the orbit diverged, or -1."""
    dim = x.shape[0]
    q = np.eye(dim)
    cut = max(LOG_EVERY, (slice_steps or SLICE) // LOG_EVERY * LOG_EVERY)
    done = 0
    while done < transient:                         # the transient: state and frame only
        k = min(cut, transient - done)
        gone = loop(x, q, p, k, 0, 1, radius2, LOG_EVERY, sums[:1])
        if gone >= 0:
            return done + gone
        done += k
    batch_len = max(steps // n_batches, 1)
    measured = 0
    for b in range(n_batches):
        length = batch_len if b < n_batches - 1 else steps - batch_len * (n_batches - 1)
        left = length
        while left > 0:
            k = min(cut, left)
            gone = loop(x, q, p, 0, k, 1, radius2, LOG_EVERY, sums[b:b + 1])
            if gone >= 0:
                return done + measured + gone
            measured += k
            left -= k
    return -1


def _compiled_loop(kernel):
    """Return the QR loop specialised to ``kernel`` (analytic Jacobian or finite differences),
    cached on disk when its functions are importable."""
    analytic = kernel.jacobian is not None
    return specialise(f"ANALYTIC = {analytic}\n{_LOOP}", "benettin", step=kernel.step,
                      jac=kernel.jacobian if analytic else _no_jacobian, qr_general=_qr_general,
                      diverged=("dynsys._stopping_nb", "diverged"))


def _python_loop(mapping, x0, transient, steps, n_batches, radius2, sums) -> int:
    """The same loop in Python, for maps without a compiled kernel."""
    dim = mapping.dim
    x = x0.copy()
    q = np.eye(dim)
    batch_len = max(steps // n_batches, 1)
    with np.errstate(all="ignore"):
        for t in range(transient + steps):
            q, r = np.linalg.qr(mapping.jacobian(x) @ q)
            logr = np.log(np.abs(np.diagonal(r)))
            x = mapping.step(x)
            if _stopping.diverged(float(np.dot(x, x)), radius2):
                return t + 1
            if t >= transient:
                sums[min((t - transient) // batch_len, n_batches - 1)] += logr
    return -1


def _run(mapping, x0, transient, steps, n_batches, radius2):
    """Return ``(sums (n_batches, dim), diverged step or -1, jacobian label)``: the sums of
    ``log |R_jj|`` over each batch of the ``steps`` recorded iterations."""
    sums = np.zeros((n_batches, mapping.dim))
    mapping = compiled(mapping)      # a kernel numba compiles from a user's functions
    kernel = mapping.kernel
    if kernel is not None:
        diverged = _sliced(_compiled_loop(kernel), np.array(x0, dtype=float),
                           mapping.param_vector(), transient, steps, n_batches, radius2, sums)
        how = ("analytic (compiled kernel)" if kernel.jacobian is not None
               else "finite differences (compiled)")
    else:
        diverged = _python_loop(mapping, x0, transient, steps, n_batches, radius2, sums)
        how = "analytic" if mapping.has_analytic_jacobian else "finite differences"
    return sums, int(diverged), how


def lyapunov_spectrum(system, x0, *, steps: int, transient: int = 1000, lr=None,
                      batches: int = 20, radius: float | None = None,
                      divergence_bound: float | None = None) -> xr.DataArray:
    """Return the Lyapunov spectrum along the orbit of ``x0`` as an ``xr.DataArray`` over dim
    ``exponent``, largest first, in nats per iteration.

    The QR (Benettin) method: an orthonormal frame is carried along the orbit by the map's
    Jacobian and re-orthonormalised every step; exponent ``j`` is the mean of
    ``log |R_jj|`` over ``steps`` iterations after ``transient`` iterations (during which
    the frame aligns but nothing is recorded). The standard error comes from ``batches``
    batch means. When the map has a numba kernel the whole loop is compiled (with the kernel's
    Jacobian, or compiled finite differences if it has none); otherwise it runs in Python
    with the map's Jacobian (analytic or numerical).

    An orbit that diverges (``|x| > radius`` or not finite) gives NaN exponents with
    ``attrs["outcome"] = "diverged"`` (an :class:`~dynsys.Outcome` name, ``outcome_code`` its
    code) and the step in ``attrs["diverged_at_step"]``.

    Parameters
    ----------
    system : Map or Model
        The map, or a model (then its GD map; ``lr`` required).
    x0 : array (dim,)
        Initial state.
    steps : int
        Iterations averaged over (>= 1).
    transient : int
        Iterations discarded first (>= 0).
    lr : float, optional
        Step size (required for a model).
    batches : int
        Number of batches for the standard error (>= 2; fewer if ``steps`` is smaller).
    radius : float
        Divergence radius (default 1e30, as for every loop that follows one orbit);
        ``divergence_bound`` is its deprecated name.

    Returns
    -------
    xarray.DataArray
        ``lyapunov_exponent`` over ``exponent`` (1 .. dim); attrs ``standard_error``
        (per exponent), ``sum`` (of the exponents), ``outcome`` ("bounded" or "diverged") and
        ``outcome_code``,
        ``diverged_at_step``, ``method``, ``jacobian``, ``steps``, ``transient``, ``batches``
        and provenance.

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> lam = dynsys.lyapunov_spectrum(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1], steps=100_000)
    >>> lam.values.round(2).tolist()
    [0.42, -1.62]
    >>> bool(abs(float(lam.sum()) - np.log(0.3)) < 1e-9)
    True
    """
    mapping, _ = resolve_system(system, lr)
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got shape {x0.shape}")
    steps = check.integer("steps", steps, minimum=1)
    transient = check.integer("transient", transient, minimum=0)
    batches = check.integer("batches", batches, minimum=2)
    radius = check.real("radius", check.renamed("lyapunov_spectrum", "divergence_bound",
                                                divergence_bound, "radius", radius,
                                                default=RADIUS),
                        positive=True, hi=_stopping.MAX_RADIUS)
    radius2 = radius * radius
    n_batches = min(batches, steps)
    dim = mapping.dim
    sums, diverged, how = _run(mapping, x0, transient, steps, n_batches, radius2)
    batch_len = max(steps // n_batches, 1)
    lengths = np.full(n_batches, batch_len, dtype=float)
    lengths[-1] = steps - batch_len * (n_batches - 1)
    with np.errstate(all="ignore"):
        estimate = sums.sum(axis=0) / steps
        means = sums / lengths[:, None]
        stderr = (np.std(means, axis=0, ddof=1) / np.sqrt(n_batches) if n_batches > 1
                  else np.full(dim, np.nan))
    if diverged >= 0:
        estimate = np.full(dim, np.nan)
        stderr = np.full(dim, np.nan)
    order = np.argsort(-np.where(np.isnan(estimate), -np.inf, estimate), kind="stable")
    estimate, stderr = estimate[order], stderr[order]
    with np.errstate(invalid="ignore"):
        total = float(np.sum(estimate))
    attrs = {
        "long_name": "Lyapunov exponent (per iteration)", "units": "1",
        "standard_error": np.asarray(stderr, dtype=float),
        "sum": total,
        "outcome": (Outcome.DIVERGED if diverged >= 0 else Outcome.BOUNDED).name.lower(),
        "outcome_code": int(Outcome.DIVERGED if diverged >= 0 else Outcome.BOUNDED),
        "radius": radius,
        "diverged_at_step": diverged,
        "method": ("QR (Benettin); Gram-Schmidt (closed form in 2-D), logarithms of the R "
                   f"diagonal taken every {LOG_EVERY} steps; standard error from batch means"),
        "jacobian": how, "steps": steps, "transient": transient, "batches": n_batches,
        "x0": x0,
    }
    attrs.update({k: v for k, v in provenance(mapping, analysis="lyapunov_spectrum").items()})
    return dataarray(estimate, ("exponent",),         # xr.DataArray, without importing dask
                     coords={"exponent": ("exponent", np.arange(1, dim + 1),
                                          {"long_name": "exponent index (decreasing)"})}, name="lyapunov_exponent",
                     attrs=attrs)


def lyapunov_convergence(system, x0, *, steps: int, transient: int = 1000, lr=None,
                         checkpoints: int = 100, radius: float | None = None) -> xr.Dataset:
    """Return the running estimates of the Lyapunov spectrum along the orbit of ``x0``: each
    exponent averaged over the first ``t`` recorded steps, at ``checkpoints`` values of ``t``
    (the convergence trace of :func:`lyapunov_spectrum`).

    The same QR loop as :func:`lyapunov_spectrum` (same ``steps``, ``transient``, ``lr``,
    ``radius``); the sums of ``log |R_jj|`` are kept per block of ``steps / checkpoints``
    steps, so the trace costs nothing extra. The last running estimate is the spectrum.

    Parameters
    ----------
    system, x0, steps, transient, lr, radius
        As for :func:`lyapunov_spectrum`.
    checkpoints : int
        Number of points of the trace (>= 2; at most ``steps``).

    Returns
    -------
    xarray.Dataset
        ``running_estimate`` (``step``, ``exponent``): the mean of ``log |R_jj|`` over the
        first ``step`` recorded iterations (NaN everywhere if the orbit diverged);
        ``lyapunov_exponent`` (``exponent``): the last of them; exponents ordered largest
        first by their final value, as in :func:`lyapunov_spectrum`.

    Examples
    --------
    >>> import dynsys
    >>> tr = dynsys.lyapunov_convergence(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1],
    ...                                  steps=100_000, checkpoints=50)
    >>> tr.running_estimate.shape, tr.lyapunov_exponent.values.round(2).tolist()
    ((50, 2), [0.42, -1.62])
    """
    mapping, _ = resolve_system(system, lr)
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got shape {x0.shape}")
    steps = check.integer("steps", steps, minimum=1)
    transient = check.integer("transient", transient, minimum=0)
    checkpoints = check.integer("checkpoints", checkpoints, minimum=2)
    radius = check.real("radius", RADIUS if radius is None else radius, positive=True,
                        hi=_stopping.MAX_RADIUS)
    n = min(checkpoints, steps)
    sums, diverged, how = _run(mapping, x0, transient, steps, n, radius * radius)
    block = max(steps // n, 1)
    ends = np.minimum(np.arange(1, n + 1) * block, steps)
    ends[-1] = steps
    with np.errstate(all="ignore"):
        running = np.cumsum(sums, axis=0) / ends[:, None]
    if diverged >= 0:
        running[:] = np.nan
    final = running[-1]
    order = np.argsort(-np.where(np.isnan(final), -np.inf, final), kind="stable")
    running = running[:, order]
    one = {"units": "1"}
    ds = xr.Dataset(
        {"running_estimate": (("step", "exponent"), running,
                              {"long_name": "running estimate of the Lyapunov exponent "
                                            "(per iteration)", **one}),
         "lyapunov_exponent": ("exponent", running[-1],
                               {"long_name": "Lyapunov exponent (per iteration)", **one})},
        coords={"step": ("step", ends.astype(np.int64),
                         {"long_name": "recorded iterations averaged over", **one}),
                "exponent": ("exponent", np.arange(1, mapping.dim + 1),
                             {"long_name": "exponent index (decreasing)", **one})})
    ds.attrs.update(provenance(mapping, analysis="lyapunov_convergence", steps=steps,
                               transient=transient, jacobian=how, radius=radius,
                               diverged_at_step=diverged,
                               outcome=(Outcome.DIVERGED if diverged >= 0
                                        else Outcome.BOUNDED).name.lower()))
    return ds
