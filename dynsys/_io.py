"""Lossless storage of results: netCDF (``.nc``, via h5netcdf) and Zarr (``.zarr``).

Files follow the CF conventions (version in :data:`CONVENTIONS`), so that other tools read them:

* global ``Conventions``, ``title`` and ``history`` attributes (added on save where the dataset
  has none, and dropped again on load);
* no ``_FillValue`` on any variable: NaN in a float variable is data (an undefined exponent, a
  diverged state), and integer sentinels are declared by the variable's own ``missing_value``;
* string-valued dimension coordinates (state labels such as ``theta_1``, special-point labels
  such as ``PD1``) are written as CF auxiliary label coordinates ``<dim>_label`` on a dimension
  without coordinate variable, and become dimension coordinates again on load;
* complex variables: netCDF has no native complex type and CF none either (the netCDF4-python
  library writes complex numbers as an HDF5 compound type that CF tools do not read), so each
  complex variable is stored as real float64 values with a trailing ``complex_part`` dimension of
  size 2 (real part, imaginary part), marked by the attribute ``dynsys_complex = 1`` and a
  ``comment``; this is lossless and restored on load;
* Zarr stores are written in Zarr format 2 with consolidated metadata: format 2 is what the
  netCDF library's NCZarr and every zarr-python release read, and it is the format for which
  consolidated metadata is part of the specification, so plain ``xarray.open_zarr(path)`` opens
  a store with one read and without warnings.

Booleans, attrs, coordinates and DataArrays (stored as one-variable Datasets) round-trip exactly.
"""

from __future__ import annotations

import numbers
import os
import pathlib

import numpy as np
import xarray as xr

from . import _integrity
from ._labels import source_commit
from ._version import __version__

_COMPLEX_DIM = "complex_part"
_COMPLEX_FLAG = "dynsys_complex"
_KIND_ATTR = "dynsys_object"
_DA_NAME = "dynsys_dataarray"
_ARRAY_ATTRS = "dynsys_array_attrs"   # names of attrs that are arrays (netCDF unwraps length 1)
_ADDED_ATTRS = "dynsys_added_attrs"   # names of global attrs that save added (dropped on load)
_LABEL_OF = "dynsys_label_of"         # a string label coordinate: the dimension it labels
_COMPLEX_COMMENT = ("complex values: real and imaginary parts along the trailing complex_part "
                    "dimension")

#: The CF conventions version that saved files declare.
CONVENTIONS = "CF-1.11"


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
    added = {"Conventions": CONVENTIONS,
             "title": f"dynsys {ds.attrs.get('analysis', 'result')}"
                      + (f" of {ds.attrs['system']}" if "system" in ds.attrs else ""),
             "history": f"written by dynsys {__version__} (commit {source_commit()})"}
    added = {k: v for k, v in added.items() if k not in out.attrs}
    if added:
        out.attrs.update(added)
        out.attrs[_ADDED_ATTRS] = " ".join(added)
    for name, var in ds.variables.items():
        _check_attrs(f"variable {name!r}", var.attrs)
        out[name].attrs = _mark_arrays(var.attrs)
        if var.dtype.kind == "c":
            if name in ds.coords:
                raise TypeError(f"complex coordinate {name!r} cannot be stored")
            parts = np.stack([var.values.real, var.values.imag], axis=-1)
            out[name] = xr.Variable(var.dims + (_COMPLEX_DIM,), parts,
                                    {**_mark_arrays(var.attrs), _COMPLEX_FLAG: 1,
                                     "comment": _COMPLEX_COMMENT})
    for name in [n for n in ds.dims if n in ds.coords and ds[n].dtype.kind in "USO"]:
        label = f"{name}_label"
        if label in out.variables:
            raise ValueError(f"cannot store the string coordinate {name!r}: the dataset already "
                             f"has a variable {label!r}")
        coord = out[name].variable
        attrs = {**coord.attrs, _LABEL_OF: name}
        attrs.setdefault("long_name", f"label of each {name}")
        if "long_name" not in coord.attrs:
            attrs[_ADDED_ATTRS] = "long_name"
        values = np.asarray(coord.values).astype(str)
        out = out.drop_vars(name).assign_coords({label: ((name,), values, attrs)})
    for var in out.variables.values():
        var.encoding.pop("_FillValue", None)
        var.encoding.pop("missing_value", None)
        if var.dtype.kind != "U":
            var.encoding["_FillValue"] = None
    return out


