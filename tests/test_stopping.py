"""The one stopping rule: its tests compiled and in numpy agree; its fields are validated."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dynsys
from dynsys import _stopping
from dynsys import _stopping_nb as compiled

values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.floats(0, 1e12))


@given(r2=values, radius2=st.floats(1e-6, 1e300), jump2=values, rtol2=st.floats(1e-30, 1e-2),
       tol2=st.floats(1e-40, 1e-2), shift=st.floats(0.0, 10.0))
def test_compiled_tests_equal_numpy_tests(r2, radius2, jump2, rtol2, tol2, shift):
    arr = np.array([r2])
    assert bool(compiled.diverged(r2, radius2)) == bool(_stopping.diverged(arr, radius2)[0])
    assert bool(compiled.converged(jump2, r2, tol2, shift)) == bool(
        _stopping.converged(np.array([jump2]), arr, tol2, shift)[0])
    assert bool(compiled.returned(r2, jump2, rtol2, radius2)) == bool(
        _stopping.returned(arr, np.array([jump2]), rtol2, radius2)[0])


def test_divergence_catches_non_finite_states():
    rule = dynsys.StoppingRule(radius=10.0)
    assert rule.diverged(np.array([np.nan, np.inf, 100.0 + 1e-12, 100.0])).tolist() == [
        True, True, True, False]


@given(t=st.integers(0, 10_000), steps=st.integers(1, 10_000), t_lyap=st.integers(0, 10_000))
def test_block_length_stops_at_budget_and_window(t, steps, t_lyap):
    if t >= steps:
        return
    k = compiled.block_length(t, steps, t_lyap)
    assert k == _stopping.block_length(t, steps, t_lyap)
    assert 1 <= k <= _stopping.COMPACT and t + k <= steps
    assert not (t < t_lyap < t + k)          # never steps over the start of the window


def test_every_period_divides_a_checkpoint_interval():
    for max_period in (1, 3, 17, 64):
        cap = _stopping.checkpoint_interval(max_period)
        assert cap == _stopping.COMPACT * max_period
        # returns are tested every COMPACT steps after a checkpoint, up to cap steps: every
        # period p <= max_period divides one of those return times
        checks = range(_stopping.COMPACT, cap + 1, _stopping.COMPACT)
        assert all(any(t % p == 0 for t in checks) for p in range(1, max_period + 1))
        assert _stopping.first_interval(max_period) == min(4 * _stopping.COMPACT, cap)


@pytest.mark.parametrize("field, value, match", [
    ("steps", 0, "steps"), ("steps", 1.5, "steps"), ("tol", 0.0, "tol"), ("tol", np.nan, "tol"),
    ("tol", 0.5, "tol"), ("radius", -1.0, "radius"), ("radius", 1e200, "radius"),
    ("max_period", 0, "max_period"), ("cycle_rtol", 1.0, "cycle_rtol"),
    ("lyapunov_steps", -1, "lyapunov_steps"), ("chaos_threshold", np.inf, "chaos_threshold"),
    ("tol", "1e-9", "tol"), ("steps", True, "steps"), ("tol", 1e-16, "rounding noise"),
    ("tol", 1e-18, "tol must be >= 1e-15"),
])
def test_rule_fields_are_validated(field, value, match):
    with pytest.raises((TypeError, ValueError), match=match):
        dynsys.StoppingRule(**{field: value})


def test_kernel_numbers_and_attrs():
    rule = dynsys.StoppingRule(steps=50, tol=1e-8, radius=3.0, lyapunov_steps=80)
    k = rule.kernel()
    assert k.tol2 == 1e-8 * 1e-8 and k.radius2 == 9.0 and k.lyapunov_steps == 50
    assert rule.attrs()["radius"] == 3.0 and rule.replace(steps=7).steps == 7


def test_every_fixed_step_loop_uses_the_same_default_radius():
    import inspect

    # one semantics, two documented defaults: sweeps stop early, single orbits near overflow
    assert dynsys.StoppingRule().radius == 1e6
    default = _stopping.ORBIT_RADIUS
    from dynsys.systems._iterate import RADIUS
    assert RADIUS == default == 1e30
    # a state just outside the default radius diverges in every fixed-step loop
    m = dynsys.Map(lambda x: 2.0 * x, dim=1, params={}, name="doubling")
    x0 = [1.0]
    n = int(np.ceil(np.log2(default)))      # the first state beyond the radius is x_n = 2^n
    traj = dynsys.trajectory(m, x0, steps=n + 5)
    assert int(traj.outcome) == dynsys.Outcome.DIVERGED
    assert traj.attrs["diverged_at_step"] == n
    lam = dynsys.lyapunov_spectrum(m, x0, steps=n + 5, transient=0)
    assert lam.attrs["outcome"] == "diverged" and lam.attrs["diverged_at_step"] == n
    sig = inspect.signature(dynsys.basins)
    assert {"rule", "steps", "tol", "radius"} <= set(sig.parameters)


def test_deprecated_names_still_work():
    m = dynsys.maps.logistic(3.2)
    with pytest.warns(DeprecationWarning, match="radius"):
        ds = dynsys.trajectory(m, [0.3], steps=5, divergence_bound=1e3)
    assert ds.attrs["radius"] == 1e3
    with pytest.warns(DeprecationWarning, match="values"):
        dynsys.bifurcation_diagram(m, lr_range=[3.2], x0=[0.3], steps=10, keep=2)
    with pytest.raises(TypeError, match="radius"):
        dynsys.trajectory(m, [0.3], steps=5, divergence_bound=1e3, radius=1e3)


@given(tol=st.floats(1e-15, 0.1), scale=st.floats(1e-30, 1e3))
def test_step_tolerance_is_relative_to_the_step_scale(tol, scale):
    # the step test bounds |F(x) - x| by tol, and by step_scale sqrt(tol): for GD (step scale
    # lr) |grad L| <= sqrt(tol) too; at step scales >= sqrt(tol) it is exactly the plain test
    t2 = _stopping.jump_tol2(tol, scale)
    assert t2 == compiled.jump_tol2(tol, scale)
    assert t2 <= tol * tol and t2 <= scale * scale * tol * (1 + 1e-12)
    if scale * scale >= tol:
        assert t2 == tol * tol
    assert dynsys.StoppingRule(tol=tol).kernel(scale).tol2 == t2


def test_a_state_that_never_moved_is_not_converged():
    # issue 14, item 5: at lr = 1e-12 every step is shorter than tol = 1e-12, but the gradient
    # is not small: the orbits run out of steps (UNDECIDED), no attractor is reported
    model = dynsys.QuadraticRegression2D(0.1)
    for system, kw in ((model, {}), (model, {"scaling": False}),
                       (dynsys.gd_map(model, 1e-12), {})):
        ds = dynsys.basins(system, [1e-12], grid=((-3.0, 3.0, 8), (-6.0, 6.0, 8)), steps=300,
                           **kw)
        assert (ds.outcome == dynsys.Outcome.UNDECIDED).all(), kw
        assert ds.sizes["attractor_id"] == 0
    # the generic GD loop of the limit-sharpness analyses applies the same rule
    from dynsys.eos._converge import run_to_convergence

    rule = dynsys.StoppingRule(steps=50, tol=1e-12)
    _, used, outcome = run_to_convergence(model, np.array([[1.0, 2.0]]), 1e-12, rule)
    assert outcome[0] != dynsys.Outcome.CONVERGED
    # at a usual step size the same starts converge, to the zero-loss family
    ds = dynsys.basins(model, [0.5], grid=((-3.0, 3.0, 8), (-6.0, 6.0, 8)), steps=3000)
    assert not (ds.outcome == dynsys.Outcome.UNDECIDED).any()
    assert (ds.outcome == dynsys.Outcome.CONVERGED).mean() > 0.8


def test_maps_have_step_scale_one_and_gd_maps_their_lr():
    model = dynsys.QuadraticRegression2D(0.1)
    assert dynsys.maps.logistic(3.2).step_scale == 1.0
    f = dynsys.gd_map(model, 0.25)
    assert f.step_scale == 0.25 and f.with_params(lr=0.125).step_scale == 0.125
