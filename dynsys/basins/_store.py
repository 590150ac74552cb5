"""A resumable Zarr store for a basin sweep.

Layout: the result variables of the sweep (chunked like the sweep: one parameter value and
``rows`` grid rows per Zarr chunk, so concurrent region writes never share a Zarr chunk), a
completion mask ``chunk_done`` over ``(parameter value, row block)`` (one Zarr chunk per entry),
the fingerprint of the arguments in the root attrs (its SHA-256 digest, and its parts, so that a
refusal can say what differs), and, once the sweep is complete, the attractor table and the
``dynsys_basins_complete`` attr.

Why a kill at any moment loses nothing (every file write of the Zarr store replaces the file
atomically):

1. the store is created in a hidden sibling directory and renamed into place when its metadata
   and its all-False mask are written, so ``path`` is either absent or a complete empty store;
   a directory left by a killed creation is removed by the next creation;
2. a chunk is marked done only after its data and their checksums are written;
3. the attractor table is written with the root attrs (fingerprint included) carried along, and
   the completion attr is set last, so an interrupted final write leaves an incomplete store
   whose chunks are all done: the next call relabels and writes the table again.

Every chunk written records checksums of its values (``chunk_digest``, see
:mod:`dynsys._integrity`); a call that resumes or reopens a store checks every chunk marked done
against them and recomputes those that are missing, truncated or altered (with a
:class:`StoreRepairWarning` naming them), and :func:`dynsys.load` refuses a damaged store
with an error naming the broken chunks.

While a call works on a store it holds an exclusive lock (``flock`` on the store directory,
released by the kernel when the process ends, also on ``kill -9``); a second process gets a
clear error instead of racing it.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import uuid
import warnings

import numpy as np
import xarray as xr

from .. import _integrity, _io

try:                                   # POSIX; elsewhere stores are not locked
    import fcntl
except ImportError:                    # pragma: no cover
    fcntl = None

FINGERPRINT = "dynsys_basins_fingerprint"
PARTS = "dynsys_basins_arguments"
COMPLETE = _integrity.COMPLETE
MASK = _integrity.MASK
DIGEST = _integrity.DIGEST
_CREATING = ".creating-"


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


class Busy(ValueError):
    """Another process is working on this store."""


class StoreRepairWarning(UserWarning):
    """Damaged chunks of a store were found and are being recomputed."""


class _Lock:
    """An exclusive lock on a store directory (``flock`` on the directory itself, so nothing
    is added to the store; the lock follows the directory through a rename)."""

    def __init__(self, directory: pathlib.Path, path: str):
        self.fd = os.open(directory, os.O_RDONLY)
        if fcntl is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(self.fd)
                raise Busy(f"store {path!r} is in use by another process (a basins call on "
                           f"it is running); wait for it to finish or use another "
                           f"path") from None

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _remove_stale(target: pathlib.Path) -> None:
    """Remove directories left by creations of ``target`` that were killed (lock not held)."""
    for tmp in target.parent.glob(f".{target.name}{_CREATING}*"):
        if not tmp.is_dir() or tmp.is_symlink():
            continue
        try:
            lock = _Lock(tmp, str(tmp))
        except (Busy, OSError):
            continue                   # a live creation
        lock.close()
        shutil.rmtree(tmp, ignore_errors=True)


def differences(stored: dict, given: dict) -> list[str]:
    """Return ``"name: stored ... , given ..."`` for every fingerprint part that differs."""
    out = []
    for key in sorted(set(stored) | set(given)):
        a, b = stored.get(key, "(absent)"), given.get(key, "(absent)")
        if a != b:
            out.append(f"{key}: stored {_short(a)}, given {_short(b)}")
    return out


def _short(value, n: int = 100) -> str:
    text = str(value)
    return text if len(text) <= n else text[:n - 3] + "..."


class Store:
    """An open basin store, locked for this process; use as a context manager."""

    def __init__(self, path: str, handle, mask: np.ndarray):
        self.path = path
        self._handle = handle
        self.mask = mask

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def create_or_open(path, template: xr.Dataset, chunks: dict, fingerprint: str,
                   parts: dict) -> Store:
    """Return the store at ``path`` (locked, with its completion mask), created if needed.

    ``template`` declares the variables (dask-backed ones are only declared, not computed).
    Raises ValueError if the store was made with different arguments (naming what differs),
    is not a basin store, or is in use by another process.
    """
    path = os.fspath(path)
    target = pathlib.Path(path)
    if not target.exists():
        _create(target, template, chunks, fingerprint, parts)
    return _open(target, fingerprint, parts)


def _create(target: pathlib.Path, template, chunks, fingerprint, parts) -> None:
    import dask.array as da

    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    tmp = target.parent / f".{target.name}{_CREATING}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    handle = _Lock(tmp, str(tmp))
    try:
        lazy = template.copy()
        encoding = {}
        for name, var in template.data_vars.items():
            if name == MASK:
                encoding[name] = {"chunks": (1,) * var.ndim}
                continue
            chunk = tuple(chunks.get(d, var.shape[i]) for i, d in enumerate(var.dims))
            if not isinstance(var.data, da.Array):
                lazy[name] = (var.dims, da.zeros(var.shape, dtype=var.dtype, chunks=chunk),
                              var.attrs)
            encoding[name] = {"chunks": chunk}
        dims = template[MASK].dims
        covered = [name for name, var in template.data_vars.items()
                   if name != MASK and var.dims[:len(chunks)] == tuple(chunks)]
        lazy[DIGEST] = (dims + ("checked_variable",),
                        np.zeros(template[MASK].shape + (len(covered),), np.int64),
                        {"long_name": "checksum of each chunk of each variable (0: none)",
                         _integrity.COVERS: " ".join(covered),
                         _integrity.BLOCKS: " ".join(f"{d}:{n}" for d, n in chunks.items())})
        encoding[DIGEST] = {"chunks": (1,) * len(dims) + (len(covered),)}
        lazy.attrs[FINGERPRINT] = fingerprint
        lazy.attrs[PARTS] = json.dumps(parts, sort_keys=True)
        ctx = _quiet()
        try:
            # dask-backed variables are only declared; the mask (numpy, all False) is written
            _io.encode(lazy).to_zarr(tmp, mode="w-", compute=False, consolidated=False,
                                      encoding=encoding)
        finally:
            ctx.__exit__(None, None, None)
        try:
            os.rename(tmp, target)
        except OSError:
            raise Busy(f"store {str(target)!r} was created by another process at the same "
                       f"time; run one sweep per store (or call again to resume it)") from None
    finally:
        handle.close()
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _open(target: pathlib.Path, fingerprint: str, parts: dict) -> Store:
    import zarr

    path = str(target)
    try:
        attrs = dict(zarr.open_group(path, mode="r").attrs)
    except Exception as exc:
        raise ValueError(f"store {path!r} exists but is not a Zarr store ({exc})") from None
    found = attrs.get(FINGERPRINT)
    if found is None:
        raise ValueError(f"store {path!r} exists but was not written by dynsys.basins; "
                         f"choose another path or delete it")
    if found != fingerprint:
        stored = attrs.get(PARTS)
        diff = differences(json.loads(stored), parts) if isinstance(stored, str) else []
        what = ("; ".join(diff) if diff else
                f"fingerprint {found[:12]}..., these arguments give {fingerprint[:12]}...")
        raise ValueError(f"store {path!r} was made by dynsys.basins with different arguments "
                         f"({what}); use the original arguments to resume, or another path "
                         f"for a new sweep")
    handle = _Lock(target, path)
    try:
        ctx = _quiet()
        try:
            mask = _integrity.done_mask(zarr.open_group(path, mode="r"))
        finally:
            ctx.__exit__(None, None, None)
    except Exception as exc:
        handle.close()
        raise ValueError(f"store {path!r} has no readable completion mask ({exc}); it is "
                         f"damaged: delete it to start again") from None
    return Store(path, handle, mask.astype(bool))


def write_region(path: str, data: dict, region: dict) -> None:
    """Write ``{name: (dims, array)}`` into ``region`` of the store."""
    ds = xr.Dataset({name: xr.Variable(dims, values) for name, (dims, values) in data.items()})
    ctx = _quiet()
    try:
        ds.to_zarr(path, region=region, consolidated=False)
    finally:
        ctx.__exit__(None, None, None)


def write_block(path: str, key, data: dict, region: dict, *, done: bool = False) -> None:
    """Write ``{name: (dims, array)}`` into ``region`` (block ``key``), then record the
    checksums of what was written, then (with ``done``) mark the block done: in this order, so
    that a block marked done always has its data and checksums."""
    import zarr

    write_region(path, data, region)
    ctx = _quiet()
    try:
        group = zarr.open_group(path, mode="r+")
        if DIGEST in group:
            dig = group[DIGEST]
            names = str(dig.attrs[_integrity.COVERS]).split()
            row = np.asarray(dig[tuple(key)]).astype(np.int64)
            for name, (_, values) in data.items():
                if name in names:
                    row[names.index(name)] = _integrity.digest(values)
            dig[tuple(key)] = row
        if done:
            group[MASK][tuple(key)] = 1
    finally:
        ctx.__exit__(None, None, None)


def repair(path: str, mask: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``(mask, intact)``: the completion mask with every damaged chunk unmarked (its
    chunks are then recomputed), and whether the store was intact.

    A complete store is checked in every variable and its attractor table; an incomplete one in
    the variables written with the chunk (the labels are rewritten when the sweep completes).
    Damaged chunks are named in a :class:`StoreRepairWarning`; a complete store with damage is
    first marked incomplete, so an interrupted repair resumes like any sweep.
    """
    import zarr

    if not _integrity.is_checked(path):       # written before checksums were recorded
        return mask, True
    complete = is_complete(path)
    broken = _integrity.verify(path, skip=() if complete else ("attractor",))
    table = _integrity.verify_table(path) if complete else []
    if not broken and not table:
        return mask, True
    spec = _integrity.spec_of(path)
    what = [_integrity.describe(broken, spec)] if broken else []
    if table:
        what.append("attractor table: " + "; ".join(table))
    what = f"store {path!r} is damaged: " + "; ".join(what)
    warnings.warn(f"{what}; recomputing them", StoreRepairWarning, stacklevel=4)
    ctx = _quiet()
    try:
        group = zarr.open_group(path, mode="r+")
        if complete:
            attrs = {k: v for k, v in group.attrs.items()
                     if k not in (COMPLETE, _integrity.TABLE)}
            group.attrs.put(attrs)
        mask = mask.copy()
        for key in broken:
            group[MASK][key] = 0
            group[DIGEST][key] = 0
            mask[key] = False
    finally:
        ctx.__exit__(None, None, None)
    return mask, False


