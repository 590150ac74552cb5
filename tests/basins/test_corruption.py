"""A damaged basin store is never read as data: ``dynsys.load`` names the broken chunks, and the
same ``basins`` call recomputes them (the result then equals an uninterrupted run).

Damage: a deleted chunk file, a truncated one, flipped bytes, a deleted checksum record, a
damaged attractor table. Chunks that Zarr legitimately leaves unwritten (all values equal to
the fill value, such as the all-NaN ``lyapunov`` blocks of a converging sweep) are not damage.
"""

from __future__ import annotations

import glob
import os
import shutil

import numpy as np
import pytest

import dynsys
from dynsys.basins._store import StoreRepairWarning

ARGS = dict(grid=((-3.0, 3.0, 12), (-6.0, 6.0, 10)), steps=600, chunk_size=60)
VALUES = [0.6, 1.2]                       # 2 values x 2 row blocks of 6 rows


def _call(path=None):
    return dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), VALUES, store=path, **ARGS)


@pytest.fixture(scope="module")
def reference():
    return _call()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    path = tmp_path_factory.mktemp("pristine") / "s.zarr"
    _call(path)
    return path


@pytest.fixture
def store(pristine, tmp_path):
    path = tmp_path / "s.zarr"
    shutil.copytree(pristine, path)
    return path


def _chunk(path, name, key="1/0/0"):
    return os.path.join(path, name, "c", *key.split("/"))


def _delete(path, name="outcome", key="1/0/0"):
    os.remove(_chunk(path, name, key))


def _truncate(path, name="final_theta", key="0/1/0/0"):
    f = _chunk(path, name, key)
    data = open(f, "rb").read()
    with open(f, "wb") as fh:
        fh.write(data[: len(data) // 2])


def _flip(path, name="steps", key="1/1/0"):
    f = _chunk(path, name, key)
    data = bytearray(open(f, "rb").read())
    for i in range(len(data) // 2, len(data)):
        data[i] ^= 0x5A
    with open(f, "wb") as fh:
        fh.write(bytes(data))


def _swap(path, name="period", key="1/1/0"):
    shutil.copyfile(_chunk(path, name, "0/0/0"), _chunk(path, name, key))   # decodes, differs


DAMAGE = {
    "swapped": (_swap, "period", "lr[1], theta_1[6:12]"),
    "deleted": (_delete, "outcome", "lr[1], theta_1[0:6]"),
    "truncated": (_truncate, "final_theta", "lr[0], theta_1[6:12]"),
    "flipped": (_flip, "steps", "lr[1], theta_1[6:12]"),
}


def test_an_intact_store_with_unwritten_fill_chunks_loads_and_reopens(store, reference):
    # the converging sweep has all-NaN lyapunov blocks: Zarr writes no file for them
    assert not glob.glob(os.path.join(store, "lyapunov", "c", "*", "*", "*"))
    loaded = dynsys.load(store)
    assert set(loaded.data_vars) == set(reference.data_vars) | {"chunk_done"}
    for name in reference.data_vars:
        assert np.array_equal(loaded[name].values, reference[name].values, equal_nan=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = _call(store)
    assert again.compute().identical(reference)


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_chunk_is_named_on_load_and_recomputed_on_resume(store, reference, kind):
    damage, name, where = DAMAGE[kind]
    damage(store)
    with pytest.raises(ValueError, match="damaged") as info:
        dynsys.load(store)
    message = str(info.value)
    assert name in message and where in message and "\n" not in message
    with pytest.warns(StoreRepairWarning, match=name):
        again = _call(store)
    assert again.compute().identical(reference)
    assert dynsys.load(store)["outcome"].identical(reference["outcome"])      # intact again


def test_a_deleted_checksum_record_is_damage_not_a_pass(store, reference):
    _delete(store, "chunk_digest", "0/0/0")
    with pytest.raises(ValueError, match=r"lr\[0\], theta_1\[0:6\].*no checksum"):
        dynsys.load(store)
    with pytest.warns(StoreRepairWarning):
        assert _call(store).compute().identical(reference)


def test_a_damaged_attractor_table_is_named_and_rebuilt(store, reference):
    _flip(store, "attractor_x", "0/0")
    with pytest.raises(ValueError, match="attractor_x"):
        dynsys.load(store, lazy=True)
    with pytest.warns(StoreRepairWarning, match="attractor table"):
        assert _call(store).compute().identical(reference)


def test_damage_in_an_incomplete_store_is_recomputed(store, reference):
    import zarr

    group = zarr.open_group(str(store), mode="r+")
    attrs = {k: v for k, v in group.attrs.items() if k != "dynsys_basins_complete"}
    group.attrs.put(attrs)
    group["chunk_done"][0, 1] = 0            # one chunk not done yet, one damaged
    _delete(store, "outcome", "1/0/0")
    with pytest.warns(StoreRepairWarning, match=r"lr\[1\], theta_1\[0:6\]"):
        assert _call(store).compute().identical(reference)


def test_an_undecodable_chunk_of_a_saved_store_is_named(tmp_path):
    ds = dynsys.trajectory(dynsys.maps.logistic(3.2), [0.3], steps=10)
    path = dynsys.save(ds, tmp_path / "orbit.zarr")
    files = [f for f in glob.glob(os.path.join(path, "x", "*")) if not
             os.path.basename(f).startswith(".")]
    with open(files[0], "r+b") as fh:
        fh.truncate(3)
    with pytest.raises(ValueError, match=r"cannot be decoded: x chunk"):
        dynsys.load(path)
