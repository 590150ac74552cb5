"""The 2-D model: the solution curve z = 0 is a curve of fixed points of GD for every lr.

Continuation runs in a section through a point of the curve (the family is parametrised by
position) and in lr; the flip sits where lr * lambda = 2 with lambda = theta_1^2 + eps^2
theta_2^2.

What emerges from the flip (docs/math.md section 3, rescaled variables P = lr theta_1^2,
S = eps lr theta_2^2, x = lr z = (P - S)/2 - lr E): a 2-cycle with P, S != 0 needs
(1 - x)^2 (1 - x')^2 = 1 and (1 + eps x)^2 (1 + eps x')^2 = 1. Near the curve (x, x' small)
only the + signs are possible: x + x' = x x' and x + x' = -eps x x', so (1 + eps) x x' = 0, i.e.
x = x' = 0: for eps > 0 there are *no* 2-cycles off the axes near the curve. The flip of the
curve is instead of elliptic type (two-step normal form u'' = u + alpha u v, v'' = v + beta u^2
with alpha beta < 0; in docs/math.md's variables dx = 2 x y, dy = (M^2 - 2N) x^2 with
M^2 - 2N = -eps (1 + eps)^2 S P < 0 at the flip point, so alpha beta = 4 lr (M^2 - 2N)).
On the invariant axis theta_2 = 0 (target E > 0, flip at lr = 1/E) the 1-D map
t -> t (1 - lr (t^2/2 - E)) has an ordinary flip with c = (g''/2)^2 + g'''/6 = 4/E > 0: a
supercritical, genuine 2-cycle.
"""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


def _curve_point(eps, target, theta_2):
    return np.array([np.sqrt(2 * target + eps * theta_2 ** 2), theta_2])


@pytest.mark.parametrize(("eps", "target", "theta_2"),
                         [(0.1, 0.5, 1.0), (0.05, 0.0, 4.0), (0.2, -0.3, 3.0), (0.1, 0.5, 0.0)])
def test_flip_on_the_solution_curve(eps, target, theta_2):
    model = dynsys.QuadraticRegression2D(eps, target)
    x0 = _curve_point(eps, target, theta_2)
    lam = float(model.ntk_eigenvalue(x0))
    res = dynsys.continuation(model, x0, param="lr", param_range=(0.5 / lam, 3.0 / lam))
    branch = res.branches[0]
    assert branch.attrs["family"] == 1
    # the section pins the point: the state is constant along the lr-branch
    np.testing.assert_allclose(branch.theta.values, np.broadcast_to(x0, branch.theta.shape),
                               atol=1e-12)
    np.testing.assert_allclose(branch.unfolding.values, 0, atol=1e-13)
    pd = res["PD1"]
    lr_pd = float(pd.lr)
    assert lr_pd * float(model.ntk_eigenvalue(pd.theta.values)) == pytest.approx(2, abs=1e-10)
    assert lr_pd == pytest.approx(2 / lam, abs=1e-10)
    # transversal multiplier 1 - lr lambda, and the neutral multiplier 1 along the curve
    mult = np.sort(pd.multipliers.values.real)
    np.testing.assert_allclose(mult, [-1.0, 1.0], atol=1e-9)
    away = np.abs(branch.lr.values * lam - 2) > 1e-9
    assert (branch.stable.values == (branch.lr.values * lam < 2))[away].all()


@pytest.mark.parametrize(("eps", "target", "theta_2"),
                         [(0.1, 0.5, 1.0), (0.05, 0.0, 4.0), (0.02, 0.3, 5.0), (0.2, -0.3, 3.0)])
def test_off_axis_flip_is_elliptic_with_the_closed_form_coefficient(eps, target, theta_2):
    model = dynsys.QuadraticRegression2D(eps, target)
    x0 = _curve_point(eps, target, theta_2)
    lam = float(model.ntk_eigenvalue(x0))
    res = dynsys.continuation(model, x0, param="lr", param_range=(0.5 / lam, 3.0 / lam))
    pd = res["PD1"]
    lr = float(pd.lr)
    t1, t2 = pd.theta.values
    P, S = lr * t1 ** 2, eps * lr * t2 ** 2
    assert str(pd.criticality.values) == "elliptic"
    assert np.isnan(float(pd.normal_form))
    expected = -4 * lr * eps * (1 + eps) ** 2 * S * P
    assert float(pd.rate * pd.drift) == pytest.approx(expected, rel=1e-5)
    # leading order in eps, the form docs/math.md's dy ~ -4 eps x^2 generalises to
    assert expected == pytest.approx(-16 * eps * lr * (1 - lr * target), rel=3 * eps)


