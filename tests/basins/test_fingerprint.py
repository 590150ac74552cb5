"""A store belongs to one system and one set of arguments: the fingerprint covers the system's
data (arrays, the code, constants, defaults, closure values and globals of user functions), and
a store opened with other arguments is refused with a message that says what differs."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.basins._fingerprint import digest

GRID = dict(grid=((-1.0, 1.0, 6), (-1.0, 1.0, 5)), steps=60)


def _sor(z0=-1.0, j=0.0, q=-0.1):
    return dynsys.SecondOrderRegression([z0], [[0.0, j]], [np.diag([1.0, q])])


def _refused(tmp_path, first, second, values=(0.3,), **kw):
    path = tmp_path / "s.zarr"
    dynsys.basins(first, list(values), store=path, **{**GRID, **kw})
    with pytest.raises(ValueError, match="different arguments") as info:
        dynsys.basins(second, list(values), store=path, **{**GRID, **kw})
    return str(info.value)


@pytest.mark.parametrize("change, part", [({"z0": -2.0}, "system.z0"),
                                          ({"j": 0.5}, "system.J0"),
                                          ({"q": -0.2}, "system.Q")])
def test_second_order_models_with_other_data_do_not_share_a_store(tmp_path, change, part):
    message = _refused(tmp_path, _sor(), _sor(**change))
    assert part in message
    assert message.count("stored") == 1            # only that part differs


def test_from_loss_lambdas_differing_in_a_constant_do_not_share_a_store(tmp_path):
    a = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] ** 2 + 2.0 * t[1] ** 2), dim=2)
    b = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] ** 2 + 3.0 * t[1] ** 2), dim=2)
    assert "system.loss" in _refused(tmp_path, a, b)


def _henon_like(a, b=0.3):
    def step(x, c):
        return np.stack([1.0 - c * x[..., 0] ** 2 + x[..., 1], b * x[..., 0]], -1)
    return dynsys.Map(step, dim=2, params={"c": a})


def test_map_closures_defaults_and_globals_are_part_of_the_system():
    # closure values (b), the same code: different digests; the same closure: equal
    assert digest(_henon_like(1.0, 0.3).step_function) != digest(
        _henon_like(1.0, 0.2).step_function)
    assert digest(_henon_like(1.0, 0.3).step_function) == digest(
        _henon_like(1.0, 0.3).step_function)
    # default values and constants
    assert digest(lambda x, k=2.0: k * x) != digest(lambda x, k=3.0: k * x)
    assert digest(lambda x: 2.0 * x) != digest(lambda x: 2.5 * x)
    # globals the function reads
    namespace = {"np": np}
    exec("G = 1.0\ndef f(x):\n    return G * x", namespace)
    first = digest(namespace["f"])
    namespace["G"] = 2.0
    assert digest(namespace["f"]) != first
    # arrays by content
    assert digest(np.arange(3.0)) != digest(np.arange(3.0) + 1e-15)
    assert digest(np.zeros(3)) != digest(np.zeros(3, dtype=np.float32))


def test_map_lambdas_differing_in_a_closed_over_value_do_not_share_a_store(tmp_path):
    message = _refused(tmp_path, _henon_like(1.0, 0.3), _henon_like(1.0, 0.2), param="c")
    assert "system.step_fn" in message


def test_a_store_resumes_for_an_equal_system_and_after_calling_convention_detection(tmp_path):
    path = tmp_path / "s.zarr"
    model = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] ** 2 + 2.0 * t[1] ** 2), dim=2)
    first = dynsys.basins(model, [0.3], store=path, **GRID).load()
    # the same object after use (its loss is now known to be vectorised), and a fresh equal one
    again = dynsys.basins(model, [0.3], store=path, **GRID).load()
    twin = dynsys.Model.from_loss(lambda t: 0.5 * (t[0] ** 2 + 2.0 * t[1] ** 2), dim=2)
    assert again.identical(first)
    assert dynsys.basins(twin, [0.3], store=path, **GRID).load().identical(first)


def test_the_refusal_says_which_arguments_differ(tmp_path):
    m = dynsys.QuadraticRegression2D(0.1)
    path = tmp_path / "s.zarr"
    dynsys.basins(m, [0.3], store=path, **GRID)
    with pytest.raises(ValueError, match=r"rule\.steps: stored 60, given 61"):
        dynsys.basins(m, [0.3], store=path, **{**GRID, "steps": 61})
    with pytest.raises(ValueError, match=r"values: stored 1 values from 0\.3"):
        dynsys.basins(m, [0.3, 0.4], store=path, **GRID)
    with pytest.raises(ValueError, match=r"system\.eps"):
        dynsys.basins(dynsys.QuadraticRegression2D(0.2), [0.3], store=path, **GRID)
    with pytest.raises(ValueError, match=r"grid: stored"):
        dynsys.basins(m, [0.3], store=path, **{**GRID, "grid": ((-1.0, 1.0, 6),
                                                                 (-1.0, 1.0, 6))})
