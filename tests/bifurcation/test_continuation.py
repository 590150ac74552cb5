"""Continuation of fixed points and cycles against closed forms and published values."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys

#: Period-doubling points of the logistic map r x (1 - x): 3, 1 + sqrt 6, and the next two
#: (published values, e.g. Briggs, Math. Comp. 57 (1991); also tabulated on the "Feigenbaum
#: constants" pages of MathWorld and OEIS A091517-style tables).
LOGISTIC_PD = [3.0, 1.0 + np.sqrt(6.0), 3.5440903595519, 3.5644072660954]


@pytest.fixture(scope="module")
def logistic_cascade():
    res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r", param_range=(2.5, 3.5675))
    for label in ("PD1", "PD2", "PD3"):
        res = res.switch(label)
    return res


def test_logistic_cascade_by_switching(logistic_cascade):
    res = logistic_cascade
    values = [float(res[f"PD{i}"].r) for i in range(1, 5)]
    np.testing.assert_allclose(values, LOGISTIC_PD, rtol=0, atol=1e-10)
    assert list(res.special_points.period.values) == [1, 2, 4, 8]
    assert all(res.special_points.criticality.values == "supercritical")
    # r = 3: the 1-D formula c = (f''/2)^2 + f'''/6 with f'' = -2r = -6 gives c = 9
    assert float(res["PD1"].normal_form) == pytest.approx(9.0, rel=1e-7)
    # the Feigenbaum ratio from the first PD points approaches 4.6692...
    delta = (values[2] - values[1]) / (values[3] - values[2])
    assert delta == pytest.approx(4.656, abs=0.01)
    assert abs(delta - 4.6692016) < abs((values[1] - values[0]) / (values[2] - values[1])
                                        - 4.6692016)


def test_cascade_branches_are_cycles_and_stability_changes(logistic_cascade):
    res = logistic_cascade
    for b, ds in enumerate(res.branches):
        period = ds.attrs["period"]
        assert period == 2 ** b
        f = dynsys.maps.logistic()
        for r, x in zip(ds.r.values[::5], ds.x.values[::5, 0], strict=True):
            np.testing.assert_allclose(f.iterate([x], period, r=r), [x], atol=1e-10)
        # stable exactly between the PD it was born at and the next one
        born = LOGISTIC_PD[b - 1] if b else -np.inf
        dies = LOGISTIC_PD[b]
        inside = (ds.r.values > born + 1e-6) & (ds.r.values < dies - 1e-6)
        outside = ds.r.values > dies + 1e-6
        assert ds.stable.values[inside].all()
        assert not ds.stable.values[outside].any()
    g = res.graph
    assert list(g.successors("PD1")) == ["branch1"]
    assert "PD4" in g.successors("branch3")


def test_two_cycle_branch_closed_form():
    res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r",
                              param_range=(2.7, 3.4)).switch("PD1")
    ds = res.branches[1].isel(s=slice(1, None))   # (the PD point: sqrt is ill-conditioned)
    r, x = ds.r.values, ds.x.values[:, 0]
    lo = (r + 1 - np.sqrt((r - 3) * (r + 1))) / (2 * r)
    hi = (r + 1 + np.sqrt((r - 3) * (r + 1))) / (2 * r)
    np.testing.assert_allclose(np.minimum(abs(x - lo), abs(x - hi)), 0, atol=1e-10)


def test_transcritical_branch_point_and_switch():
    res = dynsys.continuation(dynsys.maps.logistic(0.5), [0.0], param="r", param_range=(0.2, 2.0))
    assert list(res.special_points.kind.values) == ["BP"]
    assert float(res["BP1"].r) == pytest.approx(1.0, abs=1e-12)
    assert float(res["BP1"].x[0]) == pytest.approx(0.0, abs=1e-12)
    res = res.switch("BP1")
    other = res.branches[1]
    r, x = other.r.values, other.x.values[:, 0]
    np.testing.assert_allclose(x, 1 - 1 / r, atol=1e-10)
    assert r.min() == pytest.approx(0.2) and r.max() == pytest.approx(2.0)
    # exchange of stability: x = 0 stable for r < 1, x = 1 - 1/r stable for 1 < r < 3
    trivial = res.branches[0]
    assert (trivial.stable.values == (trivial.r.values < 1)).all()
    assert (other.stable.values[r > 1 + 1e-6]).all() and not other.stable.values[r < 1 - 1e-6].any()


def test_fold():
    """x' = x + r - x^2: fixed points x = +- sqrt(r) meet in a fold at r = 0."""
    m = dynsys.Map(lambda x, r: x + r - x ** 2, lambda x, r: (1 - 2 * x)[..., None], dim=1,
                   params={"r": 0.5}, vectorized=True)
    res = dynsys.continuation(m, [0.7], param="r", param_range=(-0.5, 1.0), step=0.01)
    lp = res["LP1"]
    assert float(lp.r) == pytest.approx(0.0, abs=1e-12)
    assert float(lp.x[0]) == pytest.approx(0.0, abs=1e-7)
    ds = res.branches[0]
    np.testing.assert_allclose(ds.x.values[:, 0] ** 2, ds.r.values, atol=1e-10)


