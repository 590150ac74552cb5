"""trajectory(): labels, divergence as data, speed path, bad input."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys


def test_labels_and_provenance():
    ds = dynsys.trajectory(dynsys.QuadraticRegression2D(0.1, 0.2), [1.0, 2.0], lr=0.4, steps=10)
    assert ds.theta.dims == ("step", "component")
    assert list(ds.component.values) == ["theta_1", "theta_2"]
    assert ds.attrs["param_eps"] == 0.1 and ds.attrs["param_lr"] == 0.4
    assert ds.attrs["dynsys_version"] == dynsys.__version__
    assert {"loss", "sharpness", "ntk_eigenvalue", "residual"} <= set(ds.data_vars)
    for name in ("loss", "sharpness", "ntk_eigenvalue"):
        assert ds[name].attrs["long_name"]


def test_compiled_and_python_paths_agree():
    model = dynsys.QuadraticRegression2D(0.05, 0.1)
    fast = dynsys.trajectory(model, [0.7, 5.0], lr=0.9, steps=2000)
    plain = dynsys.gd_map(model, 0.9)
    slow_map = dynsys.Map(plain._step_fn, dim=2, params={"lr": 0.9}, jit=False)   # no kernel
    slow = dynsys.trajectory(slow_map, [0.7, 5.0], steps=2000)
    np.testing.assert_allclose(fast.theta.values, slow.x.values, rtol=1e-12, atol=1e-13)


def test_map_trajectory_against_closed_form():
    ds = dynsys.trajectory(dynsys.maps.linear([[0.5, 0.0], [0.0, -2.0]]), [1.0, 1.0], steps=5)
    np.testing.assert_allclose(ds.x.values[:, 0], 0.5 ** np.arange(6))
    np.testing.assert_allclose(ds.x.values[:, 1], (-2.0) ** np.arange(6))
    assert "loss" not in ds


def test_divergence_is_data_not_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = dynsys.trajectory(dynsys.QuadraticRegression2D(0.1), [10.0, 10.0], lr=2.0, steps=100)
    assert int(ds.outcome) == dynsys.Outcome.DIVERGED
    k = ds.attrs["diverged_at_step"]
    assert 0 < k <= 100
    assert np.isnan(ds.theta.values[k:]).all() and np.isfinite(ds.theta.values[:k]).all()


def test_long_trajectory_is_fast():
    model = dynsys.QuadraticRegression2D(0.1)
    dynsys.trajectory(model, [0.5, 4.0], lr=1.0, steps=10)      # compile
    start = time.perf_counter()
    ds = dynsys.trajectory(model, [0.5, 4.0], lr=1.0, steps=100_000)
    assert time.perf_counter() - start < 1.0
    assert ds.sizes["step"] == 100_001


@pytest.mark.parametrize("lr", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_lr(lr):
    with pytest.raises(ValueError, match="lr"):
        dynsys.trajectory(dynsys.QuadraticRegression2D(0.1), [1.0, 1.0], lr=lr, steps=5)


def test_bad_inputs():
    model = dynsys.QuadraticRegression2D(0.1)
    with pytest.raises(TypeError, match="lr"):
        dynsys.trajectory(model, [1.0, 1.0], steps=5)
    with pytest.raises(ValueError, match="x0"):
        dynsys.trajectory(model, [1.0, float("nan")], lr=1.0, steps=5)
    with pytest.raises(ValueError, match="x0"):
        dynsys.trajectory(model, [1.0, 1.0, 1.0], lr=1.0, steps=5)
    with pytest.raises(ValueError, match="steps"):
        dynsys.trajectory(model, [1.0, 1.0], lr=1.0, steps=0)
    with pytest.raises(TypeError, match="steps"):
        dynsys.trajectory(model, [1.0, 1.0], lr=1.0, steps=2.5)
    with pytest.raises(ValueError, match="lr"):
        dynsys.trajectory(dynsys.maps.logistic(3.0), [0.5], lr=1.0, steps=5)
    with pytest.raises(TypeError, match="system"):
        dynsys.trajectory("logistic", [0.5], steps=5)
    with pytest.raises(ValueError, match="depth"):
        dynsys.ScalarNetwork(0)


@settings(max_examples=40, deadline=None)
@given(x0=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0,
                   max_size=4))
def test_x0_validation_property(x0):
    model = dynsys.QuadraticRegression2D(0.1)
    arr = np.asarray(x0, dtype=float)
    if arr.shape == (2,) and np.all(np.isfinite(arr)):
        ds = dynsys.trajectory(model, arr, lr=0.5, steps=3)
        assert ds.sizes["step"] == 4
    else:
        with pytest.raises(ValueError, match="x0"):
            dynsys.trajectory(model, arr, lr=0.5, steps=3)
