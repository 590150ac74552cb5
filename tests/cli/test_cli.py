"""The command line end to end: every subcommand writes a dataset that loads back."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import dynsys
from dynsys.cli import main


def _run(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_trajectory(tmp_path, capsys):
    out, png = tmp_path / "t.nc", tmp_path / "t.png"
    text = _run(["trajectory", "--lr", "1", "--steps", "500", "-o", str(out), "--plot", str(png)],
                capsys)
    ds = dynsys.load(out)
    assert ds.sizes["step"] == 501 and png.stat().st_size > 0
    assert "wrote" in text and "lr x top eigenvalue" in text


def test_trajectory_of_a_builtin_map(tmp_path, capsys):
    out = tmp_path / "h.zarr"
    _run(["trajectory", "--map", "henon", "--param", "a=1.4", "--param", "b=0.3",
          "--x0", "0.1,0.1", "--steps", "50", "-o", str(out)], capsys)
    ds = dynsys.load(out)
    assert ds.x.shape == (51, 2) and ds.attrs["param_a"] == 1.4


def test_basins(tmp_path, capsys):
    out, png = tmp_path / "b.nc", tmp_path / "b.png"
    text = _run(["basins", "--grid", "12x10", "--lr", "0.5:1.5:2", "--steps", "500", "--quiet",
                 "-o", str(out), "--plot", str(png)], capsys)
    ds = dynsys.load(out)
    assert ds.outcome.shape == (2, 12, 10) and png.stat().st_size > 0
    assert "converged" in text


def test_basins_of_a_map(tmp_path, capsys):
    out = tmp_path / "bl.nc"
    _run(["basins", "--map", "logistic", "--sweep", "r", "--lr", "3.2", "--grid", "8",
          "--range1", "0.05:0.95", "--steps", "400", "--quiet", "-o", str(out)], capsys)
    ds = dynsys.load(out)
    assert ds.outcome.dims == ("r", "x_1") and int(ds.period.max()) == 2


def test_bifurcation(tmp_path, capsys):
    out, png = tmp_path / "d.nc", tmp_path / "d.png"
    _run(["bifurcation", "--lr", "0.5:2:20", "--steps", "500", "--keep", "8", "-o", str(out),
          "--plot", str(png)], capsys)
    ds = dynsys.load(out)
    assert ds.sizes["lr"] == 20 and ds.sizes["sample"] == 8 and png.stat().st_size > 0


def test_orbits_and_lyapunov(tmp_path, capsys):
    out = tmp_path / "o.nc"
    text = _run(["orbits", "--map", "henon", "--bounds=-3:3", "--bounds=-3:3", "-o",
                 str(out)], capsys)
    ds = dynsys.load(out)
    assert ds.sizes["point"] == 2 and "2 fixed point(s)" in text
    out2 = tmp_path / "p.nc"
    _run(["orbits", "--map", "logistic", "--param", "r=3.2", "--period", "2", "--bounds", "0:1",
          "-o", str(out2)], capsys)
    assert dynsys.load(out2).sizes["orbit"] >= 1
    out3 = tmp_path / "l.nc"
    text = _run(["lyapunov", "--map", "henon", "--x0", "0.1,0.1", "--steps", "20000", "-o",
                 str(out3)], capsys)
    da = dynsys.load(out3)
    assert da.dims == ("exponent",)
    np.testing.assert_allclose(float(da.sum()), np.log(0.3), atol=1e-6)


def test_eos(tmp_path, capsys):
    out, png = tmp_path / "e.nc", tmp_path / "e.png"
    text = _run(["eos", "--eps", "0.05", "--lr", "0.9:1.1:3", "--grid", "16", "--quiet",
                 "--no-prove", "-o", str(out), "--plot", str(png)], capsys)
    ds = dynsys.load(out)
    assert "eos" in ds and ds.attrs["certificate_n_failed"] == 0
    assert "not a proof" in text and "certified" not in text and png.stat().st_size > 0
    assert "NOT proved" in text and ds.attrs["proved"] == 0


def test_reproduce_runs_named_analyses_quickly(tmp_path, capsys):
    text = _run(["reproduce", "--quick", "--only", "eos_trajectories", "--out", str(tmp_path)],
                capsys)
    assert (tmp_path / "eos_trajectories.nc").exists() and "reproduced" in text


@pytest.mark.parametrize("args, fragment", [
    (["trajectory", "--lr", "-1"], "lr must be > 0"),
    (["trajectory", "--map", "nope"], "unknown map"),
    (["basins", "--lr", "1:0:3"], "--lr must be > 0"),
    (["basins", "--lr", "1:1:3"], "start and stop must differ"),
    (["basins", "--grid", "0"], "grid"),
    (["basins", "--map", "henon"], "--sweep"),
    (["bifurcation", "--steps", "0"], "steps"),
    (["orbits", "--map", "henon"], "--bounds"),
    (["trajectory", "--x0", "a,b"], "comma-separated"),
    (["basins", "--grid", "3y"], "N1xN2"),
    (["reproduce", "--only", "nothing"], "unknown analysis"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, fragment, capsys):
    # in-process (the same parser and error handling as the command; the real command is run
    # for a sample below and in test_cli_errors.py)
    full = [*args, *(["-o", str(tmp_path / "x.nc")] if args[0] != "reproduce"
                     else ["--out", str(tmp_path)])]
    try:
        code = main(full)
    except SystemExit as exc:            # argparse usage errors exit from the parser
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert fragment in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, fragment", [(["trajectory", "--lr", "-1"], "lr must be > 0"),
                                            (["basins", "--grid", "3y"], "N1xN2")])
def test_bad_input_of_the_real_command_is_one_line_exit_2(tmp_path, args, fragment):
    proc = subprocess.run([sys.executable, "-m", "dynsys", *args, "-o", str(tmp_path / "x.nc")],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_help_lists_every_subcommand(capsys):
    # the real command once; each subcommand's help in-process (the same parser, without
    # six more interpreter start-ups)
    proc = subprocess.run([sys.executable, "-m", "dynsys", "--help"], capture_output=True,
                          text=True)
    assert proc.returncode == 0
    for name in ("basins", "bifurcation", "orbits", "lyapunov", "eos", "reproduce"):
        assert name in proc.stdout
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        out = capsys.readouterr().out
        assert info.value.code == 0 and out.startswith("usage: dynsys " + name)


def test_reproduce_runs_studies_in_parallel_with_progress_and_summary(tmp_path):
    """Two studies at once from a directory holding a decoy ``dynsys`` package: the packaged
    studies run (never code from the current directory), one progress line each, a table."""
    decoy = tmp_path / "dynsys" / "studies"
    decoy.mkdir(parents=True)
    (tmp_path / "dynsys" / "__init__.py").write_text("raise SystemExit('decoy imported')\n")
    (decoy / "__init__.py").write_text("raise SystemExit('decoy imported')\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-P", "-m", "dynsys", "reproduce", "--quick",
                           "--only", "eos_trajectories", "--only", "theorem2", "--jobs", "2",
                           "--out", str(out)], capture_output=True, text=True, cwd=tmp_path,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    progress = [line for line in proc.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 2 and all(" ok" in line for line in progress)
    assert progress[-1].startswith("[##########] 2/2")
    assert "study" in proc.stdout and "wall time" in proc.stdout
    for name in ("eos_trajectories", "theorem2"):
        assert (out / f"{name}.nc").exists()
        assert any(line.startswith(name) and " ok " in line for line in proc.stdout.splitlines())


def test_orbits_plot_and_no_plot_option_where_there_is_no_figure(tmp_path, capsys):
    png = tmp_path / "orbits.png"
    text = _run(["orbits", "--map", "henon", "--period", "2", "--bounds=-3:3", "--bounds=-3:3",
                 "-o", str(tmp_path / "o.nc"), "--plot", str(png)], capsys)
    assert png.stat().st_size > 0 and "wrote" in text
    # lyapunov has a figure now: the spectrum with its convergence trace
    lyap = tmp_path / "lyapunov.png"
    text = _run(["lyapunov", "--map", "henon", "--x0", "0.1,0.1", "--steps", "5000",
                 "-o", str(tmp_path / "l.nc"), "--plot", str(lyap)], capsys)
    assert lyap.stat().st_size > 0 and "wrote" in text
