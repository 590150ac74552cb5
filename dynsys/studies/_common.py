"""Shared command line of the analysis scripts: ``--quick`` and ``--out DIR``."""

from __future__ import annotations

import argparse
import pathlib


def parse_args(doc: str, argv=None, *, quick_help: str = "small resolution (for tests)"):
    """Return the parsed ``--quick`` / ``--out`` options of an analysis script."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"),
                        help="directory for the dataset and figure (default data)")
    return parser.parse_args(argv)
