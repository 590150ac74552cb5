"""Every error of the command line is one line on stderr with exit code 2, never a traceback:
the table covers the bad inputs of issue 14 (size limits, stores, outputs, options that do not
apply), run in-process (fast) and, for a sample, as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import dynsys
from dynsys.cli import main

SMALL = ["--grid", "6x5", "--steps", "200", "--lr", "0.5,1.0", "--quiet"]


def _basin_store(tmp_path):
    path = tmp_path / "s.zarr"
    assert main(["basins", *SMALL, "--store", str(path), "-o", str(tmp_path / "b.nc")]) == 0
    return path


def _plain_dir(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    (path / "notes.txt").write_text("mine")
    return path


ROWS = {
    # size limits (item 7): refused before anything is allocated
    "grid of 10^16 cells": (["basins", "--grid", "100000000x100000000", "--quiet", "--lr", "1"],
                            None, "grid: the result would take about"),
    "10^9 step sizes": (["basins", "--lr", "0.1:1:1000000000", "--quiet"], None,
                        "--lr num: the result would take about"),
    "trajectory steps 2e9": (["trajectory", "--steps", "2000000000"], None,
                             "steps: the result would take about"),
    "period 2^40": (["orbits", "--map", "logistic", "--period", str(2**40), "--bounds", "0:1"],
                    None, "period: the result would take about"),
    "orbit diagram keep": (["bifurcation", "--lr", "0.5:2.5:100000", "--steps", "10000000000",
                            "--keep", "10000000000"], None, "keep: the result would take"),
    # stores and outputs (items 2, 6, 8)
    "store of other arguments": (["basins", *SMALL[:-3], "--lr", "0.5,1.5", "--quiet",
                                  "--store", "{store}"], _basin_store, "different arguments"),
    "store path is a plain directory": (["basins", *SMALL, "--store", "{plain}"],
                                        lambda t: _plain_dir(t, "p.zarr"), "not"),
    "output is a plain directory": (["trajectory", "--steps", "5", "-o", "{out}"],
                                    lambda t: _plain_dir(t, "o.zarr"), "never deletes"),
    # options that do not apply (item 10)
    "--lr for a map without lr": (["trajectory", "--map", "logistic", "--x0", "0.3",
                                   "--lr", "0.5"], None, "--lr applies to models"),
    "--lr for orbits of a map": (["orbits", "--map", "logistic", "--lr", "0.5", "--bounds",
                                  "0:1"], None, "--lr applies to models"),
    "--plot without a figure": (["trajectory", "--map", "logistic", "--x0", "0.3", "--plot",
                                 "{png}"], None, "--plot"),
}


def _args(template, tmp_path, made):
    out = []
    for a in template:
        a = a.replace("{store}", str(made)).replace("{plain}", str(made)).replace(
            "{out}", str(made)).replace("{png}", str(tmp_path / "f.png"))
        out.append(a)
    if "-o" not in out and out[0] != "reproduce":
        out += ["-o", str(tmp_path / "x.nc")]
    return out


@pytest.mark.parametrize("case", sorted(ROWS))
def test_every_error_is_one_line_with_exit_code_2(case, tmp_path, capsys):
    template, setup, fragment = ROWS[case]
    made = setup(tmp_path) if setup is not None else None
    capsys.readouterr()
    code = main(_args(template, tmp_path, made))
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert fragment in lines[0], lines[0]
    if case == "--plot without a figure":          # refused before writing the dataset
        assert not (tmp_path / "x.nc").exists()
    if case == "output is a plain directory":
        assert (made / "notes.txt").read_text() == "mine"


def test_an_unexpected_exception_is_one_line_naming_its_type(monkeypatch, tmp_path, capsys):
    from dynsys.cli import _commands

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(_commands, "trajectory", broken)
    code = main(["trajectory", "--steps", "5", "-o", str(tmp_path / "t.nc")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err == ["dynsys trajectory: error: LinAlgError: Singular matrix"]


def test_lyapunov_of_a_diverging_orbit_says_diverged(tmp_path, capsys):
    code = main(["lyapunov", "--map", "logistic", "--param", "r=4.5", "--x0", "0.3",
                 "--steps", "100", "--transient", "0", "-o", str(tmp_path / "l.nc")])
    out = capsys.readouterr().out
    assert code == 0 and "diverged" in out and "undefined" in out


def test_lr_sets_the_lr_parameter_of_a_map_that_has_one(tmp_path, capsys):
    f = dynsys.gd_map(dynsys.QuadraticRegression2D(0.1), 0.5)
    from dynsys.cli import _commands

    class Args:
        lr = 0.25
    assert _commands._map_of(Args, f).params["lr"] == 0.25
    assert _commands._map_of(Args, dynsys.QuadraticRegression2D(0.1)).params["lr"] == 0.25


@pytest.mark.parametrize("case", ["trajectory steps 2e9", "--lr for a map without lr"])
def test_the_real_command_prints_one_line_and_exits_2(case, tmp_path):
    template, _, fragment = ROWS[case]
    proc = subprocess.run([sys.executable, "-m", "dynsys", *_args(template, tmp_path, None)],
                          capture_output=True, text=True,
                          env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and fragment in proc.stderr
