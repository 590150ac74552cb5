"""Basin-boundary measures: basin entropy, uncertainty exponent, Sbb fractality test.

Checked against closed forms (straight boundaries, the smooth-boundary entropy table of Puy et al.
2021), a brute-force implementation, invariances (relabelling, reflection), the published values
for Newton's method on z^3 - 1 (boundary dimension 1.42, alpha ~ 0.6) and the values Attractors.jl
asserts for the Grebogi et al. (1983) map and the Henon map.
"""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dynsys
from dynsys.basins._measures import (basin_entropy, basins_fractal_test, smooth_boundary_entropy,
                                     uncertainty_exponent)

LOG2 = np.log(2.0)


def gibbs(p):
    p = np.asarray(p, dtype=float)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# -- the reference map: Newton's method on z^3 - 1 -----------------------------------------
@pytest.mark.parametrize("h", [1.0, 0.6])
def test_newton_cubic_matches_complex_arithmetic(rng, h):
    m = dynsys.maps.newton_cubic(h)
    x = rng.normal(size=(50, 2)) * 2
    z = x[:, 0] + 1j * x[:, 1]
    znew = z - h * (z ** 3 - 1) / (3 * z ** 2)
    np.testing.assert_allclose(m.step(x), np.stack([znew.real, znew.imag], -1), rtol=1e-13)
    # Cauchy-Riemann Jacobian of N'(z) = 1 - h (1/3 + 2 / (3 z^3))
    d = 1 - h * (1 / 3 + 2 / (3 * z ** 3))
    jac = np.stack([np.stack([d.real, -d.imag], -1), np.stack([d.imag, d.real], -1)], -2)
    np.testing.assert_allclose(m.jacobian(x), jac, rtol=1e-12, atol=1e-14)
    p, out, jout = m.param_vector(), np.empty(2), np.empty((2, 2))
    for xi in x[:5]:
        m.kernel.step(np.ascontiguousarray(xi), p, out)
        m.kernel.jacobian(np.ascontiguousarray(xi), p, jout)
        np.testing.assert_allclose(out, m.step(xi), rtol=1e-14)
        np.testing.assert_allclose(jout, m.jacobian(xi), rtol=1e-13)


