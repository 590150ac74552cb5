"""Measures of basin boundaries on a labelled grid: basin entropy, uncertainty exponent and the
fractal-boundary test.

All three work on an integer array of basin labels (one label per grid cell, any number of
dimensions) and follow the definitions of Attractors.jl (``basin_entropy``,
``uncertainty_exponent``/``basins_fractal_dimension`` and ``basins_fractal_test``), so numbers
computed here and there on the same labels can be compared directly:

* basin entropy (Daza et al. 2016): split the grid into boxes of ``box_size`` cells per side,
  take the Gibbs entropy ``-sum_j p_j log p_j`` (natural log) of the label frequencies in each
  box; ``Sb`` is its mean over all boxes, ``Sbb`` its mean over the boxes that hold at least two
  labels (the boundary boxes);
* uncertainty exponent (Grebogi et al. 1983) by box counting: for each box size ``eps`` count the
  boxes holding at least two labels, fit ``log N(eps) = -D log eps + c``; ``D`` is the box-counting
  dimension of the boundary and ``alpha = ndim - D``;
* the ``Sbb`` fractality test (Puy et al. 2021): the mean entropy of random balls of radius
  ``eps`` that straddle the boundary is compared with its value for a smooth (locally flat)
  boundary.

Every distinct value is a basin, including codes such as "diverged" or "undecided".
"""

from __future__ import annotations

import functools
import itertools
import numbers
import re
from typing import NamedTuple

import numpy as np

from .. import _validate as check

__all__ = ["basin_entropy", "uncertainty_exponent", "basins_fractal_test", "BasinEntropy",
           "UncertaintyExponent", "FractalTest", "smooth_boundary_entropy"]

#: Names of the state dimensions in the Datasets of ``dynsys.basins``.
_STATE_DIM = re.compile(r"(theta|x)_\d+")


# -- results ------------------------------------------------------------------------------
class BasinEntropy(NamedTuple):
    """Basin entropy ``Sb`` and boundary basin entropy ``Sbb`` (natural log, nats)."""

    Sb: float
    Sbb: float


class UncertaintyExponent(NamedTuple):
    """Uncertainty exponent of a labelled grid and the box counts it was fitted to.

    ``alpha`` the uncertainty exponent, ``eps`` the box sizes (cells), ``fraction`` the fraction
    of boxes of each size that hold at least two labels, ``dimension`` the box-counting dimension
    of the boundary (``ndim - alpha``), ``count`` the number of such boxes.
    """

    alpha: float
    eps: np.ndarray
    fraction: np.ndarray
    dimension: float
    count: np.ndarray


class FractalTest(NamedTuple):
    """Outcome of the ``Sbb`` fractality test.

    ``verdict`` is ``"fractal"`` or ``"smooth"``; ``Sbb`` the mean entropy of the sampled
    boundary balls, ``stderr`` its standard error, ``Sbb_smooth`` the value expected for a smooth
    boundary and ``bias`` the allowance for the discretisation of small balls.
    """

    verdict: str
    Sbb: float
    Sbb_smooth: float
    stderr: float
    bias: float


# -- input --------------------------------------------------------------------------------
def _labels(value, name: str = "labels") -> np.ndarray:
    """Return the integer label array of ``value`` (an integer ndarray or DataArray), or raise."""
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is a dependency
        xr = None
    if xr is not None and isinstance(value, xr.Dataset):
        raise TypeError(f"{name} must be an integer array or DataArray, got a Dataset; pass one "
                        f"variable, e.g. ds.attractor or ds.outcome")
    if xr is not None and isinstance(value, xr.DataArray):
        state = [d for d in value.dims if _STATE_DIM.fullmatch(str(d))]
        if state:
            other = [d for d in value.dims if d not in state]
            extra = [d for d in other if value.sizes[d] > 1]
            if extra:
                raise ValueError(
                    f"{name} has dimension(s) {extra} besides the state dimensions {state}; "
                    f"select one value first, e.g. {name}.isel({extra[0]}=0)")
            value = value.squeeze(other, drop=True)
        value = value.values
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be an integer array of basin labels, got "
                        f"{type(value).__name__}")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an integer array of basin labels: {exc}") from None
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int8)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer basin labels, got dtype {arr.dtype} "
                        f"(convert with .astype(int) if the values are whole numbers)")
    if arr.ndim < 1:
        raise ValueError(f"{name} must have at least 1 dimension, got a scalar")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    return arr


