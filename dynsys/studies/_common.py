"""What the studies share: the command line (``--quick``, ``--out DIR``), the JAX check of the
network studies and their two-panel figure (an EoS quantity above, the training loss below)."""

from __future__ import annotations

import argparse
import importlib
import pathlib

from ..plot import style


def parse_args(doc: str, argv=None, *, quick_help: str = "small resolution (for tests)"):
    """Return the parsed ``--quick`` / ``--out`` options of an analysis script."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"),
                        help="directory for the dataset and figure (default data)")
    return parser.parse_args(argv)


def jax_missing(study: str) -> bool:
    """Return True (after saying so) when JAX is not installed, so that ``study`` is skipped."""
    try:
        importlib.import_module("jax")
    except ImportError:
        print(f'{study} skipped: JAX is not installed (pip install "dynsys[jax]")')
        return True
    return False


def quantity_and_loss_axes(loss_label: str = "training loss"):
    """Return ``(figure, top, bottom)``: two stacked Axes sharing the step axis, one paper
    column wide, the bottom one set up for the training loss (log scale)."""
    fig, (top, bottom) = style.new_axes(None, 2, 1, columns=1, aspect=0.55, sharex=True)
    bottom.set_yscale("log")
    bottom.set_ylabel(loss_label)
    bottom.set_xlabel(style.tex("step"))
    return fig, top, bottom


def finish_figure(fig, path) -> None:
    """Save ``fig`` to ``path`` and close it."""
    style.finish(fig, path)
    style.pyplot().close(fig)
