"""Continuation answers that do not depend on the start, the parameter range or the step
settings (issue 11): period-doubling cascades against published and closed-form values, starts
on a bifurcation, the corrector kept inside the range, the plain-data result."""

from __future__ import annotations

import ast
import pathlib
import warnings

import numpy as np
import pytest
from scipy.optimize import fsolve

import dynsys

#: Period-doubling points of the logistic map r x (1 - x): 3 and 1 + sqrt 6 in closed form, the
#: next three as published (Briggs, Math. Comp. 57 (1991) 435; the classical table of the
#: superstable and period-doubling values of the logistic cascade), PD6 about 3.56969.
LOGISTIC_PD = [3.0, 1.0 + np.sqrt(6.0), 3.5440903596, 3.5644072661, 3.5687594195]
FEIGENBAUM = 4.6692016091


def logistic_cascade(r0, param_range):
    res = dynsys.continuation(dynsys.maps.logistic(r0), [1.0 - 1.0 / r0], param="r",
                              param_range=param_range)
    return res.cascade("PD1", depth=5)


@pytest.fixture(scope="module")
def cascades():
    """Three starts with one range and three ranges with one start (five runs)."""
    runs = [(1.5, (1.0, 3.5699)), (2.2, (1.0, 3.5699)), (2.95, (1.0, 3.5699)),
            (1.5, (1.2, 3.5702)), (1.5, (1.4, 3.6))]
    return [logistic_cascade(r0, rng) for r0, rng in runs]


def test_logistic_cascade_pd1_to_pd6_from_any_start_and_range(cascades):
    lists = [c.doublings.r.values for c in cascades]
    for values in lists:
        assert values.size == 6
        np.testing.assert_allclose(values[:5], LOGISTIC_PD, rtol=0, atol=1e-8)
        assert values[5] == pytest.approx(3.56969, abs=5e-6)
        np.testing.assert_allclose(values, lists[0], rtol=0, atol=1e-9)
    for c in cascades:
        assert c.doublings.period.values.tolist() == [1, 2, 4, 8, 16, 32]
        assert list(c.special_points.kind.values) == ["PD"] * 6


def test_feigenbaum_ratio_from_the_last_three_doublings(cascades):
    d = cascades[0].doublings
    delta = d.attrs["feigenbaum_estimate"]
    assert float(d.ratio[4]) == delta
    assert abs(delta - FEIGENBAUM) / FEIGENBAUM < 0.005
    # the ratios approach delta (the first one, 4.75, is the farthest)
    err = np.abs(d.ratio.values[1:5] - FEIGENBAUM)
    assert err[-1] < err[0]
    # geometric extrapolation: the accumulation point 3.5699456718...
    assert d.attrs["accumulation_estimate"] == pytest.approx(3.5699456718, abs=2e-5)


def test_switched_branches_stay_on_their_cycle(cascades):
    res = cascades[3]
    f = dynsys.maps.logistic()
    for b, ds in enumerate(res.branches):
        period = ds.attrs["period"]
        assert period == 2 ** b
        r, x = ds.r.values, ds.x.values[:, 0]
        assert r.min() >= 1.2 and r.max() <= 3.5702
        for ri, xi in zip(r[1:], x[1:], strict=True):
            y = np.array([xi])
            for k in range(1, period + 1):
                y = f.step(y, r=ri)
                if k == period // 2 and b:
                    # a cycle of minimal period 2^b, not a fallen-back orbit
                    assert abs(y[0] - xi) > 1e-12
            assert abs(y[0] - xi) < 1e-9
        assert ds.attrs["end_stop"] == "param_range"
        assert r[-1] == 3.5702                           # clipped exactly to the range


def test_issue_reproducer_pd4_and_pd5_found_with_the_original_range():
    res = dynsys.continuation(dynsys.maps.logistic(1.5), [1 / 3], param="r",
                              param_range=(1.0, 3.5695))
    for label in ("PD1", "PD2", "PD3", "PD4"):
        res = res.switch(label)
    assert float(res["PD4"].r) == pytest.approx(LOGISTIC_PD[3], abs=1e-9)
    assert float(res["PD5"].r) == pytest.approx(LOGISTIC_PD[4], abs=1e-9)
    for ds in res.branches:
        assert ds.r.values.max() <= 3.5695 and ds.r.values.min() >= 1.0


