"""The subcommands: each registers its parser and runs one analysis, returning a summary."""

from __future__ import annotations

import argparse

import pathlib
import time

import numpy as np

from .. import plot
import inspect

from .._io import save
from .._stopping import StoppingRule
from .._validate import value_range
from .._outcomes import Outcome
from ..basins import basins, default_grid
from ..bifurcation import bifurcation_diagram
from ..eos import eos_region
from ..models import Model, QuadraticRegression2D, gd_map
from ..orbits import (fixed_points, lyapunov_convergence, lyapunov_spectrum, periodic_orbits,
                      trajectory)
from ..systems import Map

from ._options import (CLIError, add_output_options, add_system_options, default_start,
                       default_sweep, parse_floats, parse_grid, parse_interval, parse_range,
                       system_from_args)


def library_default(func, name: str):
    """Return the default of argument ``name`` of the library function ``func`` (the CLI's
    defaults are read from the library, so that they cannot drift apart)."""
    return inspect.signature(func).parameters[name].default


def _no_figure(args, why: str = "this subcommand has no figure") -> None:
    """Refuse ``--plot`` before anything is computed or written when there is no figure."""
    if getattr(args, "plot", None) is not None:
        raise CLIError(f"--plot: {why}; nothing was computed or written")


def _map_of(args, system):
    """Return the map a single-step-size subcommand iterates: GD at ``--lr`` (default 1) for a
    model; for a map the map itself, with ``--lr`` setting its ``lr`` parameter (an error for a
    map that has none, rather than ignoring it)."""
    if isinstance(system, Model):
        return gd_map(system, 1.0 if args.lr is None else args.lr)
    if args.lr is not None:
        if "lr" not in system.params:
            raise CLIError(f"--lr applies to models (gradient descent) and maps with an lr "
                           f"parameter; map {system.name!r} has parameters "
                           f"{list(system.params)} (set them with --param NAME=VALUE)")
        return system.with_params(lr=args.lr)
    return system


def _save_and_plot(ds, args, plot_fn=None) -> str:
    if plot_fn is None:
        _no_figure(args)
    path = save(ds, args.output, overwrite=True)   # the output the user named
    lines = [f"wrote {path}"]
    if args.plot is not None:
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
    if not is_model:
        _no_figure(args, "trajectory figures are drawn for models (loss and sharpness)")
    x0 = args.x0 if args.x0 is not None else default_start(system)
    lr = (1.0 if args.lr is None else args.lr) if is_model else None
    ds = trajectory(_map_of(args, system) if not is_model else system, x0, lr=lr,
                    steps=args.steps)
    status = Outcome(int(ds.outcome)).name.lower()
    head = f"trajectory of {ds.attrs['system']} ({ds.attrs['system_params']}), {args.steps} steps: {status}"
    if is_model:
        top = ds.ntk_eigenvalue if "ntk_eigenvalue" in ds else ds.sharpness
        head += (f"\n  final loss {float(ds.loss[-1]):.3e}, lr x top eigenvalue "
                 f"{lr * float(top[-1]):.6f} (edge of stability at 2)")
    draw = (lambda d, path: plot.trajectory(d, system=system, path=path)) if is_model else None
    return head + "\n" + _save_and_plot(ds, args, draw)


def register_trajectory(sub):
    p = sub.add_parser("trajectory", help="one orbit (GD on the 2-D model, or a built-in map)",
                       description="Iterate from one start; write the orbit with loss and "
                                   "sharpness (models).")
    add_system_options(p)
    p.add_argument("--lr", type=float, default=None,
                   help="step size (models, default 1; maps with an lr parameter)")
    p.add_argument("--x0", type=parse_floats, default=None,
                   help="start, e.g. 0.3,7 (default 0.3,7 for the 2-D model; for a map 0.3 of "
                        "the way along each side of its default box)")
    p.add_argument("--steps", type=int, default=10_000, help="iterations (default 10000)")
    add_output_options(p, "trajectory.nc")
    p.set_defaults(run=_trajectory)