def decode(ds: xr.Dataset):
    """Return a Dataset read from disk with the encoding of :func:`encode` undone."""
    for var in ds.variables.values():
        var.attrs.pop("_FillValue", None)    # save writes none; a reader may add the default
    for name in [n for n, v in ds.variables.items() if _LABEL_OF in v.attrs]:
        var = ds[name].variable
        dim = var.attrs[_LABEL_OF]
        attrs = {k: v for k, v in var.attrs.items() if k not in (_LABEL_OF, _ADDED_ATTRS)}
        if var.attrs.get(_ADDED_ATTRS) == "long_name":
            attrs.pop("long_name", None)
        values = np.asarray(var.values).astype(str)
        ds = ds.drop_vars(name).assign_coords({dim: ((dim,), values, attrs)})
    for name in list(ds.data_vars):
        var = ds[name]
        if var.attrs.get(_COMPLEX_FLAG) == 1:
            attrs = {k: v for k, v in var.attrs.items() if k not in (_COMPLEX_FLAG, "comment")}
            if var.attrs.get("comment", _COMPLEX_COMMENT) != _COMPLEX_COMMENT:
                attrs["comment"] = var.attrs["comment"]
            values = var.isel({_COMPLEX_DIM: 0}).data + 1j * var.isel({_COMPLEX_DIM: 1}).data
            ds[name] = xr.Variable(var.dims[:-1], values, attrs)
    if _COMPLEX_DIM in ds.dims and not any(_COMPLEX_DIM in v.dims for v in ds.variables.values()):
        ds = ds.drop_dims(_COMPLEX_DIM, errors="ignore")
    for key in str(ds.attrs.pop(_ADDED_ATTRS, "")).split():
        ds.attrs.pop(key, None)
    for var in [ds, *ds.variables.values()]:
        for key in str(var.attrs.pop(_ARRAY_ATTRS, "")).split():
            if key in var.attrs:               # a name without its attribute: nothing to restore
                var.attrs[key] = np.atleast_1d(np.asarray(var.attrs[key]))
        for key, value in list(var.attrs.items()):
            if key == "flag_values":
                flags = np.asarray(value)
                fits = flags.dtype.kind in "iu" and flags.size and \
                    flags.min() >= -128 and flags.max() <= 127
                var.attrs[key] = flags.astype(np.int8) if fits else flags
            elif isinstance(value, list):
                var.attrs[key] = np.asarray(value)
    if ds.attrs.get(_KIND_ATTR) == "DataArray":
        name = ds.attrs.get("dynsys_dataarray_name")
        if name is None or name not in ds.data_vars:
            raise ValueError(f"the file says it holds a DataArray but names no variable of it "
                             f"(dynsys_dataarray_name={name!r}; variables "
                             f"{list(ds.data_vars)})")
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


def _is_zarr_store(path: pathlib.Path) -> bool:
    return path.is_dir() and any((path / name).is_file()
                                 for name in ("zarr.json", ".zgroup", ".zarray"))


