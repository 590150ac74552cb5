"""A resumable Zarr store for a basin sweep.

Layout: the result variables of the sweep (chunked like the sweep: one parameter value and
``rows`` grid rows per Zarr chunk, so concurrent region writes never share a Zarr chunk), a
completion mask ``chunk_done`` over ``(parameter value, row block)`` (one Zarr chunk per entry),
the SHA-256 fingerprint of the arguments in the root attrs, and, once the sweep is complete, the
attractor table and the ``dynsys_basins_complete`` attr. A chunk is marked done only after its
data are written, so a sweep killed at any moment leaves a store whose marked chunks are valid.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import xarray as xr

from .. import _io

FINGERPRINT = "dynsys_basins_fingerprint"
COMPLETE = "dynsys_basins_complete"
MASK = "chunk_done"


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def create_or_open(path: str, template: xr.Dataset, chunks: dict, fingerprint: str) -> np.ndarray:
    """Return the completion mask of the store at ``path``, creating the store if needed.

    Raises ValueError if the store was made with different arguments.
    """
    if os.path.exists(path):
        import zarr

        try:
            group = zarr.open_group(path, mode="r")
            attrs = dict(group.attrs)
        except Exception as exc:
            raise ValueError(f"store {path!r} exists but is not a Zarr store ({exc})") from None
        found = attrs.get(FINGERPRINT)
        if found is None:
            raise ValueError(f"store {path!r} exists but was not written by dynsys.basins; "
                             f"choose another path or delete it")
        if found != fingerprint:
            raise ValueError(f"store {path!r} was made by dynsys.basins with different "
                             f"arguments (fingerprint {found[:12]}..., these arguments give "
                             f"{fingerprint[:12]}...); use the original arguments to resume, or "
                             f"another path for a new sweep")
        ctx = _quiet()
        try:
            mask = xr.open_zarr(path, consolidated=False, mask_and_scale=False)[MASK].values
        finally:
            ctx.__exit__(None, None, None)
        return mask.astype(bool)
    import dask.array as da

    lazy = template.copy()
    encoding = {}
    for name, var in template.data_vars.items():
        if name == MASK:
            encoding[name] = {"chunks": (1,) * var.ndim}
            continue
        chunk = tuple(chunks.get(d, var.shape[i]) for i, d in enumerate(var.dims))
        lazy[name] = (var.dims, da.zeros(var.shape, dtype=var.dtype, chunks=chunk), var.attrs)
        encoding[name] = {"chunks": chunk}
    lazy.attrs[FINGERPRINT] = fingerprint
    ctx = _quiet()
    try:
        # dask-backed variables are only declared; the mask (numpy, all False) is written
        _io.encode(lazy).to_zarr(path, mode="w-", compute=False, consolidated=False,
                                  encoding=encoding)
    finally:
        ctx.__exit__(None, None, None)
    return np.zeros(template[MASK].shape, dtype=bool)


def write_region(path: str, data: dict, region: dict) -> None:
    """Write ``{name: (dims, array)}`` into ``region`` of the store."""
    ds = xr.Dataset({name: xr.Variable(dims, values) for name, (dims, values) in data.items()})
    ctx = _quiet()
    try:
        ds.to_zarr(path, region=region, consolidated=False)
    finally:
        ctx.__exit__(None, None, None)


def read_region(path: str, names, region: dict) -> dict:
    """Return ``{name: array}`` read from ``region`` of the store."""
    ctx = _quiet()
    try:
        ds = xr.open_zarr(path, consolidated=False, mask_and_scale=False)
        return {name: ds[name].isel(region).values for name in names}
    finally:
        ctx.__exit__(None, None, None)


def finish(path: str, table: xr.Dataset) -> None:
    """Write the attractor table and mark the store complete."""
    import zarr

    attrs = dict(zarr.open_group(path, mode="r").attrs)   # appending may replace them
    ctx = _quiet()
    try:
        _io.encode(table).to_zarr(path, mode="a", consolidated=False)
    finally:
        ctx.__exit__(None, None, None)
    group = zarr.open_group(path, mode="r+")
    group.attrs.update({**attrs, COMPLETE: 1})


def is_complete(path: str) -> bool:
    import zarr

    return bool(dict(zarr.open_group(path, mode="r").attrs).get(COMPLETE, 0))


def open_result(path: str) -> xr.Dataset:
    """Return the finished sweep stored at ``path`` (lazily loaded, dask-backed)."""
    ctx = _quiet()
    try:
        ds = xr.open_zarr(path, consolidated=False, mask_and_scale=False)
    finally:
        ctx.__exit__(None, None, None)
    ds = _io.decode(ds)
    ds.attrs.pop(FINGERPRINT, None)
    ds.attrs.pop(COMPLETE, None)
    return ds.drop_vars(MASK)
