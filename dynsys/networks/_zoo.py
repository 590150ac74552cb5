"""A small model zoo: fully connected networks with mean-squared error, and their data.

Data sets are built from what is installed, never downloaded: scikit-learn's bundled
handwritten digits (8 x 8 images, shipped inside the package) and a synthetic teacher-student
set. Networks are JAX models (``dynsys[jax]``).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check

ACTIVATIONS = ("tanh", "relu", "gelu", "linear")


def digits(n: int = 256, *, classes: int = 10, seed: int = 0):
    """Return ``(X, Y)``: a fixed subset of scikit-learn's bundled digits, one-hot targets.

    ``n`` images of the digits ``0 .. classes-1`` drawn without replacement by a seeded
    permutation, pixels scaled to [0, 1] and centred (the subset's mean image subtracted);
    ``X`` has shape ``(n, 64)`` and ``Y`` (one-hot, float) shape ``(n, classes)``. The data
    ship with scikit-learn (nothing is downloaded); it is an optional dependency of the
    ``dynsys[jax]`` extra.

    Examples
    --------
    >>> X, Y = digits(20, classes=3)
    >>> X.shape, Y.shape, Y.sum(axis=1).tolist() == [1.0] * 20
    ((20, 64), (20, 3), True)
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError('the digits data ship with scikit-learn: install it with  '
                          'pip install "dynsys[jax]"') from err
    classes = check.integer("classes", classes, minimum=2, maximum=10)
    seed = check.integer("seed", seed, minimum=0)
    data = load_digits()
    keep = np.flatnonzero(data.target < classes)
    n = check.integer("n", n, minimum=1, maximum=keep.size)
    idx = keep[np.random.default_rng(seed).permutation(keep.size)[:n]]
    X = data.data[idx].astype(float) / 16.0
    X -= X.mean(axis=0)
    Y = np.eye(classes)[data.target[idx]]
    return X, Y


def _activation(name: str):
    import jax
    import jax.numpy as jnp

    return {"tanh": jnp.tanh, "relu": jax.nn.relu,
            "gelu": lambda x: jax.nn.gelu(x, approximate=False),
            "linear": lambda x: x}[name]


def _init(sizes, seed):
    """Gaussian weights of variance 1/fan_in, zero biases (float64 NumPy)."""
    rng = np.random.default_rng(seed)
    return [{"w": rng.standard_normal((a, b)) / np.sqrt(a), "b": np.zeros(b)}
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


def _forward(params, X, act):
    h = X
    for layer in params[:-1]:
        h = act(h @ layer["w"] + layer["b"])
    return h @ params[-1]["w"] + params[-1]["b"]


def _check_data(X, Y):
    X = check.array("X", X)
    Y = check.array("Y", Y)
    if X.ndim != 2 or X.shape[0] < 1:
        raise ValueError(f"X must have shape (n, d_in), got {X.shape}")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have shape (n, d_out) with n = {X.shape[0]}, got {Y.shape}")
    return X, Y


def mlp(X, Y, *, width: int = 32, depth: int = 2, activation: str = "tanh", seed: int = 0,
        name: str | None = None):
    """Return a fully connected network with mean-squared error on ``(X, Y)`` (a JAX model).

    ``depth`` hidden layers of ``width`` units with the given ``activation`` (``"tanh"``,
    ``"relu"``, ``"gelu"`` or ``"linear"``), a linear output layer, weights drawn with
    variance ``1/fan_in`` (seeded) and zero biases. The loss is
    ``L = 1/(2n) sum_i |f(x_i) - y_i|^2``. ``model.theta0`` is the initialisation.

    Examples
    --------
    >>> X, Y = teacher_student(16, d_in=3, seed=0)
    >>> m = mlp(X, Y, width=4, depth=1, seed=0)
    >>> m.dim                          # (3 + 1) * 4 + (4 + 1) * 1
    21
    """
    from ..models import import_jax

    import_jax()
    import jax.numpy as jnp

    X, Y = _check_data(X, Y)
    width = check.integer("width", width, minimum=1)
    depth = check.integer("depth", depth, minimum=0)
    activation = check.choice("activation", activation, ACTIVATIONS)
    seed = check.integer("seed", seed, minimum=0)
    act = _activation(activation)
    sizes = [X.shape[1]] + [width] * depth + [Y.shape[1]]
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
    n = X.shape[0]

    def mse(params):
        r = _forward(params, Xj, act) - Yj
        return 0.5 * jnp.sum(r * r) / n

    from ..models import from_jax

    label = name or f"mlp {activation} depth={depth} width={width} n={n}"
    return from_jax(mse, _init(sizes, seed), name=label,
                    meta={"width": width, "depth": depth, "activation": activation,
                          "seed": seed, "n_samples": n, "d_in": X.shape[1],
                          "d_out": Y.shape[1]})


def teacher_student(n: int = 128, *, d_in: int = 8, d_out: int = 1, teacher_width: int = 8,
                    activation: str = "tanh", seed: int = 0):
    """Return ``(X, Y)``: Gaussian inputs and the outputs of a random one-hidden-layer teacher.

    ``X`` has i.i.d. standard normal entries, shape ``(n, d_in)``; ``Y = f(X)`` with ``f`` a
    network of ``teacher_width`` hidden units of ``activation`` and weights of variance
    ``1/fan_in`` (seed ``seed + 1``), shape ``(n, d_out)``. Pure NumPy.

    Examples
    --------
    >>> X, Y = teacher_student(5, d_in=2, d_out=3, seed=1)
    >>> X.shape, Y.shape
    ((5, 2), (5, 3))
    """
    n = check.integer("n", n, minimum=1)
    d_in = check.integer("d_in", d_in, minimum=1)
    d_out = check.integer("d_out", d_out, minimum=1)
    teacher_width = check.integer("teacher_width", teacher_width, minimum=1)
    activation = check.choice("activation", activation, ACTIVATIONS)
    seed = check.integer("seed", seed, minimum=0)
    X = np.random.default_rng(seed).standard_normal((n, d_in))
    params = _init([d_in, teacher_width, d_out], seed + 1)
    act = {"tanh": np.tanh, "relu": lambda x: np.maximum(x, 0.0), "linear": lambda x: x,
           "gelu": _gelu_np}[activation]
    return X, _forward(params, X, act)


def _gelu_np(x):
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))
