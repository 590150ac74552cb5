"""The subcommands: each registers its parser and runs one analysis, returning a summary."""

from __future__ import annotations

import pathlib
import time

import numpy as np

from .. import plot
from .._io import save
from .._outcomes import Outcome
from ..basins import basins
from ..bifurcation import bifurcation_diagram
from ..eos import eos_region
from ..models import Model, QuadraticRegression2D, gd_map
from ..orbits import fixed_points, lyapunov_spectrum, periodic_orbits, trajectory
from ..systems import Map

from ._options import (CLIError, add_output_options, add_system_options, parse_floats, parse_grid,
                    parse_interval, parse_range, system_from_args)


def _save_and_plot(ds, args, plot_fn=None) -> str:
    path = save(ds, args.output, overwrite=True)   # the output the user named
    lines = [f"wrote {path}"]
    if args.plot is not None:
        if plot_fn is None:
            raise CLIError("this subcommand has no figure")
        plot_fn(ds, path=args.plot)
        lines.append(f"wrote {args.plot}")
    return "\n".join(lines)


def _progress(args):
    """Return the ``progress`` argument: a tqdm bar (``True``) unless ``--quiet`` (``False``:
    the CLI always shows progress; the library only for runs longer than a few seconds)."""
    return False if getattr(args, "quiet", False) else True


# -- trajectory ---------------------------------------------------------------------------
def _trajectory(args) -> str:
    system = system_from_args(args)
    is_model = isinstance(system, Model)
    ds = trajectory(system, args.x0, lr=args.lr if is_model else None, steps=args.steps)
    status = Outcome(int(ds.outcome)).name.lower()
    head = f"trajectory of {ds.attrs['system']} ({ds.attrs['system_params']}), {args.steps} steps: {status}"
    if is_model:
        top = ds.ntk_eigenvalue if "ntk_eigenvalue" in ds else ds.sharpness
        head += (f"\n  final loss {float(ds.loss[-1]):.3e}, lr x top eigenvalue "
                 f"{args.lr * float(top[-1]):.6f} (edge of stability at 2)")
    draw = (lambda d, path: plot.trajectory(d, system=system, path=path)) if is_model else None
    return head + "\n" + _save_and_plot(ds, args, draw)


def register_trajectory(sub):
    p = sub.add_parser("trajectory", help="one orbit (GD on the 2-D model, or a built-in map)",
                       description="Iterate from one start; write the orbit with loss and "
                                   "sharpness (models).")
    add_system_options(p)
    p.add_argument("--lr", type=float, default=1.0, help="step size (models; default 1)")
    p.add_argument("--x0", type=parse_floats, default=[0.3, 7.0], help="start, e.g. 0.3,7")
    p.add_argument("--steps", type=int, default=10_000, help="iterations (default 10000)")
    add_output_options(p, "trajectory.nc")
    p.set_defaults(run=_trajectory)


# -- basins -------------------------------------------------------------------------------
def _basins(args) -> str:
    system = system_from_args(args)
    n1, n2 = args.grid
    dim = system.dim
    grid = ((*args.range1, n1),) if dim == 1 else ((*args.range1, n1), (*args.range2, n2))
    kwargs = dict(grid=grid, steps=args.steps, progress=_progress(args))
    if args.store is not None:
        kwargs["store"] = str(args.store)
    if isinstance(system, Map):
        if not args.sweep:
            raise CLIError("--sweep NAME is required for a map (the parameter to vary)")
        kwargs["param"] = args.sweep
    start = time.perf_counter()
    ds = basins(system, args.lr, **kwargs)
    elapsed = time.perf_counter() - start
    outcome = ds.outcome
    meanings = str(outcome.attrs["flag_meanings"]).split()
    values = np.atleast_1d(outcome.attrs["flag_values"])
    counts = ", ".join(f"{m} {100 * float((outcome == v).mean()):.1f}%"
                       for v, m in zip(values, meanings, strict=True))
    sweep = [d for d in ds.outcome.dims if d not in ("theta_1", "theta_2", "x_1", "x_2")][0]
    starts = f"{n1}" if dim == 1 else f"{n1} x {n2}"
    head = (f"basins of {ds.attrs.get('system')} over {ds.sizes[sweep]} value(s) of {sweep} "
            f"x {starts} starts, {args.steps} steps max, in {elapsed:.1f} s\n  {counts}")
    return head + "\n" + _save_and_plot(ds, args, plot.basins)


