"""Input validation of the edge-of-stability functions, the region, storage and figures (issue 7).

See ``test_input_validation.py`` for the approach: every argument slot gets hypothesis-drawn
bad values that must raise ``ValueError``/``TypeError`` naming the argument; valid random
inputs give labelled results; ``eos_region`` reproduces bit for bit.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import xarray as xr
from _bad_inputs import FAST, VALID, Slot, assert_rejected, slot_params
from hypothesis import given
from hypothesis import strategies as st

import dynsys

QR = dynsys.QuadraticRegression2D(0.1, 0.2)
NET = dynsys.ScalarNetwork(2)
SOR = dynsys.SecondOrderRegression.random(3, 4, sigma_z=1.0, sigma_J=1.0, seed=0)
LOSS = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] * t[1] - 1) ** 2, dim=2, name="product")
HENON = dynsys.maps.henon()

GFS = {"model": QR, "theta": [[0.3, 4.0]]}
LIMIT = {"model": QR, "theta0": [0.3, 4.0], "lr": 1.0, "steps": 10}
OFFSET = {"eps": [0.01], "lr_target": [0.5], "lr_gfs": [3.0], "steps": 10}
KREISLER = {"model": NET, "starts": [[2.0, 0.3]], "lr_gfs": [2.5], "steps": 5}
SELF = {"model": QR, "theta_ref": [1.4, 1.0], "lr": 1.0, "x0": 0.01, "steps": 4}
MC = {"P_values": [4], "samples": 2}
REGION = {"model": dynsys.QuadraticRegression2D(0.05), "lr_range": dynsys.linspace(0.9, 1.1, 2),
          "grid": ((0.05, 1.0, 4), (4.0, 12.0, 4)), "steps": 5, "n_check": 2, "refine": 0,
          "check_steps": 5, "prove": False}
CRITICAL = {"delta": 0.05, "eps_values": [0.05], "bisections": 0, "lr_range": dynsys.linspace(0.9, 1.1, 2),
            "grid_n": 4, "steps": 5, "n_check": 2}

SLOTS = [
    *[Slot(f.__name__, f, GFS, arg, kind, kind_arg, optional=arg == "tol")
      for f in (dynsys.gfs_sharpness, dynsys.gfs_solution)
      for arg, kind, kind_arg in [("model", "system", None), ("theta", "points", 2),
                                  ("method", "name", ("auto", "closed", "ode")),
                                  ("rtol", "positive", None), ("tol", "positive", None),
                                  ("max_time", "positive", None)]],
    *[Slot("limit_sharpness", dynsys.limit_sharpness, LIMIT, arg, kind, kind_arg,
           optional=arg in ("steps", "radius"))
      for arg, kind, kind_arg in [("model", "system", None), ("theta0", "points", 2),
                                  ("lr", "positive", None), ("steps", "count", 1),
                                  ("tol", "positive", None),
                                  ("radius", "positive", None)]],
    Slot("eos_start", dynsys.eos_start, {"model": QR, "lr": 1.0, "lr_gfs_sharpness": [3.0]},
         "model", "system"),
    Slot("eos_start", dynsys.eos_start, {"model": QR, "lr": 1.0, "lr_gfs_sharpness": [3.0]},
         "lr", "positive"),
    Slot("eos_start", dynsys.eos_start, {"model": QR, "lr": 1.0, "lr_gfs_sharpness": [3.0]},
         "lr_gfs_sharpness", "numbers", (2,)),
    Slot("eos_start", dynsys.eos_start, {"model": QR, "lr": 1.0, "lr_gfs_sharpness": [3.0]},
         "theta_1", "numbers", (1,)),
    *[Slot("limit_offset", dynsys.limit_offset, OFFSET, arg, kind)
      for arg, kind in [("eps", "prange"), ("lr_target", "range"), ("lr_gfs", "prange"),
                        ("theta_1", "real"), ("steps", "count"), ("tol", "positive")]],
    Slot("offset_formula", dynsys.offset_formula, {"eps": 0.1, "lr_target": 0.5}, "eps",
         "numbers", (2,)),
    Slot("offset_formula", dynsys.offset_formula, {"eps": 0.1, "lr_target": 0.5}, "lr_target",
         "numbers", (3,)),
    *[Slot("gfs_trajectory", dynsys.gfs_trajectory,
           {"model": NET, "theta0": [2.0, 0.3], "lr": 0.5, "steps": 5}, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("theta0", "point", 2),
                                  ("lr", "positive", None), ("steps", "count", 1),
                                  ("every", "count", 1)]],
    *[Slot("kreisler_scan", dynsys.kreisler_scan, KREISLER, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("starts", "points", 2),
                                  ("lr_gfs", "prange", None), ("steps", "count", 1),
                                  ("converged_loss", "positive", None),
                                  ("every", "count", 1)]],
    Slot("qr2d_increase_threshold", dynsys.qr2d_increase_threshold, {"eps": 0.1}, "eps",
         "positive"),
    *[Slot("predicted_dynamics", dynsys.predicted_dynamics,
           {"alpha": 1.0, "beta": 2.0, "lr": 0.5, "x0": 0.1, "y0": 0.0, "steps": 3}, arg, kind,
           kind_arg)
      for arg, kind, kind_arg in [("alpha", "real", None), ("beta", "nonnegative", None),
                                  ("lr", "positive", None), ("x0", "real", None),
                                  ("y0", "real", None), ("steps", "count", 1)]],
    *[Slot("self_stabilisation", dynsys.self_stabilisation, SELF, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("theta_ref", "point", 2),
                                  ("lr", "positive", None), ("x0", "real", None),
                                  ("steps", "count", 2)]],
    Slot("self_stabilisation", dynsys.self_stabilisation, SELF, "window", "count", 1,
         optional=True),
    *[Slot("self_stabilisation_coefficients", dynsys.self_stabilisation_coefficients,
           {"model": QR, "theta": [1.4, 1.0], "lr": 1.0}, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("theta", "point", 2),
                                  ("lr", "positive", None)]],
    *[Slot("sharpness_gradient", dynsys.sharpness_gradient, {"model": QR, "theta": [1.4, 1.0]},
           arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("theta", "point", 2),
                                  ("method", "name", ("auto", "analytic", "fd")),
                                  ("rel_step", "positive", None)]],
    Slot("ntk_eigenvalue_derivatives", dynsys.ntk_eigenvalue_derivatives,
         {"model": SOR, "theta": np.zeros(4)}, "model", "system"),
    Slot("ntk_eigenvalue_derivatives", dynsys.ntk_eigenvalue_derivatives,
         {"model": SOR, "theta": np.zeros(4)}, "theta", "point", 4),
    *[Slot("expected_second_derivative", dynsys.expected_second_derivative,
           {"z": [1.0, 0.5], "J": [[1.0, 0.0, 0.2], [0.3, 1.0, 0.0]], "sigma_q": 0.3}, arg, kind,
           kind_arg)
      for arg, kind, kind_arg in [("z", "point", 2), ("J", "numbers", (2, 3)),
                                  ("sigma_q", "nonnegative", None)]],
    *[Slot("sigma_q_for", dynsys.sigma_q_for, {"D": 2, "P": 4}, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("D", "count", 1), ("P", "count", 1),
                                  ("normalisation", "name", ("theorem", "inverse_P"))]],
    *[Slot("theorem2_monte_carlo", dynsys.theorem2_monte_carlo, MC, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("P_values", "prange", None), ("ratio", "positive", None),
                                  ("samples", "count", 2), ("sigma_z", "positive", None),
                                  ("normalisation", "name", ("theorem", "inverse_P")),
                                  ("seed", "count", 0)]],
    Slot("theorem2_monte_carlo", dynsys.theorem2_monte_carlo, MC, "sigma_J", "positive",
         optional=True),
    *[Slot("eos_region", dynsys.eos_region, REGION, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("lr_range", "prange", None),
                                  ("steps", "count", 1), ("refine", "count", 0),
                                  ("n_check", "count", 1), ("seed", "count", 0),
                                  ("check_steps", "count", 1)]],
    Slot("eos_region", dynsys.eos_region, REGION, "delta", "positive", optional=True),
    *[Slot("offset_root_eps", dynsys.offset_root_eps, CRITICAL, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("delta", "positive", None), ("eps_values", "prange", None),
                                  ("target", "real", None), ("bisections", "count", 0),
                                  ("lr_range", "prange", None), ("grid_n", "count", 4),
                                  ("steps", "count", 1), ("n_check", "count", 1),
                                  ("seed", "count", 0)]],
    *[Slot(f.__name__, f, {"model": SOR, "theta": [0.1, 0.2, 0.3, 0.4]}, arg, kind, kind_arg)
      for f in (dynsys.third_derivative, dynsys.edge_geometry)
      for arg, kind, kind_arg in [("model", "system", None), ("theta", "point", 4)]],
    *[Slot("project_stable_set", dynsys.project_stable_set,
           {"model": QR, "theta": [1.4, 1.0], "lr": 1.0, "max_iter": 3}, arg, kind, kind_arg)
      for arg, kind, kind_arg in [("model", "system", None), ("theta", "points", 2),
                                  ("lr", "positive", None), ("tol", "positive", None),
                                  ("max_iter", "count", 1), ("n_project", "count", 0),
                                  ("variant", "name", ("authors", "nearest_point"))]],
    *[Slot(f.__name__, f, {"model": QR, "theta0": [1.4, 1.0], "lr": 1.0, "steps": 3}, arg,
           kind, kind_arg)
      for f in (dynsys.constrained_trajectory, dynsys.self_stabilisation_tracking)
      for arg, kind, kind_arg in [("model", "system", None), ("theta0", "point", 2),
                                  ("lr", "positive", None), ("steps", "count", 1),
                                  ("tol", "positive", None)]],
    *[Slot(f.__name__, f, {"model": QR, "theta0": [1.4, 1.0], "lr": 1.0, "steps": 3}, arg,
           kind, kind_arg)
      for f, names in ((dynsys.constrained_trajectory, ("authors", "nearest_point")),
                       (dynsys.self_stabilisation_tracking, ("authors", "projection_shift")))
      for arg, kind, kind_arg in [("variant", "name", names), ("n_project", "count", 0),
                                  ("gap_level", "positive", None)]],
    Slot("self_stabilisation_coefficients", dynsys.self_stabilisation_coefficients,
         {"model": QR, "theta": [1.4, 1.0], "lr": 1.0}, "variant", "name",
         ("authors", "full_grad_S")),
]


@pytest.mark.parametrize("slot", slot_params(SLOTS))
@FAST
@given(data=st.data())
def test_bad_argument_is_rejected_by_name(slot, data):
    assert_rejected(slot, data.draw(slot.strategy(), label=str(slot)))


def _cases(tmp):
    traj = dynsys.trajectory(QR, [0.5, 2.0], lr=0.5, steps=3)
    return [
        # model types
        ("gfs_sharpness of a Map", lambda: dynsys.gfs_sharpness(HENON, [0.1, 0.1]), "model"),
        ("gfs closed for a loss model", lambda: dynsys.gfs_sharpness(LOSS, [1.0, 2.0],
                                                                     method="closed"), "method"),
        ("gfs_trajectory of a Map", lambda: dynsys.gfs_trajectory(
            dynsys.gd_map(NET, 0.5), [2.0, 0.3], lr=0.5, steps=3), "model"),
        ("gfs_trajectory x0 batch", lambda: dynsys.gfs_trajectory(
            NET, [[2.0, 0.3]], lr=0.5, steps=3), "theta0"),
        ("limit_sharpness tol big", lambda: dynsys.limit_sharpness(QR, [0.3, 4.0], 1.0,
                                                                   tol=0.1), "tol"),
        ("gfs rtol big", lambda: dynsys.gfs_sharpness(LOSS, [1.0, 2.0], rtol=0.1), "rtol"),
        ("gfs rtol big closed form", lambda: dynsys.gfs_sharpness(QR, [1.0, 2.0], rtol=0.1),
         "rtol"),
        ("eos_start eps 0", lambda: dynsys.eos_start(dynsys.QuadraticRegression2D(0.0), 1.0,
                                                     [3.0]), "eps"),
        ("eos_start below edge", lambda: dynsys.eos_start(QR, 1.0, [0.1]), "lr_gfs_sharpness"),
        ("eos_start theta_1 0", lambda: dynsys.eos_start(QR, 1.0, [3.0], theta_1=0.0),
         "theta_1"),
        ("eos_start scalar network", lambda: dynsys.eos_start(NET, 1.0, [3.0]), "model"),
        ("limit_offset lr_target 1", lambda: dynsys.limit_offset([0.01], [1.0]), "lr_target"),
        ("limit_offset lr_gfs 2", lambda: dynsys.limit_offset([0.01], [0.0], lr_gfs=[2.0]),
         "lr_gfs"),
        ("limit_offset theta_1 0", lambda: dynsys.limit_offset([0.01], [0.0], theta_1=0.0),
         "theta_1"),
        ("fit_offset wrong ds", lambda: dynsys.fit_offset(traj), "ds"),
        ("fit_offset not ds", lambda: dynsys.fit_offset([1, 2]), "ds"),
        ("fit_offset eps_max", lambda: dynsys.fit_offset(
            xr.Dataset({"scaled_residual": ("eps", [1.0])}), eps_max=-1.0), "eps_max"),
        ("kreisler paths not a flag", lambda: dynsys.kreisler_scan(
            NET, [[2.0, 0.3]], [2.5], steps=3, paths="yes"), "paths"),
        ("kreisler one start", lambda: dynsys.kreisler_scan(NET, [2.0, 0.3], [2.5]), "starts"),
        ("kreisler degenerate start", lambda: dynsys.kreisler_scan(
            dynsys.ScalarNetwork(2, 0.0), [[0.0, 0.0]], [2.5], steps=3), "start"),
        ("sharpness_gradient analytic for a loss model", lambda: dynsys.sharpness_gradient(
            LOSS, [1.0, 2.0], method="analytic"), "method"),
        ("sharpness_gradient rel_step big", lambda: dynsys.sharpness_gradient(
            QR, [1.4, 1.0], rel_step=0.5), "rel_step"),
        ("sharpness_gradient degenerate", lambda: dynsys.sharpness_gradient(
            dynsys.QuadraticRegression2D(0.0, 0.0), [0.0, 0.0]), "theta"),
        ("self_stabilisation window > steps", lambda: dynsys.self_stabilisation(
            QR, [1.4, 1.0], 1.0, x0=0.01, steps=4, window=5), "window"),
        ("ntk derivatives of a QR2D batch", lambda: dynsys.ntk_eigenvalue_derivatives(
            QR, np.zeros((2, 2))), "theta"),
        ("ntk derivatives of a network", lambda: dynsys.ntk_eigenvalue_derivatives(
            NET, [1.0, 1.0]), "model"),
        ("expected_second_derivative J shape", lambda: dynsys.expected_second_derivative(
            [1.0, 0.5], [[1.0, 0.0, 0.2]], 0.3), "J"),
        ("expected_second_derivative z 2-D", lambda: dynsys.expected_second_derivative(
            [[1.0, 0.5]], [[1.0, 0.0], [0.0, 1.0]], 0.3), "z"),
        ("theorem2 P not integer", lambda: dynsys.theorem2_monte_carlo([4.5], samples=2),
         "P_values"),
        ("theorem2 ratio > 1", lambda: dynsys.theorem2_monte_carlo([4], ratio=2.0, samples=2),
         "ratio"),
        # region
        ("eos_region 3-parameter model", lambda: dynsys.eos_region(
            dynsys.ScalarNetwork(3), **{k: v for k, v in REGION.items() if k != "model"}),
         "model"),
        ("eos_region delta needed", lambda: dynsys.eos_region(
            NET, **{k: v for k, v in REGION.items() if k != "model"}), "delta"),
        ("eos_region grid", lambda: dynsys.eos_region(**{**REGION, "grid": ((1, 0, 4),)}),
         "grid"),
        ("eos_region grid n", lambda: dynsys.eos_region(
            **{**REGION, "grid": ((0.1, 1.0, 0), (4.0, 12.0, 4))}), "grid"),
        ("eos_region progress", lambda: dynsys.eos_region(**{**REGION, "progress": "yes"}),
         "progress"),
        ("eos_region prove", lambda: dynsys.eos_region(**{**REGION, "prove": "yes"}), "prove"),
        ("eos_region search_h0", lambda: dynsys.eos_region(**{**REGION, "search_h0": 0.0}),
         "search_h0"),
        ("eos_region search_h0 big", lambda: dynsys.eos_region(**{**REGION, "search_h0": 2.0}),
         "search_h0"),
        ("eos_region search_steps", lambda: dynsys.eos_region(**{**REGION, "search_steps": -1}),
         "search_steps"),
        ("eos_region proof_budget", lambda: dynsys.eos_region(**{**REGION, "proof_budget": 5}),
         "proof_budget"),
        ("offset_root_eps eps_values num", lambda: dynsys.offset_root_eps(
            0.05, eps_values=(0.01, 0.4, 1)), "eps_values"),
        ("offset_root_eps eps_values reversed", lambda: dynsys.offset_root_eps(
            0.05, eps_values=(0.4, 0.01, 4)), "eps_values"),
        ("eos_critical_eps progress", lambda: dynsys.eos_critical_eps(
            **{**CRITICAL, "progress": 3}), "progress"),
        # storage
        ("save obj", lambda: dynsys.save([1, 2], os.path.join(tmp, "a.nc")), "obj"),
        ("save obj None", lambda: dynsys.save(None, os.path.join(tmp, "a.nc")), "obj"),
        ("save path type", lambda: dynsys.save(traj, 3), "path"),
        ("save path None", lambda: dynsys.save(traj, None), "path"),
        ("save suffix", lambda: dynsys.save(traj, os.path.join(tmp, "a.csv")), "path"),
        ("save no suffix", lambda: dynsys.save(traj, os.path.join(tmp, "a")), "path"),
        ("save bad attr", lambda: dynsys.save(traj.assign_attrs(bad={"a": 1}),
                                              os.path.join(tmp, "b.nc")), "bad"),
        ("save bad variable attr", lambda: dynsys.save(
            traj.assign(loss=traj.loss.assign_attrs(bad=None)), os.path.join(tmp, "c.nc")),
         "bad"),
        ("load path type", lambda: dynsys.load(3.5), "path"),
        ("load suffix", lambda: dynsys.load(os.path.join(tmp, "a.txt")), "path"),
    ]


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("index", range(len(_cases("."))), ids=[c[0] for c in _cases(".")])
def test_hand_picked_bad_input(index, cases_dir):
    _, call, name = _cases(cases_dir)[index]
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_load_of_a_missing_file_says_which(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.nc"):
        dynsys.load(tmp_path / "nothing.nc")


# -- figures given the wrong object ---------------------------------------------------------------
PLOTS = [(name, getattr(dynsys.plot, name)) for name in dynsys.plot.__all__]
ARGUMENT = {"trajectory": "ds", "basins": "ds", "bifurcation": "result|diagram",
            "eos_region": "region", "gfs_trajectory": "datasets", "limit_offset": "ds",
            "self_stabilisation": "datasets", "theorem2": "ds", "orbits": "ds",
            "lyapunov": "trace", "kreisler_scan": "ds", "proof_cover": "cert"}


def test_every_plot_function_is_covered():
    assert set(ARGUMENT) == set(dynsys.plot.__all__)


@pytest.fixture(scope="module")
def wrong_objects():
    traj = dynsys.trajectory(QR, [0.5, 2.0], lr=0.5, steps=3)
    orbit = dynsys.trajectory(HENON, [0.1, 0.1], steps=3)
    return [42, None, "basins.nc", np.zeros((3, 3)), [1, 2], xr.Dataset(), orbit,
            traj.loss, {"outcome": 1}, [orbit]]


@pytest.mark.parametrize("name, func", PLOTS, ids=[p[0] for p in PLOTS])
def test_plot_rejects_wrong_objects(name, func, wrong_objects):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for obj in wrong_objects:
        with pytest.raises((TypeError, ValueError), match=ARGUMENT[name]):
            func(obj)
    with pytest.raises((TypeError, ValueError), match="diagram" if name == "bifurcation"
                       else ARGUMENT[name]):
        if name == "bifurcation":
            func(None, diagram=wrong_objects[0])
        else:
            func(dynsys.trajectory(HENON, [0.1, 0.1], steps=3) if name != "trajectory"
                 else wrong_objects[6])
    assert plt.get_fignums() == before, "a rejected call left a figure open"


# -- valid input gives a labelled result -----------------------------------------------------------
@VALID
@given(theta=st.lists(st.floats(-3, 3), min_size=2, max_size=6).filter(lambda v: len(v) % 2 == 0),
       eps=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)), target=st.floats(-1, 1))
def test_valid_gfs_sharpness(theta, eps, target):
    model = dynsys.QuadraticRegression2D(eps, target)
    pts = np.reshape(theta, (-1, 2))
    out = dynsys.gfs_sharpness(model, pts)
    assert out.shape == (pts.shape[0],) and np.all(np.isfinite(out))
    ds = dynsys.gfs_solution(model, pts)
    assert ds.gfs_sharpness.dims == ("point",) and ds.attrs["analysis"] == "gfs_solution"


@VALID
@given(D=st.integers(1, 50), P=st.integers(1, 50),
       normalisation=st.sampled_from(["theorem", "inverse_P"]), alpha=st.floats(-2, 2),
       beta=st.floats(0, 2), lr=st.floats(0.01, 2), steps=st.integers(1, 20))
def test_valid_scalar_functions(D, P, normalisation, alpha, beta, lr, steps):
    s = dynsys.sigma_q_for(D, P, normalisation)
    assert s > 0
    x, y = dynsys.predicted_dynamics(alpha, beta, lr, 0.1, 0.0, steps)
    assert x.shape == y.shape == (steps + 1,)
    # eps is the model's asymmetry, >= 0 (a negative one is refused, issue 14)
    assert dynsys.offset_formula(abs(alpha), lr) == pytest.approx(abs(alpha) * (1 - lr) / 2)
    z = np.linspace(-1, 1, D % 4 + 1)
    J = np.cos(np.add.outer(np.arange(z.size), np.arange(P % 5 + 1)))
    assert np.isfinite(dynsys.expected_second_derivative(z, J, s))


@VALID
@given(lr=st.floats(0.1, 2.0), c=st.lists(st.floats(2.1, 5.0), min_size=1, max_size=3),
       theta_1=st.floats(0.05, 2.0))
def test_valid_eos_start_hits_the_prescribed_sharpness(lr, c, theta_1):
    starts = dynsys.eos_start(QR, lr, c, theta_1=theta_1)
    assert starts.shape == (len(c), 2)
    assert np.allclose(lr * dynsys.gfs_sharpness(QR, starts), c, rtol=1e-9)


# -- eos_region reproduces bit for bit ----------------------------------------------------------------
def test_eos_region_reproduces_bit_for_bit():
    kw = {"lr_range": dynsys.linspace(0.9, 1.1, 3), "grid": ((0.05, 1.0, 8), (4.0, 12.0, 8)), "n_check": 10,
          "refine": 1, "seed": 3, "prove": False}
    model = dynsys.QuadraticRegression2D(0.05)
    a, b = dynsys.eos_region(model, **kw), dynsys.eos_region(model, **kw)
    assert not a.empty
    assert a.lr_interval == b.lr_interval and a.U.bounds == b.U.bounds
    assert a.certificate == b.certificate
    assert a.dataset.identical(b.dataset)
    for name in a.dataset.variables:
        va, vb = a.dataset[name].values, b.dataset[name].values
        if va.dtype.kind == "f":
            assert np.array_equal(va.view(np.uint64), vb.view(np.uint64)), name


def test_box_contains_checks_theta():
    region = dynsys.eos_region(**REGION)
    with pytest.raises(TypeError, match="theta"):
        region.U.contains("a")
    with pytest.raises(ValueError, match="theta"):
        region.U.contains([1.0, 2.0, 3.0])
    assert region.U.contains(np.zeros((4, 2))).shape == (4,)


# -- every public name is covered ---------------------------------------------------------------------
#: Public names without input of their own: classes that are built by a covered function
#: (GDMap by gd_map, LossModel by Model.from_loss, ContinuationResult by continuation, EoSRegion
#: by eos_region), abstract bases, the kernel record, warning categories and modules.
NO_INPUT = {"__version__", "maps", "plot", "orbits", "MapKernel", "GDMap", "LossModel",
            "memory_limit", "SlowPathWarning",
            "RegressionModel", "ContinuationResult", "EoSRegion", "Certificate", "Verification",
            "rigorous",
            # bad input of the autodiff models and networks: tests/models/test_jax.py and
            # tests/networks/test_networks.py (they need JAX)
            "AutodiffModel", "networks"}


def test_every_public_entry_point_has_bad_input_tests():
    import test_input_validation as core

    slots = core.SYSTEM_SLOTS + core.MODEL_SLOTS + core.ANALYSIS_SLOTS + core.ORBIT_SLOTS + SLOTS
    covered = {s.label.split("[")[0].split(".")[0] for s in slots}
    covered |= {"save", "load", "fit_offset"}           # hand-picked cases above
    covered |= {"Model", "Map"}
    covered |= {"StoppingRule"}                         # tests/test_stopping.py, every field
    covered |= {"Outcome", "FlagTable"}                 # tests/test_outcomes.py (decode)
    covered |= {"certify_region", "verify_certificate", "proved_critical_eps"}   # tests/rigorous
    covered |= {"set_memory_limit"}     # hand-picked in test_input_validation.py
    covered |= {"eos_critical_eps"}     # the deprecated name of offset_root_eps (its slots)
    missing = set(dynsys.__all__) - NO_INPUT - covered
    assert not missing, f"no bad-input tests for {sorted(missing)}"
    assert set(dynsys.maps.__all__) <= {s.label for s in slots}
