"""Resuming a killed sweep from its Zarr store, and running it on a dask cluster."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys

MODEL = dynsys.QuadraticRegression2D(0.1, 0.2)
KW = dict(grid=((-3, 3, 24), (-6, 6, 20)), steps=2000, chunk_size=120)   # 2 values x 4 blocks of 6 rows
LR = [0.6, 1.2]


class Killed(Exception):
    pass


def test_resume_after_kill_equals_uninterrupted(tmp_path):
    reference = dynsys.basins(MODEL, LR, **KW)
    store = str(tmp_path / "sweep.zarr")
    seen = []

    def killer(done, total):
        seen.append((done, total))
        if done == 3:
            raise Killed

    with pytest.raises(Killed):
        dynsys.basins(MODEL, LR, store=store, progress=killer, **KW)
    assert seen == [(1, 8), (2, 8), (3, 8)]
    resumed = []
    out = dynsys.basins(MODEL, LR, store=store, progress=lambda d, t: resumed.append(d), **KW)
    assert resumed == [4, 5, 6, 7, 8]            # only the five missing chunks ran
    assert out.load().identical(reference)
    # a finished store is returned as is, and loads with dynsys.load
    again = []
    assert dynsys.basins(MODEL, LR, store=store, progress=lambda d, t: again.append(d),
                         **KW).load().identical(reference)
    assert again == []
    loaded = dynsys.load(store).drop_vars("chunk_done")
    assert loaded.attrs.pop("dynsys_basins_fingerprint") and loaded.attrs.pop(
        "dynsys_basins_complete") == 1         # the store's own bookkeeping
    assert '"rule.steps": "2000"' in loaded.attrs.pop("dynsys_basins_arguments")
    assert loaded.identical(reference)


def test_store_made_with_other_arguments_is_refused(tmp_path):
    store = str(tmp_path / "sweep.zarr")
    dynsys.basins(MODEL, LR, store=store, **KW)
    with pytest.raises(ValueError, match="different arguments"):
        dynsys.basins(MODEL, [0.6, 1.3], store=store, **KW)
    with pytest.raises(ValueError, match="different arguments"):
        dynsys.basins(MODEL, LR, store=store, **{**KW, "steps": 2001})
    other = tmp_path / "other.zarr"
    dynsys.save(dynsys.trajectory(MODEL, [1.0, 1.0], lr=0.5, steps=3), other)
    with pytest.raises(ValueError, match="not written by dynsys.basins"):
        dynsys.basins(MODEL, LR, store=str(other), **KW)
    with pytest.raises(ValueError, match="store"):
        dynsys.basins(MODEL, LR, store=str(tmp_path / "x.nc"), **KW)


def test_dask_cluster_gives_the_serial_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    reference = dynsys.basins(MODEL, LR, **KW)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        active = dynsys.basins(MODEL, LR, **KW)                  # picks up the active client
        assert active.identical(reference)
        stored = dynsys.basins(MODEL, LR, scheduler=client, store=str(tmp_path / "d.zarr"), **KW)
        assert stored.load().identical(reference)
        serial = dynsys.basins(MODEL, LR, scheduler="serial", **KW)
        assert serial.identical(reference)
    henon = dynsys.maps.henon(1.4, 0.3)
    ref = dynsys.basins(henon, [0.5, 1.4], param="a", grid=((-1, 1, 10), (-1, 1, 10)),
                        steps=500, chunk_size=30)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        got = dynsys.basins(henon, [0.5, 1.4], param="a", grid=((-1, 1, 10), (-1, 1, 10)),
                            steps=500, chunk_size=30)
    assert got.identical(ref)
    assert np.unique(got.outcome).size >= 2


def test_a_scheduler_typo_raises_and_leaves_nothing_behind():
    distributed = pytest.importorskip("distributed")
    with pytest.raises(ValueError, match="scheduler 'localhost:1' is not a reachable"):
        dynsys.basins(MODEL, LR, scheduler="localhost:1", **KW)
    with pytest.raises(ValueError):                  # no default client was left behind
        distributed.default_client()
    # and the next call runs (serially) instead of hanging on a half-built client
    assert dynsys.basins(MODEL, [0.6], **KW).outcome.size == 24 * 20


def test_dask_worker_processes_give_the_serial_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    kw = dict(grid=((-3, 3, 12), (-6, 6, 10)), steps=600, chunk_size=60)
    reference = dynsys.basins(MODEL, LR, **kw)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        # basins makes (and closes) its own client from the address
        got = dynsys.basins(MODEL, LR, scheduler=cluster.scheduler_address, **kw)
        assert got.identical(reference)
        stored = dynsys.basins(MODEL, LR, scheduler=cluster.scheduler_address,
                               store=tmp_path / "p.zarr", **kw)
        assert stored.load().identical(reference)
    with pytest.raises(ValueError):
        distributed.default_client()
