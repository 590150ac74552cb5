"""The package's layering: relative imports only, no private names across subpackages, and no
cycles between subpackages.

The root's private modules (``dynsys/_labels.py``, ``_outcomes.py``, ``_stopping.py``, ...) are
the bottom layer every subpackage may use; a subpackage (``dynsys/basins``, ``dynsys/eos``, ...)
is used by others only through the names its ``__init__`` exports.
"""

from __future__ import annotations

import ast
import pathlib

import networkx as nx
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "dynsys"
SUBPACKAGES = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
MODULES = sorted(ROOT.rglob("*.py"))


def imports(path: pathlib.Path):
    """Yield ``(lineno, parts, name)`` for every import in the module at ``path``: ``parts`` is
    the imported module as a path inside the package (``["systems", "_map"]``), ``name`` the
    name taken from it (None for ``import x``); absolute imports of dynsys give ``parts = None``."""
    rel = path.relative_to(ROOT).with_suffix("")
    package = list(rel.parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "dynsys":
                    yield node.lineno, None, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if (node.module or "").split(".")[0] == "dynsys":
                    yield node.lineno, None, node.module
                continue
            base = package[:len(package) - (node.level - 1)]
            module = base + (node.module.split(".") if node.module else [])
            for alias in node.names:
                yield node.lineno, module, alias.name


def subpackage_of(path: pathlib.Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else None


def violations(path: pathlib.Path) -> list[str]:
    here = subpackage_of(path)
    found = []
    for lineno, module, name in imports(path):
        where = f"{path.relative_to(ROOT.parent)}:{lineno}"
        if module is None:
            found.append(f"{where}: absolute import of {name} (import relatively)")
            continue
        target = module if module else [name]
        if not target or target[0] not in SUBPACKAGES or target[0] == here:
            continue
        inner = module[1:] if module else []
        private = [p for p in inner if p.startswith("_")]
        if private or (name.startswith("_") and not name.startswith("__")):
            found.append(f"{where}: private {'.'.join(module)}.{name} of subpackage {target[0]!r} "
                         f"(export it from dynsys/{target[0]}/__init__.py)")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_imports_and_no_private_names_across_subpackages(path):
    assert violations(path) == []


def test_the_checker_finds_what_it_forbids(tmp_path, monkeypatch):
    # the rule itself, on a fake package: each forbidden form is reported, the allowed ones not
    pkg = tmp_path / "dynsys"
    for sub in ("alpha", "beta"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    bad = pkg / "alpha" / "_mod.py"
    bad.write_text("import dynsys\nfrom dynsys.beta import x\nfrom ..beta._impl import y\n"
                   "from ..beta import _z\nfrom ..beta import ok\nfrom .._labels import fine\n"
                   "from ._sibling import also_fine\n")
    monkeypatch.setitem(globals(), "ROOT", pkg)
    monkeypatch.setitem(globals(), "SUBPACKAGES", {"alpha", "beta"})
    lines = [v.split(":")[1] for v in violations(bad)]
    assert lines == ["1", "2", "3", "4"]


def test_subpackages_form_layers_without_cycles():
    graph = nx.DiGraph()
    for path in MODULES:
        here = subpackage_of(path)
        if here is None:
            continue
        for _, module, name in imports(path):
            target = (module or [name])[0] if module is not None else None
            if target in SUBPACKAGES and target != here:
                graph.add_edge(here, target)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles between subpackages: {cycles}"
    # the bottom layers know nothing of the analyses above them
    above = {"eos", "basins", "bifurcation", "orbits", "studies", "cli", "plot", "networks"}
    for low in ("systems", "models", "rigorous"):
        assert low in SUBPACKAGES
        below = nx.descendants(graph, low) if low in graph else set()
        assert not above & below, f"{low} imports {sorted(above & below)}"
    assert "systems" not in graph or not nx.descendants(graph, "systems")
