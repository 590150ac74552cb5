"""Sphinx configuration: the API reference from the NumPy-style docstrings (numpydoc), the
tutorial and the mathematical reference (MyST markdown). Built with warnings as errors by
``tests/test_docs.py`` (``python -m sphinx -W -b html docs docs/_build/html``)."""

from __future__ import annotations

import dynsys

project = "dynsys"
author = "The dynsys developers"
copyright = "2026, The dynsys developers"
release = version = dynsys.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build"]
root_doc = "index"

autosummary_generate = True
autodoc_default_options = {"members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
myst_heading_anchors = 3

html_theme = "alabaster"
html_static_path: list[str] = []


def _write_api_page(srcdir) -> None:
    """Write ``api.rst`` from ``dynsys.__all__`` and ``dynsys.plot.__all__`` (so the reference
    lists exactly the public names, whatever the package exports today)."""
    import inspect
    import pathlib

    def table(module, names, title):
        rows = [title, "-" * len(title), "", f".. currentmodule:: {module.__name__}", "",
                ".. autosummary::", "   :toctree: generated", ""]
        rows += [f"   {n}" for n in names]
        return rows + [""]

    public = [n for n in dynsys.__all__ if not n.startswith("_")]
    kinds = {"Classes": [], "Functions": []}
    for name in public:
        obj = getattr(dynsys, name)
        if inspect.isclass(obj):
            kinds["Classes"].append(name)
        elif callable(obj):
            kinds["Functions"].append(name)
    lines = ["API reference", "=============", "",
             "Every public name of :mod:`dynsys`, from its docstring.", ""]
    lines += table(dynsys, kinds["Functions"], "Analyses and storage")
    lines += table(dynsys, kinds["Classes"], "Systems, models and results")
    maps = [n for n in getattr(dynsys.maps, "__all__", []) if callable(getattr(dynsys.maps, n))]
    if maps:
        lines += table(dynsys.maps, maps, "Built-in maps (dynsys.maps)")
    plots = [n for n in getattr(dynsys.plot, "__all__", []) if callable(getattr(dynsys.plot, n))]
    lines += table(dynsys.plot, plots, "Figures (dynsys.plot)")
    import dynsys.plot.style as style
    lines += table(style, style.__all__, "Figure style for your own figures (dynsys.plot.style)")
    path = pathlib.Path(srcdir) / "api.rst"
    text = "\n".join(lines)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


# before autosummary reads the sources (it generates the stubs at builder-inited)
_write_api_page(__import__("pathlib").Path(__file__).resolve().parent)
