"""Lyapunov spectra by the QR (Benettin) method, compiled when the map has a numba kernel."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._numba import njit
from .. import _stopping
from .. import _stopping_nb as rule_tests
from .._outcomes import Outcome
from ..systems._iterate import RADIUS
from ..models import resolve_system


@njit
def _gram_schmidt(m, q, logr):
    """QR of ``m`` (dim, dim) by modified Gram-Schmidt with re-orthogonalisation: write the
    orthonormal factor into ``q`` and ``log |R_jj|`` into ``logr``."""
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
            logr[j] = np.log(norm)
            for k in range(dim):
                q[k, j] = v[k] / norm
        else:                                   # the column collapsed: log|R_jj| = -inf,
            logr[j] = -np.inf                   # continue with any orthogonal direction
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


@njit(cache=False)   # takes a dispatcher: not cacheable
def _fd_jacobian(step, x, p, out, xp, f1, f2, f3, f4):
    """Fourth-order central differences of the compiled ``step`` at ``x``, into ``out``."""
    dim = x.shape[0]
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


@njit(cache=False)   # takes a dispatcher: not cacheable
def _benettin_loop(step, jac, analytic, x0, p, transient, steps, n_batches, radius2, sums):
    """Run the QR method; add ``log |R_jj|`` of step ``t`` (after the transient) into
    ``sums[batch(t), j]``. Return the step at which the orbit diverged (rule 1 of
    :mod:`dynsys._stopping`, ``radius2`` the squared radius; -1 if never)."""
    dim = x0.shape[0]
    x = x0.copy()
    y = np.empty(dim)
    jm = np.empty((dim, dim))
    q = np.eye(dim)
    m = np.empty((dim, dim))
    logr = np.empty(dim)
    xp, f1, f2, f3, f4 = (np.empty(dim), np.empty(dim), np.empty(dim), np.empty(dim),
                          np.empty(dim))
    batch_len = max(steps // n_batches, 1)
    for t in range(transient + steps):
        if analytic:
            jac(x, p, jm)
        else:
            _fd_jacobian(step, x, p, jm, xp, f1, f2, f3, f4)
        for i in range(dim):
            for j in range(dim):
                s = 0.0
                for k in range(dim):
                    s += jm[i, k] * q[k, j]
                m[i, j] = s
        _gram_schmidt(m, q, logr)
        step(x, p, y)
        r2 = 0.0
        for k in range(dim):
            r2 += y[k] * y[k]
        if rule_tests.diverged(r2, radius2):
            return t + 1
        for k in range(dim):
            x[k] = y[k]
        if t >= transient:
            b = min((t - transient) // batch_len, n_batches - 1)
            for j in range(dim):
                sums[b, j] += logr[j]
    return -1


@njit
def _no_jacobian(x, p, out):
    """Stands in for a missing Jacobian kernel (never called; numba needs a typed argument)."""
    out[0, 0] = np.nan


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
    sums = np.zeros((n_batches, dim))
    kernel = mapping.kernel
    if kernel is not None:
        analytic = kernel.jacobian is not None
        jac = kernel.jacobian if analytic else _no_jacobian
        diverged = _benettin_loop(kernel.step, jac, analytic, np.ascontiguousarray(x0),
                                  mapping.param_vector(), transient, steps, n_batches, radius2,
                                  sums)
        how = "analytic (compiled kernel)" if analytic else "finite differences (compiled)"
    else:
        diverged = _python_loop(mapping, x0, transient, steps, n_batches, radius2, sums)
        how = "analytic" if mapping.has_analytic_jacobian else "finite differences"
    diverged = int(diverged)
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
        "method": "QR (Benettin) with modified Gram-Schmidt; standard error from batch means",
        "jacobian": how, "steps": steps, "transient": transient, "batches": n_batches,
        "x0": x0,
    }
    attrs.update({k: v for k, v in provenance(mapping, analysis="lyapunov_spectrum").items()})
    return xr.DataArray(estimate, dims=("exponent",),
                        coords={"exponent": ("exponent", np.arange(1, dim + 1),
                                             {"long_name": "exponent index (decreasing)"})}, name="lyapunov_exponent",
                        attrs=attrs)
