"""Bad input raises naming the argument; results are labelled and survive save/load."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys

HENON = dynsys.maps.henon(1.4, 0.3)
BOX = [(-2, 2), (-2, 2)]


@pytest.mark.parametrize("period", [0, -1])
def test_period_below_one(period):
    with pytest.raises(ValueError, match="period must be >= 1"):
        dynsys.periodic_orbits(HENON, period, bounds=BOX)


@pytest.mark.parametrize("period", [1.5, "2", None, True])
def test_period_not_an_integer(period):
    with pytest.raises(TypeError, match="period must be an integer"):
        dynsys.periodic_orbits(HENON, period, bounds=BOX)


@pytest.mark.parametrize("bounds", [[(-2, 2)], [(-2, 2)] * 3, [-2, 2], [[-2, 2, 3], [0, 1, 2]]])
def test_bounds_of_the_wrong_dimension(bounds):
    for call in (lambda: dynsys.fixed_points(HENON, bounds=bounds),
                 lambda: dynsys.periodic_orbits(HENON, 2, bounds=bounds)):
        with pytest.raises(ValueError, match=r"bounds must be 2 \(lo, hi\) pair"):
            call()


@pytest.mark.parametrize("bounds", [[(2, -2), (-2, 2)], [(-2, 2), (1, 1)]])
def test_bounds_with_lo_not_below_hi(bounds):
    with pytest.raises(ValueError, match="bounds must have lo < hi"):
        dynsys.fixed_points(HENON, bounds=bounds)
    with pytest.raises(ValueError, match="bounds must have lo < hi"):
        dynsys.fixed_points(dynsys.maps.logistic(3.0), bounds=(1.0, 0.0))


def test_bounds_not_finite():
    with pytest.raises(ValueError, match="bounds must be finite"):
        dynsys.fixed_points(HENON, bounds=[(-np.inf, 2), (-2, 2)])


@pytest.mark.parametrize("steps,error", [(0, ValueError), (-5, ValueError), (2.5, TypeError)])
def test_steps_below_one(steps, error):
    with pytest.raises(error, match="steps must be"):
        dynsys.lyapunov_spectrum(HENON, [0.1, 0.1], steps=steps)


@pytest.mark.parametrize("x0", [[0.1], [0.1, 0.2, 0.3], [[0.1, 0.1], [0.2, 0.2]], 0.1])
def test_x0_of_the_wrong_length(x0):
    with pytest.raises(ValueError, match="x0 must"):
        dynsys.lyapunov_spectrum(HENON, x0, steps=10)


def test_other_arguments_named():
    with pytest.raises(ValueError, match="transient must be >= 0"):
        dynsys.lyapunov_spectrum(HENON, [0.1, 0.1], steps=10, transient=-1)
    with pytest.raises(ValueError, match="x0 must be finite"):
        dynsys.lyapunov_spectrum(HENON, [np.nan, 0.1], steps=10)
    with pytest.raises(ValueError, match="starts must be >= 1"):
        dynsys.fixed_points(HENON, bounds=BOX, starts=0)
    with pytest.raises(ValueError, match="xtol must be"):
        dynsys.fixed_points(HENON, bounds=BOX, xtol=-1.0)
    with pytest.raises(TypeError, match="symmetric_copies"):
        dynsys.periodic_orbits(HENON, 1, bounds=BOX, symmetric_copies="no")
    with pytest.raises(TypeError, match="lr is required"):
        dynsys.fixed_points(dynsys.QuadraticRegression2D(0.1), bounds=BOX)
    with pytest.raises(ValueError, match="lr must be > 0"):
        dynsys.fixed_points(dynsys.QuadraticRegression2D(0.1), bounds=BOX, lr=-0.1)
    with pytest.raises(ValueError, match="period must be >= 1"):
        dynsys.multipliers(HENON, [0.1, 0.1], period=0)
    with pytest.raises(ValueError, match="x must have shape"):
        dynsys.jacobian(HENON, [0.1, 0.1, 0.1])
    with pytest.raises(TypeError, match="system must be"):
        dynsys.fixed_points("henon", bounds=BOX)


@settings(max_examples=25, deadline=None)
@given(lo=st.floats(-10, 10), width=st.floats(-5, 5), period=st.integers(-3, 0))
def test_bounds_and_period_property(lo, width, period):
    bounds = [(lo, lo + width), (-1.0, 1.0)]
    if width <= 0:
        with pytest.raises(ValueError, match="bounds"):
            dynsys.periodic_orbits(HENON, 1, bounds=bounds)
    with pytest.raises(ValueError, match="period"):
        dynsys.periodic_orbits(HENON, period, bounds=[(-1.0, 1.0), (-1.0, 1.0)])


def test_results_are_labelled_and_round_trip(tmp_path):
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    fp = dynsys.fixed_points(model, lr=0.7, bounds=[(-3, 3), (-6, 6)])
    po = dynsys.periodic_orbits(HENON, 4, bounds=BOX)
    lam = dynsys.lyapunov_spectrum(HENON, [0.1, 0.1], steps=1000)
    assert fp.component.values.tolist() == ["theta_1", "theta_2"]
    assert po.component.values.tolist() == ["x_1", "x_2"]
    assert fp.multipliers.dtype == complex and fp.stable.dtype == bool
    assert fp.stability.attrs["flag_meanings"] == "stable saddle repeller non_hyperbolic"
    for ds in (fp, po):
        assert ds.attrs["newton_starts"] > 0 and "newton_xtol" in ds.attrs
        assert ds.attrs["system"].startswith("gd[") or ds.attrs["system"] == "henon"
        for name in ("x", "multipliers", "stable", "family"):
            assert "long_name" in ds[name].attrs
    for obj, name in ((fp, "fp.nc"), (po, "po.zarr"), (lam, "lam.nc")):
        back = dynsys.load(dynsys.save(obj, tmp_path / name) or tmp_path / name)
        xr_equal = back.identical(obj) if hasattr(back, "identical") else False
        assert xr_equal, name


def test_seed_changes_the_starts_not_the_answer():
    a = dynsys.periodic_orbits(HENON, 4, bounds=BOX, seed=1)
    b = dynsys.periodic_orbits(HENON, 4, bounds=BOX, seed=2)
    np.testing.assert_allclose(a.x.values, b.x.values, atol=1e-13)
    assert a.attrs["seed"] == 1 and b.attrs["seed"] == 2
