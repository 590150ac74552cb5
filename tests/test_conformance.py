"""The contract every map and model must honour, run over all of them (see conftest)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from _user_functions import poly_jac, poly_step, qr2d_grad, qr2d_hess, qr2d_loss
from dynsys.systems import _numdiff


# -- maps ---------------------------------------------------------------------------------
def test_map_step_shapes_and_batches(any_map, rng):
    _, m, sample = any_map
    x = sample(rng, 6)
    batch = m.step(x)
    assert batch.shape == x.shape
    for i in range(len(x)):
        np.testing.assert_allclose(batch[i], m.step(x[i]), rtol=1e-13, atol=1e-15)
    assert m.step(x.reshape(2, 3, m.dim)).shape == (2, 3, m.dim)


def test_map_jacobian_against_differences(any_map, rng):
    _, m, sample = any_map
    x = sample(rng, 5)
    jac = m.jacobian(x)
    assert jac.shape == (5, m.dim, m.dim)
    # independent check: second-order differences with a different step
    h = 1e-6
    for j in range(m.dim):
        e = np.zeros(m.dim)
        e[j] = h
        fd = (m.step(x + e) - m.step(x - e)) / (2 * h)
        np.testing.assert_allclose(jac[..., :, j], fd, rtol=1e-6, atol=1e-7)


def test_map_kernel_matches_python(any_map, rng):
    _, m, sample = any_map
    if m.kernel is None:
        pytest.skip("no compiled kernel")
    p = m.param_vector()
    for x in sample(rng, 4):
        out = np.empty(m.dim)
        m.kernel.step(np.ascontiguousarray(x), p, out)
        np.testing.assert_allclose(out, m.step(x), rtol=1e-14, atol=1e-15)
        if m.kernel.jacobian is not None:
            jac = np.empty((m.dim, m.dim))
            m.kernel.jacobian(np.ascontiguousarray(x), p, jac)
            np.testing.assert_allclose(jac, m.jacobian(x), rtol=1e-13, atol=1e-14)


def test_map_escapes_hook_holds_where_claimed(any_map, rng):
    # MapKernel.escapes: where it says True, every state beyond the radius (just beyond, far
    # beyond, infinite, NaN) is mapped beyond it again by the compiled step
    _, m, _ = any_map
    escapes = getattr(m.kernel, "escapes", None)
    if escapes is None:
        pytest.skip("no escapes hook")
    base = m.param_vector()
    claimed = 0
    for _ in range(300):
        p = base * rng.choice([-1.0, 1.0], base.size) * 10.0 ** rng.uniform(-3, 3, base.size)
        radius = 10.0 ** rng.uniform(-2, 30)
        if not escapes(p, radius * radius):
            continue
        claimed += 1
        for _ in range(20):
            d = rng.standard_normal(m.dim)
            d /= np.linalg.norm(d)
            with np.errstate(all="ignore"):       # far beyond: infinite (still beyond)
                beyond = radius * np.nextafter(1.0, 2.0) * 10.0 ** rng.choice([0, 1e-9, 2, 300])
                for x in (d * beyond, d * np.inf, np.full(m.dim, np.nan)):
                    out = np.empty(m.dim)
                    m.kernel.step(np.ascontiguousarray(x), p, out)
                    assert not np.dot(out, out) <= radius * radius, (p, radius, x, out)
    assert claimed > 0, "the hook never claims escape: it unlocks nothing"


def test_map_symmetries_commute(any_map, rng):
    _, m, sample = any_map
    x = sample(rng, 4)
    for s in m.symmetries:
        np.testing.assert_allclose(m.step(x @ s.T), m.step(x) @ s.T, rtol=1e-13, atol=1e-14)


def test_map_params(any_map):
    _, m, _ = any_map
    with pytest.raises(ValueError, match="unknown parameter"):
        m.with_params(not_a_param=1.0)
    for name, value in m.params.items():
        other = m.with_params(**{name: value * 0.5 + 0.01})
        assert other.params[name] == value * 0.5 + 0.01
        assert m.params[name] == value  # the original is untouched


def test_map_rejects_wrong_shape(any_map):
    _, m, _ = any_map
    with pytest.raises(ValueError, match="x must have shape"):
        m.step(np.zeros(m.dim + 1))


# -- models -------------------------------------------------------------------------------
def test_model_shapes(any_model, rng):
    _, model, sample = any_model
    theta = sample(rng, 6).reshape(2, 3, model.dim)
    assert model.loss(theta).shape == (2, 3)
    assert model.grad(theta).shape == (2, 3, model.dim)
    assert model.hessian(theta).shape == (2, 3, model.dim, model.dim)
    assert model.sharpness(theta).shape == (2, 3)
    one = theta[0, 0]
    assert np.ndim(model.loss(one)) == 0
    np.testing.assert_allclose(model.grad(theta)[0, 0], model.grad(one), rtol=1e-13, atol=1e-14)


def test_model_gradient_and_hessian_against_differences(any_model, rng):
    _, model, sample = any_model
    theta = sample(rng, 5)
    scale = np.maximum(1.0, np.abs(model.grad(theta)).max())
    np.testing.assert_allclose(model.grad(theta), _numdiff.gradient(model.loss, theta),
                               rtol=1e-7, atol=1e-8 * scale)
    hess = model.hessian(theta)
    np.testing.assert_allclose(hess, np.swapaxes(hess, -1, -2), atol=1e-12)
    hscale = np.maximum(1.0, np.abs(hess).max())
    np.testing.assert_allclose(hess, _numdiff.jacobian(model.grad, theta),
                               rtol=1e-6, atol=1e-7 * hscale)


def test_model_sharpness_is_top_eigenvalue(any_model, rng):
    _, model, sample = any_model
    theta = sample(rng, 5)
    expected = np.linalg.eigvals(model.hessian(theta)).real.max(axis=-1)
    np.testing.assert_allclose(model.sharpness(theta), expected, rtol=1e-10, atol=1e-12)


def test_regression_model_consistency(any_model, rng):
    _, model, sample = any_model
    if not isinstance(model, dynsys.RegressionModel):
        pytest.skip("not a regression model")
    theta = sample(rng, 5)
    z = model.residual(theta)
    assert z.shape == (5, model.n_outputs)
    np.testing.assert_allclose(model.loss(theta), 0.5 * model.scale * (z ** 2).sum(-1),
                               rtol=1e-13)
    np.testing.assert_allclose(model.jacobian(theta), _numdiff.jacobian(model.residual, theta),
                               rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(model.residual_hessian(theta),
                               _numdiff.jacobian(model.jacobian, theta).reshape(
                                   model.residual_hessian(theta).shape), rtol=1e-6, atol=1e-7)
    ntk = model.ntk_eigenvalue(theta)
    assert np.all(ntk >= -1e-12)


def test_model_gd_map(any_model, rng):
    _, model, sample = any_model
    f = dynsys.gd_map(model, 0.05)
    theta = sample(rng, 4)
    np.testing.assert_allclose(f.step(theta), theta - 0.05 * model.grad(theta), rtol=1e-14)
    np.testing.assert_allclose(f.jacobian(theta), np.eye(model.dim) - 0.05 * model.hessian(theta),
                               rtol=1e-14, atol=1e-14)
    if f.kernel is not None:
        p = f.param_vector()
        for t in theta:
            out = np.empty(model.dim)
            f.kernel.step(np.ascontiguousarray(t), p, out)
            np.testing.assert_allclose(out, f.step(t), rtol=1e-13, atol=1e-14)


def test_model_symmetries_leave_loss_invariant(any_model, rng):
    _, model, sample = any_model
    theta = sample(rng, 4)
    for s in model.symmetries:
        np.testing.assert_allclose(s @ s.T, np.eye(model.dim), atol=1e-15)
        np.testing.assert_allclose(model.loss(theta @ s.T), model.loss(theta), rtol=1e-13)


def test_model_trajectory_runs(any_model, rng):
    _, model, sample = any_model
    ds = dynsys.trajectory(model, sample(rng, 1)[0] * 0.3, lr=0.01, steps=20)
    assert ds.theta.shape == (21, model.dim)
    assert ds.loss.dims == ("step",)
    np.testing.assert_allclose(ds.loss.values, model.loss(ds.theta.values), rtol=1e-13)


# -- every hook a model provides, against the generic path ---------------------------------
HOOKS = ("gd_kernel", "grid_kernel", "symmetries", "gfs_limit", "gfs_growth", "default_box",
         "default_delta", "gfs_start", "constant_residual_hessian", "third_uu", "auto_gd_kernel")


def test_model_hooks_are_documented():
    # the Model docstring lists, numbered, every optional hook the algorithms ask for
    doc = dynsys.Model.__doc__
    for hook in HOOKS:
        assert f"``{hook}" in doc, hook


def _chunk(model, path, lr, axes, rule):
    from dynsys.basins._sweep import Plan, compute_chunk

    plan = Plan(mapping=dynsys.gd_map(model, lr), model=model, param="lr",
                values=np.array([lr]), axes=[np.asarray(a, float) for a in axes],
                base=np.zeros(model.dim), rule=rule, scaling=True, rows=len(axes[0]), path=path)
    return compute_chunk(plan, (0, 0))


def test_model_grid_kernel_against_generic_kernel(any_model):
    """The model's own basin loop gives the generic compiled loop's outcomes and limits (its
    per-step convergence test may differ from the step test: limits agree to that tolerance)."""
    _, model, _ = any_model
    if getattr(model, "grid_kernel", None) is None:
        pytest.skip("no grid_kernel hook")
    rule = dynsys.StoppingRule(steps=4000, tol=1e-12)
    axes = (np.linspace(-2.0, 2.0, 23), np.linspace(-5.0, 5.0, 19))
    for lr in (0.3, 1.0, 1.7):
        fast = _chunk(model, "model", lr, axes, rule)
        slow = _chunk(model, "kernel", lr, axes, rule)
        same = fast["outcome"] == slow["outcome"]
        assert same.mean() >= 0.97, (lr, same.mean())
        conv = same & (fast["outcome"] == dynsys.Outcome.CONVERGED)
        np.testing.assert_allclose(fast["final_loss"][conv], slow["final_loss"][conv],
                                   atol=1e-10)
        np.testing.assert_allclose(fast["final_sharpness"][conv],
                                   slow["final_sharpness"][conv], rtol=1e-5, atol=1e-8)


def test_model_gfs_limit_against_the_flow(any_model, rng):
    """A closed-form gradient-flow solution equals the integrated flow."""
    _, model, sample = any_model
    if getattr(model, "gfs_limit", None) is None:
        pytest.skip("no gfs_limit hook")
    theta = sample(rng, 4) * 0.8
    closed = dynsys.gfs_solution(model, theta, method="closed")
    flow = dynsys.gfs_solution(model, theta, method="ode")
    ok = flow.converged.values
    assert ok.sum() >= 2
    np.testing.assert_allclose(closed.gfs_sharpness.values[ok], flow.gfs_sharpness.values[ok],
                               rtol=1e-6, atol=1e-6)


def test_model_gfs_start_against_the_flow(any_model):
    """Starts built for a prescribed gradient-flow-solution sharpness reach it when the flow is
    integrated (the generic path, not the closed form)."""
    _, model, _ = any_model
    hook = getattr(model, "gfs_start", None)
    if hook is None:
        pytest.skip("no gfs_start hook")
    sharpness = np.array([2.5, 3.0, 4.0])
    theta_1 = np.array([0.3, 0.8, 1.5])
    try:
        starts = hook(sharpness, theta_1)
    except ValueError as err:
        # out of the model's reach (the 2-D model with eps = 0): the message names the argument
        assert "sharpness" in str(err) or "theta_1" in str(err) or "eps" in str(err)
        pytest.skip(f"sharpness out of reach: {err}")
    assert starts.shape == (3, model.dim)
    np.testing.assert_allclose(starts[:, 0], theta_1)
    flow = dynsys.gfs_solution(model, starts, method="ode")
    assert flow.converged.values.all()
    np.testing.assert_allclose(flow.gfs_sharpness.values, sharpness, rtol=1e-6)


def _flow(model, theta, t):
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _, x: -model.grad(x), (0.0, t), theta, method="DOP853", rtol=1e-13,
                    atol=1e-14)
    return sol.y[:, -1]


def test_model_constant_residual_hessian_against_the_generic_path(any_model, rng):
    """Constant residual Hessians equal the differences of the Jacobian everywhere, and the
    NTK eigenvalue derivatives built on them equal differences along the integrated flow."""
    _, model, sample = any_model
    Q = getattr(model, "constant_residual_hessian", None)
    if Q is None:
        pytest.skip("no constant_residual_hessian hook")
    Q = np.asarray(Q)
    assert Q.shape == (model.n_outputs, model.dim, model.dim)
    theta = sample(rng, 4)
    np.testing.assert_allclose(_numdiff.jacobian(model.jacobian, theta).reshape(
        (4,) + Q.shape), np.broadcast_to(Q, (4,) + Q.shape), rtol=1e-6, atol=1e-7)
    for th in theta[:2]:
        lam, d1, d2 = dynsys.ntk_eigenvalue_derivatives(model, th)
        h = 1e-3 / (1.0 + abs(lam))
        up, down = (float(model.ntk_eigenvalue(_flow(model, th, t))) for t in (h, -h))
        np.testing.assert_allclose(lam, model.ntk_eigenvalue(th), rtol=1e-12)
        np.testing.assert_allclose(d1, (up - down) / (2 * h), rtol=1e-5, atol=1e-7 * abs(lam))
        np.testing.assert_allclose(d2, (up - 2 * lam + down) / h ** 2, rtol=1e-5,
                                   atol=1e-7 * abs(lam) / h)


def test_model_gfs_growth_against_the_flow(any_model, rng):
    """The growth condition is necessary: wherever one GD step increases the GFS sharpness (the
    closed form, itself checked against the flow above, on many states; the integrated flow on
    a few), the hook said it could; and it is not vacuous (it is False somewhere)."""
    _, model, sample = any_model
    hook = getattr(model, "gfs_growth", None)
    if hook is None:
        pytest.skip("no gfs_growth hook")
    theta = sample(rng, 150) * 1.2
    increases = flags = 0
    for lr in (0.2, 0.6, 1.5):
        with np.errstate(all="ignore"):
            nxt = dynsys.gd_map(model, lr).step(theta)
        ok = np.all(np.isfinite(nxt), axis=1) & (np.abs(nxt).max(axis=1) < 1e3)
        before = dynsys.gfs_sharpness(model, theta[ok])
        after = dynsys.gfs_sharpness(model, nxt[ok])
        grew = after > before * (1 + 1e-9) + 1e-12
        flagged = np.asarray(hook(theta[ok], lr), dtype=bool)
        assert flagged.shape == grew.shape
        assert not np.any(grew & ~flagged), lr
        assert not flagged.all()
        increases, flags = increases + int(grew.sum()), flags + int(flagged.sum())
    # the integrated flow on two states of the last step size, one flagged if any
    pick = np.concatenate([np.flatnonzero(flagged)[:1], np.flatnonzero(~flagged)[:1]])
    ode0 = dynsys.gfs_sharpness(model, theta[ok][pick], method="ode")
    ode1 = dynsys.gfs_sharpness(model, nxt[ok][pick], method="ode")
    np.testing.assert_array_equal(ode1 > ode0 * (1 + 1e-9) + 1e-12, grew[pick])
    assert increases > 0 or flags == 0   # a hook that flags states is put to the test


def test_model_default_box_and_delta(any_model):
    _, model, _ = any_model
    box = getattr(model, "default_box", None)
    if box is None and getattr(model, "default_delta", None) is None:
        pytest.skip("no default_box or default_delta hook")
    if box is not None:
        for lr in (0.1, 1.0, 3.0):
            b = np.asarray(box(lr), dtype=float)
            assert b.shape[1] == 2 and b.shape[0] <= model.dim
            assert np.all(np.isfinite(b)) and np.all(b[:, 0] < b[:, 1])
        # the box of a larger step size is no larger (the dynamics shrink with lr)
        assert np.all(np.abs(np.asarray(box(3.0))) <= np.abs(np.asarray(box(0.1))) + 1e-12)
    hook = getattr(model, "default_delta", None)
    if hook is not None:
        assert 0.0 <= hook() < 2.0


def test_map_kernel_sweep_equals_numpy_sweep(any_map, rng):
    """The compiled basin loop and the numpy fallback stop by the same rule: same outcome,
    period, steps and final state for every start."""
    from dynsys._stopping import OrbitEnds
    from dynsys.basins._kernels import map_sweep
    from dynsys.basins._sweep import numpy_sweep

    _, m, sample = any_map
    if m.kernel is None:
        pytest.skip("no compiled kernel")
    x0 = np.ascontiguousarray(sample(rng, 300))
    rule = dynsys.StoppingRule(steps=600, tol=1e-10, radius=1e4, lyapunov_steps=100)

    def run(fn, *args):
        n = x0.shape[0]
        ends = OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                         np.empty((n, m.dim)), np.empty(n))
        fn(*args, rule, ends)
        return ends

    fast = run(map_sweep, m.kernel, x0, m.param_vector())
    slow = run(numpy_sweep, m, x0)
    for name in ("code", "period", "used"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    np.testing.assert_allclose(fast.final, slow.final, rtol=1e-12, atol=1e-12)
    chaotic = fast.code == dynsys.Outcome.CHAOTIC
    np.testing.assert_allclose(fast.ftle[chaotic], slow.ftle[chaotic], rtol=1e-6, atol=1e-9)


def test_model_third_uu_against_hessian_differences(any_model, rng):
    """``third_uu(theta, u)`` is the directional derivative of ``u . H u``: central
    differences of the Hessian along each coordinate."""
    _, model, sample = any_model
    if getattr(model, "third_uu", None) is None:
        pytest.skip("no third_uu hook")
    for theta in sample(rng, 3):
        u = rng.normal(size=model.dim)
        u /= np.linalg.norm(u)
        got = model.third_uu(theta, u)
        h = 1e-5
        fd = np.empty(model.dim)
        for k in range(model.dim):
            e = np.zeros(model.dim)
            e[k] = h * max(1.0, abs(theta[k]))
            fd[k] = u @ (model.hessian(theta + e) - model.hessian(theta - e)) @ u / (2 * e[k])
        np.testing.assert_allclose(got, fd, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))


def test_map_default_box_and_range(any_map):
    """Map hook 4: ``default_box`` is the default grid of basins (the generic default is
    [-1, 1]); ``default_range(param)`` an interval of every parameter, kept by with_params."""
    from dynsys.basins import default_grid

    _, m, _ = any_map
    box, rng_hook = getattr(m, "default_box", None), getattr(m, "default_range", None)
    if box is None:
        assert default_grid(m, m.dim, [1.0], n=5) == tuple((-1.0, 1.0, 5)
                                                           for _ in range(min(m.dim, 2)))
        pytest.skip("no default_box hook")
    b = np.asarray(box(None), dtype=float)
    assert b.shape == (m.dim, 2) and np.all(b[:, 0] < b[:, 1])
    assert default_grid(m, m.dim, [1.0], n=5) == tuple((lo, hi, 5) for lo, hi in b[:2])
    assert rng_hook is not None
    for param in m.params:
        lo, hi = rng_hook(param)
        assert lo < hi
        again = m.with_params(**{param: 0.5 * (lo + hi)})
        assert again.default_range(param) == (lo, hi) and again.default_box(None) == box(None)


def test_model_step_scale_at_tiny_lr_on_every_path(any_model, rng):
    """The ``step_scale`` hook of GD maps (their ``lr``): at ``lr`` far below ``tol`` no start
    away from a stationary point counts as converged, on the compiled loop, the numpy loop and
    the model's own grid loop (one stopping rule, relative to the step scale)."""
    from dynsys._stopping import OrbitEnds
    from dynsys.basins._kernels import map_sweep
    from dynsys.basins._sweep import numpy_sweep

    _, model, sample = any_model
    lr = 1e-13
    f = dynsys.gd_map(model, lr)
    assert f.step_scale == lr and dynsys.maps.logistic(3.5).step_scale == 1.0
    x0 = np.ascontiguousarray(sample(rng, 40))
    moving = np.linalg.norm(model.grad(x0), axis=1) > 1e-3
    rule = dynsys.StoppingRule(steps=64, tol=1e-12)

    def run(fn, *args):
        n = x0.shape[0]
        ends = OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                         np.empty((n, model.dim)), np.empty(n))
        fn(*args, rule, ends)
        return ends.code

    codes = [run(numpy_sweep, f, x0)]
    if f.kernel is not None:
        codes.append(run(lambda *a: map_sweep(*a, step_scale=f.step_scale), f.kernel, x0,
                         f.param_vector()))
    if getattr(model, "grid_kernel", None) is not None and model.dim == 2:
        axes = (np.linspace(-2.0, 2.0, 5), np.linspace(-3.0, 3.0, 5))
        out = _chunk(model, "model", lr, axes, rule)
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 2)
        far = np.linalg.norm(model.grad(grid), axis=1) > 1e-3
        assert not (out["outcome"][far] == dynsys.Outcome.CONVERGED).any()
    for code in codes:
        assert not (code[moving] == dynsys.Outcome.CONVERGED).any()


