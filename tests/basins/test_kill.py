"""A stored sweep survives ``kill -9`` at any moment: the same call afterwards gives the result
of an uninterrupted run, in every variable.

A child process runs ``dynsys.basins(..., store=...)`` and is killed with SIGKILL, either by the
parent after a seeded random delay, or by itself exactly at the k-th file write of the store
(counted through the public ``zarr.storage.LocalStore.set``; "torn" kills first leave a partial
temporary file, as a kill inside the write would). The write-indexed kills include the first
writes of the creation, the first write after it, and every write of the final one (attractor
table and completion flag). The parent then makes the same call and compares.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import dynsys

ARGS = dict(values=[0.6, 1.2], grid=((-3.0, 3.0, 12), (-6.0, 6.0, 10)), steps=600,
            chunk_size=60)                        # 2 values x 2 blocks of 6 rows

CHILD = textwrap.dedent("""
    import json, os, signal, sys
    import zarr.storage
    import dynsys

    path, kill_at, torn = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "torn"
    count = [0]
    original = zarr.storage.LocalStore.set

    async def counting_set(self, key, value):
        count[0] += 1
        if count[0] == kill_at:
            if torn:   # what a kill inside the write leaves: a partial temporary file
                partial = os.path.join(str(self.root), key + ".0123abcd.partial")
                os.makedirs(os.path.dirname(partial), exist_ok=True)
                with open(partial, "wb") as f:
                    f.write(bytes(value.as_buffer_like())[: max(1, len(value) // 2)])
            os.kill(os.getpid(), signal.SIGKILL)
        return await original(self, key, value)

    zarr.storage.LocalStore.set = counting_set
    args = json.loads(os.environ["DYNSYS_KILL_ARGS"])
    print("ready", flush=True)
    dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), args.pop("values"), store=path,
                  grid=tuple(tuple(g) for g in args.pop("grid")), **args)
    print("writes", count[0], flush=True)
""")


def _child(path, kill_at=0, torn=False):
    env = {**os.environ, "DYNSYS_KILL_ARGS": json.dumps(ARGS)}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(kill_at),
                             "torn" if torn else "clean"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _same_call(path):
    kw = {k: v for k, v in ARGS.items() if k != "values"}
    return dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), ARGS["values"], store=path,
                         **kw)


@pytest.fixture(scope="module")
def reference():
    kw = {k: v for k, v in ARGS.items() if k != "values"}
    return dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), ARGS["values"], **kw)


@pytest.fixture(scope="module")
def total_writes(tmp_path_factory):
    proc = _child(tmp_path_factory.mktemp("count") / "s.zarr")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return int(out.split()[-1])


def _check_resumes(path, reference, twice=False):
    assert _same_call(path).load().identical(reference)
    if twice:                                     # complete now: returned as is
        assert _same_call(path).load().identical(reference)


@pytest.mark.slow
def test_kill_at_seeded_writes_then_resume_equals_uninterrupted(tmp_path, reference,
                                                                total_writes):
    n = total_writes
    rng = np.random.default_rng(14)
    # creation (first writes), right after it, the final write (last ones), and random ones
    final = list(range(max(1, n - 6), n + 1))
    chosen = sorted({1, 2, 3, *final, *rng.integers(4, n - 6, size=8).tolist()})
    kills = 0
    paths = [tmp_path / f"k{i}.zarr" for i in range(len(chosen))]
    for lo in range(0, len(chosen), 2):           # two children at a time (exact kill points)
        procs = [(k, _child(paths[i], kill_at=k, torn=bool(i % 2)))
                 for i, k in list(enumerate(chosen))[lo:lo + 2]]
        for k, proc in procs:
            proc.communicate(timeout=120)
            assert proc.returncode == -signal.SIGKILL, (k, proc.returncode)
            kills += 1
    for i, path in enumerate(paths):
        _check_resumes(path, reference, twice=i == 0)
    assert kills >= 15


@pytest.mark.slow
def test_kill_at_seeded_random_moments_then_resume_equals_uninterrupted(tmp_path, reference):
    rng = np.random.default_rng(1414)
    # one uninterrupted child run sets the time scale (from "ready" to exit)
    proc = _child(tmp_path / "timing.zarr")
    proc.stdout.readline()
    t0 = time.perf_counter()
    proc.communicate(timeout=120)
    span = time.perf_counter() - t0
    killed = 0
    for i, delay in enumerate(rng.uniform(0.0, span, size=6)):
        path = tmp_path / f"t{i}.zarr"
        for _ in range(2):                        # killed twice on the same store
            proc = _child(path)
            proc.stdout.readline()                # imports done: the sweep starts now
            time.sleep(delay / 2)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=120)
            killed += proc.returncode == -signal.SIGKILL
        _check_resumes(path, reference)
    assert killed >= 8                            # most delays land inside the run


def test_a_store_held_by_another_process_is_refused(tmp_path):
    from dynsys.basins import _store

    kw = {k: v for k, v in ARGS.items() if k != "values"}
    path = tmp_path / "busy.zarr"
    dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), [0.6], store=path, **kw)
    lock = _store._Lock(path, str(path))          # as a running call holds it
    try:
        code = ("import dynsys, sys; dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), "
                f"[0.6], store=sys.argv[1], grid={ARGS['grid']!r}, steps=600, chunk_size=60)")
        run = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 1 and "in use by another process" in run.stderr
    finally:
        lock.close()


def test_two_processes_creating_one_store_at_once_get_a_clear_error(tmp_path, monkeypatch):
    from dynsys.basins import _store

    path = tmp_path / "race.zarr"
    real = os.rename

    def other_process_won(src, dst):              # the other creation renamed first
        os.mkdir(dst)
        (dst.parent / dst.name / "zarr.json").write_text("{}")
        return real(src, dst)

    monkeypatch.setattr(_store.os, "rename", other_process_won)
    kw = {k: v for k, v in ARGS.items() if k != "values"}
    with pytest.raises(ValueError, match="created by another process at the same time"):
        dynsys.basins(dynsys.QuadraticRegression2D(0.1, 0.2), [0.6], store=path, **kw)
    assert not list(tmp_path.glob(".race.zarr.creating-*"))      # nothing left behind
