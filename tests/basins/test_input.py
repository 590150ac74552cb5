"""Bad input to dynsys.basins raises an error naming the argument."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys

MODEL = dynsys.QuadraticRegression2D(0.1)
GRID = ((-1, 1, 4), (-1, 1, 4))


@pytest.mark.parametrize("lr_range, match", [
    ([], "lr_range"), (np.array([]), "lr_range"), ([0.5, 0.0], "lr_range"),
    ([-1.0], "lr_range"), ([0.5, np.nan], "lr_range"), ([np.inf], "lr_range"),
    ((0.5, 0.1, 3), "lr_range"), ((0.0, 1.0, 3), "lr_range"), ((0.1, 1.0, 0), "lr_range"),
    ([[0.5]], "lr_range"),
])
def test_bad_lr_range(lr_range, match):
    with pytest.raises(ValueError, match=match):
        dynsys.basins(MODEL, lr_range, grid=GRID, steps=10)


@pytest.mark.parametrize("grid", [
    ((-1, 1, 0), (-1, 1, 4)), ((-1, 1, 4), (1, 1, 4)), ((2, 1, 4), (-1, 1, 4)),
    (), ((-1, 1, 4), (-1, 1, 4), (-1, 1, 4)), ((-1, np.nan, 4), (-1, 1, 4)),
    "grid", ((-1, 1), (-1, 1, 4)),
])
def test_bad_grid(grid):
    with pytest.raises((ValueError, TypeError), match="grid"):
        dynsys.basins(MODEL, [0.5], grid=grid, steps=10)


@pytest.mark.parametrize("kw, name", [
    ({"steps": 0}, "steps"), ({"steps": -5}, "steps"), ({"steps": 2.5}, "steps"),
    ({"tol": 0.0}, "tol"), ({"radius": -1.0}, "radius"), ({"radius": 1e200}, "radius"),
    ({"max_period": 0}, "max_period"), ({"cycle_rtol": 0.5}, "cycle_rtol"),
    ({"lyapunov_steps": -1}, "lyapunov_steps"), ({"chunk_size": 0}, "chunk_size"),
    ({"base": [1.0]}, "base"), ({"scaling": "yes"}, "scaling"), ({"progress": 3}, "progress"),
    ({"scheduler": 3}, "scheduler"), ({"param": "r"}, "param"), ({"match_tol": 0}, "match_tol"),
])
def test_bad_options(kw, name):
    kw = {"steps": 10, **kw}
    with pytest.raises((ValueError, TypeError), match=name):
        dynsys.basins(MODEL, [0.5], grid=GRID, **kw)


def test_bad_system_and_param():
    with pytest.raises(TypeError, match="system"):
        dynsys.basins("logistic", [3.0], grid=((0, 1, 3),), steps=5)
    with pytest.raises(ValueError, match="param"):
        dynsys.basins(dynsys.maps.henon(), [1.0], grid=GRID, steps=5)       # two parameters
    with pytest.raises(ValueError, match="param"):
        dynsys.basins(dynsys.maps.henon(), [1.0], param="c", grid=GRID, steps=5)
    # non-lr parameters may be zero or negative
    ds = dynsys.basins(dynsys.maps.henon(), [-0.1, 0.0], param="a", grid=GRID, steps=5)
    assert ds.sizes["a"] == 2


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=4))
def test_any_lr_list_is_run_or_rejected_by_name(values):
    ok = len(values) > 0 and all(np.isfinite(v) and v > 0 for v in values)
    if ok:
        ds = dynsys.basins(MODEL, values, grid=((-1, 1, 2), (-1, 1, 2)), steps=3)
        assert ds.sizes["lr"] == len(values)
    else:
        with pytest.raises(ValueError, match="lr_range"):
            dynsys.basins(MODEL, values, grid=((-1, 1, 2), (-1, 1, 2)), steps=3)