# -- basins -------------------------------------------------------------------------------
def _basins(args) -> str:
    system = system_from_args(args)
    n1, n2 = args.grid
    dim = system.dim
    kwargs = dict(steps=args.steps, progress=_progress(args))
    if args.store is not None:
        kwargs["store"] = str(args.store)
    if isinstance(system, Map):
        if not args.sweep:
            raise CLIError("--sweep NAME is required for a map (the parameter to vary)")
        kwargs["param"] = args.sweep
    lrs = args.lr if args.lr is not None else default_sweep(system, args.sweep, "basins")
    # the library's default grid (the system's default box) unless ranges are given
    box = [(lo, hi) for lo, hi, _ in
           default_grid(system, dim, value_range("--lr", lrs, positive=not isinstance(
               system, Map)))]
    ranges = [args.range1 or box[0]] + ([args.range2 or box[1]] if dim > 1 else [])
    kwargs["grid"] = tuple((*r, n) for r, n in zip(ranges, (n1, n2)))
    start = time.perf_counter()
    ds = basins(system, lrs, **kwargs)
    elapsed = time.perf_counter() - start
    outcome = ds.outcome
    meanings = str(outcome.attrs["flag_meanings"]).split()
    values = np.atleast_1d(outcome.attrs["flag_values"])
    counts = ", ".join(f"{m} {100 * float((outcome == v).mean()):.1f}%"
                       for v, m in zip(values, meanings, strict=True))
    sweep = [d for d in ds.outcome.dims if d not in ("theta_1", "theta_2", "x_1", "x_2")][0]
    starts = f"{n1}" if dim == 1 else f"{n1} x {n2}"
    head = (f"basins of {ds.attrs.get('system')} over {ds.sizes[sweep]} value(s) of {sweep} "
            f"x {starts} starts, {ds.attrs['steps']} steps max, in {elapsed:.1f} s\n  {counts}")
    return head + "\n" + _save_and_plot(ds, args, plot.basins)


def register_basins(sub):
    p = sub.add_parser("basins", help="basins of attraction over starts and step sizes",
                       description="Classify a grid of starts for each step size (or map "
                                   "parameter): converged, periodic, chaotic, diverged.")
    add_system_options(p)
    p.add_argument("--lr", type=parse_range, default=None, metavar="START:STOP:NUM",
                   help="step sizes (or values of --sweep for maps), e.g. 0.5:2:4 or 0.5,1 "
                        "(default 0.5:2:4 for the 2-D model, 4 values over a map's default "
                        "range of --sweep)")
    p.add_argument("--sweep", default=None, metavar="NAME", help="map parameter to vary (maps)")
    n = library_default(default_grid, "n")
    p.add_argument("--grid", type=parse_grid, default=(n, n), metavar="N|N1xN2",
                   help=f"grid of starts (default {n}, as dynsys.basins)")
    p.add_argument("--range1", type=parse_interval, default=None, metavar="LO:HI",
                   help="range of the first start coordinate, e.g. --range1=-3:3 (default: "
                        "the system's default box, as dynsys.basins)")
    p.add_argument("--range2", type=parse_interval, default=None, metavar="LO:HI",
                   help="range of the second start coordinate (default: as --range1)")
    p.add_argument("--steps", type=int, default=StoppingRule().steps,
                   help=f"max iterations (default {StoppingRule().steps}, the library's "
                        f"StoppingRule)")
    p.add_argument("--store", type=pathlib.Path, default=None, metavar="PATH.zarr",
                   help="write chunks as they finish; re-running resumes")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_options(p, "basins.nc")
    p.set_defaults(run=_basins)


# -- bifurcation --------------------------------------------------------------------------
def _bifurcation(args) -> str:
    system = system_from_args(args)
    x0 = args.x0 if args.x0 is not None else default_start(system)
    kwargs = dict(x0=x0, steps=args.steps, keep=args.keep)
    if isinstance(system, Map):
        if not args.sweep:
            raise CLIError("--sweep NAME is required for a map (the parameter to vary)")
        kwargs["param"] = args.sweep
    lrs = args.lr if args.lr is not None else default_sweep(system, args.sweep, "bifurcation")
    ds = bifurcation_diagram(system, lrs, **kwargs)
    sweep = [d for d in ds.dims if d != "sample" and d != "component"][0]
    head = (f"orbit diagram of {ds.attrs.get('system')}: {ds.sizes[sweep]} value(s) of {sweep}, "
            f"{args.steps} steps, last {args.keep} kept")
    return head + "\n" + _save_and_plot(ds, args, lambda d, path: plot.bifurcation(
        d, path=path))


def register_bifurcation(sub):
    p = sub.add_parser("bifurcation", help="orbit diagram against the step size",
                       description="The last --keep iterates after --steps, for each step size.")
    add_system_options(p)
    p.add_argument("--lr", type=parse_range, default=None, metavar="START:STOP:NUM",
                   help="step sizes (or values of --sweep for maps; default 0.5:2.5:400 for "
                        "the 2-D model, 400 values over a map's default range of --sweep)")
    p.add_argument("--sweep", default=None, metavar="NAME", help="map parameter to vary (maps)")
    p.add_argument("--x0", type=parse_floats, default=None,
                   help="start, e.g. 0.3,7 (default as for trajectory)")
    steps = library_default(bifurcation_diagram, "steps")
    keep = library_default(bifurcation_diagram, "keep")
    p.add_argument("--steps", type=int, default=steps,
                   help=f"iterations (default {steps}, as dynsys.bifurcation_diagram)")
    p.add_argument("--keep", type=int, default=keep,
                   help=f"iterates kept per value (default {keep}, as "
                        f"dynsys.bifurcation_diagram)")
    add_output_options(p, "bifurcation.nc")
    p.set_defaults(run=_bifurcation)


