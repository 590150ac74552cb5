"""The packaged studies run in quick mode, from any directory, and write their outputs."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["limit_offset", "kreisler", "self_stabilisation", "theorem2",
                                  "henon_orbit_counts", "proved_regions"])
def test_quick(name, tmp_path):
    proc = subprocess.run([sys.executable, "-P", "-m", f"dynsys.studies.{name}", "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / f"{name}.nc").exists() and (tmp_path / f"{name}.png").exists()
    import dynsys
    ds = dynsys.load(tmp_path / f"{name}.nc")
    assert "dynsys_version" in ds.attrs