def test_off_axis_flip_has_no_two_cycles():
    """Switching at the flip with the section kept yields 'cycles' of the unfolded map only:
    the unfolding (= |F(F(x)) - x|) is zero at the flip and grows like the squared amplitude
    (the drift beta u^2 of the normal form), so no genuine 2-cycle branches off the curve."""
    eps, target = 0.1, 0.5
    model = dynsys.QuadraticRegression2D(eps, target)
    x0 = _curve_point(eps, target, 1.0)
    lam = float(model.ntk_eigenvalue(x0))
    res = dynsys.continuation(model, x0, param="lr", param_range=(0.5 / lam, 2.5 / lam))
    res = res.switch("PD1", max_points=40)
    cyc = res.branches[1]
    assert cyc.attrs["period"] == 2 and cyc.attrs["parent"] == "PD1"
    mu = np.abs(cyc.unfolding.values[:, 0])
    assert mu[0] == 0 and np.all(mu[1:] > 1e-8)
    assert not cyc.genuine.values[1:].any()
    # |F^2(x) - x| equals the unfolding, and scales like the squared distance from the flip
    pd = res["PD1"].theta.values
    amp = np.linalg.norm(cyc.theta.values - pd, axis=1)
    for lr, x, m in zip(cyc.lr.values[1:6], cyc.theta.values[1:6], mu[1:6], strict=True):
        f = dynsys.gd_map(model, lr)
        assert np.linalg.norm(f.step(f.step(x)) - x) == pytest.approx(m, rel=1e-6)
    ratio = mu[1:6] / amp[1:6] ** 2
    assert ratio.max() / ratio.min() < 1.5


def test_orbits_near_the_flip_land_on_the_mirror_point():
    """Elliptic flip: an orbit started just off the unstable part of the curve at
    lr lambda = 2 + d returns to the curve near the mirror point lr lambda = 2 - d when
    d << eps (the leading-order normal form); for d >> eps the higher-order terms take over and
    the limit saturates at docs/math.md's lr lambda_inf = 2 - eps (1 - lr E)/2."""
    lr = 1.0

    def limit(eps, d):
        model = dynsys.QuadraticRegression2D(eps, 0.0)
        t2 = np.sqrt((2 + d) / lr / (eps + eps ** 2))       # on theta_1^2 = eps theta_2^2
        start = np.array([np.sqrt(eps) * t2 * (1 + 1e-6), t2])
        ds = dynsys.trajectory(model, start, lr=lr, steps=40000)
        return lr * float(ds.ntk_eigenvalue[-1]) - 2, lr * float(ds.ntk_eigenvalue[0]) - 2

    final, initial = limit(0.1, 0.005)
    assert final == pytest.approx(-initial, rel=0.07)
    final, _ = limit(0.02, 0.04)
    assert final == pytest.approx(-0.02 / 2, rel=0.01)


def test_axis_flip_is_a_genuine_supercritical_two_cycle():
    eps, target = 0.1, 0.5
    model = dynsys.QuadraticRegression2D(eps, target)
    x0 = _curve_point(eps, target, 0.0)
    res = dynsys.continuation(model, x0, param="lr", param_range=(1.0, 2.3))
    pd = res["PD1"]
    assert float(pd.lr) == pytest.approx(1 / target, abs=1e-12)
    assert str(pd.criticality.values) == "supercritical"
    assert float(pd.normal_form) == pytest.approx(4 / target, rel=1e-6)
    res = res.switch("PD1")
    cyc = res.branches[1].isel(s=slice(1, None))
    assert cyc.genuine.values.all()
    assert np.all(cyc.lr.values > 1 / target)            # born on the unstable side
    assert cyc.stable.values.all()
    for lr, x in zip(cyc.lr.values, cyc.theta.values, strict=True):
        f = dynsys.gd_map(model, lr)
        np.testing.assert_allclose(f.step(f.step(x)), x, atol=1e-11)
        assert np.linalg.norm(f.step(x) - x) > 1e-6      # minimal period 2


def test_two_cycles_agree_with_periodic_orbits():
    if not hasattr(dynsys, "periodic_orbits"):
        pytest.skip("dynsys.periodic_orbits (issue 3) is not available yet")
    eps, target = 0.1, 0.5
    model = dynsys.QuadraticRegression2D(eps, target)
    res = dynsys.continuation(model, _curve_point(eps, target, 0.0), param="lr",
                              param_range=(1.0, 2.3)).switch("PD1")
    cyc = res.branches[1]
    for i in (5, 15):
        lr, x = float(cyc.lr[i]), cyc.theta.values[i]
        found = dynsys.periodic_orbits(dynsys.gd_map(model, lr), 2,
                                       bounds=[(-2.0, 2.0), (-2.0, 2.0)])
        pts = found.x.values[found.period.values == 2].reshape(-1, 2)
        # compare up to the sign-flip symmetries
        dist = np.min(np.linalg.norm(np.abs(pts) - np.abs(x), axis=1))
        assert dist < 1e-8
