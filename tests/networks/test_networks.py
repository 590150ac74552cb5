"""The model zoo and GD with the spectrum tracked by HVPs."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys

pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

from dynsys.networks import digits, mlp, spectrum_trajectory, teacher_student  # noqa: E402


def test_digits_fixed_subset_one_hot():
    X, Y = digits(50, classes=4, seed=2)
    X2, Y2 = digits(50, classes=4, seed=2)
    np.testing.assert_array_equal(X, X2)
    assert X.shape == (50, 64) and Y.shape == (50, 4)
    assert np.all(Y.sum(axis=1) == 1) and set(np.unique(Y)) == {0.0, 1.0}
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    assert not np.array_equal(digits(50, classes=4, seed=3)[0], X)
    with pytest.raises(ValueError, match="n"):
        digits(10_000)
    with pytest.raises(ValueError, match="classes"):
        digits(10, classes=11)


def test_teacher_student_is_its_teacher():
    X, Y = teacher_student(30, d_in=4, d_out=2, teacher_width=6, activation="tanh", seed=0)
    assert X.shape == (30, 4) and Y.shape == (30, 2)
    # a student of the teacher's architecture at the teacher's weights has zero loss
    net = mlp(X, Y, width=6, depth=1, activation="tanh", seed=1)   # teacher seed = seed + 1
    assert float(net.loss(net.theta0)) < 1e-28


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "linear"])
def test_mlp_loss_is_mse_and_gradient_exact(activation):
    X, Y = teacher_student(10, d_in=3, d_out=2, seed=4)
    net = mlp(X, Y, width=3, depth=2, activation=activation, seed=0)
    assert net.dim == (3 + 1) * 3 + (3 + 1) * 3 + (3 + 1) * 2
    p = net.unflatten(net.theta0)
    act = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0), "linear": lambda x: x,
           "gelu": dynsys.networks._zoo._gelu_np}[activation]
    h = X
    for layer in p[:-1]:
        h = act(h @ np.asarray(layer["w"]) + np.asarray(layer["b"]))
    out = h @ np.asarray(p[-1]["w"]) + np.asarray(p[-1]["b"])
    assert abs(float(net.loss(net.theta0)) - 0.5 * np.sum((out - Y) ** 2) / 10) < 1e-13
    e = np.zeros(net.dim)
    e[5] = 1e-6
    fd = (net.loss_at(net.theta0 + e) - net.loss_at(net.theta0 - e)) / 2e-6
    assert abs(fd - net.grad_at(net.theta0)[5]) < 1e-8


def test_mlp_bad_input():
    X, Y = teacher_student(10, d_in=3)
    with pytest.raises(ValueError, match="activation"):
        mlp(X, Y, activation="sigmoid")
    with pytest.raises(ValueError, match="Y must have shape"):
        mlp(X, Y[:5])
    with pytest.raises(ValueError, match="width"):
        mlp(X, Y, width=0)


def test_spectrum_trajectory_matches_plain_gd_and_dense_spectrum():
    X, Y = digits(40, classes=3)
    net = mlp(X, Y, width=4, depth=1, activation="tanh", seed=0)
    ds = spectrum_trajectory(net, net.theta0, lr=0.5, steps=60, every=20, top_k=2,
                             save_theta=True)
    theta = net.theta0.copy()
    for t in range(60):                            # plain numpy GD through the protocol
        assert abs(float(net.loss(theta)) - float(ds.loss[t])) <= 1e-12
        theta = theta - 0.5 * net.grad(theta)
    np.testing.assert_allclose(ds.theta_final, theta, rtol=1e-11, atol=1e-13)
    assert ds.check_step.values.tolist() == [0, 20, 40, 60]
    for c in range(4):
        dense = np.linalg.eigvalsh(net.hessian(ds.theta.values[c]))[::-1][:2]
        np.testing.assert_allclose(ds.eigenvalues.values[c], dense, rtol=1e-9)
    assert int(ds.outcome) == dynsys.Outcome.BOUNDED
    assert ds.n_hvp.values[0] > 0


def test_spectrum_trajectory_divergence_is_data():
    X, Y = teacher_student(10, d_in=3, seed=0)
    net = mlp(X, Y, width=4, depth=1, seed=0)
    S0 = float(net.sharpness(net.theta0))
    ds = spectrum_trajectory(net, net.theta0, lr=20.0 / S0, steps=400, every=50)
    assert int(ds.outcome) == dynsys.Outcome.DIVERGED
    k = int(ds.attrs["diverged_at_step"])
    assert 0 < k < 400
    assert np.all(np.isfinite(ds.loss.values[:k])) and np.all(np.isnan(ds.loss.values[k:]))


def test_nan_loss_is_diverged_not_an_error():
    m = dynsys.Model.from_jax(lambda p: jnp.where(p[0] > 1.5, jnp.nan, 0.5 * jnp.sum(p ** 2)),
                              np.array([1.0, 0.5]))
    ds = spectrum_trajectory(m, [1.0, 0.5], lr=1.0, steps=10, every=2)
    assert int(ds.outcome) == dynsys.Outcome.BOUNDED      # lr = 1: at the minimum at once
    m2 = dynsys.Model.from_jax(lambda p: jnp.where(jnp.abs(p[0]) > 1.5, jnp.nan,
                                                   -0.5 * jnp.sum(p ** 2)), np.array([1.0, 0.5]))
    ds2 = spectrum_trajectory(m2, [1.0, 0.5], lr=0.5, steps=10, every=5)
    assert int(ds2.outcome) == dynsys.Outcome.DIVERGED
    # p_0 = 1, 1.5, 2.25: the loss is NaN from step 2; steps 0 and 1 are kept
    assert int(ds2.attrs["diverged_at_step"]) == 2
    np.testing.assert_allclose(ds2.loss.values[:2], [-0.625, -0.5 * (1.5 ** 2 + 0.75 ** 2)])
    assert np.all(np.isnan(ds2.loss.values[2:])) and np.all(np.isnan(ds2.theta_final))


def test_spectrum_trajectory_bad_input():
    m = dynsys.QuadraticRegression2D(0.1)
    with pytest.raises(ValueError, match="every"):
        spectrum_trajectory(m, [1.0, 1.0], lr=0.5, steps=10, every=0)
    with pytest.raises(ValueError, match="theta0"):
        spectrum_trajectory(m, [1.0, 1.0, 2.0], lr=0.5, steps=10)
    with pytest.raises(TypeError, match="model"):
        spectrum_trajectory("m", [1.0], lr=0.5, steps=10)


def test_network_eos_study_quick(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "analyses" / "network_eos.py"), "--quick",
                           "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    ds = dynsys.load(tmp_path / "network_eos.nc")
    assert (tmp_path / "network_eos.png").stat().st_size > 10_000
    at_edge = ds.edge_step.values > 0
    assert at_edge.sum() >= 2                       # progressive sharpening to 2/lr ...
    # ... then lr S hovers at 2 while the loss keeps falling, with increases on the way
    assert np.all(np.abs(ds.mean_lrS.values[at_edge] - 2.0) < 0.1)
    assert np.all(ds.loss_end.values[at_edge] < ds.loss_at_edge.values[at_edge])
    assert np.all(ds.loss_up_share.values[at_edge] > 0.0)
    assert np.all(ds.outcome.values == dynsys.Outcome.BOUNDED)


def test_network_self_stabilisation_study_quick(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, str(root / "analyses" / "network_self_stabilisation.py"),
                           "--quick", "--out", str(tmp_path)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    ds = dynsys.load(tmp_path / "network_self_stabilisation.nc")
    assert (tmp_path / "network_self_stabilisation.png").stat().st_size > 10_000
    assert ds.sizes["case"] == 2 and np.all(ds.tracked_steps.values > 10)
    # theta+ stays close to GD and the predicted loss to GD's (numbers printed by the script)
    assert np.all(ds.constrained_distance.values < 0.2)
    assert np.all(ds.loss_rel_error.values < 0.2)
    assert np.all(np.isfinite(ds.x_rms_error.values))


# -- the compiled paths of JaxModel against the generic ones ---------------------------------
@pytest.fixture(scope="module")
def small_net():
    X, Y = digits(64, classes=10)
    return mlp(X, Y, width=8, depth=2, activation="tanh", seed=0)


def test_top_fused_equals_dense(small_net):
    net = small_net
    dense = np.linalg.eigvalsh(net.hessian_at(net.theta0))[-1]
    lam, u, n, ok = net.top_fused(net.theta0, np.ones(net.dim), tol=1e-10)
    assert bool(ok) and abs(float(lam) - dense) <= 1e-10 * dense
    # its eigenvector: |H u - lam u| small, and a warm start converges at once
    np.testing.assert_allclose(net.hvp(net.theta0, u), lam * u, atol=1e-8 * dense)
    assert int(net.top_fused(net.theta0, u, tol=1e-10)[2]) <= 2 < int(n)


@pytest.mark.parametrize("krylov", [3, 6, 13, 20])
def test_top_fused_krylov_sizes_equal_dense(small_net, krylov):
    # Krylov dimensions below, at and between the reorthogonalisation blocks (REORTH_BLOCK
    # rows; a partial last block) and with restarts (3, 6): the dense top eigenvalue to 1e-10
    net = small_net
    theta = net.theta0 + 0.3 * np.random.default_rng(1).standard_normal(net.dim)
    w = np.linalg.eigvalsh(net.hessian_at(theta))
    start = np.random.default_rng(2).standard_normal(net.dim)
    lam, u, n, ok = net.top_fused(theta, start, tol=1e-11, krylov=krylov, restarts=400)
    assert bool(ok) and abs(float(lam) - w[-1]) <= 1e-10 * w[-1]
    np.testing.assert_allclose(net.hvp(theta, u), float(lam) * u, atol=1e-8 * w[-1])


def test_compiled_lanczos_keeps_its_basis_orthogonal():
    # partial reorthogonalisation: ~120 products (tol 0) on a matrix with a close top
    # pair, well past the top pair's convergence, where plain Lanczos loses orthogonality
    # (measured: 0.26 with the Gram-Schmidt passes switched off); here 4e-10
    import jax

    from dynsys.models._jax import _lanczos, import_jax

    import_jax()
    rng = np.random.default_rng(0)
    P, m = 400, 120
    d = np.concatenate([[10.0, 9.99], np.linspace(-3.0, 9.0, P - 2)])
    Q = np.linalg.qr(rng.standard_normal((P, P)))[0]
    A = jnp.asarray((Q * d) @ Q.T)
    run = jax.jit(lambda q: _lanczos(jax, jnp, lambda v: A @ v, q, 0.0, m, 1, basis=True))
    lam, u, n, _res, V = run(jnp.asarray(rng.standard_normal(P)))
    V = np.asarray(V)[:int(n)]                                  # the vectors multiplied
    assert int(n) >= 100 and abs(float(lam) - 10.0) <= 1e-12      # (stops at res = 0)
    assert np.max(np.abs(V @ V.T - np.eye(len(V)))) <= 1e-7
    np.testing.assert_allclose(np.asarray(A) @ np.asarray(u), float(lam) * np.asarray(u),
                               atol=1e-9)


@pytest.mark.parametrize("lr, steps, every", [(0.2, 50, 7), (0.5, 30, 1), (3.0, 200, 10)])
def test_fused_spectrum_trajectory_equals_the_loop(small_net, lr, steps, every):
    # the fused path (gd_track hook) against the per-checkpoint loop (forced by progress=):
    # same losses, same sharpness to Lanczos accuracy, same divergence step (lr = 3 diverges)
    net = small_net
    fast = spectrum_trajectory(net, net.theta0, lr=lr, steps=steps, every=every, tol=1e-10)
    slow = spectrum_trajectory(net, net.theta0, lr=lr, steps=steps, every=every, tol=1e-10,
                               progress=lambda it: it)
    assert fast.attrs["diverged_at_step"] == slow.attrs["diverged_at_step"]
    assert int(fast.outcome) == int(slow.outcome)
    np.testing.assert_array_equal(np.isnan(fast.loss), np.isnan(slow.loss))
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(fast.sharpness), np.isnan(slow.sharpness))
    np.testing.assert_allclose(fast.sharpness, slow.sharpness, rtol=1e-9)


def test_compiled_gradient_flow_equals_radau():
    # the network's own Dormand-Prince flow (gradient_flow hook) against scipy's Radau on the
    # same model wrapped as a plain Model (the generic path)
    X, Y = teacher_student(6, d_in=2, teacher_width=2, seed=0)
    net = mlp(X, Y, width=8, depth=1, seed=0)
    plain = dynsys.Model.from_loss(net.loss, net.grad, net.hessian, dim=net.dim,
                                   vectorized=True)
    assert net.gradient_flow(net.theta0[None])[1].all()       # the compiled flow converged
    fast = dynsys.gfs_solution(net, net.theta0[None])
    slow = dynsys.gfs_solution(plain, net.theta0[None])
    assert int(fast.converged[0]) == int(slow.converged[0]) == 1
    np.testing.assert_allclose(fast.gfs_sharpness, slow.gfs_sharpness, rtol=1e-9)
    np.testing.assert_allclose(fast.gfs_theta, slow.gfs_theta, rtol=1e-7, atol=1e-9)


def test_kreisler_scan_on_a_network():
    X, Y = teacher_student(8, d_in=4, teacher_width=4, seed=0)
    net = mlp(X, Y, width=16, depth=1, seed=0)
    ds = dynsys.kreisler_scan(net, net.theta0[None], [3.0], steps=120, every=40,
                              converged_loss=1e-6, paths=True)
    assert ds.gfs_sharpness_path.shape == (1, 1, 4)
    assert ds.attrs["growth_condition"] == 0 and int(ds.unexplained_increases.sum()) == 0
    phi = ds.gfs_sharpness_path.values[0, 0]
    np.testing.assert_allclose(phi[0], float(ds.gfs_sharpness0[0]), rtol=1e-12)
    # a catapult: lr phi drops from 3 to below the EoS band (the GFS sharpness falls); the run
    # is classified by its final loss
    assert float(ds.lr[0, 0]) * phi[-1] < 1.9
    assert float(ds.max_increase[0, 0]) <= 1e-10
    done = float(ds.loss_path.values[0, 0, -1]) < 1e-6
    RC = dynsys.eos.RunClass
    assert int(ds.run_class[0, 0]) == int(RC.CATAPULT if done else RC.UNDECIDED)


@pytest.mark.parametrize("study", ["network_eos", "network_kreisler"])
def test_network_studies_skip_in_one_line_without_jax(tmp_path, study):
    import os
    import pathlib
    import subprocess
    import sys

    blocker = tmp_path / "nojax"
    blocker.mkdir()
    (blocker / "jax.py").write_text('raise ImportError("JAX blocked for this test")\n')
    root = pathlib.Path(dynsys.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(blocker), str(root)]))
    proc = subprocess.run([sys.executable, "-m", f"dynsys.studies.{study}", "--quick", "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (f'{study} skipped: JAX is not installed '
                                   '(pip install "dynsys[jax]")')
    assert not (tmp_path / "out" / f"{study}.nc").exists()
