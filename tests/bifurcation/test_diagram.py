"""Orbit diagrams against direct iteration and known period counts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import dynsys


def test_logistic_periods_and_direct_iteration():
    ds = dynsys.bifurcation_diagram(dynsys.maps.logistic(), [2.8, 3.2, 3.5], x0=[0.3],
                                    steps=3000, keep=64)
    assert ds.x.dims == ("r", "sample", "component")
    counts = {r: np.unique(ds.x.sel(r=r).values.round(8)).size for r in (2.8, 3.2, 3.5)}
    assert counts == {2.8: 1, 3.2: 2, 3.5: 4}
    for r in (3.2, 3.5):
        direct = dynsys.trajectory(dynsys.maps.logistic(r), [0.3], steps=3000).x.values[-64:]
        np.testing.assert_allclose(ds.x.sel(r=r).values, direct, rtol=0, atol=1e-12)
    # r = 3.2: the 2-cycle x = (r + 1 +- sqrt((r - 3)(r + 1))) / (2 r)
    r = 3.2
    cycle = (r + 1 + np.array([-1, 1]) * np.sqrt((r - 3) * (r + 1))) / (2 * r)
    np.testing.assert_allclose(np.unique(ds.x.sel(r=3.2).values.round(12)), cycle, atol=1e-10)


def test_model_variables_and_divergence_recorded_without_warnings():
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = dynsys.bifurcation_diagram(model, dynsys.linspace(0.2, 6.0, 30), x0=[1.2, 0.5], steps=400,
                                        keep=10)
    for name in ("theta", "loss", "sharpness", "ntk_eigenvalue", "outcome", "diverged_at"):
        assert name in ds
    assert ds.sharpness.dims == ("lr", "sample")
    diverged = ds.outcome.values == dynsys.Outcome.DIVERGED
    assert diverged.any() and (~diverged).any()
    assert np.isnan(ds.theta.values[diverged]).all()
    assert np.all(ds.diverged_at.values[diverged] > 0)
    assert np.isfinite(ds.theta.values[~diverged]).all()
    # recorded quantities are the model's at the recorded states
    ok = ~diverged
    np.testing.assert_allclose(ds.loss.values[ok], model.loss(ds.theta.values[ok]), rtol=1e-12)
    assert ds.outcome.attrs["flag_meanings"] == dynsys.Outcome.cf_attrs("")["flag_meanings"]


def test_compiled_and_python_paths_agree():
    m = dynsys.maps.henon(1.2, 0.3)
    plain = dynsys.Map(lambda x, a, b: np.array([1 - a * x[0] ** 2 + x[1], b * x[0]]), dim=2,
                       params={"a": 1.2, "b": 0.3}, jit=False)
    a = dynsys.bifurcation_diagram(m, dynsys.linspace(0.3, 1.0, 7), x0=[0.1, 0.1], steps=60, keep=5,
                                   param="a")
    b = dynsys.bifurcation_diagram(plain, dynsys.linspace(0.3, 1.0, 7), x0=[0.1, 0.1], steps=60, keep=5,
                                   param="a")
    assert a.attrs["compiled"] == 1 and b.attrs["compiled"] == 0
    np.testing.assert_allclose(a.x.values, b.x.values, rtol=1e-9, atol=1e-9)


def test_bad_input():
    m = dynsys.maps.henon()
    with pytest.raises(ValueError, match="param"):
        dynsys.bifurcation_diagram(m, [1.0], x0=[0, 0])          # two params: must name one
    with pytest.raises(ValueError, match="unknown param"):
        dynsys.bifurcation_diagram(m, [1.0], x0=[0, 0], param="c")
    with pytest.raises(ValueError, match="keep"):
        dynsys.bifurcation_diagram(dynsys.maps.logistic(), [3.0], x0=[0.2], steps=5, keep=6)
    with pytest.raises(ValueError, match="lr_range"):
        dynsys.bifurcation_diagram(dynsys.QuadraticRegression2D(0.1), [-1.0], x0=[1, 1])
    with pytest.raises(ValueError, match="x0"):
        dynsys.bifurcation_diagram(dynsys.maps.logistic(), [3.0], x0=[0.2, 0.1])
