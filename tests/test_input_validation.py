"""Input validation of the systems, models and analyses (issue 7).

Property-based: for every argument of every public entry point, hypothesis draws bad values
(wrong shapes, strings, objects, complex numbers, booleans, NaN/inf, empty and reversed ranges,
zero or negative step sizes, non-integer or too small counts, unknown names, objects that are
not systems) and each must raise ``ValueError``/``TypeError`` naming the argument, never an
error from deep inside numpy or numba, never a RuntimeWarning (an error under the pytest
configuration). Valid random inputs must give a labelled result. The edge-of-stability
functions, storage and figures are in ``test_input_validation_eos.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from _bad_inputs import FAST, VALID, Slot, assert_rejected, slot_params
from hypothesis import given
from hypothesis import strategies as st

import dynsys

QR = dynsys.QuadraticRegression2D(0.1, 0.2)
NET = dynsys.ScalarNetwork(3, 1.0, 2.0)
SOR = dynsys.SecondOrderRegression.random(3, 4, sigma_z=1.0, sigma_J=1.0, seed=0)
LOSS = dynsys.Model.from_loss(lambda t: np.sum(t * t) + t[0] ** 4, dim=2, name="quartic")
LOGISTIC = dynsys.maps.logistic(3.2)
HENON = dynsys.maps.henon()
GD = dynsys.gd_map(QR, 0.5)
USER = dynsys.Map(lambda x, c: np.array([x[1], -x[0] + c * np.tanh(x[1])]), dim=2,
                  params={"c": 0.7}, name="user")
SHIFT = dynsys.Map(lambda x, c: x + c, dim=1, params={"c": 1.0}, name="shift")  # no fixed point
GRID = ((-1.0, 1.0, 4), (-1.0, 1.0, 4))
LABELS = (np.add.outer(np.arange(12), np.arange(12)) // 5) % 3


def _step(x, r):
    return r * x * (1 - x)


# -- the slots ------------------------------------------------------------------------------------
SYSTEM_SLOTS = [
    Slot("Map", dynsys.Map, {"step": _step, "dim": 1, "params": {"r": 3.0}}, "dim", "count", 1),
    Slot("Map", dynsys.Map, {"step": _step, "dim": 1, "params": {"r": 3.0}}, "step", "function"),
    Slot("Map.with_params", LOGISTIC.with_params, {}, "r", "real"),
    Slot("Map.with_params", HENON.with_params, {}, "b", "real"),
    Slot("Map.step", LOGISTIC.step, {"x": [0.3]}, "x", "theta", 1),
    Slot("Map.step", HENON.step, {"x": [0.3, 0.1]}, "x", "theta", 2),
    Slot("Map.step", USER.step, {"x": [0.3, 0.1]}, "c", "real"),
    Slot("Map.jacobian", HENON.jacobian, {"x": [0.3, 0.1]}, "x", "theta", 2),
    Slot("Map.jacobian", USER.jacobian, {"x": [0.3, 0.1]}, "x", "theta", 2),
    Slot("Map.iterate", HENON.iterate, {"x": [0.3, 0.1], "n": 3}, "n", "count", 0),
    Slot("Map.iterate", HENON.iterate, {"x": [0.3, 0.1], "n": 3}, "x", "theta", 2),
    Slot("Map.param_vector", HENON.param_vector, {}, "a", "real"),
    Slot("logistic", dynsys.maps.logistic, {"r": 3.0}, "r", "real"),
    Slot("henon", dynsys.maps.henon, {"a": 1.4, "b": 0.3}, "a", "real"),
    Slot("henon", dynsys.maps.henon, {"a": 1.4, "b": 0.3}, "b", "real"),
    Slot("newton_cubic", dynsys.maps.newton_cubic, {"h": 1.0}, "h", "real"),
    Slot("linear", dynsys.maps.linear, {"matrix": np.eye(2)}, "matrix", "numbers", (2, 2)),
    Slot("gd_map", dynsys.gd_map, {"model": QR, "lr": 0.5}, "lr", "positive"),
    Slot("gd_map", dynsys.gd_map, {"model": QR, "lr": 0.5}, "model", "system"),
    Slot("GDMap.with_params", GD.with_params, {}, "lr", "positive"),
    Slot("GDMap.step", GD.step, {"x": [0.5, 1.0]}, "lr", "positive"),
    Slot("SweepRange", dynsys.SweepRange, {"kind": "linspace", "start": 0.5, "stop": 1.0,
                                            "num": 3}, "kind", "name", ("linspace", "geomspace")),
    *[Slot(name, getattr(dynsys, name), {"start": 0.5, "stop": 1.0, "num": 3}, arg, kind, k)
      for name in ("linspace", "geomspace")
      for arg, kind, k in [("start", "positive" if name == "geomspace" else "real", None),
                           ("stop", "positive" if name == "geomspace" else "real", None),
                           ("num", "count", 1)]],
]

MODEL_SLOTS = [
    Slot("QuadraticRegression2D", dynsys.QuadraticRegression2D, {"eps": 0.1}, "eps",
         "nonnegative"),
    Slot("QuadraticRegression2D", dynsys.QuadraticRegression2D, {"eps": 0.1}, "target", "real"),
    Slot("ScalarNetwork", dynsys.ScalarNetwork, {"depth": 2}, "depth", "count", 1),
    Slot("ScalarNetwork", dynsys.ScalarNetwork, {"depth": 2}, "target", "real"),
    Slot("ScalarNetwork", dynsys.ScalarNetwork, {"depth": 2}, "scale", "positive"),
    Slot("SecondOrderRegression", dynsys.SecondOrderRegression,
         {"z0": [1.0], "J0": [[1.0, 0.0]], "Q": [np.eye(2)]}, "z0", "numbers", (1,)),
    Slot("SecondOrderRegression", dynsys.SecondOrderRegression,
         {"z0": [1.0], "J0": [[1.0, 0.0]], "Q": [np.eye(2)]}, "J0", "numbers", (1, 2)),
    Slot("SecondOrderRegression", dynsys.SecondOrderRegression,
         {"z0": [1.0], "J0": [[1.0, 0.0]], "Q": [np.eye(2)]}, "Q", "numbers", (1, 2, 2)),
    *[Slot("SecondOrderRegression.random", dynsys.SecondOrderRegression.random,
           {"D": 2, "P": 3, "sigma_z": 1.0, "sigma_J": 1.0, "seed": 1}, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("D", "count", 1), ("P", "count", 1), ("sigma_z", "nonnegative", None),
                                  ("sigma_J", "nonnegative", None), ("sigma_Q", "nonnegative", None),
                                  ("seed", "count", 0)]],
    Slot("Model.from_loss", dynsys.Model.from_loss, {"loss": lambda t: t @ t, "dim": 2}, "dim",
         "count", 1),
    Slot("Model.from_loss", dynsys.Model.from_loss, {"loss": lambda t: t @ t, "dim": 2}, "loss",
         "function"),
    Slot("Model.from_loss", dynsys.Model.from_loss, {"loss": lambda t: t @ t, "dim": 2}, "grad",
         "function", optional=True),
    Slot("Model.from_loss", dynsys.Model.from_loss, {"loss": lambda t: t @ t, "dim": 2},
         "hessian", "function", optional=True),
    *[Slot(f"{type(m).__name__}.{meth}", getattr(m, meth), {"theta": np.ones(m.dim)}, "theta",
           "theta", m.dim)
      for m in (QR, NET, SOR, LOSS)
      for meth in ("loss", "grad", "hessian", "sharpness")],
    *[Slot(f"{type(m).__name__}.{meth}", getattr(m, meth), {"theta": np.ones(m.dim)}, "theta",
           "theta", m.dim)
      for m in (QR, NET, SOR)
      for meth in ("residual", "jacobian", "ntk", "ntk_eigenvalue", "residual_hessian")],
    Slot("QuadraticRegression2D.gfs_start", QR.gfs_start, {"sharpness": [3.0], "theta_1": 0.3},
         "sharpness", "numbers", (1,)),
    Slot("QuadraticRegression2D.gfs_start", QR.gfs_start, {"sharpness": [3.0], "theta_1": 0.3},
         "theta_1", "numbers", (1,)),
]

TRAJ = {"system": QR, "x0": [0.5, 2.0], "lr": 0.5, "steps": 5}
BASINS = {"system": QR, "lr_range": [0.5, 1.0], "grid": GRID, "steps": 5}
FRACTIONS = {"system": QR, "sampler": [(-1.0, 1.0), (-1.0, 1.0)], "lr_range": [0.5, 1.0],
             "n": 8, "steps": 5}
DIAGRAM = {"system": LOGISTIC, "values": [2.8, 3.2], "x0": [0.3], "steps": 10, "keep": 3}
CONT = {"system": LOGISTIC.with_params(r=2.8), "x0": [0.64], "param": "r",
        "param_range": (2.5, 2.9),
        "max_points": 5}

ANALYSIS_SLOTS = [
    Slot("trajectory", dynsys.trajectory, TRAJ, "system", "system"),
    Slot("trajectory", dynsys.trajectory, TRAJ, "x0", "point", 2),
    Slot("trajectory", dynsys.trajectory, TRAJ, "lr", "positive"),
    Slot("trajectory", dynsys.trajectory, TRAJ, "steps", "count", 1),
    Slot("trajectory", dynsys.trajectory, TRAJ, "radius", "positive", optional=True),
    Slot("trajectory[map]", dynsys.trajectory, {**TRAJ, "system": GD, "lr": None}, "lr",
         "positive", optional=True),
    Slot("basins", dynsys.basins, BASINS, "system", "system"),
    Slot("basins", dynsys.basins, BASINS, "lr_range", "prange"),
    Slot("basins[map]", dynsys.basins, {"system": HENON, "values": [0.5, 1.0], "grid": GRID,
                                        "steps": 5, "param": "a"}, "values",
         "range"),
    Slot("basins[map]", dynsys.basins, {**BASINS, "system": HENON, "param": "a"}, "param",
         "name", ("a", "b")),
    Slot("basins", dynsys.basins, BASINS, "param", "name", ("lr", None)),
    Slot("basins", dynsys.basins, BASINS, "steps", "count", 1, optional=True),
    Slot("basins", dynsys.basins, BASINS, "base", "point", 2, optional=True),
    Slot("basins", dynsys.basins, BASINS, "tol", "positive", optional=True),
    Slot("basins", dynsys.basins, BASINS, "radius", "positive", optional=True),
    Slot("basins", dynsys.basins, BASINS, "max_period", "count", 1, optional=True),
    Slot("basins", dynsys.basins, BASINS, "cycle_rtol", "positive", optional=True),
    Slot("basins", dynsys.basins, BASINS, "lyapunov_steps", "count", 0, optional=True),
    Slot("basins", dynsys.basins, BASINS, "chaos_threshold", "real", optional=True),
    Slot("basins", dynsys.basins, BASINS, "match_tol", "positive"),
    Slot("basins", dynsys.basins, BASINS, "chunk_size", "count", 1, optional=True),
    *[Slot("basins_fractions", dynsys.basins_fractions, FRACTIONS, arg, kind, k)
      for arg, kind, k in [("system", "system", None), ("lr_range", "prange", None),
                           ("n", "count", 1),
                           ("match_tol", "positive", None), ("steps", "count", 1)]],
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "system", "system"),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "values", "range"),
    Slot("bifurcation_diagram[model]", dynsys.bifurcation_diagram,
         {"system": QR, "lr_range": [2.8, 3.2], "x0": [0.5, 2.0], "steps": 10, "keep": 3},
         "lr_range", "prange"),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "x0", "point", 1),
    Slot("bifurcation_diagram[model]", dynsys.bifurcation_diagram,
         {**DIAGRAM, "system": QR, "lr_range": [0.5], "x0": [0.5, 2.0], "values": None}, "x0", "point", 2),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "steps", "count", 1),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "keep", "count", 1),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "param", "name", ("r", None)),
    Slot("bifurcation_diagram[model]", dynsys.bifurcation_diagram,
         {**DIAGRAM, "system": QR, "lr_range": [0.5], "x0": [0.5, 2.0], "values": None}, "param", "name",
         ("lr", None)),
    Slot("bifurcation_diagram", dynsys.bifurcation_diagram, DIAGRAM, "radius", "positive", optional=True),
    Slot("continuation", dynsys.continuation, CONT, "system", "system"),
    Slot("continuation", dynsys.continuation, CONT, "x0", "point", 1),
    Slot("continuation", dynsys.continuation, CONT, "param", "name", ("r",)),
    Slot("continuation[model]", dynsys.continuation,
         {**CONT, "system": QR, "x0": [2.0, 0.0], "param": "lr", "param_range": (0.5, 0.7)}, "param",
         "name", ("lr",)),
    Slot("continuation", dynsys.continuation, CONT, "start", "real", optional=True),
    Slot("continuation", dynsys.continuation, CONT, "period", "count", 1),
    Slot("continuation", dynsys.continuation, CONT, "direction", "name",
         ("both", "forward", "backward")),
    Slot("continuation", dynsys.continuation, CONT, "family", "name", ("auto", True, False)),
    Slot("continuation", dynsys.continuation, CONT, "step", "positive", optional=True),
    Slot("continuation", dynsys.continuation, CONT, "min_step", "positive", optional=True),
    Slot("continuation", dynsys.continuation, CONT, "max_step", "positive", optional=True),
    Slot("continuation", dynsys.continuation, CONT, "max_points", "count", 2),
    Slot("continuation", dynsys.continuation, CONT, "tol", "positive"),
    Slot("continuation", dynsys.continuation, CONT, "max_state", "positive"),
    Slot("basin_entropy", dynsys.basin_entropy, {"labels": LABELS}, "box_size", "count", 1),
    Slot("uncertainty_exponent", dynsys.uncertainty_exponent, {"labels": LABELS, "eps": [1, 2]},
         "eps", "count", 1),
    Slot("basins_fractal_test", dynsys.basins_fractal_test,
         {"labels": np.add.outer(np.arange(40), np.arange(40)) > 40, "eps": 3,
          "n_samples": 100, "seed": 0}, "eps", "positive"),
    Slot("basins_fractal_test", dynsys.basins_fractal_test,
         {"labels": np.add.outer(np.arange(40), np.arange(40)) > 40, "eps": 3,
          "n_samples": 100, "seed": 0}, "n_samples", "count", 100),
    Slot("basins_fractal_test", dynsys.basins_fractal_test,
         {"labels": np.add.outer(np.arange(40), np.arange(40)) > 40, "eps": 3,
          "n_samples": 100, "seed": 0}, "n_sigma", "positive"),
]


FIXED = {"system": HENON, "bounds": [(-2.0, 2.0), (-2.0, 2.0)], "starts": 8}
PERIODIC = {"system": LOGISTIC, "period": 2, "bounds": (0.0, 1.0), "starts": 8}
LYAP = {"system": HENON, "x0": [0.1, 0.1], "steps": 50, "transient": 10, "batches": 2}

ORBIT_SLOTS = [
    *[Slot("fixed_points", dynsys.fixed_points, FIXED, arg, kind, kind_arg, optional=optional)
      for arg, kind, kind_arg, optional in [
          ("system", "system", None, False), ("lr", "positive", None, True),
          ("starts", "count", 1, True), ("seed", "count", 0, False),
          ("xtol", "positive", None, False), ("max_iter", "count", 1, False),
          ("dedup_tol", "positive", None, False), ("null_tol", "positive", None, False),
          ("hyperbolicity_tol", "nonnegative", None, False),
          ("family_step", "positive", None, True), ("max_family_points", "count", 2, False)]],
    *[Slot("periodic_orbits", dynsys.periodic_orbits, PERIODIC, arg, kind, kind_arg,
           optional=optional)
      for arg, kind, kind_arg, optional in [
          ("system", "system", None, False), ("period", "count", 1, False),
          ("starts", "count", 1, True), ("seed", "count", 0, False)]],
    *[Slot("lyapunov_spectrum", dynsys.lyapunov_spectrum, LYAP, arg, kind, kind_arg,
           optional=optional)
      for arg, kind, kind_arg, optional in [
          ("system", "system", None, False), ("x0", "point", 2, False),
          ("steps", "count", 1, False), ("transient", "count", 0, False),
          ("batches", "count", 2, False), ("lr", "positive", None, True),
          ("radius", "positive", None, True)]],
    *[Slot("lyapunov_convergence", dynsys.lyapunov_convergence,
           {**{k: v for k, v in LYAP.items() if k != "batches"}, "checkpoints": 5}, arg, kind,
           kind_arg, optional=optional)
      for arg, kind, kind_arg, optional in [
          ("system", "system", None, False), ("x0", "point", 2, False),
          ("steps", "count", 1, False), ("transient", "count", 0, False),
          ("checkpoints", "count", 2, False), ("lr", "positive", None, True),
          ("radius", "positive", None, True)]],
    Slot("jacobian", dynsys.jacobian, {"system": HENON, "x": [0.1, 0.1]}, "x", "theta", 2),
    Slot("jacobian", dynsys.jacobian, {"system": HENON, "x": [0.1, 0.1]}, "system", "system"),
    Slot("jacobian[model]", dynsys.jacobian, {"system": QR, "x": [0.1, 0.1], "lr": 0.5}, "lr",
         "positive"),
    Slot("multipliers", dynsys.multipliers, {"system": HENON, "x": [0.1, 0.1]}, "x", "points",
         2),
    Slot("multipliers", dynsys.multipliers, {"system": HENON, "x": [0.1, 0.1]}, "period",
         "count", 1),
    Slot("classify", dynsys.classify, {"mult": [[0.5, 0.2]]}, "tol", "nonnegative"),
]


@pytest.mark.parametrize("slot", slot_params(SYSTEM_SLOTS + MODEL_SLOTS + ANALYSIS_SLOTS
                                             + ORBIT_SLOTS))
@FAST
@given(data=st.data())
def test_bad_argument_is_rejected_by_name(slot, data):
    assert_rejected(slot, data.draw(slot.strategy(), label=str(slot)))


# -- hand-picked cases the strategies do not reach -------------------------------------------------
def _cases():
    sq = [np.eye(2)]
    return [
        # systems
        ("Map params not a dict", lambda: dynsys.Map(_step, dim=1, params=[3.0]), "params"),
        ("Map param value", lambda: dynsys.Map(_step, dim=1, params={"r": "3"}), "r"),
        ("Map param NaN", lambda: dynsys.Map(_step, dim=1, params={"r": np.nan}), "r"),
        ("Map jacobian", lambda: dynsys.Map(_step, "J", dim=1, params={"r": 3.0}), "jacobian"),
        ("Map symmetry shape", lambda: dynsys.Map(_step, dim=1, symmetries=[np.eye(2)]),
         "symmetr"),
        ("Map symmetry strings", lambda: dynsys.Map(_step, dim=1, symmetries=[["a"]]), "symmetr"),
        ("Map symmetries scalar", lambda: dynsys.Map(_step, dim=1, symmetries=5), "symmetr"),
        ("Map kernel type", lambda: dynsys.Map(_step, dim=1, params={"r": 3.0}, kernel="fast"),
         "kernel"),
        ("Map vectorized", lambda: dynsys.Map(_step, dim=1, vectorized="yes"), "vectorized"),
        ("Map unknown param", lambda: LOGISTIC.with_params(a=1.0), "parameter"),
        ("Map.step unknown param", lambda: LOGISTIC.step([0.2], s=1.0), "parameter"),
        ("step returns wrong shape",
         lambda: dynsys.Map(lambda x: x[:1], dim=2).step([1.0, 2.0]), "step"),
        ("linear not square", lambda: dynsys.maps.linear([[1.0, 2.0]]), "matrix"),
        ("linear 3-D", lambda: dynsys.maps.linear(np.ones((2, 2, 2))), "matrix"),
        ("linear strings", lambda: dynsys.maps.linear([["a", "b"], ["c", "d"]]), "matrix"),
        ("linear NaN", lambda: dynsys.maps.linear([[np.nan, 0.0], [0.0, 1.0]]), "matrix"),
        ("gd_map of a Map", lambda: dynsys.gd_map(HENON, 0.5), "model"),
        ("Map without lr given lr", lambda: dynsys.trajectory(HENON, [0.1, 0.1], lr=0.5,
                                                              steps=3), "lr"),
        # models
        ("SOR Q not symmetric", lambda: dynsys.SecondOrderRegression(
            [1.0], [[1.0, 0.0]], [[[0.0, 1.0], [0.0, 0.0]]]), "Q"),
        ("SOR Q wrong D", lambda: dynsys.SecondOrderRegression([1.0, 2.0], np.ones((2, 2)), sq),
         "Q"),
        ("SOR J0 wrong D", lambda: dynsys.SecondOrderRegression([1.0, 2.0], [[1.0, 0.0]], sq),
         "J0"),
        ("SOR z0 2-D", lambda: dynsys.SecondOrderRegression([[1.0]], [[1.0, 0.0]], sq), "z0"),
        ("SOR z0 empty", lambda: dynsys.SecondOrderRegression([], np.ones((0, 2)),
                                                              np.ones((0, 2, 2))), "z0"),
        ("from_loss wrong output", lambda: dynsys.Model.from_loss(
            lambda t: t, dim=2).loss([1.0, 2.0]), "loss"),
        ("QR2D eps inf", lambda: dynsys.QuadraticRegression2D(np.inf), "eps"),
        ("Model abstract", lambda: dynsys.Model(), "Model"),
        # analyses
        ("trajectory lr missing", lambda: dynsys.trajectory(QR, [0.5, 2.0], steps=3), "lr"),
        ("trajectory x0 batch", lambda: dynsys.trajectory(QR, np.ones((3, 2)), lr=0.5, steps=3),
         "x0"),
        ("basins grid 2 triples for 1-D map", lambda: dynsys.basins(
            LOGISTIC, [3.2], grid=GRID, steps=3), "grid"),
        ("basins grid not triples", lambda: dynsys.basins(QR, [0.5], grid="auto", steps=3), "grid"),
        ("basins grid n bool", lambda: dynsys.basins(QR, [0.5], grid=((-1, 1, True), (-1, 1, 4)),
                                                     steps=3), "grid"),
        ("basins grid reversed", lambda: dynsys.basins(QR, [0.5], grid=((1, -1, 4), (-1, 1, 4)),
                                                       steps=3), "grid"),
        ("basins grid inf", lambda: dynsys.basins(QR, [0.5], grid=((-1, np.inf, 4), (-1, 1, 4)),
                                                  steps=3), "grid"),
        ("basins radius huge", lambda: dynsys.basins(QR, [0.5], grid=GRID, radius=1e200),
         "radius"),
        ("basins cycle_rtol big", lambda: dynsys.basins(QR, [0.5], grid=GRID, cycle_rtol=0.5),
         "cycle_rtol"),
        ("basins max_period big", lambda: dynsys.basins(QR, [0.5], grid=GRID,
                                                        max_period=10**6), "max_period"),
        ("basins scaling", lambda: dynsys.basins(QR, [0.5], grid=GRID, scaling="no"), "scaling"),
        ("basins progress", lambda: dynsys.basins(QR, [0.5], grid=GRID, progress=3), "progress"),
        ("basins scheduler", lambda: dynsys.basins(QR, [0.5], grid=GRID, scheduler=3.0),
         "scheduler"),
        ("basins store", lambda: dynsys.basins(QR, [0.5], grid=GRID, store="out.nc"), "store"),
        ("basins two-param map", lambda: dynsys.basins(HENON, [1.0], grid=GRID), "param"),
        ("basins lr_range 0", lambda: dynsys.basins(QR, [0.0], grid=GRID), "lr_range"),
        ("basins lr_range num 0", lambda: dynsys.basins(QR, (0.5, 1.0, 0), grid=GRID),
         "lr_range"),
        ("diagram keep > steps", lambda: dynsys.bifurcation_diagram(
            LOGISTIC, [3.2], x0=[0.3], steps=10, keep=11), "keep"),
        ("diagram two-param map", lambda: dynsys.bifurcation_diagram(
            HENON, [1.0], x0=[0.1, 0.1], steps=10, keep=2), "param"),
        ("diagram gd map lr 0", lambda: dynsys.bifurcation_diagram(
            GD, [0.0, 0.5], x0=[0.1, 0.1], steps=10, keep=2), "lr_range"),
        ("continuation param_range reversed", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.9, 2.5)}), "param_range"),
        ("continuation param_range empty", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 2.5)}), "param_range"),
        ("continuation param_range NaN", lambda: dynsys.continuation(
            **{**CONT, "param_range": (np.nan, 2.9)}), "param_range"),
        ("continuation param_range 3", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 2.7, 2.9)}), "param_range"),
        ("continuation param_range strings", lambda: dynsys.continuation(
            **{**CONT, "param_range": ("a", "b")}), "param_range"),
        ("continuation start outside", lambda: dynsys.continuation(**{**CONT, "start": 3.5}),
         "start"),
        ("continuation lr bounds <= 0", lambda: dynsys.continuation(
            QR, [2.0, 0.0], param_range=(-0.5, 0.7)), "param_range"),
        ("continuation not near a fixed point", lambda: dynsys.continuation(
            SHIFT, [0.0], param="c", param_range=(0.5, 2.0)), "x0"),
        ("switch unknown label", lambda: dynsys.continuation(**CONT).switch("PD9"), "PD9"),
        ("switch not a label", lambda: dynsys.continuation(**CONT).switch(3), "point"),
        ("switch unknown option", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 3.2), "max_points": 200}).switch("PD1", speed=2),
         "speed"),
        ("switch at no special point", lambda: dynsys.continuation(**CONT).switch("PD1"),
         "PD1"),
        ("switch negative step", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 3.2), "max_points": 200}).switch("PD1", step=-0.1),
         "step"),
        ("switch max_points text", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 3.2), "max_points": 200}).switch("PD1", max_points="9"),
         "max_points"),
        ("switch param_range reversed", lambda: dynsys.continuation(
            **{**CONT, "param_range": (2.5, 3.2), "max_points": 200}).switch("PD1", param_range=(3.5, 3)),
         "param_range"),
        ("getitem not a label", lambda: dynsys.continuation(**CONT)[1.5], "point"),
        # orbits
        ("fixed_points bounds reversed", lambda: dynsys.fixed_points(
            HENON, bounds=[(2, -2), (-2, 2)]), "bounds"),
        ("fixed_points bounds 1 pair for 2-D", lambda: dynsys.fixed_points(
            HENON, bounds=[(-2, 2)]), "bounds"),
        ("fixed_points bounds NaN", lambda: dynsys.fixed_points(
            HENON, bounds=[(-2, np.nan), (-2, 2)]), "bounds"),
        ("fixed_points bounds None", lambda: dynsys.fixed_points(HENON, bounds=None), "bounds"),
        ("fixed_points symmetric_copies", lambda: dynsys.fixed_points(
            HENON, bounds=[(-2, 2), (-2, 2)], symmetric_copies="no"), "symmetric_copies"),
        ("fixed_points lr for a map without lr", lambda: dynsys.fixed_points(
            HENON, bounds=[(-2, 2), (-2, 2)], lr=0.5), "lr"),
        ("fixed_points model without lr", lambda: dynsys.fixed_points(
            QR, bounds=[(-2, 2), (-2, 2)]), "lr"),
        ("classify scalar", lambda: dynsys.classify(0.5), "mult"),
        # boundary measures
        ("basin_entropy floats", lambda: dynsys.basin_entropy(LABELS * 0.5), "labels"),
        ("basin_entropy strings", lambda: dynsys.basin_entropy([["a", "b"]]), "labels"),
        ("basin_entropy Dataset", lambda: dynsys.basin_entropy(xr.Dataset()), "labels"),
        ("basin_entropy scalar", lambda: dynsys.basin_entropy(3), "labels"),
        ("basin_entropy empty", lambda: dynsys.basin_entropy(np.zeros((0, 3), int)), "labels"),
        ("basin_entropy None", lambda: dynsys.basin_entropy(None), "labels"),
        ("basin_entropy box too big", lambda: dynsys.basin_entropy(LABELS, box_size=13),
         "box_size"),
        ("basin_entropy box tuple length", lambda: dynsys.basin_entropy(LABELS, box_size=(2,)),
         "box_size"),
        ("uncertainty_exponent one eps", lambda: dynsys.uncertainty_exponent(LABELS, eps=[2]),
         "eps"),
        ("uncertainty_exponent eps too big", lambda: dynsys.uncertainty_exponent(
            LABELS, eps=[2, 13]), "eps"),
        ("uncertainty_exponent eps scalar", lambda: dynsys.uncertainty_exponent(LABELS, eps=3),
         "eps"),
        ("uncertainty_exponent default eps small grid",
         lambda: dynsys.uncertainty_exponent(LABELS), "eps"),
        ("uncertainty_exponent labels", lambda: dynsys.uncertainty_exponent("abc"), "labels"),
        ("fractal_test one label", lambda: dynsys.basins_fractal_test(
            np.zeros((40, 40), int), eps=3), "labels"),
        ("fractal_test eps too big", lambda: dynsys.basins_fractal_test(LABELS, eps=6), "eps"),
        ("fractal_test seed", lambda: dynsys.basins_fractal_test(LABELS, eps=2, seed="s"),
         "seed"),
        ("fractal_test max_tries", lambda: dynsys.basins_fractal_test(
            LABELS, eps=2, n_samples=100, max_tries=10), "max_tries"),
        ("fractal_test labels float", lambda: dynsys.basins_fractal_test(LABELS * 1.5, eps=2),
         "labels"),
        # issue 14: limits (item 7), the stopping rule (item 5), the smaller ones (item 10)
        ("basins grid of 10^52 cells", lambda: dynsys.basins(
            QR, [0.5], grid=((-1, 1, 10**26), (-1, 1, 10**26))), "grid"),
        ("basins 10^9 step sizes", lambda: dynsys.basins(QR, (0.1, 1.0, 10**9), grid=GRID),
         "lr_range num"),
        ("basins 10^12 cells", lambda: dynsys.basins(
            QR, [0.5], grid=((-1, 1, 10**6), (-1, 1, 10**6))), "grid"),
        ("trajectory steps 2e9", lambda: dynsys.trajectory(LOGISTIC, [0.3], steps=2 * 10**9),
         "steps: the result would take"),
        ("periodic_orbits period 2^40", lambda: dynsys.periodic_orbits(
            LOGISTIC, 2**40, bounds=(0, 1)), "period: the result would take"),
        ("periodic_orbits starts huge", lambda: dynsys.periodic_orbits(
            LOGISTIC, 2, bounds=(0, 1), starts=10**15), "starts"),
        ("diagram keep huge", lambda: dynsys.bifurcation_diagram(
            LOGISTIC, (3.0, 4.0, 10**5), x0=[0.3], steps=10**10, keep=10**10), "keep"),
        ("basins tol below float64", lambda: dynsys.basins(QR, [0.5], grid=GRID, tol=1e-18),
         "tol must be >= 1e-15"),
        ("StoppingRule tol 1e-16", lambda: dynsys.StoppingRule(tol=1e-16), "tol"),
        ("basins 1-D grid not nested", lambda: dynsys.basins(QR, [0.5], grid=(-1, 1, 5)),
         "grid"),
        ("fixed_points bounds 1e200", lambda: dynsys.fixed_points(
            GD, bounds=[(-1e200, 1e200), (-1e200, 1e200)]), "bounds"),
        ("gfs_sharpness theta 1e200", lambda: dynsys.gfs_sharpness(QR, [1e200, 1e200]),
         "theta"),
        ("qr2d_increase_threshold eps 1e308", lambda: dynsys.qr2d_increase_threshold(1e308),
         "eps"),
        ("eos_start overflowing start", lambda: dynsys.eos_start(
            dynsys.QuadraticRegression2D(0.9), 1.0, 1e300, theta_1=1e-300), "overflows"),
        ("classify empty", lambda: dynsys.classify([]), "mult"),
        ("offset_formula eps < 0", lambda: dynsys.offset_formula(-1, 0.5), "eps"),
        ("step returns complex", lambda: dynsys.trajectory(
            dynsys.Map(lambda x: x * 1j, dim=1), [0.3], steps=3), "complex"),
        ("step returns None", lambda: dynsys.trajectory(
            dynsys.Map(lambda x: None, dim=1), [0.3], steps=3), "step returned NoneType"),
        ("jacobian returns complex", lambda: dynsys.Map(
            lambda x: x, lambda x: np.eye(1) * 1j, dim=1).jacobian([0.3]), "complex"),
        ("set_memory_limit negative", lambda: dynsys.set_memory_limit(-1), "nbytes"),
        ("continuation min_step > max_step", lambda: dynsys.continuation(
            **{**CONT, "min_step": 0.1, "max_step": 0.01}), "min_step must be <= max_step"),
    ]


@pytest.mark.parametrize("call, name", [pytest.param(c, n, id=i) for i, c, n in _cases()])
def test_hand_picked_bad_input(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_models_and_maps_evaluate_nan_without_warnings():
    """NaN states are data (divergent orbits): maps and losses evaluate them quietly."""
    nan = [np.nan, 1.0]
    assert np.isnan(GD.step(nan)).any()
    for model in (QR, LOSS):
        assert np.isnan(model.loss(nan))
        assert np.isnan(model.sharpness(nan))


# -- valid input gives a labelled result -----------------------------------------------------------
finite = st.floats(-2.0, 2.0, allow_subnormal=False)


@VALID
@given(r=st.floats(0.5, 4.0), a=st.floats(0.0, 1.5), b=st.floats(-0.5, 0.5),
       h=st.floats(0.1, 2.0), n=st.integers(0, 3))
def test_valid_maps_step_batches(r, a, b, h, n):
    for m, dim in ((dynsys.maps.logistic(r), 1), (dynsys.maps.henon(a, b), 2),
                   (dynsys.maps.newton_cubic(h), 2), (USER, 2)):
        x = np.linspace(0.1, 0.9, max(n, 1) * dim).reshape((max(n, 1), dim))[:n] if n else \
            np.full(dim, 0.3)
        with np.errstate(all="ignore"):
            y = m.step(x)
            jac = m.jacobian(x)
        assert y.shape == x.shape
        assert jac.shape == x.shape + (dim,)


@VALID
@given(eps=st.floats(0.0, 1.0), target=finite, depth=st.integers(1, 4),
       theta=st.lists(finite, min_size=4, max_size=4), lead=st.sampled_from([(), (1,), (2, 1)]))
def test_valid_models_give_shaped_values(eps, target, depth, theta, lead):
    models = [dynsys.QuadraticRegression2D(eps, target), dynsys.ScalarNetwork(depth, target),
              SOR, LOSS]
    for model in models:
        t = np.broadcast_to(np.asarray(theta[: model.dim]), lead + (model.dim,))
        assert model.loss(t).shape == lead
        assert model.grad(t).shape == lead + (model.dim,)
        assert model.hessian(t).shape == lead + (model.dim, model.dim)
        assert model.sharpness(t).shape == lead
        assert np.all(np.isfinite(model.loss(t)))


@VALID
@given(x0=st.lists(finite, min_size=2, max_size=2), lr=st.floats(0.01, 3.0),
       steps=st.integers(1, 30))
def test_valid_trajectory_is_labelled(x0, lr, steps):
    ds = dynsys.trajectory(QR, x0, lr=lr, steps=steps)
    assert ds.sizes["step"] == steps + 1 and list(ds.component.values) == ["theta_1", "theta_2"]
    assert "QuadraticRegression2D" in ds.attrs["system"] and ds.attrs["steps"] == steps
    assert ds.loss.attrs["long_name"] == "loss"
    assert ds.outcome.attrs["flag_meanings"] == dynsys.Outcome.cf_attrs("")["flag_meanings"]
    assert np.array_equal(ds.theta.values[0], x0)


@VALID
@given(values=st.lists(st.floats(0.05, 3.0), min_size=1, max_size=3),
       n1=st.integers(1, 4), n2=st.integers(1, 4), steps=st.integers(1, 20))
def test_valid_basins_are_labelled(values, n1, n2, steps):
    ds = dynsys.basins(QR, values, grid=((-1.0, 1.0, n1), (-2.0, 2.0, n2)), steps=steps)
    assert dict(ds.outcome.sizes) == {"lr": len(values), "theta_1": n1, "theta_2": n2}
    assert "flag_meanings" in ds.outcome.attrs and ds.attrs["analysis"] == "basins"
    assert set(np.unique(ds.outcome.values)) <= set(ds.outcome.attrs["flag_values"].tolist())


@VALID
@given(values=st.lists(st.floats(0.5, 4.0), min_size=1, max_size=3, unique=True),
       steps=st.integers(1, 40), data=st.data())
def test_valid_bifurcation_diagram_is_labelled(values, steps, data):
    keep = data.draw(st.integers(1, steps))
    ds = dynsys.bifurcation_diagram(LOGISTIC, values, x0=[0.3], steps=steps, keep=keep)
    assert dict(ds.x.sizes) == {"r": len(values), "sample": keep, "component": 1}
    assert ds.sample.values[-1] == steps and ds.attrs["keep"] == keep
    assert "flag_meanings" in ds.outcome.attrs


@VALID
@given(r=st.floats(1.5, 2.9))
def test_valid_continuation_is_labelled(r):
    res = dynsys.continuation(LOGISTIC.with_params(r=r), [1 - 1 / r], param="r",
                              param_range=(1.2, 3.2), max_points=60)
    branch = res.branches[0]
    assert "s" in branch.dims and "r" in branch
    assert res.labels == ["PD1"]


@VALID
@given(labels=st.lists(st.integers(-2, 3), min_size=36, max_size=36),
       box=st.integers(1, 6), eps=st.lists(st.integers(1, 6), min_size=2, max_size=4))
def test_valid_boundary_measures(labels, box, eps):
    grid = np.array(labels).reshape(6, 6)
    Sb, Sbb = dynsys.basin_entropy(grid, box_size=box)
    assert 0.0 <= Sb <= np.log(6) + 1e-12
    if len(set(eps)) >= 2:
        out = dynsys.uncertainty_exponent(grid, eps=eps)
        assert out.eps.size == len(set(eps))


# -- results reproduce bit for bit ---------------------------------------------------------------------
def _bits_equal(a: xr.Dataset, b: xr.Dataset) -> None:
    assert a.identical(b)
    for name in a.variables:
        va, vb = a[name].values, b[name].values
        if va.dtype.kind == "f":
            assert np.array_equal(va.view(np.uint64), vb.view(np.uint64)), name
        else:
            assert np.array_equal(va, vb), name


def test_basins_reproduce_bit_for_bit():
    run = lambda: dynsys.basins(QR, [0.7, 1.9], grid=GRID, steps=200)  # noqa: E731
    _bits_equal(run(), run())
    run_map = lambda: dynsys.basins(HENON, [1.2, 1.4], param="a",  # noqa: E731
                                    grid=((-0.5, 0.5, 4), (-0.5, 0.5, 4)), steps=200)
    _bits_equal(run_map(), run_map())


def test_bifurcation_diagram_reproduces_bit_for_bit():
    run = lambda: dynsys.bifurcation_diagram(QR, dynsys.linspace(0.5, 2.5, 4), x0=[0.3, 3.0],  # noqa: E731
                                             steps=300, keep=8)
    _bits_equal(run(), run())
    run_user = lambda: dynsys.bifurcation_diagram(USER, [0.5, 0.9], x0=[0.3, 0.2],  # noqa: E731
                                                  steps=50, keep=5)
    _bits_equal(run_user(), run_user())