# -- user functions compiled by numba (Map.compiled, the auto_gd_kernel hook) ---------------
def _ends(n, dim):
    from dynsys._stopping import OrbitEnds

    return OrbitEnds(np.empty(n, np.int8), np.empty(n, np.int16), np.empty(n, np.int32),
                     np.empty((n, dim)), np.empty(n))


def _kernel_vs_numpy(m, fast_map, x0, rule):
    from dynsys.basins._kernels import map_sweep
    from dynsys.basins._sweep import numpy_sweep

    fast, slow = _ends(*x0.shape), _ends(*x0.shape)
    map_sweep(fast_map.kernel, x0, fast_map.param_vector(), rule, fast)
    numpy_sweep(m, x0, rule, slow)
    return fast, slow


def _compiled_or_skip(m):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dynsys.SlowPathWarning)
        fast = m.compiled()
    if not isinstance(fast.kernel, dynsys.systems.AutoKernel):
        pytest.skip("has its own kernel, or its functions do not compile")
    return fast


def test_auto_kernel_matches_python(any_map, rng):
    """A kernel compiled from a user map's functions gives the Python step and Jacobian (to the
    last bit where numba and numpy do the same arithmetic, here to 1e-12 relative)."""
    _, m, sample = any_map
    fast = _compiled_or_skip(m)
    p = fast.param_vector()
    for x in sample(rng, 6):
        out = np.empty(m.dim)
        fast.kernel.step(np.ascontiguousarray(x), p, out)
        np.testing.assert_allclose(out, m.step(x), rtol=1e-12, atol=1e-14)
        if fast.kernel.jacobian is not None:
            jac = np.empty((m.dim, m.dim))
            fast.kernel.jacobian(np.ascontiguousarray(x), p, jac)
            np.testing.assert_allclose(jac, m.jacobian(x), rtol=1e-12, atol=1e-13)


