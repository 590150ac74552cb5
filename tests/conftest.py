"""Shared fixtures: the registry of every map and model the conformance suite runs over.

Add each new built-in map or model to ``MAP_FACTORIES`` / ``MODEL_FACTORIES`` together with a
function drawing typical states, so that it is held to the same contract as the others.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

# fixed seeds everywhere: hypothesis draws the same examples on every run and machine
settings.register_profile("dynsys", derandomize=True, database=None, deadline=None)
settings.load_profile("dynsys")

os.environ.setdefault("MPLBACKEND", "Agg")

import dynsys  # noqa: E402


def _user_map_pointwise():
    # written for one point, no Jacobian: vectorised and differentiated for us
    def step(x, a, b):
        return np.array([np.sin(a * x[0]) + x[1], b * x[0] - 0.1 * x[1] ** 2])
    return dynsys.Map(step, dim=2, params={"a": 1.3, "b": 0.4}, name="user_pointwise")


def _user_map_batched():
    return dynsys.Map(lambda x, c: np.stack([x[..., 1], -x[..., 0] + c * np.tanh(x[..., 1])],
                                            axis=-1),
                      dim=2, params={"c": 0.7}, name="user_batched")


MAP_FACTORIES = {
    "logistic": (lambda: dynsys.maps.logistic(3.7), lambda rng, n: rng.uniform(0, 1, (n, 1))),
    "henon": (lambda: dynsys.maps.henon(1.4, 0.3), lambda rng, n: rng.uniform(-1, 1, (n, 2))),
    "linear": (lambda: dynsys.maps.linear([[0.5, 1.0], [-0.3, 1.2]]),
               lambda rng, n: rng.normal(size=(n, 2))),
    "user_pointwise": (_user_map_pointwise, lambda rng, n: rng.normal(size=(n, 2))),
    "user_batched": (_user_map_batched, lambda rng, n: rng.normal(size=(n, 2))),
    "newton_cubic": (lambda: dynsys.maps.newton_cubic(), lambda rng, n: rng.normal(size=(n, 2))),
    "gd_qr2d": (lambda: dynsys.gd_map(dynsys.QuadraticRegression2D(0.1, 0.3), 0.7),
                lambda rng, n: rng.normal(size=(n, 2)) * [1.5, 3.0]),
    "gd_scalar3": (lambda: dynsys.gd_map(dynsys.ScalarNetwork(3, 1.5, 2.0), 0.05),
                   lambda rng, n: rng.normal(size=(n, 3))),
    "gd_second_order": (lambda: dynsys.gd_map(dynsys.SecondOrderRegression.random(
        4, 3, sigma_z=1.0, sigma_J=1.0, seed=1), 0.01), lambda rng, n: rng.normal(size=(n, 3))),
}


def _user_loss_model():
    return dynsys.Model.from_loss(lambda t: np.cos(t[0]) * t[1] ** 2 + 0.25 * t[0] ** 4, dim=2,
                                  name="user_loss")


MODEL_FACTORIES = {
    "qr2d": (lambda: dynsys.QuadraticRegression2D(0.1, 0.5),
             lambda rng, n: rng.normal(size=(n, 2)) * [1.5, 3.0]),
    "qr2d_eps0": (lambda: dynsys.QuadraticRegression2D(0.0, 0.0),
                  lambda rng, n: rng.normal(size=(n, 2))),
    "second_order": (lambda: dynsys.SecondOrderRegression.random(5, 4, sigma_z=1.0, sigma_J=0.5,
                                                                 seed=3),
                     lambda rng, n: rng.normal(size=(n, 4))),
    "scalar2": (lambda: dynsys.ScalarNetwork(2, 1.0, 1.0), lambda rng, n: rng.normal(size=(n, 2))),
    "scalar4": (lambda: dynsys.ScalarNetwork(4, -0.5, 3.0), lambda rng, n: rng.normal(size=(n, 4))),
    "user_loss": (_user_loss_model, lambda rng, n: rng.normal(size=(n, 2))),
    "user_loss_grad": (lambda: dynsys.Model.from_loss(
        lambda t: 0.5 * (t[..., 0] * t[..., 1] - 1) ** 2,
        grad=lambda t: np.stack([(t[..., 0] * t[..., 1] - 1) * t[..., 1],
                                 (t[..., 0] * t[..., 1] - 1) * t[..., 0]], axis=-1),
        dim=2, name="user_loss_grad"), lambda rng, n: rng.normal(size=(n, 2))),
}


@pytest.fixture(params=sorted(MAP_FACTORIES))
def any_map(request):
    """(name, map, sampler) for every registered map."""
    make, sample = MAP_FACTORIES[request.param]
    return request.param, make(), sample


@pytest.fixture(params=sorted(MODEL_FACTORIES))
def any_model(request):
    """(name, model, sampler) for every registered model."""
    make, sample = MODEL_FACTORIES[request.param]
    return request.param, make(), sample


@pytest.fixture
def rng():
    return np.random.default_rng(20231123)