def test_neimark_sacker_delayed_logistic():
    """The delayed logistic map (x, y) -> (y, r y (1 - x)) has fixed point x = y = 1 - 1/r with
    Jacobian [[0, 1], [-(r - 1), 1]]: det = r - 1, so a complex pair crosses |mu| = 1 at r = 2."""
    m = dynsys.Map(lambda x, r: np.stack([x[..., 1], r * x[..., 1] * (1 - x[..., 0])], -1),
                   dim=2, params={"r": 1.8}, vectorized=True)
    res = dynsys.continuation(m, [0.45, 0.45], param="r", param_range=(1.5, 2.3))
    assert list(res.special_points.kind.values) == ["NS"]
    assert float(res["NS1"].r) == pytest.approx(2.0, abs=1e-9)
    np.testing.assert_allclose(np.abs(res["NS1"].multipliers.values), 1.0, atol=1e-8)
    with pytest.raises(ValueError, match="cannot switch"):
        res.switch("NS1")


@pytest.mark.parametrize("h", [0.5, 2.0, 7.0])
def test_gd_on_quadratic_flips_at_two_over_h(h):
    model = dynsys.Model.from_loss(lambda t: 0.5 * h * t[..., 0] ** 2,
                                   grad=lambda t: h * t, hessian=lambda t: h * np.ones(
                                       t.shape[:-1] + (1, 1)), dim=1, vectorized=True)
    res = dynsys.continuation(model, [0.01], param="lr", param_range=(0.2 / h, 3.0 / h))
    assert float(res["PD1"].lr) == pytest.approx(2.0 / h, rel=1e-13)
    assert str(res["PD1"].criticality.values) == "degenerate"      # a linear map: c = 0


def _cubic_loss_model():
    return dynsys.Model.from_loss(
        lambda t: t[..., 0] ** 2 / 2 - t[..., 0] ** 3 / 3,
        grad=lambda t: t - t ** 2,
        hessian=lambda t: (1 - 2 * t)[..., None], dim=1, vectorized=True)


def test_gd_conjugate_to_logistic_reproduces_the_cascade_in_lr():
    """GD on L(x) = x^2/2 - x^3/3 is x' = x - lr (x - x^2) = (1 - lr) x + lr x^2.

    Put x = a u + b. Then x' = a u' + b with u' = r u (1 - u) requires, matching the
    coefficients of u^2, u and 1:  lr a^2 = -a r,  (1 - lr) + 2 lr b = r,
    b (lr b - lr) = 0. The root b = 1 gives r = 1 + lr and a = -(1 + lr)/lr:

        x = 1 - (1 + lr) u / lr,   r = 1 + lr.

    The minimum x = 0 is u = lr/(1 + lr) = 1 - 1/r, the logistic map's non-trivial fixed
    point, so the logistic cascade r = 3, 1 + sqrt 6, 3.5440903595519, ... appears at
    lr = r - 1 = 2, sqrt 6, 2.5440903595519, ...
    """
    model = _cubic_loss_model()
    lr, u = 1.7, np.linspace(0.1, 0.9, 5)
    x = 1 - (1 + lr) * u / lr
    np.testing.assert_allclose(dynsys.gd_map(model, lr).step(x[:, None])[:, 0],
                               1 - (1 + lr) * dynsys.maps.logistic(1 + lr).step(
                                   u[:, None])[:, 0] / lr, rtol=1e-13)
    res = dynsys.continuation(model, [0.0], param="lr", param_range=(1.5, 2.55), start=1.6)
    res = res.switch("PD1").switch("PD2")
    values = [float(res[f"PD{i}"].lr) for i in (1, 2, 3)]
    np.testing.assert_allclose(values, np.array(LOGISTIC_PD[:3]) - 1.0, rtol=0, atol=1e-10)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_normal_form_sign_and_branch_direction(sign):
    """x' = -r x + s x^3: c = s exactly (q = p = 1, no quadratic term). The 2-cycle
    x = -x' has x^2 = s (r - 1): for s = +1 it lives at r > 1 and is stable (supercritical),
    for s = -1 at r < 1 and unstable (subcritical)."""
    m = dynsys.Map(lambda x, r: -r * x + sign * x ** 3,
                   lambda x, r: (-r + 3 * sign * x ** 2)[..., None], dim=1,
                   params={"r": 0.8}, vectorized=True)
    res = dynsys.continuation(m, [0.0], param="r", param_range=(0.6, 1.4))
    pd = res["PD1"]
    assert float(pd.r) == pytest.approx(1.0, abs=1e-12)
    assert float(pd.normal_form) == pytest.approx(sign, rel=1e-6)
    assert str(pd.criticality.values) == ("supercritical" if sign > 0 else "subcritical")
    cycle = res.switch("PD1").branches[1].isel(s=slice(1, None))
    r, x = cycle.r.values, cycle.x.values[:, 0]
    np.testing.assert_allclose(x ** 2, sign * (r - 1), atol=1e-10)
    assert np.all(np.sign(r - 1) == sign)
    assert cycle.stable.values.all() == (sign > 0) and cycle.stable.values.any() == (sign > 0)