def read_region(path: str, names, region: dict) -> dict:
    """Return ``{name: array}`` read from ``region`` of the store."""
    ctx = _quiet()
    try:
        ds = xr.open_zarr(path, consolidated=False, mask_and_scale=False)
        return {name: ds[name].isel(region).values for name in names}
    finally:
        ctx.__exit__(None, None, None)


def finish(path: str, table: xr.Dataset) -> None:
    """Write the attractor table and mark the store complete (see the module docstring)."""
    import zarr

    group = zarr.open_group(path, mode="r+")
    attrs = {k: v for k, v in group.attrs.items() if k not in (COMPLETE, _integrity.TABLE)}
    for name, var in table.variables.items():   # left by an interrupted earlier finish
        if "attractor_id" in var.dims and name in group:
            del group[name]
    table = _io.encode(table)
    table.attrs = attrs                      # appending rewrites the root attrs: keep them
    ctx = _quiet()
    try:
        table.to_zarr(path, mode="a", consolidated=False)
    finally:
        ctx.__exit__(None, None, None)
    group = zarr.open_group(path, mode="r+")
    group.attrs.update({**attrs, _integrity.TABLE: _integrity.table_digests(table),
                        COMPLETE: 1})


def is_complete(path: str) -> bool:
    import zarr

    return bool(dict(zarr.open_group(os.fspath(path), mode="r").attrs).get(COMPLETE, 0))


def open_result(path: str) -> xr.Dataset:
    """Return the finished sweep stored at ``path`` (lazily loaded, dask-backed)."""
    ctx = _quiet()
    try:
        ds = xr.open_zarr(os.fspath(path), consolidated=False, mask_and_scale=False)
    finally:
        ctx.__exit__(None, None, None)
    ds = _io.decode(ds)
    for key in (FINGERPRINT, PARTS, COMPLETE, _integrity.TABLE):
        ds.attrs.pop(key, None)
    return ds.drop_vars([MASK, DIGEST], errors="ignore")
