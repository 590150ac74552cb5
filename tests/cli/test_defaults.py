"""The CLI's defaults are the library's (issue 15): every option of every subcommand that
names an argument of the library function it runs has that argument's default, and the default
ranges and starts fit the chosen map."""

from __future__ import annotations

import argparse
import dataclasses
import inspect

import numpy as np
import pytest

import dynsys
from dynsys.basins import default_grid
from dynsys.cli._main import build_parser, main
from dynsys.cli._options import default_start, default_sweep

#: subcommand -> the library function it runs
RUNS = {"trajectory": dynsys.trajectory, "basins": dynsys.basins,
        "bifurcation": dynsys.bifurcation_diagram, "orbits": dynsys.fixed_points,
        "lyapunov": dynsys.lyapunov_spectrum, "eos": dynsys.eos_region}
#: CLI option names that are library argument names under another name (None: no counterpart;
#: --param sets a parameter of the map, --sweep names the swept one)
RENAMED = {"lr": "lr_range", "grid": None, "sweep": "param", "param": None}
#: options whose library argument has no usable default, with the reason
CLI_ONLY = {
    ("trajectory", "lr"): "the library requires lr for a model; the CLI runs the 2-D model at 1",
    ("orbits", "lr"): "as trajectory",
    ("lyapunov", "lr"): "as trajectory",
}
RULE = dynsys.StoppingRule()


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def _library_default(func, name):
    params = inspect.signature(func).parameters
    if name not in params or params[name].default is inspect.Parameter.empty:
        return inspect.Parameter.empty
    default = params[name].default
    if default is None and name in {f.name for f in dataclasses.fields(RULE)}:
        return getattr(RULE, name)      # None means "the StoppingRule's"
    return default


def _pairs():
    for command, sub in _subparsers().items():
        if command not in RUNS:
            continue
        for action in sub._actions:
            if action.dest in ("help", "output", "plot"):
                continue
            name = RENAMED.get(action.dest, action.dest) if command != "trajectory" else \
                action.dest
            yield command, action.dest, action.default, name


@pytest.mark.parametrize("command, dest, cli, name",
                         [pytest.param(*p, id=f"{p[0]}--{p[1]}") for p in _pairs()])
def test_cli_default_is_the_library_default(command, dest, cli, name):
    if name is None or (command, dest) in CLI_ONLY:
        return
    lib = _library_default(RUNS[command], name)
    if lib is inspect.Parameter.empty:
        return                     # the library has no default: nothing to agree with
    # None in the CLI means "leave it to the library", which then uses its own default
    assert cli is None or cli == lib, (
        f"dynsys {command} --{dest.replace('_', '-')} defaults to {cli!r}, the library's "
        f"{RUNS[command].__name__}({name}=) to {lib!r}")


def test_the_comparison_covers_the_options_that_matter():
    pairs = {(c, d) for c, d, _, _ in _pairs()}
    assert {("basins", "steps"), ("bifurcation", "steps"), ("bifurcation", "keep"),
            ("lyapunov", "transient"), ("eos", "lr"), ("eos", "delta")} <= pairs
    subs = _subparsers()
    assert subs["basins"].get_default("steps") == RULE.steps
    assert subs["basins"].get_default("grid") == (256, 256)
    assert subs["basins"].get_default("range1") is None      # the library's default box
    assert subs["bifurcation"].get_default("keep") == 100
    assert subs["trajectory"].get_default("target") == inspect.signature(
        dynsys.QuadraticRegression2D).parameters["target"].default


MAPS = [n for n in dynsys.maps.__all__ if n != "linear"]


@pytest.mark.parametrize("name", MAPS)
def test_default_ranges_and_starts_fit_each_map(name):
    m = getattr(dynsys.maps, name)()
    x0 = default_start(m)
    (lo, hi), = [b for b in [m.default_box(None)[0]]]
    assert lo <= x0[0] <= hi
    for param in m.params:
        values = np.asarray(default_sweep(m, param, "bifurcation"))
        lo, hi = m.default_range(param)
        assert values[0] == lo and values[-1] == hi and values.size == 400
        d = dynsys.bifurcation_diagram(m, values[::40], x0=x0, param=param, steps=300, keep=4)
        assert not (d.outcome == dynsys.Outcome.DIVERGED).any(), (name, param)
        b = dynsys.basins(m, values[::133], param=param, steps=200,
                          grid=tuple((lo, hi, 9) for lo, hi in m.default_box(None)[:2]))
        assert float((b.outcome == dynsys.Outcome.DIVERGED).mean()) < 0.9, (name, param)


def test_cli_basins_uses_the_library_default_grid(tmp_path, capsys):
    out = tmp_path / "b.nc"
    assert main(["basins", "--map", "logistic", "--sweep", "r", "--grid", "9", "--steps", "50",
                 "--quiet", "-o", str(out)]) == 0
    ds = dynsys.load(out)
    lib = dynsys.basins(dynsys.maps.logistic(), default_sweep(dynsys.maps.logistic(), "r",
                                                              "basins"),
                        param="r", steps=50,
                        grid=tuple((lo, hi, 9) for lo, hi, _ in
                                   default_grid(dynsys.maps.logistic(), 1, [2.8])))
    np.testing.assert_array_equal(ds.x_1.values, lib.x_1.values)
    np.testing.assert_array_equal(ds.r.values, np.linspace(2.8, 4.0, 4))
    np.testing.assert_array_equal(ds.outcome.values, lib.outcome.values)
