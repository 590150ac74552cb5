"""Lossless storage of results: netCDF (``.nc``, via h5netcdf) and Zarr (``.zarr``).

Complex variables are stored as real arrays with a trailing ``complex_part`` dimension (so the
netCDF files stay standard-conforming) and restored on load; booleans, attrs, coordinates and
DataArrays (stored as one-variable Datasets) round-trip exactly.
"""

from __future__ import annotations

import numbers
import os
import pathlib
import warnings

import numpy as np
import xarray as xr

_COMPLEX_DIM = "complex_part"
_COMPLEX_FLAG = "dynsys_complex"
_KIND_ATTR = "dynsys_object"
_DA_NAME = "dynsys_dataarray"
_ARRAY_ATTRS = "dynsys_array_attrs"   # names of attrs that are arrays (netCDF unwraps length 1)


def _check_attrs(where: str, attrs: dict) -> None:
    for key, value in attrs.items():
        ok = isinstance(value, str) or (
            isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_))
        if isinstance(value, list | tuple | np.ndarray):
            arr = np.asarray(value)
            ok = arr.ndim == 1 and arr.dtype.kind in "iuf"
        if not ok:
            raise TypeError(f"attribute {key!r} of {where} is not serialisable "
                            f"({type(value).__name__}); use str, int, float or a 1-D numeric array")


def _as_dataset(obj) -> xr.Dataset:
    if isinstance(obj, xr.Dataset):
        return obj
    if isinstance(obj, xr.DataArray):
        name = obj.name if obj.name is not None else _DA_NAME
        ds = obj.to_dataset(name=name)
        ds.attrs = {**obj.attrs, _KIND_ATTR: "DataArray", "dynsys_dataarray_name": str(name)}
        ds[name].attrs = dict(obj.attrs)
        return ds
    for attr in ("to_dataset", "dataset"):
        if hasattr(obj, attr):
            value = getattr(obj, attr)
            return value() if callable(value) else value
    raise TypeError(f"obj must be an xarray Dataset or DataArray (or have .to_dataset()), "
                    f"got {type(obj).__name__}")


def _mark_arrays(attrs: dict) -> dict:
    names = [k for k, v in attrs.items() if isinstance(v, list | tuple | np.ndarray)]
    return {**attrs, _ARRAY_ATTRS: " ".join(names)} if names else dict(attrs)


def encode(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` ready for a netCDF/Zarr writer: array attrs marked, complex variables
    stored as a trailing real/imaginary pair (undone by :func:`decode`)."""
    _check_attrs("the dataset", ds.attrs)
    out = ds.copy()
    out.attrs = _mark_arrays(ds.attrs)
    for name, var in ds.variables.items():
        _check_attrs(f"variable {name!r}", var.attrs)
        out[name].attrs = _mark_arrays(var.attrs)
        if var.dtype.kind == "c":
            if name in ds.coords:
                raise TypeError(f"complex coordinate {name!r} cannot be stored")
            parts = np.stack([var.values.real, var.values.imag], axis=-1)
            out[name] = xr.Variable(var.dims + (_COMPLEX_DIM,), parts,
                                    {**_mark_arrays(var.attrs), _COMPLEX_FLAG: 1})
    return out


def decode(ds: xr.Dataset):
    """Return a Dataset read from disk with the encoding of :func:`encode` undone."""
    for name in list(ds.data_vars):
        var = ds[name]
        if var.attrs.get(_COMPLEX_FLAG) == 1:
            attrs = {k: v for k, v in var.attrs.items() if k != _COMPLEX_FLAG}
            values = var.isel({_COMPLEX_DIM: 0}).values + 1j * var.isel({_COMPLEX_DIM: 1}).values
            ds[name] = xr.Variable(var.dims[:-1], values, attrs)
    if _COMPLEX_DIM in ds.dims and not any(_COMPLEX_DIM in v.dims for v in ds.variables.values()):
        ds = ds.drop_dims(_COMPLEX_DIM, errors="ignore")
    for var in [ds, *ds.variables.values()]:
        for key in str(var.attrs.pop(_ARRAY_ATTRS, "")).split():
            var.attrs[key] = np.atleast_1d(np.asarray(var.attrs[key]))
        for key, value in list(var.attrs.items()):
            if key == "flag_values":
                var.attrs[key] = np.asarray(value).astype(np.int8)
            elif isinstance(value, list):
                var.attrs[key] = np.asarray(value)
    if ds.attrs.get(_KIND_ATTR) == "DataArray":
        name = ds.attrs["dynsys_dataarray_name"]
        da = ds[name]
        da.attrs = {k: v for k, v in ds.attrs.items()
                    if k not in (_KIND_ATTR, "dynsys_dataarray_name")}
        return da.rename(None if name == _DA_NAME else name)
    return ds


def _format(path) -> str:
    suffix = pathlib.Path(path).suffix.lower()
    if suffix in (".nc", ".nc4", ".netcdf"):
        return "netcdf"
    if suffix == ".zarr":
        return "zarr"
    raise ValueError(f"path must end in .nc (netCDF) or .zarr (Zarr), got {str(path)!r}")


def save(obj, path, *, compress: bool = True) -> pathlib.Path:
    """Return the path written: ``obj`` saved losslessly as netCDF (``.nc``) or Zarr (``.zarr``).

    ``obj`` is an ``xr.Dataset``, an ``xr.DataArray`` or a result object with ``.to_dataset()``
    or ``.dataset``. Complex variables, booleans, coordinates and attrs survive the round trip.
    With ``compress`` (default) netCDF variables are written with lossless zlib compression and
    byte shuffling (Zarr stores are compressed by default).

    Examples
    --------
    >>> import tempfile, os, dynsys
    >>> ds = dynsys.trajectory(dynsys.maps.logistic(3.2), [0.3], steps=10)
    >>> path = dynsys.save(ds, os.path.join(tempfile.mkdtemp(), "orbit.nc"))
    >>> dynsys.load(path).identical(ds)
    True
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    kind = _format(path)
    ds = encode(_as_dataset(obj))
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "netcdf":
        encoding = {}
        if compress:
            encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True}
                        for name, var in ds.data_vars.items()
                        if var.ndim > 0 and var.dtype.kind in "biuf" and var.size > 64}
        ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.to_zarr(path, mode="w", consolidated=False)
    return path


def load(path):
    """Return the Dataset (or DataArray) stored at ``path`` by :func:`save`, fully in memory."""
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    kind = _format(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file or store: {str(path)!r}")
    if kind == "netcdf":
        ds = xr.load_dataset(path, engine="h5netcdf")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = xr.open_zarr(path, consolidated=False).load()
    return decode(ds)
