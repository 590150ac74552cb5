"""Robustness: the JIT cache never writes into the install directory; results reproduce."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np

import dynsys

PACKAGE = pathlib.Path(dynsys.__file__).resolve().parent

SCRIPT = """
import dynsys, numpy as np
ds = dynsys.trajectory(dynsys.QuadraticRegression2D(0.1), [0.5, 4.0], lr=1.0, steps=100)
print(dynsys._numba.numba.config.CACHE_DIR)
"""


def _numba_index_files(folder: pathlib.Path) -> set[pathlib.Path]:
    return set(folder.rglob("*.nbi"))


def test_jit_cache_goes_to_user_cache_not_package(tmp_path):
    before = _numba_index_files(PACKAGE)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    cache_dir = pathlib.Path(proc.stdout.strip().splitlines()[-1])
    assert cache_dir == tmp_path / "cache" / "dynsys" / "numba"
    assert _numba_index_files(cache_dir), "kernels were not cached in the user cache"
    assert _numba_index_files(PACKAGE) == before, "numba wrote into the package directory"


def test_unwritable_cache_home_falls_back(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(blocker)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not proc.stdout.strip().splitlines()[-1].startswith(str(blocker))


def test_user_choice_of_cache_dir_is_respected(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "mine"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == str(tmp_path / "mine")


def test_trajectories_are_bitwise_reproducible():
    model = dynsys.QuadraticRegression2D(0.05, 0.2)
    a = dynsys.trajectory(model, [0.3, 7.0], lr=1.0, steps=5000)
    b = dynsys.trajectory(model, [0.3, 7.0], lr=1.0, steps=5000)
    assert a.identical(b)
    assert np.array_equal(a.theta.values.view(np.int64), b.theta.values.view(np.int64))
