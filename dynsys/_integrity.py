"""Checksums of the blocks of a resumable Zarr store, and the check that each reads back intact.

A resumable store (``dynsys.basins(..., store=...)``) is written block by block: a block is one
entry of a leading-dims block grid (for basins: one parameter value and a run of grid rows),
and every block-shaped variable has one Zarr chunk per block. Each time a block of a variable
is written, the store records a 64-bit checksum of its values in the variable ``chunk_digest``
(dims: the block grid, then ``checked_variable``; one Zarr chunk per block, so concurrent
writers never share a file). The completion mask ``chunk_done`` says which blocks are done.

Why checksums and not "does the chunk file exist": Zarr does not write a chunk whose values all
equal the fill value (an all-NaN ``lyapunov`` block, for instance), so a missing file may be
legitimate. A checksum of the values covers both cases: a legitimately absent chunk reads back
as the fill value, which is what was written, so its checksum matches; a deleted chunk that
held other values, a truncated one (which no longer decodes) and one with flipped bytes (which
decodes to other values, or not at all) do not. NaN payloads and the sign of zero are
canonicalised before hashing, because Zarr compares with the fill value by value.

Variables written whole at the end (the attractor table) have their checksums in the root
attribute ``dynsys_table_digest`` (JSON), set together with the completion attribute.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings

import numpy as np

MASK = "chunk_done"
DIGEST = "chunk_digest"
COVERS = "dynsys_digest_of"          # attr of DIGEST: the checked variables, in order
BLOCKS = "dynsys_digest_blocks"      # attr of DIGEST: "dim:size dim:size" of the block grid
COMPLETE = "dynsys_basins_complete"
TABLE = "dynsys_table_digest"


def digest(values) -> int:
    """Return a nonzero 63-bit checksum of an array's dtype and values (0 means "none")."""
    a = np.ascontiguousarray(values)
    if a.dtype.kind == "f":
        a = np.where(np.isnan(a), np.nan, a + 0.0).astype(a.dtype)   # canonical NaN, +0.0
    h = hashlib.blake2b(a.dtype.str.encode() + a.tobytes(), digest_size=8).digest()
    value = int.from_bytes(h, "little") >> 1
    return value or 1


def block_spec(text: str) -> list[tuple[str, int]]:
    """Return ``[(dim, size), ...]`` from the ``BLOCKS`` attribute."""
    out = []
    for part in str(text).split():
        dim, _, size = part.rpartition(":")
        out.append((dim, int(size)))
    return out


def block_region(spec, dims, key) -> tuple:
    """Return the selection (tuple of slices) of block ``key`` for an array with ``dims``."""
    where = {d: slice(k * s, (k + 1) * s) for (d, s), k in zip(spec, key, strict=True)}
    return tuple(where.get(d, slice(None)) for d in dims)


def _dims(arr) -> tuple:
    names = getattr(arr.metadata, "dimension_names", None)
    if names is None:
        names = arr.attrs.get("_ARRAY_DIMENSIONS", ())
    return tuple(names)


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + text[:80] if text else ''}"


def is_checked(path) -> bool:
    """Return whether the Zarr store at ``path`` records block checksums."""
    return os.path.isdir(os.path.join(os.fspath(path), DIGEST))


def done_mask(group) -> np.ndarray:
    """Return the completion mask as booleans; an entry that cannot be read counts as not done."""
    arr = group[MASK]
    try:
        return np.asarray(arr[...]).astype(bool)
    except Exception:                               # noqa: BLE001 - a damaged entry
        mask = np.zeros(arr.shape, dtype=bool)
        for key in np.ndindex(arr.shape):
            try:
                mask[key] = bool(arr[key])
            except Exception:                       # noqa: BLE001
                pass
        return mask


