"""The documentation: the tutorial runs as a doctest, and the Sphinx site (API reference from
the docstrings with numpydoc, tutorial, mathematical reference) builds with warnings as errors."""

from __future__ import annotations

import doctest
import pathlib
import shutil
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"


def test_tutorial_runs():
    result = doctest.testfile(str(DOCS / "tutorial.md"), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 20 and result.failed == 0


@pytest.mark.slow
def test_sphinx_builds_without_warnings(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module)
    source = tmp_path / "docs"          # autosummary writes its stubs into the source tree
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "generated",
                                                                "api.rst"))
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                           "html", str(source), str(tmp_path / "html")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    html = tmp_path / "html"
    for page in ("index", "api", "tutorial", "math"):
        assert (html / f"{page}.html").exists()
    basins = (html / "generated" / "dynsys.basins.html").read_text()
    assert "Parameters" in basins and "lr_range" in basins