def test_start_on_a_bifurcation_is_reported_once():
    res = dynsys.continuation(dynsys.maps.logistic(3.0), [2 / 3], param="r",
                              param_range=(2.5, 3.5))
    assert res.labels == ["PD1"]
    assert float(res["PD1"].r) == 3.0
    assert str(res["PD1"].criticality.values) == "supercritical"
    # the start at the end of the range (the start node is the first node)
    res = dynsys.continuation(dynsys.maps.logistic(3.0), [2 / 3], param="r",
                              param_range=(3.0, 3.5))
    assert res.labels == ["PD1"] and float(res["PD1"].r) == 3.0
    res = res.switch("PD1")
    assert float(res["PD2"].r) == pytest.approx(1 + np.sqrt(6), abs=1e-10)
    # a start on a fold of a cycle: the period-3 saddle-node at 1 + sqrt 8
    m = dynsys.maps.logistic(3.84)
    fold = dynsys.continuation(m, m.iterate([0.5], 3000), param="r", period=3,
                               param_range=(3.8, 3.86))["LP1"]
    r = float(fold.r)
    res = dynsys.continuation(m.with_params(r=r), fold.x.values, param="r",
                              param_range=(3.8, 3.86), period=3)
    assert res.labels == ["LP1", "PD1"]
    assert float(res["LP1"].r) == pytest.approx(1 + np.sqrt(8), abs=1e-10)


def cubic_model():
    """GD on x^3/3 - x: x -> x - lr (x^2 - 1), conjugate to the logistic map with r = 1 + 2 lr."""
    return dynsys.Model.from_loss(lambda t: t[0] ** 3 / 3 - t[0],
                                  lambda t: np.array([t[0] ** 2 - 1.0]),
                                  lambda t: np.array([[2.0 * t[0]]]), dim=1, name="cubic",
                                  vectorized=False)


def quartic_model():
    """GD on x^4/4 - x^2/2 (double well): x -> (1 + lr) x - lr x^3."""
    return dynsys.Model.from_loss(lambda t: t[0] ** 4 / 4 - t[0] ** 2 / 2,
                                  lambda t: np.array([t[0] ** 3 - t[0]]),
                                  lambda t: np.array([[3.0 * t[0] ** 2 - 1.0]]), dim=1,
                                  name="quartic", vectorized=False)


def test_gd_on_the_cubic_is_the_logistic_cascade_in_lr():
    # x = 1 flips at lr = 1; the conjugacy r = 1 + 2 lr maps the whole logistic cascade
    expected = [(r - 1) / 2 for r in LOGISTIC_PD[:4]]
    res = dynsys.continuation(cubic_model(), [1.0], param="lr", param_range=(1.0, 1.285),
                              start=1.0)
    assert res.labels == ["PD1"]                      # reported at the start node
    res = res.cascade(depth=3)
    np.testing.assert_allclose(res.doublings.lr.values, expected, rtol=0, atol=1e-9)
    other = dynsys.continuation(cubic_model(), [1.0], param="lr", param_range=(0.3, 1.3),
                                start=0.6).cascade(depth=3)
    np.testing.assert_allclose(other.doublings.lr.values, res.doublings.lr.values, atol=1e-9)


def test_gd_on_the_double_well_closed_forms():
    # x = 1: multiplier 1 - 2 lr, flip at lr = 1. Its 2-cycle x1 + x2 = s, x1 x2 = 1/lr with
    # s^2 = (3 + lr)/lr has multiplier 9 - 2 (1 + lr)^2: flip at lr = sqrt 5 - 1.
    res = dynsys.continuation(quartic_model(), [1.0], param="lr", param_range=(0.5, 1.3),
                              start=0.8).switch("PD1")
    assert float(res["PD1"].lr) == pytest.approx(1.0, abs=1e-12)
    assert float(res["PD2"].lr) == pytest.approx(np.sqrt(5) - 1, abs=1e-10)
    two = res.branches[1].isel(s=slice(1, None))
    lr, x = two.lr.values, two.theta.values[:, 0]
    s = np.sqrt((3 + lr) / lr)
    roots = np.sort(np.stack([(s - np.sqrt(s ** 2 - 4 / lr)) / 2,
                              (s + np.sqrt(s ** 2 - 4 / lr)) / 2]), axis=0)
    np.testing.assert_allclose(np.min(np.abs(x - roots), axis=0), 0, atol=1e-9)
    mult = two.multipliers.values[:, 0].real
    np.testing.assert_allclose(mult, 9 - 2 * (1 + lr) ** 2, atol=1e-8)