def test_newton_cubic_roots_pole_and_infinity_without_warnings():
    import warnings
    m = dynsys.maps.newton_cubic()
    roots = np.exp(2j * np.pi * np.arange(3) / 3)
    fixed = np.stack([roots.real, roots.imag], -1)
    np.testing.assert_allclose(m.step(fixed), fixed, atol=1e-15)
    np.testing.assert_allclose(m.jacobian(fixed), 0.0, atol=1e-15)      # superattracting
    special = np.array([[0.0, 0.0], [1e-120, -1e-120], [np.inf, np.inf], [1e200, 1e200],
                        [1e-150, 0.0]])
    out, jout = np.empty(2), np.empty((2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        images = m.step(special)
        jacobians = m.jacobian(special)
        iterated = m.iterate(special, 5)
        for xi, image in zip(special, images):
            m.kernel.step(xi.copy(), m.param_vector(), out)
            m.kernel.jacobian(xi.copy(), m.param_vector(), jout)
            np.testing.assert_array_equal(out, image)
    assert np.all(np.isinf(images[[0, 1, 2, 4]]))                       # the pole -> infinity
    assert np.all(np.isnan(jacobians[[0, 1, 4]]))                        # no derivative there
    np.testing.assert_allclose(images[3], [2e200 / 3, 2e200 / 3])        # N(z) ~ 2z/3 far out
    assert np.all(np.isinf(iterated[:3]))                                # infinity stays put


# -- reference basins ---------------------------------------------------------------------
def newton_basins(n: int, steps: int = 100) -> np.ndarray:
    """Labels 0, 1, 2 (nearest cube root of unity after ``steps`` Newton steps; 3 if none) on an
    n x n grid over [-1, 1]^2, axis 0 = Re z, axis 1 = Im z."""
    g = np.linspace(-1.0, 1.0, n)
    z0 = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1)
    zn = dynsys.maps.newton_cubic().iterate(z0, steps)
    z = zn[..., 0] + 1j * zn[..., 1]
    roots = np.exp(2j * np.pi * np.arange(3) / 3)
    dist = np.abs(np.where(np.isfinite(z), z, 0.0)[..., None] - roots)
    labels = np.argmin(dist, axis=-1)
    labels[(dist.min(axis=-1) > 1e-8) | ~np.isfinite(z)] = 3
    return labels


@pytest.fixture(scope="module")
def newton300():
    return newton_basins(300)


def grebogi_basins(n: int, steps: int = 100) -> np.ndarray:
    """Basins of the map of Grebogi, McDonald, Ott & Yorke (1983) as in Attractors.jl's tests:
    theta' = theta + a sin 2theta - b sin 4theta - x sin theta (mod 2 pi), x' = -J0 cos theta,
    (a, b, J0) = (1.32, 0.9, 0.3), grid [0, 2 pi] x [-0.5, 0.5]; attractors (0, -J0), (pi, J0)."""
    a, b, j0 = 1.32, 0.9, 0.3
    th, x = np.meshgrid(np.linspace(0, 2 * np.pi, n), np.linspace(-0.5, 0.5, n), indexing="ij")
    for _ in range(steps):
        th, x = (np.mod(th + a * np.sin(2 * th) - b * np.sin(4 * th) - x * np.sin(th), 2 * np.pi),
                 -j0 * np.cos(th))
    assert np.allclose(np.abs(np.cos(th)), 1.0) and np.allclose(np.abs(x), j0)  # converged
    return (np.cos(th) < 0).astype(int)


def disc(n: int, r2: float = 0.4) -> np.ndarray:
    x = np.linspace(-1, 1, n)
    return (x[:, None] ** 2 + x[None, :] ** 2 < r2).astype(int)


def half_plane(n: int, column: int) -> np.ndarray:
    labels = np.zeros((n, n), dtype=np.int64)
    labels[:, column:] = 1
    return labels


def diagonal(n: int) -> np.ndarray:
    x = np.linspace(-1, 1, n)
    return (x[:, None] + 0.7 * x[None, :] > 0.05).astype(int)


def brute_entropy(labels, s):
    """Sb, Sbb by explicit loops over whole boxes (independent of the vectorised code)."""
    starts = [range(0, n - s + 1, s) for n in labels.shape]
    total, n_boxes, n_boundary = 0.0, 0, 0
    for corner in itertools.product(*starts):
        box = labels[tuple(slice(c, c + s) for c in corner)].ravel()
        counts = np.array(list(Counter(box.tolist()).values()))
        h = gibbs(counts / box.size)
        total += h
        n_boxes += 1
        n_boundary += len(counts) > 1
    return total / n_boxes, (total / n_boundary if n_boundary else np.nan)


# -- smooth-boundary reference ------------------------------------------------------------
def test_smooth_boundary_entropy_reproduces_published_table():
    # Puy et al. (2021) / Attractors.jl table for dimensions 1..5
    table = [0.499999, 0.4395093, 0.39609176, 0.36319428, 0.33722572]
    for ndim, value in enumerate(table, start=1):
        assert smooth_boundary_entropy(ndim) == pytest.approx(value, abs=2e-6)
    # 1-D closed form: p uniform on [0, 1/2] -> mean binary entropy 1/2
    assert smooth_boundary_entropy(1) == pytest.approx(0.5, abs=1e-12)
    # decreasing with dimension (balls cut near the rim hold little of the other side)
    values = [smooth_boundary_entropy(d) for d in range(1, 9)]
    assert all(b < a for a, b in zip(values, values[1:]))


def test_smooth_boundary_entropy_by_monte_carlo(rng):
    # independent check in 2-D: a unit disc cut by a line at a uniformly random distance d;
    # the share of the disc beyond the line is estimated from random points in the disc
    pts = rng.uniform(-1, 1, (40000, 2))
    pts = pts[(pts ** 2).sum(axis=1) <= 1]
    d = rng.uniform(0, 1, 2000)
    share = (pts[None, :, 0] > d[:, None]).mean(axis=1)
    mean_entropy = np.mean([gibbs([q, 1 - q]) for q in share])
    assert mean_entropy == pytest.approx(smooth_boundary_entropy(2), abs=0.01)


# -- basin entropy: closed forms and brute force ------------------------------------------
@pytest.mark.parametrize("n, s, column", [(100, 5, 52), (100, 4, 50), (60, 7, 31), (61, 10, 33)])
def test_entropy_of_straight_boundary_closed_form(n, s, column):
    labels = half_plane(n, column)
    Sb, Sbb = basin_entropy(labels, box_size=s)
    n_side = n // s
    p = (column % s) / s                       # share of label 1 in the boundary box column
    if column >= n_side * s or p == 0:
        assert Sb == 0.0 and np.isnan(Sbb)
        return
    assert Sbb == pytest.approx(gibbs([p, 1 - p]), rel=1e-12)
    assert Sb == pytest.approx(gibbs([p, 1 - p]) / n_side, rel=1e-12)
    assert Sbb <= LOG2 + 1e-15


def test_boundary_through_box_middles_gives_log2_on_boundary_boxes_only():
    # every boundary box holds a 50:50 split: Sbb = log 2 exactly, Sb = log 2 x boundary share
    labels = half_plane(200, 102)              # boxes of 4: columns 100..103 straddle
    Sb, Sbb = basin_entropy(labels, box_size=4)
    assert Sbb == pytest.approx(LOG2, rel=1e-14)
    assert Sb == pytest.approx(LOG2 / 50, rel=1e-14)
    # grows more local (Sb -> 0) as the grid is refined, Sbb stays log 2
    Sb2, Sbb2 = basin_entropy(half_plane(800, 402), box_size=4)
    assert Sbb2 == pytest.approx(LOG2) and Sb2 == pytest.approx(Sb / 4)


def test_uniform_labels_have_zero_entropy_and_no_boundary():
    labels = np.full((50, 40), 7)
    Sb, Sbb = basin_entropy(labels, 5)
    assert Sb == 0.0 and np.isnan(Sbb)
    res = uncertainty_exponent(labels, eps=[2, 4, 8])
    assert np.isnan(res.alpha) and np.isnan(res.dimension)
    assert np.all(res.count == 0) and np.all(res.fraction == 0)
    with pytest.raises(ValueError, match="at least two distinct labels"):
        basins_fractal_test(labels, eps=3, n_samples=100)


@settings(max_examples=60, deadline=None)
@given(labels=hnp.arrays(np.int16, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1,
                                                    max_side=12),
                         elements=st.integers(-3, 3)),
       data=st.data())
