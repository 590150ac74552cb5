"""Argument parsing and dispatch for the ``dynsys`` command."""

from __future__ import annotations

import argparse
import pathlib
import sys

from .. import __version__


def parse_range(text: str) -> tuple[float, float, int] | list[float]:
    """Return ``(start, stop, num)`` from ``"start:stop:num"``, or a list from ``"a,b,c"``."""
    try:
        if ":" in text:
            start, stop, num = text.split(":")
            return (float(start), float(stop), int(num))
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected start:stop:num or a comma-separated list, got {text!r}") from None


def parse_floats(text: str) -> list[float]:
    """Return a list of floats from ``"a,b"``."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--eps", type=float, default=0.05,
                        help="eps of the 2-D model, Q = diag(1, -eps) (default 0.05)")
    parser.add_argument("--target", type=float, default=0.0, help="target E (default 0)")


def add_output_options(parser: argparse.ArgumentParser, default_name: str) -> None:
    parser.add_argument("-o", "--output", type=pathlib.Path,
                        default=pathlib.Path("data") / default_name,
                        help=f"where to write the dataset (.nc or .zarr; default data/{default_name})")
    parser.add_argument("--plot", type=pathlib.Path, default=None, metavar="PATH.png",
                        help="also draw the figure to this file")


def _cmd_trajectory(args) -> str:
    import dynsys

    model = dynsys.QuadraticRegression2D(args.eps, args.target)
    ds = dynsys.trajectory(model, args.x0, lr=args.lr, steps=args.steps)
    dynsys.save(ds, args.output)
    if args.plot:
        dynsys.plot.trajectory(ds, path=args.plot)
    lam = float(ds.ntk_eigenvalue[-1])
    status = "diverged" if int(ds.status) else "bounded"
    return (f"trajectory of the 2-D model (eps={args.eps:g}, E={args.target:g}), lr={args.lr:g}, "
            f"{args.steps} steps: {status}; final loss {float(ds.loss[-1]):.3e}, "
            f"lr x lambda = {args.lr * lam:.6f}\nwrote {args.output}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dynsys", description="Gradient descent as a discrete dynamical system.")
    parser.add_argument("--version", action="version", version=f"dynsys {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("trajectory", help="GD trajectory of the 2-D model",
                       description="Run GD on the 2-D model from one start; write the orbit.")
    add_model_options(p)
    p.add_argument("--lr", type=float, required=True, help="step size")
    p.add_argument("--x0", type=parse_floats, default=[0.3, 7.0], help="start, e.g. 0.3,7")
    p.add_argument("--steps", type=int, default=10_000)
    add_output_options(p, "trajectory.nc")
    p.set_defaults(run=_cmd_trajectory)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit code (0 ok, 2 on bad input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        summary = args.run(args)
    except (ValueError, TypeError, FileNotFoundError, OSError) as exc:
        print(f"dynsys {args.command}: error: {exc}", file=sys.stderr)
        return 2
    print(summary)
    return 0


def console() -> None:
    """Entry point of the ``dynsys`` console script."""
    sys.exit(main())