def solve_independently(equations, guess):
    """Newton (MINPACK hybrd) on ``equations``; returns the root after checking its residual
    (the rounding floor may stop progress: that warning is not a failure here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        root = fsolve(equations, guess, xtol=1e-15)
    assert np.max(np.abs(equations(root))) < 1e-11
    return root


def period3_flip():
    """The flip of the stable 3-cycle of the logistic map, by Newton on
    (f^3(x) - x, (f^3)'(x) + 1) in (x, r): independent of the continuation."""
    def equations(v):
        x, r = v
        d, y = 1.0, x
        for _ in range(3):
            d *= r * (1 - 2 * y)
            y = r * y * (1 - y)
        return [y - x, d + 1]
    return solve_independently(equations, [0.15, 3.841])


def test_period_three_fold_and_flip_by_continuation():
    m = dynsys.maps.logistic(3.84)
    x = m.iterate([0.5], 3000)
    expected_flip = period3_flip()[1]
    values = []
    for rng in [(3.8, 3.86), (3.82, 3.9), (3.7, 3.845)]:
        res = dynsys.continuation(m, x, param="r", param_range=rng, period=3)
        assert sorted(res.special_points.kind.values.tolist()) == ["LP", "PD"]
        values.append([float(res["LP1"].r), float(res["PD1"].r)])
    np.testing.assert_allclose(np.array(values)[:, 0], 1 + np.sqrt(8), rtol=0, atol=1e-10)
    np.testing.assert_allclose(np.array(values)[:, 1], expected_flip, rtol=0, atol=1e-10)


def henon_flip(period, guess_x, guess_a, b=0.3):
    """Flip of a Henon cycle by Newton on (F^k(x) - x, det(DF^k + I)) in (x, y, a)."""
    henon = dynsys.maps.henon(1.0, b)

    def equations(v):
        z, a = v[:2], v[2]
        jac = np.eye(2)
        y = z
        for _ in range(period):
            jac = henon.jacobian(y, a=a, b=b) @ jac
            y = henon.step(y, a=a, b=b)
        return [*(y - z), np.linalg.det(jac + np.eye(2))]
    return solve_independently(equations, [*guess_x, guess_a])


@pytest.mark.slow
def test_henon_fold_and_flip_cascade_in_a():
    b = 0.3
    runs = []
    for a0, rng in [(0.2, (-0.2, 1.06)), (0.6, (-0.15, 1.08)), (0.0, (-0.3, 1.1))]:
        xs = (-(1 - b) + np.sqrt((1 - b) ** 2 + 4 * a0)) / (2 * a0) if a0 else 1 / (1 - b)
        res = dynsys.continuation(dynsys.maps.henon(a0, b), [xs, b * xs], param="a",
                                  param_range=rng, max_state=50.0)
        runs.append(res.cascade("PD1", depth=3))
    for res in runs:
        # closed forms: fold of the fixed points at a = -(1 - b)^2 / 4, their flip at
        # 3 (1 - b)^2 / 4, the flip of the 2-cycle (trace 4 a^2 x1 x2 + 2 b = -(1 + b)^2)
        # at (1 - b)^2 + (1 + b)^2 / 4
        assert float(res["LP1"].a) == pytest.approx(-(1 - b) ** 2 / 4, abs=1e-10)
        pd = res.doublings.a.values
        assert pd.size == 4
        np.testing.assert_allclose(pd[:3 - 1], [3 * (1 - b) ** 2 / 4,
                                                (1 - b) ** 2 + (1 + b) ** 2 / 4], atol=1e-10)
        np.testing.assert_allclose(pd, runs[0].doublings.a.values, rtol=0, atol=1e-9)
    # the flips of the 4- and 8-cycles against an independent Newton solve
    res = runs[0]
    for label, period in (("PD3", 4), ("PD4", 8)):
        point = res[label]
        solved = henon_flip(period, point.x.values * (1 + 1e-4), float(point.a) + 1e-4)
        assert float(point.a) == pytest.approx(solved[2], abs=1e-9)


def guarded_logistic(lo, hi, calls):
    """A user map that records (and rejects) every parameter value outside [lo, hi]."""
    def step(x, r):
        if not lo <= r <= hi:
            calls.append(r)
        return r * x * (1 - x)

    def jac(x, r):
        return np.array([[r * (1 - 2 * x[0])]])
    return dynsys.Map(step, jac, dim=1, params={"r": 2.8}, name="guarded", vectorized=False)


def test_the_map_is_never_evaluated_outside_the_range():
    calls = []
    m = guarded_logistic(2.6, 3.4495, calls)
    res = dynsys.continuation(m, [0.64], param="r", param_range=(2.6, 3.4495)).switch("PD1")
    assert calls == []
    assert res.labels == ["PD1", "PD2"]
    assert float(res["PD2"].r) == pytest.approx(1 + np.sqrt(6), abs=1e-10)
    for ds in res.branches:
        assert ds.r.values[-1] == 3.4495
    # the issue's reproducer: the 2-D model whose lr must stay positive
    model = dynsys.QuadraticRegression2D(0.05, 0.0)
    wide = dynsys.continuation(model, [0.45 ** 0.5, 3.0], param="lr", param_range=(0.1, 6.349))
    narrow = dynsys.continuation(model, [0.45 ** 0.5, 3.0], param="lr", param_range=(1.0, 6.0))
    assert wide.branches[0].lr.values.min() == 0.1
    shared = [float(wide[p].lr) for p in wide.labels if 1.0 < float(wide[p].lr) < 6.0]
    assert shared == pytest.approx([float(narrow[p].lr) for p in narrow.labels], abs=1e-9)


def test_step_settings_do_not_change_the_special_points():
    base = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
                               param_range=(2.5, 3.5)).switch("PD1")
    for options in ({"step": 0.1, "max_step": 0.5}, {"step": 1e-3, "max_step": 2e-3}):
        other = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
                                    param_range=(2.5, 3.5), **options).switch("PD1")
        assert other.labels == base.labels
        np.testing.assert_allclose(other.special_points.r, base.special_points.r, atol=1e-11)


