"""Datasets built from numpy arrays without xarray's dask probe.

For every array it wraps, xarray asks whether it is a dask array; when dask is installed that
question imports ``dask.array`` (0.45-1.7 s in a fresh process, measured at load 1.7-4.7),
although no dask array is in sight. For a plain numpy array of numbers, booleans or strings the
answer is known, and :func:`dataset` builds the same Dataset as
``xr.Dataset(data_vars, coords, attrs)`` (the same variables, dtypes, attributes and pandas
indexes: tests/test_import.py compares them) through xarray's constructors that skip the probe
(``Variable(..., fastpath=True)``, then, where xarray has it, its private
``Dataset._construct_direct`` from the finished variables and indexes, else the public
``Coordinates(coords, indexes)``). Anything else (lists, scalars, object or datetime arrays,
dask arrays, subclasses) takes xarray's ordinary path. The pandas indexes of small dimension
coordinates are cached by content (see :data:`INDEX_CACHE`).
"""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pandas as pd
import xarray as xr

_PLAIN_KINDS = frozenset("biufcUS")   # dtypes xarray stores as given (no conversion)
# an xarray without Variable's fastpath takes the ordinary path everywhere (nothing breaks)
_FASTPATH = "fastpath" in inspect.signature(xr.Variable.__init__).parameters
# xarray's own constructor from finished variables and indexes (what its methods use to return
# a new Dataset; private, so used only where present with the expected parameters, checked
# against xr.Dataset by tests/test_import.py): 0.15-0.2 ms instead of xr.Dataset's merge and
# alignment (0.4-0.6 ms; a fixed cost of every small analysis, such as an orbit diagram)
_DIRECT = getattr(xr.Dataset, "_construct_direct", None)
if not (callable(_DIRECT) and {"variables", "coord_names", "dims", "attrs", "indexes"}
        <= set(inspect.signature(_DIRECT).parameters)):
    _DIRECT = None


def _plain(data) -> bool:
    return (_FASTPATH and type(data) is np.ndarray and data.dtype.kind in _PLAIN_KINDS
            and data.dtype != np.float16)         # pandas has no float16 index: xarray casts


def variable(dims, data, attrs=None) -> xr.Variable:
    """Return ``xr.Variable(dims, data, attrs)``, skipping xarray's probes for a plain array.

    Examples
    --------
    >>> variable("x", np.arange(3.0), {"units": "1"}).dims
    ('x',)
    """
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    if _plain(data) and data.ndim == len(dims):
        return xr.Variable(dims, data, attrs, fastpath=True)
    return xr.Variable(dims, data, attrs)


def _as_variable(name, value) -> xr.Variable | None:
    """Return ``value`` (a ``(dims, data[, attrs])`` tuple, or a 1-D array named ``name``) as a
    Variable if its data is a plain array, else None (xarray's ordinary path)."""
    if isinstance(value, tuple) and len(value) in (2, 3) and _plain(value[1]):
        return variable(*value)
    if _plain(value) and value.ndim == 1:
        return variable((name,), value)
    return None


def dataset(data_vars: dict, coords: dict | None = None, attrs=None) -> xr.Dataset:
    """Return ``xr.Dataset(data_vars, coords, attrs)``, built without xarray's dask probe where
    every value is a plain numpy array.

    ``data_vars`` and ``coords`` map names to ``(dims, data[, attrs])`` tuples (or, for a
    coordinate, a 1-D array along the dimension of its name); a dimension coordinate gets the
    default pandas index, as from ``xr.Dataset``.

    Examples
    --------
    >>> ds = dataset({"y": (("x",), np.zeros(3))}, {"x": np.arange(3)})
    >>> ds.identical(xr.Dataset({"y": (("x",), np.zeros(3))}, {"x": np.arange(3)}))
    True
    """
    coords = dict(coords or {})
    data = {k: _as_variable(k, v) for k, v in data_vars.items()}
    crd = {k: _as_variable(k, v) for k, v in coords.items()}
    if any(v is None for v in (*data.values(), *crd.values())):
        return xr.Dataset(data_vars, coords=coords, attrs=attrs)
    indexes = {}
    for name, var in crd.items():
        if var.dims == (name,):
            # what xarray's default index does, minus its probe: pandas.Index of the values
            index = _index(name, var)
            crd.update(index.create_variables({name: var}))
            indexes[name] = index
    built = _direct(data, crd, indexes, attrs)
    if built is not None:
        return built
    return xr.Dataset(data, coords=xr.Coordinates(crd, indexes=indexes), attrs=attrs)