# -- orbits -------------------------------------------------------------------------------
def _orbits(args) -> str:
    system = system_from_args(args)
    mapping = _map_of(args, system)
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
    p.add_argument("--lr", type=float, default=None,
                   help="step size (models, default 1; maps with an lr parameter)")
    p.add_argument("--period", type=int, default=1, help="period (default 1: fixed points)")
    p.add_argument("--bounds", type=parse_interval, action="append", metavar="LO:HI",
                   help="box, once per dimension, e.g. --bounds=-3:3 (write = before a negative value)")
    add_output_options(p, "orbits.nc")
    p.set_defaults(run=_orbits)


# -- lyapunov -----------------------------------------------------------------------------
def _lyapunov(args) -> str:
    system = system_from_args(args)
    mapping = _map_of(args, system)
    da = lyapunov_spectrum(mapping, args.x0, steps=args.steps, transient=args.transient)
    values = ", ".join(f"{v:.6f}" for v in np.asarray(da))
    head = f"Lyapunov spectrum of {mapping.name} from {args.x0}: ({values})"
    gone = int(da.attrs.get("diverged_at_step", -1))
    if gone >= 0 or not np.all(np.isfinite(np.asarray(da))):
        at = f" at step {gone}" if gone >= 0 else ""
        head += f"\n  the orbit diverged{at}: the exponents are undefined (NaN)"

    def draw(d, path):
        # the convergence trace: the same orbit again, its log |R_jj| summed per block
        trace = lyapunov_convergence(mapping, args.x0, steps=args.steps,
                                     transient=args.transient)
        return plot.lyapunov(trace, spectrum=d, path=path)
    return head + "\n" + _save_and_plot(da, args, draw)


def register_lyapunov(sub):
    p = sub.add_parser("lyapunov", help="Lyapunov spectrum of an orbit",
                       description="All Lyapunov exponents (QR method) with standard errors.")
    add_system_options(p)
    p.add_argument("--lr", type=float, default=None,
                   help="step size (models, default 1; maps with an lr parameter)")
    p.add_argument("--x0", type=parse_floats, required=True, help="start, e.g. 0.1,0.1")
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--transient", type=int, default=library_default(lyapunov_spectrum,
                                                                     "transient"))
    add_output_options(p, "lyapunov.nc")
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
        from ..eos import default_region_grid

        lrs = value_range("--lr", kwargs.get("lr_range", library_default(eos_region,
                                                                          "lr_range")),
                          positive=True)
        (lo1, hi1, _), (lo2, hi2, _) = default_region_grid(model, lrs)
        kwargs["grid"] = ((lo1, hi1, args.grid[0]), (lo2, hi2, args.grid[1]))
    kwargs["prove"] = bool(args.prove)
    region = eos_region(model, **kwargs)
    head = f"edge-of-stability region of the 2-D model (eps={args.eps:g}, E={args.target:g}):\n" \
           f"  {region.summary()}"
    return head + "\n" + _save_and_plot(region.dataset, args,
                                        lambda d, path: plot.eos_region(region, path=path))


def register_eos(sub):
    p = sub.add_parser("eos", help="the region U x [eta_1, eta_2] of Theorem 1",
                       description="Largest box U of starts and interval of step sizes on which "
                                   "GD converges to the edge of stability, proved for every start "
                                   "and step size (certify_region; the largest proved box of a "
                                   "search inside the sampled candidate); --no-prove returns the "
                                   "sampled candidate, not proved.")
    add_system_options(p, maps=False)
    p.add_argument("--lr", type=parse_range, default=None, metavar="START:STOP:NUM",
                   help="step sizes to scan")
    p.add_argument("--grid", type=parse_grid, default=None, metavar="N|N1xN2")
    p.add_argument("--delta", type=float, default=None, help="tolerance below 2/lr")
    p.add_argument("--prove", action=argparse.BooleanOptionalAction,
                   default=library_default(eos_region, "prove"),
                   help="return the largest proved box (default); --no-prove: the sampled "
                        "candidate box, not proved")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_output_options(p, "eos_region.nc")
    p.set_defaults(run=_eos)


# -- reproduce ----------------------------------------------------------------------------
def _reproduce(args) -> str:
    from ..studies import run_studies, summary_table

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
