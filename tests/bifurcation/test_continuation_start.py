"""Continuation from a start far from any fixed point warns instead of silently continuing the
branch Newton's method fell onto (issue 15)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dynsys
from dynsys.bifurcation import FarStartWarning


def test_far_start_on_the_2d_model_warns_and_names_the_origin():
    model = dynsys.QuadraticRegression2D(0.05)
    with pytest.warns(FarStartWarning, match=r"x0 = \[0\.3, 7\.0\] is far from any fixed "
                                             r"point.*the origin") as rec:
        res = dynsys.continuation(model, [0.3, 7.0], param="lr", param_range=(0.5, 1.5))
    assert rec[0].filename == __file__
    np.testing.assert_allclose(res.branches[0].theta.values, 0.0, atol=1e-6)


def test_far_start_on_a_map_names_the_point_found():
    logistic = dynsys.maps.logistic(2.8)           # fixed points 0 and 1 - 1/2.8 = 0.642857
    with pytest.warns(FarStartWarning, match=r"distance 0\.257 to \[0\.642857\]"):
        dynsys.continuation(logistic, [0.9], param="r", param_range=(2.5, 3.3))
    with pytest.warns(FarStartWarning, match=r"distance 0\.3 to the origin"):
        res = dynsys.continuation(logistic, [0.3], param="r", param_range=(2.5, 3.3))
    assert res.special_points.sizes["point"] == 0 or "PD1" not in res.special_points.point


@pytest.mark.parametrize("x0", [[0.6428], [0.6], [0.7]])
def test_start_near_a_fixed_point_is_silent(x0):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FarStartWarning)
        res = dynsys.continuation(dynsys.maps.logistic(2.8), x0, param="r",
                                  param_range=(2.5, 3.3))
    assert float(res["PD1"].r) == pytest.approx(3.0, abs=1e-9)


@pytest.mark.parametrize("settings", [
    {},
    {"step": 1e-3, "max_step": 1e-2},
    {"tol": 1e-6},
    {"max_points": 5},
    {"direction": "forward"},
    {"param_range": (2.79, 2.81)},
    {"param_range": (1.5, 3.9)},
])
def test_far_start_warning_depends_on_the_start_only(settings):
    """Whether the start is "far" depends on x0, the start value and the map only (the distance
    to the fixed point Newton's method finds, against 0.1 (1 + |x0|)), not on the settings of
    the continuation that follows (its steps, tolerance, length, direction, range)."""
    kw = {"param": "r", "param_range": (2.5, 3.3), "start": 2.8, **settings}
    logistic = dynsys.maps.logistic(2.8)
    for x0, far in (([0.9], True), ([0.3], True), ([0.6], False), ([0.7], False)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always", FarStartWarning)
            dynsys.continuation(logistic, x0, **kw)
        got = [w for w in rec if issubclass(w.category, FarStartWarning)]
        assert len(got) == int(far), (x0, settings)


def test_far_start_threshold_is_relative_to_the_size_of_x0():
    """The threshold scales with |x0| for large states: the same relative miss warns at any
    scale of the map from |x0| ~ 1 on (logistic map conjugated by x -> c x)."""
    for c in (1.0, 10.0, 1e3):
        m = dynsys.Map(lambda x, r, c=c: r * x * (1.0 - x / c), dim=1, params={"r": 2.8},
                       jit=False)
        star = c * (1.0 - 1.0 / 2.8)                     # the nonzero fixed point
        for factor, far in ((1.4, True), (1.02, False)):
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always", FarStartWarning)
                dynsys.continuation(m, [factor * star], param="r", param_range=(2.5, 3.3),
                                    max_points=5)
            got = [w for w in rec if issubclass(w.category, FarStartWarning)]
            assert len(got) == int(far), (c, factor)
