"""docs/math.md points at code and tests that exist: every module path, test file and test
function it cites is there (so the reference cannot silently drift from the code)."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
TEXT = (ROOT / "docs" / "math.md").read_text()


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        names.update(re.findall(r"^\s*def (test_\w+)", path.read_text(), flags=re.M))
    return names


def test_cited_paths_exist():
    paths = set(re.findall(r"`((?:dynsys|tests)/[\w/.]+?)(?:::\w+)?`", TEXT))
    assert len(paths) > 20
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert not missing, missing


def test_cited_tests_exist():
    cited = set(re.findall(r"\b(test_\w+)`", TEXT))
    assert len(cited) > 25
    missing = sorted(cited - _test_names())
    assert not missing, missing


def test_cited_functions_are_public_api():
    import dynsys

    cited = set(re.findall(r"`dynsys\.(\w+)`", TEXT))
    assert {"basins", "offset_formula", "fit_offset", "eos_region"} <= cited
    assert not [name for name in cited if not hasattr(dynsys, name)]