def _box_sizes(name: str, value, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Return one box size per axis from an int or a tuple of ints, each in 1..shape[i]."""
    if isinstance(value, tuple | list | np.ndarray) and np.ndim(value) == 1:
        if len(value) != len(shape):
            raise ValueError(f"{name} must be an integer or {len(shape)} integers (one per "
                             f"dimension of labels), got {len(value)}")
        sizes = tuple(check.integer(f"{name}[{i}]", v, minimum=1) for i, v in enumerate(value))
    else:
        sizes = (check.integer(name, value, minimum=1),) * len(shape)
    for axis, (size, n) in enumerate(zip(sizes, shape, strict=True)):
        if size > n:
            raise ValueError(f"{name} must be <= the grid size {n} along axis {axis} of labels "
                             f"(shape {shape}), got {size}")
    return sizes


def _blocked(labels: np.ndarray, sizes) -> np.ndarray:
    """Return the whole boxes of ``labels`` as a ``(n1, s1, n2, s2, ...)`` view.

    Boxes start at the first cell of every axis; cells left over at the far end of an axis (when
    the box size does not divide it) are not covered, as in Attractors.jl.
    """
    trimmed = labels[tuple(slice(0, (n // s) * s) for n, s in zip(labels.shape, sizes))]
    blocked_shape = []
    for n, s in zip(trimmed.shape, sizes):
        blocked_shape += [n // s, s]
    return trimmed.reshape(blocked_shape)


def _row_entropies(rows: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Return the Gibbs entropy (nats) of the values in each row of ``rows``.

    With ``valid`` (a boolean array like ``rows``), only the valid entries of a row count.
    """
    n_rows, width = rows.shape
    if n_rows == 0:
        return np.zeros(0)
    if valid is not None:
        # push invalid entries to the end of each sorted row with a sentinel beyond all labels
        sentinel = rows.max() + 1
        rows = np.where(valid, rows, sentinel)
        sizes = valid.sum(axis=1)
    else:
        sizes = np.full(n_rows, width)
    ordered = np.sort(rows, axis=1)
    starts = np.ones_like(ordered, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    if valid is not None:
        starts &= np.arange(width)[None, :] < sizes[:, None]
    row_of_start, col_of_start = np.nonzero(starts)
    # a run ends where the next run of the same row starts, or at the row's valid size
    next_col = np.empty_like(col_of_start)
    next_col[:-1] = col_of_start[1:]
    last_in_row = np.ones(len(col_of_start), dtype=bool)
    last_in_row[:-1] = row_of_start[1:] != row_of_start[:-1]
    next_col[last_in_row] = sizes[row_of_start[last_in_row]]
    p = (next_col - col_of_start) / sizes[row_of_start]
    return np.bincount(row_of_start, weights=-p * np.log(p), minlength=n_rows)


# -- basin entropy ------------------------------------------------------------------------
def basin_entropy(labels, box_size=5) -> BasinEntropy:
    """Return the basin entropy ``Sb`` and the boundary basin entropy ``Sbb`` of a labelled grid.

    The grid is split into boxes of ``box_size`` cells along every axis, starting at the first
    cell (cells left over at the far end of an axis are not used). In box ``i`` the label
    frequencies ``p_ij`` give the entropy ``S_i = -sum_j p_ij log p_ij`` (natural log). ``Sb``
    is the mean of ``S_i`` over all boxes and ``Sbb`` the mean over the boxes that hold more than
    one label (NaN when there are none). This is the definition of Daza et al. (2016) and of
    Attractors.jl's ``basin_entropy(basins, ε)``. ``Sb <= log(n_labels)``; ``Sbb > log 2`` is a
    sufficient condition for a fractal boundary (see :func:`basins_fractal_test` for a sharper
    test).

    Parameters
    ----------
    labels : array_like of int or xarray.DataArray
        Basin labels on a regular grid, any number of dimensions, e.g. ``ds.attractor`` of
        ``dynsys.basins`` at one ``lr`` (other dimensions than the state dimensions
        ``theta_k``/``x_k`` must have size 1). Every distinct value counts as a basin.
    box_size : int or tuple of int, default 5
        Box side in cells (one per axis if a tuple), between 1 and the grid size.

    Returns
    -------
    BasinEntropy
        Named tuple ``(Sb, Sbb)`` of floats, in nats.

    Examples
    --------
    >>> import numpy as np
    >>> from dynsys.basins import basin_entropy
    >>> labels = np.zeros((10, 10), dtype=int)
    >>> labels[:, 5:] = 1                      # straight boundary through the middle column
    >>> Sb, Sbb = basin_entropy(labels, box_size=4)
    >>> round(Sbb, 6), round(Sb, 6)           # one box column in two holds a 3:1 split
    (0.562335, 0.281167)
    """
    arr = _labels(labels)
    sizes = _box_sizes("box_size", box_size, arr.shape)
    blocked = _blocked(arr, sizes)
    ndim = arr.ndim
    box_axes = tuple(range(0, 2 * ndim, 2))
    cell_axes = tuple(range(1, 2 * ndim, 2))
    rows = blocked.transpose(box_axes + cell_axes).reshape(-1, int(np.prod(sizes)))
    boundary = rows.min(axis=1) != rows.max(axis=1)
    n_boundary = int(boundary.sum())
    total = float(_row_entropies(rows[boundary]).sum())
    Sb = total / rows.shape[0]
    Sbb = total / n_boundary if n_boundary else float("nan")
    return BasinEntropy(float(Sb), float(Sbb))


# -- uncertainty exponent -----------------------------------------------------------------
def _eps_range(value, shape) -> np.ndarray:
    if value is None:
        top = min(max(shape) // 10, min(shape))
        eps = np.arange(5, top + 1)
        if eps.size < 2:
            raise ValueError(f"eps: the default box sizes 5..max(shape)//10 need a grid of at "
                             f"least 60 cells along some axis, got labels of shape {shape}; "
                             f"pass eps=[...] explicitly")
        return eps
    if isinstance(value, str | bytes) or np.ndim(value) != 1:
        raise TypeError(f"eps must be a 1-D sequence of integer box sizes, got {value!r}")
    eps = np.array([check.integer(f"eps[{i}]", v, minimum=1) for i, v in enumerate(value)],
                   dtype=np.int64)
    eps = np.unique(eps)
    if eps.size < 2:
        raise ValueError(f"eps must hold at least 2 distinct box sizes for a fit, got {value!r}")
    if eps[-1] > min(shape):
        raise ValueError(f"eps must be <= the smallest grid size {min(shape)} of labels "
                         f"(shape {shape}), got {int(eps[-1])}")
    return eps


def uncertainty_exponent(labels, eps=None) -> UncertaintyExponent:
    """Return the uncertainty exponent ``alpha`` of a labelled grid and the box counts behind it.

    For every box size ``eps`` (cells) the grid is covered by boxes of that side starting at the
    first cell; a box is uncertain when it holds at least two labels. The box-counting dimension
    ``D`` of the boundary is the slope of ``log N(eps)`` against ``log(1/eps)`` (least squares
    over the sizes with ``N > 0``) and ``alpha = ndim - D``. This is Attractors.jl's
    ``uncertainty_exponent``/``basins_fractal_dimension``: the uncertain fraction
    ``f(eps) = N(eps) / n_boxes(eps)`` scales as ``eps**alpha``. A smooth boundary in the plane
    has ``D = 1``, ``alpha = 1``; fractal boundaries have ``alpha < 1``.

    Parameters
    ----------
    labels : array_like of int or xarray.DataArray
        Basin labels on a regular grid (see :func:`basin_entropy`).
    eps : sequence of int, optional
        Box sizes in cells, at least two distinct values between 1 and the smallest grid size.
        Default ``5, 6, ..., max(shape) // 10`` (``5:30`` on a 300-cell grid, the range of
        Attractors.jl's own Newton-map test). Attractors.jl's default starts at 2, but small
        boxes bias ``alpha`` upwards: a boundary running along a box edge is not inside any box,
        so only a share of about ``1 - 1/eps`` of the boundary is seen (for a circle 425 cells
        across, ``eps = 2..10`` gives ``alpha = 1.33``; for the Newton basins on 300 x 300
        cells, 0.74 instead of 0.61). The effect remains visible from 5 up: smooth curved
        boundaries read ``alpha`` 1.05 to 1.1 on grids of a few hundred cells. Pass
        ``eps=range(2, max(shape) // 20 + 1)`` to reproduce Attractors.jl's default exactly.

    Returns
    -------
    UncertaintyExponent
        Named tuple ``(alpha, eps, fraction, dimension, count)``: the exponent, the box sizes,
        the uncertain fraction and number of uncertain boxes at each size, and ``D``. ``alpha``
        and ``D`` are NaN when fewer than two sizes have uncertain boxes (e.g. a single label).

    Examples
    --------
    >>> import numpy as np
    >>> from dynsys.basins import uncertainty_exponent
    >>> x = np.linspace(-1, 1, 300)
    >>> labels = (x[:, None] + 0.7 * x[None, :] > 0.05).astype(int)   # a straight boundary
    >>> res = uncertainty_exponent(labels)
    >>> res.eps[[0, -1]]
    array([ 5, 30])
    >>> round(res.alpha, 1), round(res.dimension, 1)
    (1.1, 0.9)
    """
    arr = _labels(labels)
    sizes = _eps_range(eps, arr.shape)
    ndim = arr.ndim
    cell_axes = tuple(range(1, 2 * ndim, 2))
    count = np.zeros(sizes.size, dtype=np.int64)
    n_boxes = np.zeros(sizes.size, dtype=np.int64)
    for k, size in enumerate(sizes):
        blocked = _blocked(arr, (int(size),) * ndim)
        uncertain = blocked.min(axis=cell_axes) != blocked.max(axis=cell_axes)
        count[k] = int(uncertain.sum())
        n_boxes[k] = uncertain.size
    fraction = count / n_boxes
    used = count > 0
    if used.sum() >= 2 and np.unique(sizes[used]).size >= 2:
        slope = np.polyfit(-np.log(sizes[used].astype(float)), np.log(count[used]), 1)[0]
        dimension = float(slope)
        alpha = float(ndim - slope)
    else:
        dimension = alpha = float("nan")
    return UncertaintyExponent(alpha, sizes, fraction, dimension, count)


# -- fractal test -------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def smooth_boundary_entropy(ndim: int) -> float:
    """Return the mean entropy (nats) of balls cut by a smooth boundary in ``ndim`` dimensions.

    A ball of radius 1 whose centre lies at distance ``d`` from a flat boundary has the fraction
    ``p(d) = I_{1-d^2}((ndim + 1)/2, 1/2) / 2`` of its volume on the far side (regularised
    incomplete beta function); for balls centred uniformly at random and meeting the boundary,
    ``d`` is uniform on ``[0, 1]`` and the expected entropy is the integral of
    ``-p log p - (1-p) log(1-p)`` over ``d``. It is 1/2 for ``ndim = 1`` and 0.4395 for
    ``ndim = 2``, the table of Puy et al. (2021) used by Attractors.jl.

    Examples
    --------
    >>> from dynsys.basins import smooth_boundary_entropy
    >>> round(smooth_boundary_entropy(1), 6), round(smooth_boundary_entropy(2), 6)
    (0.5, 0.439509)
    """
    ndim = check.integer("ndim", ndim, minimum=1)
    from scipy.integrate import quad
    from scipy.special import betainc

    def entropy(d):
        p = 0.5 * betainc((ndim + 1) / 2, 0.5, 1.0 - d * d)
        if p <= 0.0 or p >= 1.0:
            return 0.0
        return -p * np.log(p) - (1.0 - p) * np.log1p(-p)

    value, _ = quad(entropy, 0.0, 1.0, limit=200, epsabs=1e-12)
    return float(value)


def _ball_offsets(radius: float, ndim: int) -> np.ndarray:
    """Integer offsets of the cube that contains every cell within ``radius`` of any point of
    the unit cell at the origin."""
    reach = int(np.ceil(radius)) + 1
    axes = [np.arange(-reach + 1, reach + 1)] * ndim
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, ndim)


def _edge_tables(codes: np.ndarray) -> list[np.ndarray]:
    """Summed-area tables, one per axis, of the pairs of neighbouring cells with different
    labels (entry ``i`` along axis ``a`` marks the pair ``i, i + 1``)."""
    tables = []
    for axis in range(codes.ndim):
        first = [slice(None)] * codes.ndim
        second = [slice(None)] * codes.ndim
        first[axis] = slice(0, -1)
        second[axis] = slice(1, None)
        table = np.zeros(tuple(n + 1 for n in codes.shape), dtype=np.int64)
        inner = [slice(1, None)] * codes.ndim
        inner[axis] = slice(1, codes.shape[axis])
        table[tuple(inner)] = codes[tuple(first)] != codes[tuple(second)]
        for a in range(codes.ndim):
            np.cumsum(table, axis=a, out=table)
        tables.append(table)
    return tables


def _mixed_cubes(tables, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Whether each cube ``[lo, hi)`` (rows of ``(B, ndim)`` arrays) holds two labels."""
    ndim = lo.shape[1]
    total = np.zeros(lo.shape[0], dtype=np.int64)
    for axis, table in enumerate(tables):
        top = hi.copy()
        top[:, axis] -= 1                       # the pair i, i + 1 needs i + 1 < hi
        top = np.maximum(top, lo)
        for corner in itertools.product((0, 1), repeat=ndim):
            index = tuple(np.where(bit, top[:, a], lo[:, a]) for a, bit in enumerate(corner))
            sign = -1 if (ndim - sum(corner)) % 2 else 1
            total += sign * table[index]
    return total > 0


def basins_fractal_test(labels, *, eps=20, n_samples=1000, seed=None, n_sigma=1.0,
                        max_tries=None) -> FractalTest:
    """Return whether the basin boundary looks fractal at scale ``eps``: the ``Sbb`` test.

    Balls of radius ``eps`` cells are centred uniformly at random in the grid (wholly inside
    it); those holding at least two labels are kept until ``n_samples`` have been found, and the
    mean ``Sbb`` of their label entropies (natural log) is compared with the value
    ``Sbb_smooth`` expected for a smooth, locally flat boundary
    (:func:`smooth_boundary_entropy`: 0.4395 in the plane). With ``stderr`` the standard error of
    the mean and ``bias = 0.224 * eps**-1.006`` the allowance for the pixelation of small balls
    (Puy et al. 2021, as in Attractors.jl), the boundary is ``"fractal"`` when
    ``Sbb < Sbb_smooth - n_sigma * stderr`` or ``Sbb > Sbb_smooth + n_sigma * stderr + bias``,
    else ``"smooth"``. The default ``n_sigma = 1`` is Attractors.jl's rule; it calls a smooth
    boundary fractal in up to one draw in three (measured for straight and circular boundaries
    on 300 x 300 cells, eps 5 to 20; worst for boundaries aligned with the grid, whose
    pixelation the bias term underestimates), so use ``n_sigma = 3`` for a verdict that a
    smooth boundary rarely fails.
    The verdict depends on the scale: structure finer than ``eps`` is not seen, and a smooth
    but strongly curved boundary can look fractal at large ``eps``. Puy et al. advise grids at
    least 50 ``eps`` across.

    Parameters
    ----------
    labels : array_like of int or xarray.DataArray
        Basin labels on a regular grid (see :func:`basin_entropy`); it must hold at least two
        labels.
    eps : float, default 20
        Ball radius in cells, > 0 and small enough that a ball fits in the grid
        (``2 * eps < min(shape) - 1``).
    n_samples : int, default 1000
        Number of boundary balls to average over (at least 100).
    seed : int or numpy.random.Generator, optional
        Random seed or generator; fix it for reproducible verdicts.
    n_sigma : float, default 1
        Width of the acceptance band for a smooth boundary, in standard errors (> 0).
    max_tries : int, optional
        Cap on the number of balls drawn (default ``max(10**6, 1000 * n_samples)``); a
        ValueError is raised if fewer than ``n_samples`` boundary balls are found by then.

    Returns
    -------
    FractalTest
        Named tuple ``(verdict, Sbb, Sbb_smooth, stderr, bias)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynsys.basins import basins_fractal_test
    >>> x = np.linspace(-1, 1, 300)
    >>> labels = np.broadcast_to(x[:, None] > 0.1, (300, 300)).astype(int)
    >>> basins_fractal_test(labels, eps=5, n_samples=400, seed=1, n_sigma=3).verdict
    'smooth'
    """
    arr = _labels(labels)
    shape = arr.shape
    ndim = arr.ndim
    radius = check.real("eps", eps, positive=True)
    if not 2 * radius < min(shape) - 1:
        raise ValueError(f"eps must be < (min(shape) - 1) / 2 = {(min(shape) - 1) / 2} so that "
                         f"a ball fits in labels of shape {shape}, got {radius}")
    n_samples = check.integer("n_samples", n_samples, minimum=100)
    n_sigma = check.real("n_sigma", n_sigma, positive=True)
    if max_tries is None:
        max_tries = max(10**6, 1000 * n_samples)
    max_tries = check.integer("max_tries", max_tries, minimum=n_samples)
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool)):
        rng = np.random.default_rng(seed)
    else:
        raise TypeError(f"seed must be an integer, None or a numpy Generator, got {seed!r}")
    if arr.min() == arr.max():
        raise ValueError("labels must hold at least two distinct labels for the fractal test "
                         "(a single basin has no boundary)")

    # dense codes 0..K-1 keep the sentinel of _row_entropies (K) from overflowing
    codes = np.unique(arr, return_inverse=True)[1].reshape(shape).astype(np.int64)
    flat = codes.ravel()
    tables = _edge_tables(codes)
    strides = np.array([int(np.prod(shape[i + 1:])) for i in range(ndim)], dtype=np.int64)
    offsets = _ball_offsets(radius, ndim)
    reach = int(np.ceil(radius))
    lo = radius
    hi = np.asarray(shape, dtype=float) - 1.0 - radius
    top = np.asarray(shape, dtype=np.int64) - 1
    chunk = max(1, 2_000_000 // len(offsets))
    entropies: list[np.ndarray] = []
    found = tries = 0
    while found < n_samples:
        if tries >= max_tries:
            raise ValueError(f"only {found} of n_samples={n_samples} boundary balls found in "
                             f"max_tries={max_tries} draws; the boundary is too small for "
                             f"eps={radius} (use a larger eps or max_tries)")
        size = min(8192, max_tries - tries)
        tries += size
        centres = lo + rng.random((size, ndim)) * (hi - lo)
        base = np.floor(centres).astype(np.int64)
        # cheap screen: a ball can only straddle the boundary if its enclosing cube does
        candidates = centres[_mixed_cubes(tables, np.maximum(base - reach, 0),
                                          np.minimum(base + reach + 2, top + 1))]
        for start in range(0, len(candidates), chunk):
            part = candidates[start:start + chunk]
            cells = np.floor(part).astype(np.int64)[:, None, :] + offsets[None, :, :]
            inside = ((cells - part[:, None, :]) ** 2).sum(axis=-1) <= radius * radius
            # cells of the enclosing cube may stick out of the grid; they are never inside
            values = flat[np.clip(cells, 0, top) @ strides]
            straddles = (np.where(inside, values, np.int64(2**62)).min(axis=1)
                         != np.where(inside, values, np.int64(-1)).max(axis=1))
            if straddles.any():
                h = _row_entropies(values[straddles], inside[straddles])
                entropies.append(h)
                found += h.size
            if found >= n_samples:
                break
    sample = np.concatenate(entropies)[:n_samples]
    mean = float(sample.mean())
    stderr = float(sample.std(ddof=1) / np.sqrt(n_samples))
    smooth = smooth_boundary_entropy(ndim)
    bias = 0.224 * radius ** -1.006
    fractal = mean < smooth - n_sigma * stderr or mean > smooth + n_sigma * stderr + bias
    return FractalTest("fractal" if fractal else "smooth", mean, smooth, stderr, float(bias))