def register_basins(sub):
    p = sub.add_parser("basins", help="basins of attraction over starts and step sizes",
                       description="Classify a grid of starts for each step size (or map "
                                   "parameter): converged, periodic, chaotic, diverged.")
    add_system_options(p)
    p.add_argument("--lr", type=parse_range, default=(0.5, 2.0, 4), metavar="START:STOP:NUM",
                   help="step sizes (or values of --sweep for maps), e.g. 0.5:2:4 or 0.5,1")
    p.add_argument("--sweep", default=None, metavar="NAME", help="map parameter to vary (maps)")
    p.add_argument("--grid", type=parse_grid, default=(256, 256), metavar="N|N1xN2",
                   help="grid of starts (default 256)")
    p.add_argument("--range1", type=parse_interval, default=(-3.0, 3.0), metavar="LO:HI",
                   help="range of the first start coordinate (default -3:3; write --range1=-3:3)")
    p.add_argument("--range2", type=parse_interval, default=(-12.0, 12.0), metavar="LO:HI",
                   help="range of the second start coordinate (default -12:12; write --range2=-12:12)")
    p.add_argument("--steps", type=int, default=20_000, help="max iterations (default 20000)")
    p.add_argument("--store", type=pathlib.Path, default=None, metavar="PATH.zarr",
                   help="write chunks as they finish; re-running resumes")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_options(p, "basins.nc")
    p.set_defaults(run=_basins)


# -- bifurcation --------------------------------------------------------------------------
def _bifurcation(args) -> str:
    system = system_from_args(args)
    kwargs = dict(x0=args.x0, steps=args.steps, keep=args.keep)
    if isinstance(system, Map):
        if not args.sweep:
            raise CLIError("--sweep NAME is required for a map (the parameter to vary)")
        kwargs["param"] = args.sweep
    ds = bifurcation_diagram(system, args.lr, **kwargs)
    sweep = [d for d in ds.dims if d != "sample" and d != "param"][0]
    head = (f"orbit diagram of {ds.attrs.get('system')}: {ds.sizes[sweep]} value(s) of {sweep}, "
            f"{args.steps} steps, last {args.keep} kept")
    return head + "\n" + _save_and_plot(ds, args, lambda d, path: plot.bifurcation(
        d, path=path))


def register_bifurcation(sub):
    p = sub.add_parser("bifurcation", help="orbit diagram against the step size",
                       description="The last --keep iterates after --steps, for each step size.")
    add_system_options(p)
    p.add_argument("--lr", type=parse_range, default=(0.5, 2.5, 400), metavar="START:STOP:NUM",
                   help="step sizes (or values of --sweep for maps)")
    p.add_argument("--sweep", default=None, metavar="NAME", help="map parameter to vary (maps)")
    p.add_argument("--x0", type=parse_floats, default=[0.3, 7.0], help="start, e.g. 0.3,7")
    p.add_argument("--steps", type=int, default=10_000)
    p.add_argument("--keep", type=int, default=64, help="iterates kept per value (default 64)")
    add_output_options(p, "bifurcation.nc")
    p.set_defaults(run=_bifurcation)


# -- orbits -------------------------------------------------------------------------------
def _orbits(args) -> str:
    system = system_from_args(args)
    mapping = gd_map(system, args.lr) if isinstance(system, Model) else system
    bounds = [tuple(b) for b in args.bounds] if args.bounds else None
    if bounds is None:
        raise CLIError("--bounds is required, e.g. --bounds=-3:3 --bounds=-12:12")
    if len(bounds) != mapping.dim:
        raise CLIError(f"--bounds given {len(bounds)} time(s); the system has dimension "
                       f"{mapping.dim}")
    if args.period == 1:
        ds = fixed_points(mapping, bounds=bounds)
        size = ds.sizes.get("point", 0)
        what = f"{size} fixed point(s)"
    else:
        ds = periodic_orbits(mapping, args.period, bounds=bounds)
        size = ds.sizes.get("orbit", 0)
        what = f"{size} orbit(s) of period dividing {args.period}"
    stable = int(np.asarray(ds.stable).any(axis=tuple(range(1, ds.stable.ndim))).sum()) \
        if size else 0
    head = f"{mapping.name}: {what}, {stable} stable"
    return head + "\n" + _save_and_plot(ds, args, plot.orbits)


def register_orbits(sub):
    p = sub.add_parser("orbits", help="fixed points and periodic orbits in a box",
                       description="All fixed points (--period 1) or periodic orbits in a box, "
                                   "with multipliers and stability.")
    add_system_options(p)
    p.add_argument("--lr", type=float, default=1.0, help="step size (models; default 1)")
    p.add_argument("--period", type=int, default=1, help="period (default 1: fixed points)")
    p.add_argument("--bounds", type=parse_interval, action="append", metavar="LO:HI",
                   help="box, once per dimension, e.g. --bounds=-3:3 (write = before a negative value)")
    add_output_options(p, "orbits.nc")
    p.set_defaults(run=_orbits)