def test_auto_gd_kernel_against_numpy_gd(any_model, rng):
    """The auto_gd_kernel hook: its GD step and Jacobian equal the numpy GD map's."""
    _, model, sample = any_model
    if getattr(model, "auto_gd_kernel", None) is None:
        pytest.skip("no auto_gd_kernel hook")
    f = dynsys.gd_map(model, 0.3)
    fast = _compiled_or_skip(f)
    p = fast.param_vector()
    for x in sample(rng, 6):
        out = np.empty(model.dim)
        fast.kernel.step(np.ascontiguousarray(x), p, out)
        np.testing.assert_allclose(out, f.step(x), rtol=1e-12, atol=1e-13)
        if fast.kernel.jacobian is not None:           # the user gave a Hessian
            jac = np.empty((model.dim, model.dim))
            fast.kernel.jacobian(np.ascontiguousarray(x), p, jac)
            np.testing.assert_allclose(jac, f.jacobian(x), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("system", ["henon_by_hand", "qr2d_by_hand", "qr2d_loss_only"])
def test_auto_kernel_sweep_equals_numpy_sweep_bit_for_bit(system, rng):
    """Compiled from user functions and run on numpy, the basin loop gives the same outcome,
    period, steps and final state, to the last bit, when the arithmetic is the same."""
    rule = dynsys.StoppingRule(steps=800, tol=1e-10, radius=1e4, lyapunov_steps=100)
    if system == "henon_by_hand":
        m = dynsys.Map(poly_step, poly_jac, dim=2, params={"a": 1.4, "b": 0.3})
        x0 = rng.uniform(-2.0, 2.0, (400, 2))
    else:
        grad, hess = (qr2d_grad, qr2d_hess) if system == "qr2d_by_hand" else (None, None)
        m = dynsys.gd_map(dynsys.Model.from_loss(qr2d_loss, grad=grad, hessian=hess, dim=2),
                          1.0)
        x0 = rng.uniform(-3.0, 3.0, (400, 2)) * [1.0, 3.0]
    fast_map = _compiled_or_skip(m)
    assert fast_map.kernel.cached          # module-level functions: in numba's disk cache
    fast, slow = _kernel_vs_numpy(m, fast_map, np.ascontiguousarray(x0), rule)
    assert len(np.unique(fast.code)) >= 2
    for name in ("code", "period", "used"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
    if system == "qr2d_loss_only":     # five-point differences summed in another order
        np.testing.assert_allclose(fast.final, slow.final, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(fast.final, slow.final)
    if fast_map.kernel.jacobian is not None:    # same Jacobian; tangents renormalised apart
        ok = np.isfinite(fast.ftle) & np.isfinite(slow.ftle)
        np.testing.assert_array_equal(np.isfinite(fast.ftle), np.isfinite(slow.ftle))
        np.testing.assert_allclose(fast.ftle[ok], slow.ftle[ok], rtol=1e-10, atol=1e-12)


def test_auto_kernel_sweep_with_transcendental_functions(rng):
    """numba's and numpy's sin/cos may differ in the last bit: outcomes agree and limits to
    1e-12 on a convergent problem."""
    model = dynsys.Model.from_loss(lambda t: 1.0 - np.cos(t[0]) + 0.5 * t[1] ** 2 * (1.0 + 0.5 * np.sin(t[0]) ** 2), dim=2)
    m = dynsys.gd_map(model, 0.5)
    fast_map = _compiled_or_skip(m)
    rule = dynsys.StoppingRule(steps=2000, tol=1e-12, radius=1e4, lyapunov_steps=50)
    x0 = np.ascontiguousarray(rng.uniform(-2.0, 2.0, (200, 2)))
    fast, slow = _kernel_vs_numpy(m, fast_map, x0, rule)
    np.testing.assert_array_equal(fast.code, slow.code)
    assert np.all(fast.code == dynsys.Outcome.CONVERGED)
    np.testing.assert_allclose(fast.final, slow.final, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fast.used, slow.used, atol=2)


def test_uncompilable_function_warns_once_and_runs_numpy():
    """A function numba cannot compile: one SlowPathWarning with numba's reason, the speed of
    the numpy path and how to fix it; the numpy path's results; jit=True makes it an error."""
    import scipy.special

    def step(x, r):
        return np.array([r * scipy.special.expit(x[0])])

    m = dynsys.Map(step, dim=1, params={"r": 2.0}, name="expit_map")
    with pytest.warns(dynsys.SlowPathWarning) as record:
        ds = dynsys.basins(m, [2.0, 3.0], grid=((-1, 1, 9),), steps=200)
        dynsys.basins(m, [2.0], grid=((-1, 1, 5),), steps=200)
    assert len(record) == 1
    msg = str(record[0].message)
    assert "expit_map" in msg and "point-iterations/s" in msg and "for one point" in msg
    assert "Error" in msg                                   # numba's reason, shortened
    assert ds.attrs["compute_path"] == "numpy"
    with pytest.raises(ValueError, match="jit=True"):
        dynsys.Map(step, dim=1, params={"r": 2.0}, jit=True).compiled()
    quiet = dynsys.Map(step, dim=1, params={"r": 2.0}, jit=False)
    assert quiet.compiled() is quiet


def test_basins_of_user_loss_use_the_auto_kernel():
    model = dynsys.Model.from_loss(qr2d_loss, grad=qr2d_grad, dim=2, name="qr2d_by_hand")
    grid = ((-2.0, 2.0, 12), (-4.0, 4.0, 10))
    fast = dynsys.basins(model, [0.8, 1.6], grid=grid, steps=1500)
    slow = dynsys.basins(dynsys.Model.from_loss(qr2d_loss, grad=qr2d_grad, dim=2,
                                                name="qr2d_by_hand", jit=False),
                         [0.8, 1.6], grid=grid, steps=1500)
    assert fast.attrs["compute_path"] == "auto_kernel"
    assert slow.attrs["compute_path"] == "numpy"
    for name in ("outcome", "period", "steps", "attractor", "final_theta"):
        np.testing.assert_array_equal(fast[name].values, slow[name].values, err_msg=name)
    # final loss and sharpness: compiled (AutoKernel.final) against the numpy model's
    for name in ("final_loss", "final_sharpness"):
        np.testing.assert_array_equal(np.isnan(fast[name].values), np.isnan(slow[name].values))
        np.testing.assert_allclose(fast[name].values, slow[name].values, rtol=1e-12,
                                   atol=1e-14, err_msg=name)
    for loss_only in (dynsys.Model.from_loss(qr2d_loss, dim=2), ):
        mapping = dynsys.gd_map(loss_only, 1.0).compiled()
        states = np.array([[0.3, 2.0], [1.5, -0.5], [np.nan, 1.0], [2.0, 0.0]])
        loss, sharp = np.empty(4), np.empty(4)
        mapping.kernel.final(states, loss, sharp)
        np.testing.assert_allclose(loss[[0, 1, 3]], loss_only.loss(states[[0, 1, 3]]),
                                   rtol=1e-13)
        np.testing.assert_allclose(sharp[[0, 1, 3]], loss_only.sharpness(states[[0, 1, 3]]),
                                   rtol=1e-9, atol=1e-9)
        assert np.isnan(loss[2]) and np.isnan(sharp[2])


SCALE = 1.0


def _scaled_step(x, r):
    return np.array([SCALE * r * x[0] * (1.0 - x[0])])


def test_auto_kernel_rebuilt_when_a_global_it_froze_changed():
    """numba freezes globals at compilation: a memoised kernel that no longer equals the
    Python function (a global changed) is compiled again."""
    global SCALE
    m = dynsys.Map(_scaled_step, dim=1, params={"r": 3.0})
    out = np.empty(1)
    first = m.compiled().kernel
    first.step(np.array([0.5]), np.array([3.0]), out)
    assert out[0] == 0.75
    try:
        SCALE = 0.5
        again = dynsys.Map(_scaled_step, dim=1, params={"r": 3.0}).compiled().kernel
        again.step(np.array([0.5]), np.array([3.0]), out)
        assert again is not first and out[0] == 0.375
    finally:
        SCALE = 1.0
