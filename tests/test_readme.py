"""The README: its quick start is what CI runs, its examples run, the main job runs."""

from __future__ import annotations

import doctest
import pathlib
import re

from dynsys.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _block(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", text, re.S)
    assert match, f"README has no {marker} block"
    return match.group(1).strip()


def test_quick_start_has_two_one_line_commands():
    for marker in ("main-command", "test-command"):
        assert len(_block(marker).splitlines()) == 1
    assert "pytest" in _block("test-command")
    # the main command installs the jax extra, so that reproduce runs the network studies
    assert 'pip install -e ".[jax]"' in _block("main-command")


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in script          # CI extracts the README block and runs it verbatim


def test_readme_examples_run():
    failures, tried = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, verbose=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert tried > 10
    assert failures == 0


def test_main_job_runs_in_quick_mode(tmp_path, capsys):
    command = _block("main-command").split("&&")[-1].split()
    assert command[0].endswith("dynsys") and command[1] == "reproduce"
    assert main(["reproduce", "--quick", "--out", str(tmp_path)]) == 0
    written = {p.name for p in tmp_path.iterdir()}
    for name in ("basins_2d.nc", "basins_2d.png", "bifurcation_2d.nc", "bifurcation_2d.png",
                 "eos_region.nc", "eos_region.png", "eos_critical_eps.nc", "network_eos.nc",
                 "network_eos.png", "network_kreisler.nc", "network_kreisler.png"):
        assert name in written, name
    assert "reproduced" in capsys.readouterr().out