def test_entropy_matches_brute_force(labels, data):
    s = data.draw(st.integers(1, min(labels.shape)))
    Sb, Sbb = basin_entropy(labels, box_size=s)
    ref_Sb, ref_Sbb = brute_entropy(labels, s)
    assert Sb == pytest.approx(ref_Sb, rel=1e-12, abs=1e-15)
    if np.isnan(ref_Sbb):
        assert np.isnan(Sbb)
    else:
        assert Sbb == pytest.approx(ref_Sbb, rel=1e-12)
        assert 0.0 < Sb <= Sbb <= np.log(min(len(np.unique(labels)), s ** labels.ndim)) + 1e-12


@settings(max_examples=40, deadline=None)
@given(labels=hnp.arrays(np.int64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=4,
                                                    max_side=20),
                         elements=st.integers(0, 4)),
       perm=st.permutations([0, 1, 2, 3, 4]), offset=st.integers(-10**12, 10**12))
def test_relabelling_leaves_every_measure_unchanged(labels, perm, offset):
    relabelled = np.asarray(perm)[labels] * 3 + offset      # any injective relabelling
    for s in (1, 2, 3, 4):
        np.testing.assert_allclose(basin_entropy(relabelled, s), basin_entropy(labels, s),
                                   rtol=1e-13, atol=0)
    a = uncertainty_exponent(labels, eps=[1, 2, 3])
    b = uncertainty_exponent(relabelled, eps=[1, 2, 3])
    np.testing.assert_array_equal(a.count, b.count)
    np.testing.assert_allclose(a.alpha, b.alpha, rtol=1e-13)


def test_fractal_test_is_invariant_under_relabelling(newton300):
    perm = np.array([2, -5, 40, 9])
    a = basins_fractal_test(newton300, eps=6, n_samples=200, seed=4)
    b = basins_fractal_test(perm[newton300].astype(np.int32), eps=6, n_samples=200, seed=4)
    assert a.verdict == b.verdict
    assert a.Sbb == pytest.approx(b.Sbb, rel=1e-13)


