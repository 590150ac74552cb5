"""Option parsing shared by the subcommands of ``dynsys``: value parsers, option groups, errors."""

from __future__ import annotations

import argparse
import pathlib

from .. import maps
from .._range import geomspace, linspace
from ..models import QuadraticRegression2D
from ..systems import Map


class CLIError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (and exit code 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# -- value parsers ------------------------------------------------------------------------
def parse_range(text: str):
    """Return ``dynsys.linspace(start, stop, num)`` from ``"start:stop:num"``,
    ``dynsys.geomspace(...)`` from ``"start:stop:num:log"``, or a list from ``"a,b,c"``."""
    try:
        if ":" in text:
            parts = text.split(":")
            if len(parts) == 4 and parts[3].strip().lower() in ("log", "geom"):
                return geomspace(float(parts[0]), float(parts[1]), int(parts[2]))
            start, stop, num = parts
            return linspace(float(start), float(stop), int(num))
        return [float(v) for v in text.split(",") if v.strip()]
    except (ValueError, TypeError) as exc:
        raise argparse.ArgumentTypeError(
            f"expected start:stop:num, start:stop:num:log or a comma-separated list, got "
            f"{text!r} ({exc})") from None


def parse_interval(text: str) -> tuple[float, float]:
    """Return ``(lo, hi)`` from ``"lo:hi"``."""
    try:
        lo, hi = text.split(":")
        return (float(lo), float(hi))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected lo:hi, got {text!r}") from None


def parse_floats(text: str) -> list[float]:
    """Return a list of floats from ``"a,b"``."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def parse_grid(text: str) -> tuple[int, int]:
    """Return ``(n1, n2)`` from ``"N"`` or ``"N1xN2"``."""
    try:
        parts = text.lower().split("x")
        if len(parts) == 1:
            return (int(parts[0]), int(parts[0]))
        n1, n2 = parts
        return (int(n1), int(n2))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or N1xN2, got {text!r}") from None


def parse_param(text: str) -> tuple[str, float]:
    """Return ``(name, value)`` from ``"name=value"``."""
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected name=value, got {text!r}") from None


# -- defaults that fit the chosen system -------------------------------------------------------
#: Step sizes swept by default for the 2-D model (the edge of stability lr lambda = 2 inside).
MODEL_LR = {"basins": (0.5, 2.0, 4), "bifurcation": (0.5, 2.5, 400)}
#: The default start of the 2-D model (on the theta_2-dominated side, as in the papers).
MODEL_X0 = (0.3, 7.0)


def default_sweep(system, param, command: str):
    """Return the default swept values of ``command`` for ``system``: for a map, ``num``
    values over its ``default_range(param)`` hook; for the 2-D model, :data:`MODEL_LR`."""
    lo, hi, num = MODEL_LR[command]
    if isinstance(system, Map) and getattr(system, "model", None) is None:
        hook = getattr(system, "default_range", None)
        if hook is None:
            raise CLIError(f"give --lr: map {system.name!r} has no default range for {param!r}")
        lo, hi = hook(param)
    return linspace(lo, hi, num)


def default_start(system) -> list[float]:
    """Return the default start: :data:`MODEL_X0` for the 2-D model, else the point 0.3 of the
    way along each side of the map's ``default_box`` (0 where it has none)."""
    if not isinstance(system, Map):
        return list(MODEL_X0)
    hook = getattr(system, "default_box", None)
    if hook is None:
        return [0.0] * system.dim
    return [lo + 0.3 * (hi - lo) for lo, hi in hook(None)]


# -- shared options -----------------------------------------------------------------------
MAP_NAMES = ("logistic", "henon", "linear")   # extended at run time from dynsys.maps.__all__


def add_system_options(parser: argparse.ArgumentParser, *, maps: bool = True) -> None:
    group = parser.add_argument_group("system (default: the 2-D model of Agarwala et al.)")
    group.add_argument("--eps", type=float, default=0.05,
                       help="eps of the 2-D model, Q = diag(1, -eps) (default 0.05)")
    group.add_argument("--target", type=float, default=0.0, help="target E (default 0)")
    if maps:
        group.add_argument("--map", default=None, metavar="NAME",
                           help="use a built-in map instead (see dynsys.maps: logistic, henon, "
                                "...); set its parameters with --param")
        group.add_argument("--param", type=parse_param, action="append", default=[],
                           metavar="NAME=VALUE", help="a parameter of the built-in map")


def system_from_args(args):
    """Return the Map or Model the options name."""
    name = getattr(args, "map", None)
    if name is None:
        return QuadraticRegression2D(args.eps, args.target)
    available = [n for n in maps.__all__ if n != "linear"]
    if name not in available:
        raise CLIError(f"unknown map {name!r}; built-in maps are {available}")
    return getattr(maps, name)(**dict(args.param))


def add_output_options(parser: argparse.ArgumentParser, default_name: str, *,
                       plot: bool = True) -> None:
    group = parser.add_argument_group("output")
    group.add_argument("-o", "--output", type=pathlib.Path,
                       default=pathlib.Path("data") / default_name,
                       help=f"dataset path, .nc or .zarr (default data/{default_name})")
    if plot:     # only subcommands that have a figure offer --plot
        group.add_argument("--plot", type=pathlib.Path, default=None, metavar="PATH.png",
                           help="also draw the figure to this file")
    else:
        parser.set_defaults(plot=None)
