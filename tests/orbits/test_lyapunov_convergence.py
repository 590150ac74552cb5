"""Running estimates of the Lyapunov spectrum (issue 15): exact for a linear map at every
checkpoint, the last one equal to lyapunov_spectrum, NaN for a diverging orbit."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys


def test_linear_map_running_estimate_is_exact_at_every_checkpoint():
    m = dynsys.maps.linear(np.diag([1.01, 0.5]))        # bounded over 210 steps
    tr = dynsys.lyapunov_convergence(m, [0.3, 0.7], steps=200, transient=10, checkpoints=8)
    assert tr.running_estimate.shape == (8, 2)
    np.testing.assert_allclose(tr.running_estimate.values, [[np.log(1.01), np.log(0.5)]] * 8,
                               rtol=1e-12)
    assert tr.step.values.tolist() == [25, 50, 75, 100, 125, 150, 175, 200]


@pytest.mark.parametrize("system, x0", [(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1]),
                                        (dynsys.maps.logistic(3.9), [0.3])])
def test_last_running_estimate_is_the_spectrum(system, x0):
    tr = dynsys.lyapunov_convergence(system, x0, steps=30_000, checkpoints=30)
    sp = dynsys.lyapunov_spectrum(system, x0, steps=30_000)
    np.testing.assert_allclose(tr.lyapunov_exponent.values, sp.values, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(tr.running_estimate.values[-1], tr.lyapunov_exponent.values)
    # the estimates settle: the last third moves by less than 5 standard errors
    tail = tr.running_estimate.values[20:]
    assert np.all(np.ptp(tail, axis=0) < 5 * sp.attrs["standard_error"] + 1e-12)


def test_diverging_orbit_gives_nan_and_says_so():
    tr = dynsys.lyapunov_convergence(dynsys.maps.logistic(4.5), [0.3], steps=1000)
    assert np.isnan(tr.running_estimate.values).all()
    assert tr.attrs["outcome"] == "diverged" and tr.attrs["diverged_at_step"] >= 0
    with pytest.raises(ValueError, match="checkpoints"):
        dynsys.lyapunov_convergence(dynsys.maps.logistic(3.9), [0.3], steps=100, checkpoints=1)
