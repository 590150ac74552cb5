"""Robustness: the JIT cache never writes into the install directory; results reproduce."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

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


def test_works_from_a_read_only_install(tmp_path):
    """The package on a read-only file system (a read-only bind mount in a private mount
    namespace), with an unwritable cache home too: the JIT cache falls back to a writable
    temporary directory and every compiled path still runs."""
    import shutil

    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("needs unshare and mount")
    src, ro = tmp_path / "src", tmp_path / "ro"
    shutil.copytree(PACKAGE, src / "dynsys", ignore=shutil.ignore_patterns("__pycache__"))
    ro.mkdir()
    (tmp_path / "cache-home").write_text("not a directory")
    script = ("import dynsys, numpy as np; "
              "m = dynsys.QuadraticRegression2D(0.1); "
              "dynsys.trajectory(m, [0.5, 4.0], lr=1.0, steps=100); "
              "dynsys.basins(m, [1.0], grid=((-1, 1, 8), (-4, 4, 8)), steps=200); "
              "dynsys.bifurcation_diagram(m, [0.5, 1.0], x0=[0.5, 4.0], steps=50, keep=5); "
              "print(dynsys.__file__, dynsys._numba.numba.config.CACHE_DIR)")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    # -S: no site processing, so an editable install of the working tree cannot shadow the copy
    site_packages = os.path.dirname(np.__path__[0])
    env.update(PYTHONPATH=f"{ro}{os.pathsep}{site_packages}",
               XDG_CACHE_HOME=str(tmp_path / "cache-home"))
    shell = (f"mount --bind {src} {ro} && mount -o remount,bind,ro {ro} && "
             f"{sys.executable} -S -c '{script}'")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no permission to create a mount namespace here")
    proc = subprocess.run(["unshare", "-m", "sh", "-c", shell], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    where, cache = proc.stdout.split()[-2:]
    assert where.startswith(str(ro))
    assert not cache.startswith(str(tmp_path / "cache-home"))
