"""Basin fractions by sampling (issue 15): closed-form and symmetric fractions, Wilson error
bars (coverage, 1/sqrt(n) shrinkage), attractor ids continued across a sweep, agreement with
the grid basins."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

import dynsys
from dynsys.basins._attractors import AttractorKind
from dynsys.basins._fractions import wilson_interval

TANH = dynsys.Map(lambda x, a: np.tanh(a * x), dim=1, params={"a": 2.0}, name="tanh")


def _well_step(x, lr):
    x = np.asarray(x, dtype=float)
    return np.stack([x[..., 0] - lr * (x[..., 0] ** 3 - x[..., 0]), (1 - lr) * x[..., 1]], -1)


def _well_jacobian(x, lr):
    x = np.asarray(x, dtype=float)
    jac = np.zeros(x.shape[:-1] + (2, 2))
    jac[..., 0, 0] = 1 - lr * (3 * x[..., 0] ** 2 - 1)
    jac[..., 1, 1] = 1 - lr
    return jac


# GD on the double well L = (t1^2 - 1)^2 / 4 + t2^2 / 2: minima (+-1, 0), mirror symmetric
WELL = dynsys.Map(_well_step, _well_jacobian, dim=2, params={"lr": 0.1}, name="double_well",
                  vectorized=True, jit=False)     # batch code numba does not compile: numpy


def _root(a: float) -> float:
    return brentq(lambda x: np.tanh(a * x) - x, 0.1, 2.0, xtol=1e-15)


def test_bistable_map_fraction_matches_the_closed_form():
    # x -> tanh(a x), a > 1: basins x > 0 and x < 0; uniform on [-1, 2] gives 2/3 and 1/3
    ds = dynsys.basins_fractions(TANH, [(-1.0, 2.0)], n=4000, seed=3, steps=300)
    positive = int(np.argmax(ds.attractor_point.values[0, :, 0]))
    p = float(ds.fraction[0, positive])
    se = float(ds.fraction_stderr[0, positive])
    assert abs(p - 2 / 3) < 4 * se
    assert float(ds.fraction_lower[0, positive]) < 2 / 3 < float(ds.fraction_upper[0, positive])
    np.testing.assert_allclose(ds.fraction.sum("attractor_id"), 1.0)
    assert int(ds.n_starts.sum()) == 4000 == ds.attrs["n_samples"]
    np.testing.assert_allclose(sorted(ds.attractor_point.values[0, :, 0]),
                               [-_root(2.0), _root(2.0)], atol=1e-9)


def test_symmetric_model_has_fraction_one_half_exactly_with_mirrored_starts():
    rng = np.random.default_rng(0)
    half = np.column_stack([rng.uniform(0.0, 2.0, 500), rng.uniform(-2.0, 2.0, 500)])
    starts = np.concatenate([half, half * [-1.0, 1.0]])        # each start and its mirror
    ds = dynsys.basins_fractions(WELL, starts, [0.1, 0.5], steps=3000)
    assert ds.sizes["attractor_id"] == 2
    np.testing.assert_array_equal(ds.fraction.values, 0.5)
    np.testing.assert_allclose(np.abs(ds.attractor_point.sel(component="x_1")), 1.0,
                               atol=1e-6)
    assert list(ds.attractor_point.dims) == ["lr", "attractor_id", "component"]
    # random uniform starts on the symmetric box: 1/2 within the error bars
    ds = dynsys.basins_fractions(WELL, [(-2.0, 2.0), (-2.0, 2.0)], [0.1], n=2000, seed=1,
                                 steps=3000)
    assert np.all(ds.fraction_lower < 0.5) and np.all(ds.fraction_upper > 0.5)


def test_wilson_interval_coverage_and_closed_form():
    rng = np.random.default_rng(0)
    n, p, reps = 200, 2 / 3, 4000
    k = rng.binomial(n, p, reps)
    lo, hi = wilson_interval(k, n, 0.95)
    covered = np.mean((lo < p) & (p < hi))
    assert 0.93 < covered < 0.97, covered           # nominal 95%
    # k = 0: the interval is [0, z^2 / (n + z^2)]
    lo, hi = wilson_interval(0, 100, 0.95)
    z = 1.959963984540054
    assert lo == pytest.approx(0.0, abs=1e-15) and hi == pytest.approx(z * z / (100 + z * z), rel=1e-12)


def test_intervals_cover_the_true_fraction_over_seeds():
    runs = [dynsys.basins_fractions(TANH, [(-1.0, 2.0)], n=300, seed=s, steps=200)
            for s in range(20)]
    covered = 0
    for ds in runs:
        i = int(np.argmax(ds.attractor_point.values[0, :, 0]))
        covered += float(ds.fraction_lower[0, i]) < 2 / 3 < float(ds.fraction_upper[0, i])
    assert covered >= 16, f"{covered} of 20 intervals cover 2/3 (expected about 19)"


def test_error_bars_shrink_as_one_over_sqrt_n():
    widths = {}
    for n in (500, 8000):
        ds = dynsys.basins_fractions(TANH, [(-1.0, 2.0)], n=n, seed=0, steps=200)
        widths[n] = float((ds.fraction_upper - ds.fraction_lower).max())
    assert widths[500] / widths[8000] == pytest.approx(4.0, rel=0.1)


def test_attractor_ids_are_continued_across_the_sweep():
    values = dynsys.linspace(1.5, 3.0, 4)
    ds = dynsys.basins_fractions(TANH, [(-1.0, 2.0)], values, n=1000, seed=0, steps=400)
    assert ds.sizes["attractor_id"] == 2                     # two ids, not one per value
    points = ds.attractor_point.values[:, :, 0]              # (value, id)
    roots = np.array([_root(a) for a in np.asarray(values)])
    sign = np.sign(points[0])
    np.testing.assert_allclose(points, sign * roots[:, None], atol=1e-9)
    # the same starts and the same boundary x = 0 at every value: identical fractions
    np.testing.assert_array_equal(ds.fraction.values, ds.fraction.values[:1].repeat(4, 0))
    assert (ds.attractor.values == ds.attractor.values[:1]).all()
    # a cycle that moves with the parameter keeps its id
    cyc = dynsys.basins_fractions(dynsys.maps.logistic(), [(0.05, 0.95)],
                                  dynsys.linspace(3.2, 3.4, 3), n=200, steps=2000)
    assert cyc.sizes["attractor_id"] == 1 and int(cyc.attractor_period[0]) == 2
    np.testing.assert_array_equal(cyc.fraction.values, 1.0)


def test_agrees_with_the_grid_basins():
    model = dynsys.QuadraticRegression2D(0.1)
    box = [(-3.0, 3.0), (-12.0, 12.0)]
    lrs = [0.6, 1.2]
    frac = dynsys.basins_fractions(model, box, lrs, n=3000, seed=0, steps=3000)
    grid = dynsys.basins(model, lrs, grid=((-3, 3, 81), (-12, 12, 81)), steps=3000)
    code = int(dynsys.Outcome.CONVERGED)
    sampled = frac.outcome_fraction.sel(outcome=code).values
    gridded = (grid.outcome == code).mean(("theta_1", "theta_2")).values
    se = np.sqrt(sampled * (1 - sampled) / 3000)
    assert np.all(np.abs(sampled - gridded) < 4 * se + 0.02), (sampled, gridded)
    assert (frac.attractor_kind.values == int(AttractorKind.FAMILY)).all()


def test_labelled_dataset():
    ds = dynsys.basins_fractions(TANH, [(-1.0, 2.0)], [2.0, 2.5], n=50, steps=200)
    for name, var in ds.variables.items():
        assert "long_name" in var.attrs, name
    assert ds.fraction.dims == ("a", "attractor_id") and ds.fraction.attrs["units"] == "1"
    assert ds.start.dims == ("sample", "component")
    assert ds.outcome.attrs["flag_meanings"].split()[0] == "converged"
    assert ds.attrs["analysis"] == "basins_fractions" and ds.attrs["confidence"] == 0.95


def test_callable_sampler_and_bad_input():
    ds = dynsys.basins_fractions(TANH, lambda rng, n: rng.uniform(-1, 2, (n, 1)), n=100,
                                 steps=200)
    assert ds.sizes["sample"] == 100
    with pytest.raises(ValueError, match=r"sampler\(rng, n\) must return"):
        dynsys.basins_fractions(TANH, lambda rng, n: rng.uniform(-1, 2, (n, 2)), n=10)
    with pytest.raises(ValueError, match="sampler"):
        dynsys.basins_fractions(WELL, [(-1.0, 1.0)], [0.1], n=10)
    with pytest.raises(ValueError, match="sampler as a numpy array"):
        dynsys.basins_fractions(WELL, np.zeros((3, 3)), [0.1])
    with pytest.raises(TypeError, match="sampler must be"):
        dynsys.basins_fractions(TANH, "box", n=10)
    with pytest.raises(ValueError, match="confidence"):
        dynsys.basins_fractions(TANH, [(-1.0, 2.0)], n=10, confidence=1.0)
    with pytest.raises(ValueError, match="n must be >= 1"):
        dynsys.basins_fractions(TANH, [(-1.0, 2.0)], n=0)
    with pytest.raises(TypeError, match="lr_range"):
        dynsys.basins_fractions(dynsys.QuadraticRegression2D(0.1), [(-1.0, 1.0), (-1.0, 1.0)],
                                n=10)
