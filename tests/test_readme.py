"""The README's quick start is what CI runs, and the main job runs."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

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


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text()
    assert "test-command" in script          # CI extracts the README block, verbatim


def test_main_job_quick_mode(tmp_path):
    script = _block("main-command").split("&&")[-1].strip().split()
    target = [s for s in script if s.endswith(".py")]
    if target:
        proc = subprocess.run([sys.executable, str(ROOT / target[0]), "--quick",
                               "--out", str(tmp_path)], capture_output=True, text=True,
                              cwd=ROOT, timeout=600)
        assert proc.returncode == 0, proc.stderr
        assert any(tmp_path.iterdir())