def delayed_logistic(r=1.8):
    """x' = r x (1 - y), y' = x: the fixed point (1 - 1/r, 1 - 1/r) has a Neimark-Sacker
    bifurcation at r = 2 (multipliers of modulus sqrt(r - 1))."""
    return dynsys.Map(lambda v, r: np.array([r * v[0] * (1 - v[1]), v[0]]),
                      lambda v, r: np.array([[r * (1 - v[1]), -r * v[0]], [1.0, 0.0]]),
                      dim=2, params={"r": r}, name="delayed_logistic", vectorized=False)


def test_neimark_sacker_is_located_and_switching_is_an_explicit_error():
    res = dynsys.continuation(delayed_logistic(), [1 - 1 / 1.8] * 2, param="r",
                              param_range=(1.5, 2.3))
    assert res.labels == ["NS1"]
    assert float(res["NS1"].r) == pytest.approx(2.0, abs=1e-10)
    with pytest.raises(ValueError, match="Neimark-Sacker.*not implemented"):
        res.switch("NS1")
    with pytest.raises(ValueError, match="period-doubling"):
        res.cascade("NS1")


def test_old_argument_names_warn_and_give_the_same_result():
    new = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
                              param_range=(2.5, 3.3))
    with pytest.warns(DeprecationWarning, match="system"):
        old = dynsys.continuation(map=dynsys.maps.logistic(2.8), x0=[0.64], param="r",
                                  param_range=(2.5, 3.3))
    with pytest.warns(DeprecationWarning, match="param_range"):
        older = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
                                    bounds=(2.5, 3.3))
    with pytest.warns(DeprecationWarning, match="param_range"):
        switched = new.switch("PD1", bounds=(2.5, 3.3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert new.switch("PD1", param_range=(2.5, 3.3)).labels == switched.labels
    for res in (old, older):
        assert res.labels == new.labels
        assert float(res["PD1"].r) == float(new["PD1"].r)
    with pytest.raises(TypeError, match="system only"):
        dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], map=dynsys.maps.logistic(2.8),
                            param="r", param_range=(2.5, 3.3))
    assert new.to_dataset().attrs["param_range"].tolist() == [2.5, 3.3]


def test_the_result_module_is_plain_data():
    # no import of the algorithm modules from the result (issue 13: no import cycle)
    source = pathlib.Path(dynsys.bifurcation._result.__file__).read_text()
    imported = {node.module for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"_continuation", "_special_points", "_normal_form", "_problem"}
    assert "flip_coefficients" not in source and "locate(" not in source


@pytest.mark.slow
def test_open_ended_cascade_reaches_the_accumulation_point():
    # depth=None: doublings until the cycle would exceed period 256 (PD1 .. PD9)
    res = dynsys.continuation(dynsys.maps.logistic(2.8), [1 - 1 / 2.8], param="r",
                              param_range=(2.5, 3.5701)).cascade()
    d = res.doublings
    assert d.period.values.tolist() == [2 ** k for k in range(9)]
    assert d.attrs["feigenbaum_estimate"] == pytest.approx(FEIGENBAUM, rel=1e-4)
    # r_infinity = 3.5699456718709449... (Briggs 1991)
    assert d.attrs["accumulation_estimate"] == pytest.approx(3.5699456718709449, abs=1e-8)
