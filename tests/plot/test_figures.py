"""Every figure renders to a non-trivial PNG (not blank, the expected panels and artists), draws
into the Axes it is given, and fits a paper column; the basin figure colours by attractor,
keeps diverged apart from the background and drops no panel."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dynsys  # noqa: E402
from dynsys.plot._basins import OUTCOME_COLOURS  # noqa: E402
from dynsys.plot._style import COLUMN_WIDTH  # noqa: E402

QR = dynsys.QuadraticRegression2D(0.05)


@pytest.fixture(scope="module")
def results():
    traj = dynsys.trajectory(QR, [0.3, 7.0], lr=1.0, steps=2000)
    return {
        "trajectory": ((traj,), {"system": QR}, 2),
        "basins": ((dynsys.basins(QR, [0.5, 0.8, 1.0, 1.5], grid=((-3, 3, 40), (-12, 12, 40)),
                                  steps=5000),), {}, 5),
        "bifurcation": ((dynsys.bifurcation_diagram(QR, dynsys.linspace(0.5, 3.0, 60), x0=[0.3, 7.0],
                                                    steps=5000, keep=16),), {}, 1),
        "eos_region": ((dynsys.eos_region(QR, lr_range=dynsys.linspace(0.9, 1.1, 3),
                                          grid=((0.05, 2.0, 16), (4.0, 12.0, 16)), n_check=10,
                                          refine=0, seed=0, prove=False),), {}, 2),
        "gfs_trajectory": ((dynsys.gfs_trajectory(QR, [0.3, 7.0], lr=1.0, steps=300),), {}, 3),
        "limit_offset": ((dynsys.limit_offset([0.02, 0.05], [0.0], lr_gfs=(2.5,),
                                              max_steps=200_000),), {}, 2),
        "theorem2": ((dynsys.theorem2_monte_carlo([8, 16], samples=10, seed=0),), {}, 2),
        "orbits": ((dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 2,
                                           bounds=[(-3, 3), (-3, 3)]),), {}, 2),
        "self_stabilisation": ((dynsys.self_stabilisation_tracking(
            QR, [0.3, 7.0], 1.0, steps=200),), {}, 2),
        "lyapunov": ((dynsys.lyapunov_convergence(HENON, [0.1, 0.1], steps=20_000,
                                                  checkpoints=50),),
                     {"spectrum": dynsys.lyapunov_spectrum(HENON, [0.1, 0.1], steps=20_000)}, 3),
        "kreisler_scan": ((KREISLER,), {}, 2),
        "proof_cover": ((dynsys.certify_region(dynsys.QuadraticRegression2D(0.05),
                                               ((1.6, 1.6001), (8.8, 8.8001)), (0.64, 0.64001),
                                               0.05),),
                        {"background": dynsys.basins(dynsys.QuadraticRegression2D(0.05), [0.64],
                                                     grid=((1.59, 1.61, 8), (8.79, 8.81, 8)),
                                                     steps=2000),
                         "candidate": ((1.59, 1.61), (8.79, 8.81))}, 1),
    }


HENON = dynsys.maps.henon(1.4, 0.3)
KREISLER = dynsys.kreisler_scan(dynsys.ScalarNetwork(3), np.random.default_rng(0).uniform(
    0.3, 1.8, (16, 3)), [2.1, 2.5, 3.0], steps=2000)


def test_every_plot_function_is_covered(results):
    assert set(results) == set(dynsys.plot.__all__)


def _pixels(path):
    image = plt.imread(path)
    return image[..., :3] if image.ndim == 3 else image


def _artists(ax) -> int:
    return len(ax.lines) + len(ax.collections) + len(ax.patches) + len(ax.images)


@pytest.mark.parametrize("name", sorted(dynsys.plot.__all__))
def test_renders_a_non_trivial_png(name, results, tmp_path):
    args, kwargs, panels = results[name]
    path = tmp_path / f"{name}.png"
    fig = getattr(dynsys.plot, name)(*args, path=path, **kwargs)
    try:
        data_axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
        assert len(data_axes) == panels
        assert all(_artists(ax) >= 1 for ax in data_axes)
        assert all(ax.get_xlabel() or ax.get_ylabel() for ax in data_axes)
        pixels = _pixels(path)
        ink = np.mean(np.any(pixels < 0.9, axis=-1))          # share of non-white pixels
        assert 0.02 < ink < 0.95 and pixels.std() > 0.05
        width = fig.get_size_inches()[0]
        assert width <= COLUMN_WIDTH[2] + 1e-9, "wider than a page"
    finally:
        plt.close(fig)


@pytest.mark.parametrize("name", sorted(dynsys.plot.__all__))
def test_draws_into_the_axes_given(name, results):
    args, kwargs, panels = results[name]
    fig, axes = plt.subplots(1, panels, squeeze=False)
    try:
        given = list(axes.ravel())
        out = getattr(dynsys.plot, name)(*args, ax=given if panels > 1 else given[0], **kwargs)
        assert out is fig and all(_artists(ax) >= 1 for ax in given)
        with pytest.raises(ValueError, match="ax"):
            getattr(dynsys.plot, name)(*args, ax=given + given, **kwargs)
    finally:
        plt.close("all")


def test_one_column_figures_fit_one_column(results):
    fig = dynsys.plot.bifurcation(*results["bifurcation"][0], columns=1)
    assert fig.get_size_inches()[0] == pytest.approx(COLUMN_WIDTH[1])
    plt.close(fig)
    with pytest.raises(ValueError, match="columns"):
        dynsys.plot.basins(*results["basins"][0], columns=3)


def test_basins_colour_by_attractor_and_show_diverged_apart_from_background(tmp_path):
    henon = dynsys.basins(dynsys.maps.henon(1.4, 0.3), [1.0, 1.2], param="a",
                          grid=((-1.5, 1.5, 60), (-0.5, 0.5, 60)), steps=500)
    assert henon.sizes["attractor_id"] == 2
    fig = dynsys.plot.basins(henon)
    try:
        labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        assert labels == ["0: 4-cycle", "1: chaotic set", "diverged"]
        colours = [tuple(p.get_facecolor()) for leg in fig.legends for p in leg.get_patches()]
        assert len(set(colours)) == 3
        diverged = matplotlib.colors.to_rgba(OUTCOME_COLOURS["diverged"])
        background = fig.axes[0].get_facecolor()
        assert np.abs(np.subtract(diverged, background)).max() > 0.1
    finally:
        plt.close(fig)


def test_basins_draw_every_value_unless_told_and_then_say_so():
    ds = dynsys.basins(QR, np.linspace(0.5, 1.5, 7), grid=((-3, 3, 12), (-12, 12, 12)),
                       steps=500)
    fig = dynsys.plot.basins(ds)
    maps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(maps) == 7
    plt.close(fig)
    fig = dynsys.plot.basins(ds, max_facets=3)
    assert "3 of 7" in fig.get_suptitle()
    plt.close(fig)


def test_bifurcation_of_a_model_defaults_to_lr_sharpness_and_marks_divergence(results):
    diagram = results["bifurcation"][0][0]
    meanings = diagram.outcome.attrs["flag_meanings"].split()
    code = dict(zip(meanings, np.atleast_1d(diagram.outcome.attrs["flag_values"]), strict=True))
    diverged = diagram.outcome == code["diverged"]
    assert diverged.any() and not diverged.all()
    fig = dynsys.plot.bifurcation(diagram)
    try:
        ax = fig.axes[0]
        assert ax.get_ylabel() == r"$\eta\lambda$"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "diverged" in labels
        dots = next(line for line in ax.lines if line.get_label() == "orbit diagram")
        y = np.asarray(dots.get_ydata(), dtype=float)
        # below the edge GD converges: one dot per step size, not one per round-off sample
        below = int((diagram.lr < 0.9).sum())
        assert below >= 10
        assert np.isfinite(y[:below * 16]).sum() == below
    finally:
        plt.close(fig)


def test_trajectory_hides_round_off_and_draws_the_gradient_flow_limit(results):
    (traj,), kwargs, _ = results["trajectory"]
    fig = dynsys.plot.trajectory(traj, **kwargs)
    try:
        loss = np.asarray(fig.axes[0].lines[0].get_ydata(), dtype=float)
        assert np.nanmin(loss) > 1e-30 and np.isnan(loss).any()     # the floor is not drawn
        gfs = 1.0 * float(dynsys.gfs_sharpness(QR, [0.3, 7.0]))
        assert any(np.allclose(line.get_ydata(), gfs) for line in fig.axes[1].lines)
    finally:
        plt.close(fig)


def test_bifurcation_never_draws_round_off():
    model = dynsys.QuadraticRegression2D(0.05)
    diagram = dynsys.bifurcation_diagram(model, dynsys.linspace(0.5, 1.5, 20), x0=[0.3, 7.0], steps=20_000,
                                         keep=16)
    assert 0 < float(np.abs(diagram.residual).max()) < 1e-12      # the residual is round-off
    fig = dynsys.plot.bifurcation(diagram, y="residual")
    try:
        dots = next(line for line in fig.axes[0].lines if line.get_label() == "orbit diagram")
        y = np.asarray(dots.get_ydata(), dtype=float)
        assert np.all(y[np.isfinite(y)] == 0) and np.isfinite(y).sum() == diagram.sizes["lr"]
    finally:
        plt.close(fig)


def test_orbits_mark_stability_and_period():
    logistic = dynsys.periodic_orbits(dynsys.maps.logistic(3.5), 4, bounds=[(0, 1)])
    fig = dynsys.plot.orbits(logistic)
    try:
        state = fig.axes[0]
        labels = [t.get_text() for t in state.get_legend().get_texts()]
        assert labels == [f"period {p}" for p in sorted(set(logistic.period.values.tolist()))]
        # the stable 4-cycle is filled, the unstable fixed points hollow
        markers = [line for line in state.lines if line.get_marker() == "o"]
        filled = [line.get_markerfacecolor() != "white" for line in markers]
        assert filled == list(logistic.stable.values)
        assert any(filled) and not all(filled)
    finally:
        plt.close(fig)


def _overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("columns", [1, 2])
@pytest.mark.parametrize("name", sorted(dynsys.plot.__all__))
def test_legends_cover_no_axis_label(name, columns, results):
    """Rendered at one-column and full-width print size, no legend lies over an axis label
    (the basins figure's limit panel had its legend over its y label)."""
    args, kwargs, _ = results[name]
    try:
        fig = getattr(dynsys.plot, name)(*args, columns=columns, **kwargs)
    except TypeError:
        pytest.skip(f"plot.{name} has no columns=")
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
        labels = [lab for ax in fig.axes if ax.get_visible()
                  for lab in (ax.xaxis.label, ax.yaxis.label) if lab.get_text()]
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for lab in labels:
                assert not _overlap(box, lab.get_window_extent(renderer)), (
                    f"plot.{name}(columns={columns}): a legend covers the label "
                    f"{lab.get_text()!r}")
    finally:
        plt.close(fig)


def test_basins_limit_panel_legend_is_the_figure_legend(results):
    fig = dynsys.plot.basins(*results["basins"][0])
    try:
        limit = [ax for ax in fig.axes if ax.get_visible()][-1]
        assert limit.get_legend() is None
        texts = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        assert "median" in texts and any("= 2" in t for t in texts)
    finally:
        plt.close(fig)


def test_kreisler_scan_figure_counts_every_run_class():
    fig = dynsys.plot.kreisler_scan(KREISLER)
    try:
        bars = fig.axes[0]
        flags = dict(zip(KREISLER.run_class.attrs["flag_meanings"].split(),
                         KREISLER.run_class.attrs["flag_values"], strict=True))
        heights = {}
        for container in bars.containers:
            name = container.get_label().replace(" ", "_")
            heights[name] = [p.get_height() for p in container.patches]
        for name, code in flags.items():
            counts = (KREISLER.run_class == code).sum("start").values.tolist()
            assert heights.get(name, [0] * len(counts)) == counts, name
        total = np.sum([h for h in heights.values()], axis=0)
        assert total.tolist() == [KREISLER.sizes["start"]] * KREISLER.sizes["lr_gfs"]
    finally:
        plt.close(fig)


def test_lyapunov_figure_shows_each_exponent_converging(results):
    (trace,), kwargs, _ = results["lyapunov"]
    fig = dynsys.plot.lyapunov(trace, **kwargs)
    try:
        for j, ax in enumerate(fig.axes[:2]):
            y = np.asarray(ax.lines[0].get_ydata(), dtype=float)
            np.testing.assert_allclose(y, trace.running_estimate.values[:, j])
            assert y[-1] == pytest.approx(float(kwargs["spectrum"][j]), abs=1e-12)
        assert fig.axes[2].get_yscale() == "log"
    finally:
        plt.close(fig)
