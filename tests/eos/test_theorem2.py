"""Theorem 2: derivative formulas against finite differences along gradient flow, Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import dynsys


def _lambda_along_flow(m, th0, times):
    out = []
    for t in times:
        if t == 0:
            x = th0
        else:
            x = solve_ivp(lambda _t, x: -m.grad(x), (0.0, t), th0, method="DOP853",
                          rtol=1e-13, atol=1e-14).y[:, -1]
        out.append(float(m.ntk_eigenvalue(x)))
    return out


@pytest.mark.parametrize("seed,D,P", [(4, 3, 5), (1, 2, 6)])
def test_derivatives_match_finite_differences(seed, D, P):
    m = dynsys.SecondOrderRegression.random(D, P, sigma_z=1.0, sigma_J=1.0, seed=seed)
    th0 = np.full(P, 0.1)
    h = 2e-3
    lam = _lambda_along_flow(m, th0, [k * h for k in (-2, -1, 0, 1, 2)])
    fd1 = (lam[0] - 8 * lam[1] + 8 * lam[3] - lam[4]) / (12 * h)
    fd2 = (-lam[0] + 16 * lam[1] - 30 * lam[2] + 16 * lam[3] - lam[4]) / (12 * h * h)
    l0, d1, d2 = dynsys.ntk_eigenvalue_derivatives(m, th0)
    assert l0 == pytest.approx(lam[2], rel=1e-13)
    assert d1 == pytest.approx(fd1, rel=1e-6)
    assert d2 == pytest.approx(fd2, rel=1e-5)


def test_q_average_formula_matches_sampling_over_q():
    rng = np.random.default_rng(0)
    D, P, s = 3, 6, 0.7
    z, J = rng.normal(size=D), rng.normal(size=(D, P))
    draws = []
    for _ in range(4000):
        g = rng.normal(size=(D, P, P))
        Q = s * (g + np.swapaxes(g, 1, 2)) / np.sqrt(2)
        draws.append(dynsys.eos._theorem2._derivatives(z, J, Q)[2])
    draws = np.array(draws)
    want = dynsys.expected_second_derivative(z, J, s)
    assert abs(draws.mean() - want) < 4 * draws.std() / np.sqrt(draws.size)


def test_monte_carlo_quick():
    ds = dynsys.theorem2_monte_carlo([16], samples=40, seed=1)
    assert abs(float(ds.mean_d1[0])) < 4 * float(ds.se_d1[0])          # E[dlam/dt] = 0
    assert float(ds.predicted_ratio[0]) == pytest.approx(1.0)
    assert 0.5 < float(ds.ratio_d2_rb[0]) < 2.5
    with pytest.raises(ValueError, match="normalisation"):
        dynsys.theorem2_monte_carlo([8], normalisation="1/sqrt(P)")
    with pytest.raises(ValueError, match="ratio"):
        dynsys.theorem2_monte_carlo([8], ratio=2.0)