def verify(path, keys=None, skip=()) -> dict:
    """Return ``{block key: [what is wrong, ...]}`` for the blocks of the store at ``path`` that
    do not read back as written (empty if all are intact).

    ``keys``: the blocks to check (default: those marked done); ``skip``: variable names not to
    check (written later than the block, such as labels rewritten at the end).
    """
    import zarr

    ctx = _quiet()
    try:
        group = zarr.open_group(os.fspath(path), mode="r")
        dig = group[DIGEST]
        names = str(dig.attrs[COVERS]).split()
        spec = block_spec(dig.attrs[BLOCKS])
        if keys is None:
            mask = done_mask(group)
            keys = [tuple(int(i) for i in k) for k in np.argwhere(mask)]
        arrays = {n: group[n] for n in names if n not in skip and n in group}
        broken = {}
        for key in keys:
            wrong = []
            try:
                recorded = np.asarray(dig[tuple(key)]).astype(np.int64)
            except Exception as exc:                # noqa: BLE001
                broken[key] = [f"its checksum record cannot be decoded ({_reason(exc)})"]
                continue
            for k, name in enumerate(names):
                arr = arrays.get(name)
                if arr is None:
                    if name not in skip:
                        wrong.append(f"{name} is missing")
                    continue
                try:
                    values = arr[block_region(spec, _dims(arr), key)]
                except Exception as exc:            # noqa: BLE001
                    wrong.append(f"{name} cannot be decoded ({_reason(exc)})")
                    continue
                if recorded[k] == 0:
                    wrong.append(f"{name} has no checksum recorded")
                elif digest(values) != int(recorded[k]):
                    wrong.append(f"{name} differs from what was written (chunk deleted or "
                                 f"altered)")
            if wrong:
                broken[key] = wrong
        return broken
    finally:
        ctx.__exit__(None, None, None)


def table_digests(ds) -> str:
    """Return the ``TABLE`` attribute for the variables of ``ds`` (JSON of checksums)."""
    return json.dumps({name: digest(var.values) for name, var in ds.variables.items()},
                      sort_keys=True)


def verify_table(path) -> list[str]:
    """Return what is wrong with the variables recorded in the store's ``TABLE`` attribute."""
    import zarr

    ctx = _quiet()
    try:
        group = zarr.open_group(os.fspath(path), mode="r")
        text = group.attrs.get(TABLE)
        if text is None:
            return ["the attractor table has no checksums recorded"]
        wrong = []
        for name, recorded in json.loads(text).items():
            if name not in group:
                wrong.append(f"{name} is missing")
                continue
            try:
                values = group[name][...]
            except Exception as exc:                # noqa: BLE001
                wrong.append(f"{name} cannot be decoded ({_reason(exc)})")
                continue
            if digest(values) != recorded:
                wrong.append(f"{name} differs from what was written")
        return wrong
    finally:
        ctx.__exit__(None, None, None)


def describe(broken: dict, spec=None, limit: int = 8) -> str:
    """Return a one-line description of the broken blocks (the first ``limit`` of them), each
    named by its place in the store (``lr[1], theta_1[6:12]``)."""
    items = sorted(broken.items())
    parts = []
    for key, wrong in items[:limit]:
        if spec:
            name = ", ".join(f"{d}[{k}]" if s == 1 else f"{d}[{k * s}:{(k + 1) * s}]"
                             for (d, s), k in zip(spec, key, strict=True))
        else:
            name = ", ".join(map(str, key))
        parts.append(f"chunk {name}: {'; '.join(wrong)}")
    more = f" | and {len(items) - limit} more" if len(items) > limit else ""
    return f"{len(items)} damaged chunk(s): " + " | ".join(parts) + more


def spec_of(path) -> list[tuple[str, int]]:
    """Return the block grid ``[(dim, size), ...]`` of a checked store."""
    import zarr

    return block_spec(zarr.open_group(os.fspath(path), mode="r")[DIGEST].attrs[BLOCKS])


def unreadable(path, limit: int = 8) -> list[str]:
    """Return ``"variable chunk (i, j, ...)"`` for Zarr chunks of the store that do not decode."""
    import zarr

    ctx = _quiet()
    try:
        group = zarr.open_group(os.fspath(path), mode="r")
        out = []
        for name in sorted(group.array_keys()):
            arr = group[name]
            for key in np.ndindex(*arr.cdata_shape):
                try:
                    arr.get_block_selection(key)
                except Exception as exc:            # noqa: BLE001
                    out.append(f"{name} chunk {key} ({_reason(exc)})")
                    if len(out) >= limit:
                        return out
        return out
    finally:
        ctx.__exit__(None, None, None)
