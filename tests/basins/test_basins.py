"""dynsys.basins against direct iteration, symmetries, known attractors and the scaling law."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys import Outcome

CODE = {v: k for k, v in Outcome.meanings().items()}


def _check_cells_against_iteration(system, ds, cells, *, lr_name, tol=1e-12, radius=1e6):
    """Every sampled cell: the state after `steps` iterations is final_theta, the stopping rule
    holds there (and, for |z| < tol, first holds there), and the outcome is right."""
    model = system if isinstance(system, dynsys.Model) else None
    state = "final_theta" if model is not None else "final_x"
    for cell in cells:
        point = ds.isel(cell)
        value = float(point[lr_name])
        x0 = np.array([float(point[d]) for d in ds.outcome.dims[1:]])
        used = int(point.steps)
        outcome = int(point.outcome)
        mapping = (dynsys.gd_map(model, value) if model is not None
                   else system.with_params(**{lr_name: value}))
        if used == 0:
            orbit = x0[None]
        else:
            traj = dynsys.trajectory(mapping, x0, steps=used, radius=1e150)
            orbit = (traj["theta"] if "theta" in traj else traj["x"]).values
        final = point[state].values
        assert np.array_equal(orbit[-1], final), (cell, orbit[-1], final)
        if outcome == CODE["diverged"]:
            assert not np.sum(final ** 2) <= radius ** 2
            assert np.all(np.sum(orbit[:-1] ** 2, axis=1) <= radius ** 2)
        elif outcome == CODE["converged"]:
            with np.errstate(all="ignore"):
                jump = mapping.step(final) - final
            z_ok = model is not None and abs(float(model.residual(final)[0])) < tol
            assert z_ok or np.sum(jump ** 2) <= tol ** 2 * (1 + np.sum(final ** 2))
            if model is not None:
                assert float(point.final_sharpness) == pytest.approx(
                    float(model.sharpness(final)), rel=1e-9, abs=1e-12)
                if z_ok:    # the zero-residual rule is tested every step: first hit
                    z = np.abs(model.residual(orbit[:-1])[:, 0])
                    assert np.all(z >= tol)
        elif outcome == CODE["periodic"]:
            p = int(point.period)
            assert p >= 2
            back = mapping.iterate(final, p)
            assert np.max(np.abs(back - final)) <= 1e-6 * (1 + np.max(np.abs(final)))
            if p > 1:
                shorter = [mapping.iterate(final, q) for q in range(1, p) if p % q == 0]
                assert all(np.max(np.abs(s - final)) > 1e-6 for s in shorter)
        else:
            assert used == ds.attrs["steps"]


def _sample(ds, rng, n):
    dims = ds.outcome.dims
    shape = ds.outcome.shape
    flat = rng.choice(int(np.prod(shape)), size=n, replace=False)
    return [dict(zip(dims, np.unravel_index(i, shape), strict=True)) for i in flat]


@pytest.mark.parametrize("scaling", [False, True])
def test_qr2d_cells_equal_direct_iteration(rng, scaling):
    model = dynsys.QuadraticRegression2D(0.1, 0.3)
    ds = dynsys.basins(model, [1.0, 4.0], grid=((-3, 3, 32), (-8, 8, 32)), steps=3000,
                       scaling=scaling)
    assert set(np.unique(ds.outcome)) >= {CODE["converged"], CODE["diverged"]}
    _check_cells_against_iteration(model, ds, _sample(ds, rng, 60), lr_name="lr")
    # every outcome class is checked, not only the common ones
    rare = [dict(zip(ds.outcome.dims, idx, strict=True)) for code in np.unique(ds.outcome)
            for idx in [np.argwhere(ds.outcome.values == code)[0]]]
    _check_cells_against_iteration(model, ds, rare, lr_name="lr")


def test_kernel_and_numpy_maps_equal_direct_iteration(rng):
    henon = dynsys.maps.henon(1.4, 0.3)
    ds = dynsys.basins(henon, [0.5, 1.4], param="a", grid=((-2, 2, 24), (-2, 2, 24)),
                       steps=1500)
    assert ds.attrs["compute_path"] == "kernel"
    _check_cells_against_iteration(henon, ds, _sample(ds, rng, 40), lr_name="a")
    plain = dynsys.Map(lambda x, a, b: np.stack([1 - a * x[..., 0] ** 2 + x[..., 1],
                                                 b * x[..., 0]], axis=-1),
                       dim=2, params={"a": 1.4, "b": 0.3}, name="henon_numpy", vectorized=True,
                       jit=False)
    dn = dynsys.basins(plain, [0.5, 1.4], param="a", grid=((-2, 2, 24), (-2, 2, 24)),
                       steps=1500)
    assert dn.attrs["compute_path"] == "numpy"
    _check_cells_against_iteration(plain, dn, _sample(dn, rng, 40), lr_name="a")
    # the two paths run the same arithmetic: same outcomes and periods everywhere
    np.testing.assert_array_equal(ds.outcome.values, dn.outcome.values)
    np.testing.assert_array_equal(ds.period.values, dn.period.values)
    np.testing.assert_array_equal(ds.steps.values, dn.steps.values)


@pytest.mark.parametrize("target", [0.0, 0.4])
def test_sign_flips_give_symmetric_maps(target):
    model = dynsys.QuadraticRegression2D(0.1, target)
    ds = dynsys.basins(model, [0.6, 1.2], grid=((-2, 2, 17), (-6, 6, 25)), steps=2000)
    for name in ("outcome", "period", "steps", "attractor"):
        v = ds[name].values
        np.testing.assert_array_equal(v, v[:, ::-1, :], err_msg=name)
        np.testing.assert_array_equal(v, v[:, :, ::-1], err_msg=name)
    s = ds.final_sharpness.values
    np.testing.assert_array_equal(s, s[:, ::-1, ::-1])
    f = ds.final_theta.values
    np.testing.assert_array_equal(f[..., 0], -f[:, ::-1, :, 0])
    np.testing.assert_array_equal(f[..., 1], -f[:, :, ::-1, 1])


def test_logistic_windows():
    grid = ((0.01, 0.99, 99),)
    ds = dynsys.basins(dynsys.maps.logistic(), [2.8, 3.2, 3.83], grid=grid, steps=3000)
    fixed, two, three = (ds.sel(r=r) for r in (2.8, 3.2, 3.83))
    assert np.all(fixed.outcome == CODE["converged"])
    np.testing.assert_allclose(fixed.final_x.values[:, 0], 1 - 1 / 2.8, atol=1e-10)
    assert np.all(two.outcome == CODE["periodic"]) and np.all(two.period == 2)
    ids = np.unique(two.attractor)
    assert ids.size == 1
    r = 3.2
    expected = (r + 1 - np.sqrt((r - 3) * (r + 1))) / (2 * r)   # the lower point of the 2-cycle
    row = ds.attractor_x.values[ids[0], 0]
    assert row == pytest.approx(expected, abs=1e-7)
    assert int(ds.attractor_kind[ids[0]]) == 1 and int(ds.attractor_period[ids[0]]) == 2
    # the period-3 window: one attracting 3-cycle catches (almost) every point
    assert np.mean(three.period.values == 3) > 0.98
    ids3 = np.unique(three.attractor.values[three.period.values == 3])
    assert ids3.size == 1
    c = ds.attractor_x.values[ids3[0], 0]
    m = dynsys.maps.logistic(3.83)
    assert m.iterate([c], 3)[0] == pytest.approx(c, abs=1e-7)
    assert c == pytest.approx(min(m.iterate([c], 1)[0], m.iterate([c], 2)[0], c))


def test_henon_attractors():
    henon = dynsys.maps.henon(1.4, 0.3)
    ds = dynsys.basins(henon, [0.2, 0.5, 1.4], param="a", grid=((-1, 1, 21), (-0.3, 0.3, 11)),
                       steps=4000)
    a, b = 0.2, 0.3
    fp = (-(1 - b) + np.sqrt((1 - b) ** 2 + 4 * a)) / (2 * a)
    d = ds.sel(a=0.2)
    assert np.all(d.outcome == CODE["converged"])
    np.testing.assert_allclose(d.final_x.values[..., 0], fp, atol=1e-9)
    d = ds.sel(a=0.5)     # the fixed point has flipped: an attracting 2-cycle
    assert np.all(d.outcome == CODE["periodic"]) and np.all(d.period == 2)
    a = 0.5
    xs = np.sort(np.roots([1.0, -(1 - b) / a, ((1 - b) ** 2 - a) / a ** 2]).real)
    rep = ds.attractor_x.values[int(np.unique(d.attractor)[0])]
    assert rep[0] == pytest.approx(xs[0], abs=1e-7) and rep[1] == pytest.approx(b * xs[1], abs=1e-7)
    d = ds.sel(a=1.4)     # the chaotic attractor (largest exponent about 0.42) or escape
    chaotic = d.outcome.values == CODE["chaotic"]
    assert chaotic.mean() > 0.5
    assert np.all(np.isin(d.outcome.values, [CODE["chaotic"], CODE["diverged"]]))
    assert np.median(d.lyapunov.values[chaotic]) == pytest.approx(0.42, abs=0.05)


def test_family_id_shared_across_grid_and_lr():
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    ds = dynsys.basins(model, [0.3, 0.9], grid=((-2, 2, 20), (-5, 5, 20)), steps=4000)
    conv = ds.outcome.values == CODE["converged"]
    fam = ds.attractor.values[conv]
    assert np.unique(fam).size == 1
    fid = int(fam[0])
    assert ds.attractor_kind.attrs["flag_meanings"].split()[int(ds.attractor_kind[fid])] == "family"
    z = model.residual(ds.final_theta.values[conv])[..., 0]
    assert np.all(np.abs(z) < 1e-11)
    np.testing.assert_allclose(ds.final_sharpness.values[conv],
                               model.sharpness(ds.final_theta.values[conv]), rtol=1e-10)


def test_scaling_symmetry_on_off_identical():
    model = dynsys.QuadraticRegression2D(0.1, 0.3)
    kw = dict(grid=((-3, 3, 33), (-9, 9, 33)), steps=3000)
    # lr a power of 4: the rescaling is exact in floating point, results identical bit for bit
    on = dynsys.basins(model, [0.25, 1.0, 4.0], scaling=True, **kw)
    off = dynsys.basins(model, [0.25, 1.0, 4.0], scaling=False, **kw)
    off.attrs["scaling"] = on.attrs["scaling"]
    assert on.identical(off)
    # any lr: the same labels except at most a few cells on fractal boundaries, same limits
    on = dynsys.basins(model, [0.7, 1.3], scaling=True, **kw)
    off = dynsys.basins(model, [0.7, 1.3], scaling=False, **kw)
    same = on.outcome.values == off.outcome.values
    assert same.mean() > 0.995
    both = same & (on.outcome.values == CODE["converged"])
    np.testing.assert_allclose(on.final_sharpness.values[both], off.final_sharpness.values[both],
                               rtol=1e-6)
    assert abs(int(on.steps.sum()) - int(off.steps.sum())) < 1e-3 * int(off.steps.sum())


def test_chunking_does_not_change_the_result():
    model = dynsys.QuadraticRegression2D(0.1, 0.2)
    kw = dict(grid=((-3, 3, 30), (-8, 8, 25)), steps=1500)
    one = dynsys.basins(model, [0.5, 1.1], **kw)
    many = dynsys.basins(model, [0.5, 1.1], chunk_size=70, **kw)
    assert one.identical(many)


def test_overflow_is_diverged_without_warnings():
    # radius huge: orbits overflow to inf/NaN before leaving the ball; no RuntimeWarning escapes
    # (pytest turns them into errors)
    model = dynsys.QuadraticRegression2D(0.1, 0.0)
    ds = dynsys.basins(model, [3.0], grid=((-50, 50, 9), (-50, 50, 9)), steps=100, radius=1e150)
    far = np.hypot(*np.meshgrid(ds.theta_1, ds.theta_2, indexing="ij")) > 10
    assert np.all(ds.outcome.values[0][far] == CODE["diverged"])
    assert np.all(np.isnan(ds.final_sharpness.values[0][far]))
    plain = dynsys.Map(lambda x, c: x * x * c, dim=1, params={"c": 1e10}, vectorized=True)
    dn = dynsys.basins(plain, [1e10, 1e200], grid=((2, 3, 5),), steps=50, radius=1e150)
    assert np.all(dn.outcome == CODE["diverged"])


def test_plot(tmp_path):
    ds = dynsys.basins(dynsys.QuadraticRegression2D(0.1), [0.5, 1.0, 1.5],
                       grid=((-2, 2, 12), (-4, 4, 12)), steps=300)
    fig = dynsys.plot.basins(ds, path=tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 0
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    labels = [t.get_text() for leg in legends if leg for t in leg.get_texts()]
    assert any(label.startswith("0: ") for label in labels)       # attractor 0 by its id
    assert "diverged" in labels and r"edge: $\eta\lambda$ = 2" in labels
    ds = dynsys.basins(dynsys.maps.logistic(), (3.0, 4.0, 5), grid=((0.1, 0.9, 5),), steps=100)
    assert dynsys.plot.basins(ds) is not None


def test_attractors_keep_their_id_as_they_move_with_the_parameter():
    """The logistic fixed point 1 - 1/r moves with r and keeps one id; the 2-cycle born at
    r = 3 gets a new id (an attractor appearing), and keeps it as it moves."""
    ds = dynsys.basins(dynsys.maps.logistic(), (2.65, 3.35, 8), grid=((0.05, 0.95, 9),),
                       steps=5000)
    ids = ds.attractor.values
    below = ds.r.values < 3.0
    assert np.unique(ids[below]).tolist() == [0]
    assert np.unique(ids[~below]).tolist() == [1]
    assert ds.attractor_kind.values.tolist() == [0, 1]
    assert ds.attractor_period.values.tolist() == [1, 2]
    # the representative point is where each was first met
    np.testing.assert_allclose(ds.attractor_x.values[0], [1 - 1 / 2.65], rtol=1e-6)


def test_default_grid_as_in_the_mission_statement():
    """dynsys.basins(model, lr_range) works without a grid: 256^2 starts on the scales where
    lr lambda = 2 (2-D model), the map's default_box (built-in maps), [-1, 1]^dim otherwise."""
    model = dynsys.QuadraticRegression2D(0.1)
    ds = dynsys.basins(model, [1.0, 2.0], steps=50)
    assert ds.outcome.shape == (2, 256, 256)
    assert float(ds.theta_1.max()) == pytest.approx(2 * np.sqrt(2.0))
    assert float(ds.theta_2.max()) == pytest.approx(2 * np.sqrt(2.0 / 0.1))
    assert float(ds.theta_1.min()) == pytest.approx(-2 * np.sqrt(2.0))
    henon = dynsys.basins(dynsys.maps.henon(), [1.4], param="a", steps=20)
    assert henon.outcome.shape == (1, 256, 256) and float(henon.x_2.max()) == 2.0
    plain = dynsys.Map(lambda x, c: 0.5 * x + c, dim=2, params={"c": 0.1}, name="plain")
    ds = dynsys.basins(plain, [0.1], steps=20)
    assert float(ds.x_1.min()) == -1.0 and float(ds.x_2.max()) == 1.0


@pytest.mark.parametrize("system, values, kw", [
    (dynsys.QuadraticRegression2D(0.1), [0.7, 1.9], {}),                        # model loop
    (dynsys.maps.henon(1.4, 0.3), [1.0, 1.4], {"param": "a"}),                  # compiled map
])
def test_a_chunk_run_in_small_pieces_is_bit_for_bit_the_whole_chunk(system, values, kw,
                                                                    monkeypatch):
    # chunks run in pieces of about CALL_WORK cell-steps so that Ctrl-C lands between them
    # (tests/orbits/test_interrupt.py); orbits are independent, so pieces change nothing
    import importlib

    sweep = importlib.import_module("dynsys.basins._sweep")
    grid = ((-1.5, 1.5, 11), (-1.5, 1.5, 9))
    whole = dynsys.basins(system, values, grid=grid, steps=700, **kw)
    monkeypatch.setattr(sweep, "_pieces",
                        lambda n, steps, unit=1: [(lo, min(n, lo + 3)) for lo in range(0, n, 3)])
    pieces = dynsys.basins(system, values, grid=grid, steps=700, **kw)
    assert pieces.identical(whole)
