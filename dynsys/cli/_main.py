"""The ``dynsys`` command: the parser of every subcommand, and dispatch."""

from __future__ import annotations

import argparse
import sys

from .._version import __version__
from . import _commands
from ._options import CLIError, Parser


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="dynsys",
        description="Gradient descent as a discrete dynamical system. Every subcommand writes "
                    "a labelled dataset (netCDF or Zarr) and can draw its figure.")
    parser.add_argument("--version", action="version", version=f"dynsys {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in _commands.REGISTRY:
        register(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit code (0 ok, 2 on any error: one line on stderr,
    no traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        summary = args.run(args)
    except Exception as exc:             # every error is one line (Ctrl-C still interrupts)
        kind = type(exc)
        known = isinstance(exc, CLIError | ValueError | TypeError | OSError) and (
            kind.__module__ == "builtins" or kind.__module__.startswith("dynsys"))
        message = " ".join(str(exc).split()) or "no message"
        if not known:                    # MemoryError, LinAlgError, ...: say which
            message = f"{type(exc).__name__}: {message}"
        print(f"dynsys {args.command}: error: {message}", file=sys.stderr)
        return 2
    if summary:
        print(summary)
    return 0


def console() -> None:
    """Entry point of the ``dynsys`` console script."""
    sys.exit(main())
