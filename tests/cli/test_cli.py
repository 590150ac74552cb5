"""The command line end to end: each subcommand writes a dataset that loads back."""

from __future__ import annotations

import subprocess
import sys

import dynsys
from dynsys.cli import main


def test_trajectory_subcommand(tmp_path, capsys):
    out = tmp_path / "t.nc"
    png = tmp_path / "t.png"
    assert main(["trajectory", "--lr", "1", "--steps", "500", "-o", str(out),
                 "--plot", str(png)]) == 0
    ds = dynsys.load(out)
    assert ds.sizes["step"] == 501 and png.stat().st_size > 0
    assert "wrote" in capsys.readouterr().out


def test_bad_input_is_one_line_exit_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "dynsys", "trajectory", "--lr", "-1",
                           "-o", str(tmp_path / "x.nc")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "lr must be > 0" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_help_lists_subcommands():
    proc = subprocess.run([sys.executable, "-m", "dynsys", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and "trajectory" in proc.stdout