# -- uncertainty exponent: closed forms ---------------------------------------------------
def test_uncertainty_exponent_of_flat_boundaries_in_1d_2d_3d():
    # a point in 1-D, a line in 2-D, a plane in 3-D: D = ndim - 1, alpha = 1; the boundary
    # index b is not a multiple of any box size, so N(eps) = (n // eps)^(ndim-1) exactly
    for ndim, n, b in ((1, 2000, 721), (2, 360, 121), (3, 60, 23)):
        labels = np.zeros((n,) * ndim, dtype=np.int8)
        labels[b:] = 1
        eps = [2, 3, 4, 5, 6]
        res = uncertainty_exponent(labels, eps=eps)
        np.testing.assert_array_equal(res.count, [(n // e) ** (ndim - 1) for e in eps])
        assert res.alpha == pytest.approx(1.0, abs=1e-12)
        assert res.dimension == pytest.approx(ndim - 1, abs=1e-12)
        np.testing.assert_allclose(res.fraction, [1 / (n // e) for e in eps])


@pytest.mark.parametrize("labels", [half_plane(300, 137), diagonal(300), disc(600)],
                         ids=["vertical", "diagonal", "circle"])
def test_smooth_boundaries_have_alpha_one(labels):
    # finite-size corrections of box counting on smooth curves are below 0.1 here
    res = uncertainty_exponent(labels, eps=range(5, 31))
    assert res.alpha == pytest.approx(1.0, abs=0.1)
    assert res.dimension == pytest.approx(1.0, abs=0.1)
    assert basin_entropy(labels, 5).Sbb < LOG2


def test_default_eps_range_avoids_the_small_box_bias():
    labels = disc(600, 0.5)
    res = uncertainty_exponent(labels)
    np.testing.assert_array_equal(res.eps, np.arange(5, 61))     # 5 : max(size) / 10
    assert res.alpha == pytest.approx(1.0, abs=0.1)
    # Attractors.jl's default 2 : max(size) / 20 misses boundaries lying on box edges (a share
    # 1/eps of them), which bends log N(eps) for small eps and inflates alpha
    biased = uncertainty_exponent(labels, eps=range(2, 11))
    assert biased.alpha > 1.3
    with pytest.raises(ValueError, match="eps"):
        uncertainty_exponent(disc(50))                           # default range too short


# -- Newton's method on z^3 - 1 -----------------------------------------------------------
def test_newton_basins_are_symmetric(newton300):
    labels = newton300
    assert set(np.unique(labels)) == {0, 1, 2}                   # no point left undecided
    # z -> conj(z) maps the grid onto itself and swaps the roots exp(+-2 pi i / 3)
    np.testing.assert_array_equal(labels[:, ::-1], np.array([0, 2, 1])[labels])
    # so the measures are the same for the reflected, relabelled map
    np.testing.assert_allclose(basin_entropy(labels[:, ::-1], 5), basin_entropy(labels, 5),
                               rtol=1e-13)


def test_newton_uncertainty_exponent_matches_published_value(newton300):
    # published boundary dimension 1.42 (alpha = 0.58); Attractors.jl computes alpha ~ 0.6 on the
    # same grid (300 x 300 on [-1, 1]^2, eps = 5:30) and accepts 0.55..0.65. We measure 0.615;
    # the window allows for the finite-size error of box counting (0.615..0.623 for 300..1000).
    res = uncertainty_exponent(newton300, eps=range(5, 31))
    assert 0.55 <= res.alpha <= 0.65
    assert res.dimension == pytest.approx(1.42, abs=0.06)
    # the uncertain fraction falls as eps^alpha: check the fit on the fractions themselves
    slope = np.polyfit(np.log(res.eps), np.log(res.fraction), 1)[0]
    assert slope == pytest.approx(res.alpha, abs=0.05)


def test_newton_basin_entropy_and_fractal_verdict(newton300):
    Sb, Sbb = basin_entropy(newton300, 5)
    # measured 0.108 and 0.691; Sbb is far above any smooth two-basin boundary
    assert 0.09 < Sb < 0.13
    assert 0.65 < Sbb <= np.log(3)
    for seed in range(3):
        res = basins_fractal_test(newton300, eps=10, n_samples=300, seed=seed, n_sigma=3)
        assert res.verdict == "fractal"
        assert res.Sbb > res.Sbb_smooth + res.bias + 10 * res.stderr


# -- cross-checks with the values asserted by Attractors.jl -------------------------------
def test_grebogi_map_values_match_attractors_jl():
    basins300 = grebogi_basins(300)
    Sb, Sbb = basin_entropy(basins300, 6)
    assert 0.40 <= Sb <= 0.42              # Attractors.jl test: Sb in [0.40, 0.42]
    assert 0.60 <= Sbb <= 0.61             # ... and Sbb in [0.60, 0.61]
    assert basins_fractal_test(basins300, eps=5, seed=0).verdict == "fractal"
    alpha = uncertainty_exponent(grebogi_basins(251), eps=range(3, 16)).alpha
    assert 0.2 <= alpha <= 0.3             # paper: about 0.2; Attractors.jl: [0.2, 0.3]


def test_henon_escape_boundary_is_smooth():
    # Attractors.jl: the Henon map's basin (attractor vs escape) on [-2, 2]^2 is smooth at eps 5
    g = np.linspace(-2.0, 2.0, 300)
    x = dynsys.maps.henon().iterate(np.stack(np.meshgrid(g, g, indexing="ij"), -1), 60)
    labels = (~np.all(np.abs(x) < 1e3, axis=-1)).astype(int)
    verdicts = [basins_fractal_test(labels, eps=5, n_samples=300, seed=s).verdict
                for s in range(5)]
    assert verdicts.count("smooth") >= 4


# -- fractal test on smooth boundaries ----------------------------------------------------
@pytest.mark.parametrize("labels", [half_plane(300, 137), diagonal(300), disc(300)],
                         ids=["vertical", "diagonal", "circle"])
def test_smooth_boundaries_pass_the_fractal_test(labels):
    runs = [basins_fractal_test(labels, eps=8, n_samples=300, seed=s) for s in range(12)]
    # with Attractors.jl's one-standard-error band a smooth boundary fails in some draws ...
    assert sum(r.verdict == "smooth" for r in runs) >= 8
    # ... with three standard errors it passes in every one
    for s in range(12):
        strict = basins_fractal_test(labels, eps=8, n_samples=300, seed=s, n_sigma=3)
        assert strict.verdict == "smooth"
        assert abs(strict.Sbb - strict.Sbb_smooth) < strict.bias + 3 * strict.stderr


def test_fractal_test_against_brute_force_balls():
    # the same random centres (8192 per draw), each ball found by measuring the distance from
    # its centre to every cell of the grid, without the screen or the vectorised entropy
    rng = np.random.default_rng(5)
    labels = np.where(disc(60, 0.3) == 1, 2, np.where(np.arange(60)[None, :] > 40, 7, 0))
    radius, n_samples = 3.5, 120
    grid = np.stack(np.meshgrid(np.arange(60), np.arange(60), indexing="ij"), axis=-1)
    entropies = []
    while len(entropies) < n_samples:
        for centre in radius + rng.random((8192, 2)) * (59.0 - 2 * radius):
            ball = labels[((grid - centre) ** 2).sum(axis=-1) <= radius ** 2]
            counts = np.unique(ball, return_counts=True)[1]
            if len(counts) > 1:
                entropies.append(gibbs(counts / ball.size))
            if len(entropies) == n_samples:
                break
    res = basins_fractal_test(labels, eps=radius, n_samples=n_samples, seed=5)
    assert res.Sbb == pytest.approx(np.mean(entropies), rel=1e-12)
    assert res.stderr == pytest.approx(np.std(entropies, ddof=1) / np.sqrt(n_samples), rel=1e-9)


def test_fractal_test_in_1d_and_3d():
    line = np.zeros(3000, dtype=int)
    line[1234:] = 1
    res = basins_fractal_test(line, eps=10.5, n_samples=200, seed=1)
    assert res.Sbb_smooth == pytest.approx(0.5)
    assert res.verdict == "smooth"
    cube = np.zeros((40, 40, 40), dtype=int)
    cube[:, :, 17:] = 1
    res = basins_fractal_test(cube, eps=4, n_samples=150, seed=2, n_sigma=3)
    assert res.Sbb_smooth == pytest.approx(0.39609176, abs=1e-7)
    assert res.verdict == "smooth"


def test_fractal_test_is_reproducible_with_a_seed(newton300):
    a = basins_fractal_test(newton300, eps=5, n_samples=150, seed=11)
    b = basins_fractal_test(newton300, eps=5, n_samples=150, seed=np.random.default_rng(11))
    assert a == b


def test_fractal_test_gives_up_on_a_tiny_boundary():
    labels = np.zeros((400, 400), dtype=int)
    labels[200, 200] = 1
    with pytest.raises(ValueError, match="max_tries"):
        basins_fractal_test(labels, eps=2, n_samples=100, seed=0, max_tries=1000)


# -- xarray input -------------------------------------------------------------------------
def test_dataarray_input_like_dynsys_basins(newton300):
    stacked = np.stack([newton300, np.zeros_like(newton300)])
    g = np.linspace(-1, 1, 300)
    da = xr.DataArray(stacked, dims=("lr", "x_1", "x_2"),
                      coords={"lr": [0.5, 1.0], "x_1": g, "x_2": g}, name="attractor")
    with pytest.raises(ValueError, match="'lr'"):
        basin_entropy(da)
    assert basin_entropy(da.isel(lr=0)) == basin_entropy(newton300)
    assert basin_entropy(da.isel(lr=[0])) == basin_entropy(newton300)     # size-1 dim dropped
    assert uncertainty_exponent(da.sel(lr=0.5), eps=[5, 10]).alpha == pytest.approx(
        uncertainty_exponent(newton300, eps=[5, 10]).alpha)
    assert basins_fractal_test(da.isel(lr=0), eps=5, n_samples=100, seed=3) == \
        basins_fractal_test(newton300, eps=5, n_samples=100, seed=3)
    with pytest.raises(TypeError, match="Dataset"):
        basin_entropy(da.to_dataset())
    # a user DataArray without state-named dims is used as it is
    assert basin_entropy(xr.DataArray(newton300, dims=("a", "b"))) == basin_entropy(newton300)


def test_boolean_labels_are_two_basins():
    labels = half_plane(40, 22)
    assert basin_entropy(labels.astype(bool), 4) == basin_entropy(labels, 4)


# -- bad input ----------------------------------------------------------------------------
@settings(max_examples=30, deadline=None)
@given(values=hnp.arrays(st.sampled_from([np.float64, np.float32, np.complex128]),
                         hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)))
def test_non_integer_labels_raise_type_error(values):
    for call in (lambda: basin_entropy(values, 1), lambda: uncertainty_exponent(values, eps=[1, 2]),
                 lambda: basins_fractal_test(values, eps=1)):
        with pytest.raises(TypeError, match="labels"):
            call()


@pytest.mark.parametrize("bad", [None, "abc", [[1, 2], [3]], np.int64(3), np.zeros((0, 4), int)])
def test_bad_label_containers(bad):
    with pytest.raises((TypeError, ValueError), match="labels"):
        basin_entropy(bad, 1)


@settings(max_examples=50, deadline=None)
@given(size=st.one_of(st.integers(-5, 0), st.integers(13, 100), st.floats(0.1, 9.9).filter(
    lambda v: not float(v).is_integer()), st.booleans(), st.just("3"), st.just((2, 2, 2))))
def test_bad_box_size_names_the_argument(size):
    labels = half_plane(12, 5)
    with pytest.raises((TypeError, ValueError), match="box_size"):
        basin_entropy(labels, box_size=size)


def test_box_size_per_axis():
    labels = half_plane(12, 5)[:, :10]
    assert basin_entropy(labels, (3, 2)) == pytest.approx(brute_entropy_rect(labels, (3, 2)))
    with pytest.raises(ValueError, match="box_size"):
        basin_entropy(labels, (3, 11))


def brute_entropy_rect(labels, sizes):
    total, n, nb = 0.0, 0, 0
    for i in range(0, labels.shape[0] - sizes[0] + 1, sizes[0]):
        for j in range(0, labels.shape[1] - sizes[1] + 1, sizes[1]):
            box = labels[i:i + sizes[0], j:j + sizes[1]].ravel()
            counts = np.bincount(box)
            total += gibbs(counts / box.size)
            n += 1
            nb += np.count_nonzero(counts) > 1
    return total / n, total / nb


@pytest.mark.parametrize("eps", [[3], [0, 2], [2, 50], "23", 5, [2.5, 3], [[2, 3]]])
def test_bad_eps_range_names_the_argument(eps):
    with pytest.raises((TypeError, ValueError), match="eps"):
        uncertainty_exponent(half_plane(40, 13), eps=eps)


@pytest.mark.parametrize("kwargs, word", [
    ({"eps": 0}, "eps"), ({"eps": -1.0}, "eps"), ({"eps": 20}, "eps"), ({"eps": np.nan}, "eps"),
    ({"eps": "5"}, "eps"), ({"n_samples": 99}, "n_samples"), ({"n_samples": 1.5}, "n_samples"),
    ({"n_sigma": 0.0}, "n_sigma"), ({"seed": "x"}, "seed"), ({"seed": 1.5}, "seed"),
    ({"max_tries": 10}, "max_tries")])
def test_bad_fractal_test_arguments(kwargs, word):
    with pytest.raises((TypeError, ValueError), match=word):
        basins_fractal_test(half_plane(40, 13), **{"eps": 3, **kwargs})