# -- lyapunov -----------------------------------------------------------------------------
def _lyapunov(args) -> str:
    system = system_from_args(args)
    mapping = gd_map(system, args.lr) if isinstance(system, Model) else system
    da = lyapunov_spectrum(mapping, args.x0, steps=args.steps, transient=args.transient)
    values = ", ".join(f"{v:.6f}" for v in np.asarray(da))
    head = f"Lyapunov spectrum of {mapping.name} from {args.x0}: ({values})"
    return head + "\n" + _save_and_plot(da, args)


def register_lyapunov(sub):
    p = sub.add_parser("lyapunov", help="Lyapunov spectrum of an orbit",
                       description="All Lyapunov exponents (QR method) with standard errors.")
    add_system_options(p)
    p.add_argument("--lr", type=float, default=1.0, help="step size (models; default 1)")
    p.add_argument("--x0", type=parse_floats, required=True, help="start, e.g. 0.1,0.1")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--transient", type=int, default=1_000)
    add_output_options(p, "lyapunov.nc", plot=False)
    p.set_defaults(run=_lyapunov)


# -- eos ----------------------------------------------------------------------------------
def _eos(args) -> str:
    model = QuadraticRegression2D(args.eps, args.target)
    kwargs = {"progress": _progress(args)}
    if args.delta is not None:
        kwargs["delta"] = args.delta
    if args.lr is not None:
        kwargs["lr_range"] = args.lr
    if args.grid is not None:
        from .._validate import value_range
        from ..eos._region import _default_grid

        lrs = value_range("--lr", kwargs.get("lr_range", (0.5, 2.0, 16)), positive=True)
        (lo1, hi1, _), (lo2, hi2, _) = _default_grid(model, lrs)
        kwargs["grid"] = ((lo1, hi1, args.grid[0]), (lo2, hi2, args.grid[1]))
    if getattr(args, "prove", False):
        kwargs["prove"] = True
    region = eos_region(model, **kwargs)
    head = f"edge-of-stability region of the 2-D model (eps={args.eps:g}, E={args.target:g}):\n" \
           f"  {region.summary()}"
    return head + "\n" + _save_and_plot(region.dataset, args,
                                        lambda d, path: plot.eos_region(region, path=path))


def register_eos(sub):
    p = sub.add_parser("eos", help="the region U x [eta_1, eta_2] of Theorem 1",
                       description="Largest box U of starts and interval of step sizes on which "
                                   "GD converges to the edge of stability; with --prove, proved "
                                   "for every start and step size (certify_region).")
    add_system_options(p, maps=False)
    p.add_argument("--lr", type=parse_range, default=None, metavar="START:STOP:NUM",
                   help="step sizes to scan")
    p.add_argument("--grid", type=parse_grid, default=None, metavar="N|N1xN2")
    p.add_argument("--delta", type=float, default=None, help="tolerance below 2/lr")
    p.add_argument("--prove", action="store_true",
                   help="prove the region (interval enclosures); shrink it until proved")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_options(p, "eos_region.nc")
    p.set_defaults(run=_eos)


# -- reproduce ----------------------------------------------------------------------------
def _reproduce(args) -> str:
    from ..studies._reproduce import run_studies, summary_table

    def echo(line):
        print(line, flush=True)

    start = time.perf_counter()
    try:
        runs = run_studies(args.only, args.out, quick=args.quick, jobs=args.jobs, echo=echo)
    except ValueError as exc:
        raise CLIError(str(exc).replace("unknown study", "unknown analysis")) from None
    for run in runs:
        if run.ok and run.stdout.strip():
            print(f"{run.name}:\n" + "\n".join("  " + line
                                                for line in run.stdout.rstrip().splitlines()))
    table = summary_table(runs, time.perf_counter() - start)
    failed = [r for r in runs if not r.ok]
    if failed:
        print(table, flush=True)
        raise CLIError("; ".join(f"analysis {r.name} failed: {r.error}" for r in failed))
    return "reproduced into " + str(args.out) + ":\n" + table


def register_reproduce(sub):
    p = sub.add_parser("reproduce", help="run every study (the papers' results)",
                       description="Run the studies shipped in dynsys.studies, in parallel "
                                   "processes, each writing its dataset and figure to --out.")
    p.add_argument("--quick", action="store_true", help="small resolution (seconds)")
    p.add_argument("--out", type=pathlib.Path, default=pathlib.Path("data"))
    p.add_argument("--only", action="append", metavar="NAME", help="run only these studies")
    p.add_argument("--jobs", type=int, default=None,
                   help="studies run at once (default: the number of cores)")
    p.set_defaults(run=_reproduce, output=None)


REGISTRY = [register_trajectory, register_basins, register_bifurcation, register_orbits,
            register_lyapunov, register_eos, register_reproduce]