#: the pandas indexes of small dimension coordinates, by name, dtype and bytes (at most
#: :data:`INDEX_CACHE` of them, oldest dropped first): a researcher's repeated calls share
#: ranges, samples and component labels, and a pandas index is the largest fixed cost of a small
#: Dataset (0.1-0.2 ms each, just after a compiled loop has left the caches cold). Sharing one
#: is safe: pandas copies the values into it, and it and its coordinate's values are read-only
#: (tests/test_import.py).
_INDEXES: dict = {}
INDEX_CACHE = 64
_INDEX_BYTES = 1 << 16
_INDEX_LOCK = threading.Lock()


def _index(name, var) -> xr.indexes.PandasIndex:
    """Return the default index of the dimension coordinate ``var`` named ``name`` (what
    xarray makes of it: a ``pandas.Index`` of its values), cached for small coordinates."""
    values = var.values
    key = (name, values.dtype.str, values.tobytes()) if values.nbytes <= _INDEX_BYTES else None
    index = None if key is None else _INDEXES.get(key)
    if index is None:
        index = xr.indexes.PandasIndex(pd.Index(values), name, coord_dtype=var.dtype)
        if key is not None:
            with _INDEX_LOCK:               # threads may build Datasets at once
                while len(_INDEXES) >= INDEX_CACHE:
                    del _INDEXES[next(iter(_INDEXES))]
                _INDEXES[key] = index
    return index


def _direct(data: dict, crd: dict, indexes: dict, attrs) -> xr.Dataset | None:
    """Return the Dataset of the Variables ``data`` and ``crd`` (every dimension coordinate
    indexed in ``indexes``) built directly, or None where xr.Dataset has a case to settle
    itself (a name used twice, a data variable named like a dimension, sizes that conflict,
    scalar variables, non-string names, a non-dict ``attrs``)."""
    if _DIRECT is None or not (attrs is None or isinstance(attrs, dict)):
        return None
    variables = {**data, **crd}
    if len(variables) != len(data) + len(crd) or not all(type(k) is str for k in variables):
        return None
    dims: dict = {}
    for var in variables.values():
        if not var.dims:
            return None
        for dim, size in zip(var.dims, var.shape, strict=True):
            if dims.setdefault(dim, size) != size:
                return None
    if any(name in dims for name in data) or any(
            name in dims and name not in indexes for name in crd):
        return None
    return _DIRECT(variables, set(crd), dims=dims, attrs=dict(attrs or {}), indexes=indexes)


def dataarray(data, dims, coords: dict | None = None, name=None, attrs=None) -> xr.DataArray:
    """Return ``xr.DataArray(data, dims=dims, coords=coords, name=name, attrs=attrs)``, built
    like :func:`dataset` (without the dask probe for plain numpy arrays).

    Examples
    --------
    >>> dataarray(np.ones(2), ("k",), {"k": np.arange(2)}, name="v").identical(
    ...     xr.DataArray(np.ones(2), dims=("k",), coords={"k": np.arange(2)}, name="v"))
    True
    """
    if name is None or not _plain(data):
        return xr.DataArray(data, dims=dims, coords=coords, name=name, attrs=attrs)
    return dataset({name: (dims, data, attrs)}, coords)[name]


__all__ = ["dataarray", "dataset", "variable"]