def save(obj, path, *, compress: bool = True, overwrite: bool = False) -> pathlib.Path:
    """Return the path written: ``obj`` saved losslessly as netCDF (``.nc``) or Zarr (``.zarr``).

    ``obj`` is an ``xr.Dataset``, an ``xr.DataArray`` or a result object with ``.to_dataset()``
    or ``.dataset``. Complex variables, booleans, coordinates and attrs survive the round trip.
    With ``compress`` (default) netCDF variables are written with lossless zlib compression and
    byte shuffling (Zarr stores are compressed by default). The file follows the CF conventions
    and a Zarr store is Zarr format 2 with consolidated metadata (see :mod:`dynsys._io`). An
    existing netCDF file is replaced; an existing Zarr store only with ``overwrite=True``; a
    directory that is not a Zarr store is never deleted.

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
    if not isinstance(overwrite, bool | np.bool_):
        raise TypeError(f"overwrite must be True or False, got {overwrite!r}")
    ds = encode(_as_dataset(obj))
    for var in ds.variables.values():     # a dataset opened from a store carries its chunking
        var.encoding = {k: v for k, v in var.encoding.items() if k in ("dtype", "_FillValue")}
    path = pathlib.Path(path)
    if path.exists() or path.is_symlink():
        if path.is_dir() and not _is_zarr_store(path):
            raise ValueError(f"path {str(path)!r} is an existing directory that is not a Zarr "
                             f"store; dynsys.save never deletes it: choose another path")
        if kind == "netcdf" and path.is_dir():
            raise ValueError(f"path {str(path)!r} is a directory, not a netCDF file")
        if kind == "zarr" and not overwrite:
            raise ValueError(f"Zarr store {str(path)!r} exists; pass overwrite=True to "
                             f"replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "netcdf":
        encoding = {}
        if compress:
            encoding = {name: {"zlib": True, "complevel": 4, "shuffle": True, **var.encoding}
                        for name, var in ds.data_vars.items()
                        if var.ndim > 0 and var.dtype.kind in "biuf" and var.size > 64}
        ds.to_netcdf(path, engine="h5netcdf", encoding=encoding)
    else:
        ds.to_zarr(path, mode="w", consolidated=True, zarr_format=2)
    return path


def load(path, *, lazy: bool = False):
    """Return the Dataset (or DataArray) stored at ``path`` by :func:`save`.

    With ``lazy=False`` (default) everything is read into memory and the file is closed. With
    ``lazy=True`` the variables are dask arrays, read chunk by chunk when computed (for stores
    larger than memory; needs dask).

    A resumable store of :func:`dynsys.basins` records a checksum of every chunk it wrote; with
    ``lazy=False`` every chunk is checked against it, and a store with chunks that are missing,
    truncated or altered is refused with a ValueError naming them (``lazy=True`` checks only
    the attractor table; the same ``basins`` call recomputes damaged chunks). A chunk of any
    store that cannot be decoded is named in a ValueError.

    Examples
    --------
    >>> import tempfile, os, dynsys
    >>> ds = dynsys.trajectory(dynsys.maps.logistic(3.2), [0.3], steps=10)
    >>> path = dynsys.save(ds, os.path.join(tempfile.mkdtemp(), "orbit.zarr"))
    >>> lazy = dynsys.load(path, lazy=True)
    >>> type(lazy.x.data).__name__, lazy.compute().identical(ds)
    ('Array', True)
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or path, got {type(path).__name__}")
    if not isinstance(lazy, bool):
        raise TypeError(f"lazy must be True or False, got {lazy!r}")
    kind = _format(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file or store: {str(path)!r}")
    # integer sentinels carry missing_value: keep the integers (decode them in memory as data)
    options = {"mask_and_scale": False}
    if kind == "netcdf":
        if lazy:
            ds = xr.open_dataset(path, engine="h5netcdf", chunks={}, **options)
        else:
            ds = xr.load_dataset(path, engine="h5netcdf", **options)
    else:
        checked = _integrity.is_checked(path)
        if checked:
            _check_blocks(path, lazy)
        try:
            ds = xr.open_zarr(path, **options, **_zarr_consolidation(path))
            if not lazy:
                ds = ds.load()
        except Exception as exc:
            bad = _integrity.unreadable(path)
            if not bad:
                raise
            raise ValueError(f"store {str(path)!r} is damaged: {len(bad)} chunk(s) cannot be "
                             f"decoded: {'; '.join(bad)}") from exc
        if checked:
            ds = ds.drop_vars(_integrity.DIGEST, errors="ignore")
            ds.attrs.pop(_integrity.TABLE, None)
    return decode(ds)


def _check_blocks(path, lazy: bool) -> None:
    """Raise ValueError naming the chunks of a resumable store that do not read back as
    written (see :mod:`dynsys._integrity`); with ``lazy`` only the attractor table is read."""
    import zarr

    group = zarr.open_group(os.fspath(path), mode="r")
    complete = bool(group.attrs.get(_integrity.COMPLETE, 0))
    what = []
    if not lazy:
        keys = None
        if complete:                        # every chunk must be intact, whatever the mask says
            keys = list(np.ndindex(*group[_integrity.MASK].shape))
        broken = _integrity.verify(path, keys=keys, skip=() if complete else ("attractor",))
        if broken:
            what.append(_integrity.describe(broken, _integrity.spec_of(path)))
    if complete:
        table = _integrity.verify_table(path)
        if table:
            what.append("attractor table: " + "; ".join(table))
    if what:
        raise ValueError(f"store {str(path)!r} is damaged: {'; '.join(what)}; to recompute the "
                         f"damaged chunks, repeat the dynsys.basins call that made it with "
                         f"store={str(path)!r}")


def _zarr_consolidation(path) -> dict:
    """Return open_zarr's consolidation option: stores written by :func:`save` have
    consolidated metadata; resumable basin stores (written chunk by chunk) may not."""
    consolidated = os.path.exists(os.path.join(path, ".zmetadata")) or os.path.exists(
        os.path.join(path, "zarr.json")) and _has_consolidated_v3(path)
    return {"consolidated": bool(consolidated)}


def _has_consolidated_v3(path) -> bool:
    import json

    try:
        with open(os.path.join(path, "zarr.json")) as fh:
            return json.load(fh).get("consolidated_metadata") is not None
    except (OSError, ValueError):
        return False