def test_normal_form_n_dimensional_against_centre_manifold():
    """u' = -r u + a u^2 + b u^3 + u v, v' = v/2 + u^2 at r = 1. The centre manifold is
    v = 2 u^2 + O(u^3) (from 2 u^2 = u^2 + (1/2) 2 u^2), so on it u' = -u + a u^2 +
    (b + 2) u^3 and c = a^2 + b + 2 (Kuznetsov's formula: h2 = (I - A)^-1 B(q, q) = (a, 4),
    <p, B(q, h2)> = 2 a^2 + 4). Checked with an analytic and with a numerical Jacobian."""
    a, b = 0.7, -3.0

    def step(x, r):
        u, v = x[..., 0], x[..., 1]
        return np.stack([-r * u + a * u ** 2 + b * u ** 3 + u * v, 0.5 * v + u ** 2], -1)

    def jac(x, r):
        u, v = x[..., 0], x[..., 1]
        out = np.zeros(x.shape + (2,))
        out[..., 0, 0] = -r + 2 * a * u + 3 * b * u ** 2 + v
        out[..., 0, 1] = u
        out[..., 1, 0] = 2 * u
        out[..., 1, 1] = 0.5
        return out

    for jacobian in (jac, None):
        m = dynsys.Map(step, jacobian, dim=2, params={"r": 0.9}, vectorized=True)
        res = dynsys.continuation(m, [0.0, 0.0], param="r", param_range=(0.8, 1.2))
        assert float(res["PD1"].normal_form) == pytest.approx(a * a + b + 2, rel=1e-5)
        assert str(res["PD1"].criticality.values) == "subcritical"


def test_bad_input():
    m = dynsys.maps.logistic(2.8)
    with pytest.raises(ValueError, match="unknown param 'a'"):
        dynsys.continuation(m, [0.64], param="a", param_range=(2.5, 3.0))
    with pytest.raises(ValueError, match="param_range"):
        dynsys.continuation(m, [0.64], param="r", param_range=(3.0, 2.5))
    with pytest.raises(ValueError, match="param_range"):
        dynsys.continuation(m, [0.64], param="r", param_range=(3.0, 3.0))
    with pytest.raises(ValueError, match="param_range"):
        dynsys.continuation(m, [0.64], param="r", param_range=())
    with pytest.raises(ValueError, match="start"):
        dynsys.continuation(m, [0.64], param="r", param_range=(3.0, 3.5))
    with pytest.raises(ValueError, match=r"Newton did not converge.*residual"):
        # x' = x + c + x^2 has no real fixed point for c > 0
        dynsys.continuation(dynsys.Map(lambda x, c: x + c + x ** 2, dim=1, params={"c": 1.0}),
                            [0.3], param="c", param_range=(0.5, 1.5))
    with pytest.raises(ValueError, match="unknown param"):
        dynsys.continuation(dynsys.QuadraticRegression2D(0.1), [1.0, 0.0], param="eps",
                            param_range=(0.1, 1.0))
    with pytest.raises(ValueError, match="positive"):
        dynsys.continuation(dynsys.QuadraticRegression2D(0.1, 0.5), [1.0, 0.0], param="lr",
                            param_range=(-1.0, 1.0))
    with pytest.raises(ValueError, match="period"):
        dynsys.continuation(m, [0.64], param="r", param_range=(2.5, 3.0), period=0)
    res = dynsys.continuation(m, [0.64], param="r", param_range=(2.5, 3.2))
    with pytest.raises(KeyError, match="PD7"):
        res.switch("PD7")
    with pytest.raises(TypeError, match="unknown option"):
        res.switch("PD1", not_an_option=1)


def test_save_round_trip_and_plot(tmp_path, logistic_cascade):
    path = dynsys.save(logistic_cascade, tmp_path / "cascade.nc")
    back = dynsys.load(path)
    assert back.identical(logistic_cascade.to_dataset())
    assert back.point_kind.values.tolist() == ["PD"] * 4
    diagram = dynsys.bifurcation_diagram(dynsys.maps.logistic(), dynsys.linspace(2.5, 3.56, 50), x0=[0.3],
                                         steps=500, keep=16)
    fig = dynsys.plot.bifurcation(logistic_cascade, diagram=diagram, path=tmp_path / "b.png")
    assert (tmp_path / "b.png").exists()
    assert fig.axes[0].get_xlabel() == "$r$"
    dynsys.plot.bifurcation(back)
    dynsys.plot.bifurcation(diagram)
