"""The ``dynsys`` command line: each subcommand computes a dataset, writes it, can plot it.

Errors are one readable line on stderr and exit code 2 (no traceback).
"""

from ._main import console, main

__all__ = ["main", "console"]
