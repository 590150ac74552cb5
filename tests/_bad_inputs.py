"""Hypothesis strategies of bad arguments, and the machinery of the input-validation tests.

An argument *slot* is a function, a valid set of keyword arguments and the name of one of them
with its kind ("real", "positive", "count", "point", ...). For every slot the property tests
draw bad values of that kind, call the function with the argument replaced, and require a
``ValueError``/``TypeError`` whose message names the argument. Shared by
``tests/test_input_validation*.py``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Settings of every property test here: reproducible, no deadline, few examples (the bad
#: values are rejected before any work is done, so each example is cheap).
FAST = settings(derandomize=True, deadline=None, max_examples=12, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VALID = settings(derandomize=True, deadline=None, max_examples=8, database=None,
                 suppress_health_check=[HealthCheck.too_slow])

NONFINITE = st.sampled_from([np.nan, np.inf, -np.inf, float("nan"), np.float64(np.inf)])


class _Opaque:
    """An object that is no number, array or system."""

    def __repr__(self) -> str:
        return "<opaque>"


def not_a_number():
    """Values that are not a real scalar: strings, None, bools, complex, containers, objects."""
    return st.one_of(
        st.text(max_size=4), st.none(), st.booleans(), st.just(np.bool_(True)),
        st.complex_numbers(min_magnitude=1e-3, max_magnitude=1e3, allow_nan=False,
                           allow_infinity=False).filter(lambda z: z.imag != 0),
        st.lists(st.floats(-5, 5), min_size=1, max_size=3),
        st.just(np.array([1.0, 2.0])), st.just(_Opaque()), st.just({"value": 1.0}),
    )


def bad_real():
    return st.one_of(not_a_number(), NONFINITE)


def bad_positive():
    return st.one_of(bad_real(), st.floats(max_value=0.0, min_value=-1e6),
                     st.integers(max_value=0, min_value=-10**6), st.just(-0.0))


def bad_nonnegative():
    return st.one_of(bad_real(), st.floats(max_value=-1e-300, min_value=-1e6),
                     st.integers(max_value=-1, min_value=-10**6))


def bad_count(minimum: int = 1):
    """Not an integer >= ``minimum``: too small, non-integral, bool, non-finite, not a number."""
    return st.one_of(
        st.integers(max_value=minimum - 1, min_value=minimum - 10**6),
        st.integers(max_value=minimum - 1, min_value=minimum - 50).map(float),
        st.floats(allow_nan=True, allow_infinity=True).filter(
            lambda v: not (np.isfinite(v) and float(v).is_integer())),
        st.booleans(), st.text(max_size=3), st.none(),
        st.complex_numbers(min_magnitude=1.0, max_magnitude=10.0).filter(lambda z: z.imag != 0),
        st.just([3]), st.just(_Opaque()),
    )


def bad_name(allowed):
    """Unknown names: other strings, and non-strings."""
    allowed = set(allowed)
    return st.one_of(st.text(max_size=6).filter(lambda s: s not in allowed),
                     st.sampled_from([None, 3, 1.5, ("lr",), _Opaque()]).filter(
                         lambda v: v not in allowed))


def bad_point(dim: int, *, batch: bool = False):
    """Not one finite point of shape ``(dim,)`` (with ``batch``: not ``(..., dim)``)."""
    good = st.lists(st.floats(-3, 3), min_size=dim, max_size=dim)
    options = [
        # wrong length (empty included) and scalars
        st.lists(st.floats(-3, 3), min_size=0, max_size=dim + 2).filter(lambda v: len(v) != dim),
        st.floats(-3, 3),
        # strings, objects, complex, booleans, ragged, None
        st.text(min_size=0, max_size=4), st.none(),
        st.lists(st.text(max_size=2), min_size=dim, max_size=dim),
        good.map(lambda v: v[:-1] + [None]), good.map(lambda v: v[:-1] + [_Opaque()]),
        good.map(lambda v: [complex(a, 1.0) for a in v]),
        st.lists(st.booleans(), min_size=dim, max_size=dim),
        st.just(np.ones(dim, dtype=bool)),
        good.map(lambda v: [v, v[:-1]] if dim > 1 else [v, []]),
        # NaN or inf in an otherwise fine point
        st.tuples(good, st.integers(0, dim - 1), NONFINITE).map(
            lambda t: [x if i != t[1] else t[2] for i, x in enumerate(t[0])]),
    ]
    if not batch:
        options.append(good.map(lambda v: [v, v]))           # two points where one is asked
    return st.one_of(*options)


def bad_theta(dim: int):
    """Not an array of shape ``(..., dim)`` of numbers (NaN allowed: maps and losses evaluate
    anywhere, divergent orbits included)."""
    good = st.lists(st.floats(-3, 3), min_size=dim, max_size=dim)
    return st.one_of(
        st.lists(st.floats(-3, 3), min_size=0, max_size=dim + 2).filter(lambda v: len(v) != dim),
        st.floats(-3, 3), st.text(max_size=4), st.none(),
        st.lists(st.text(max_size=2), min_size=dim, max_size=dim),
        good.map(lambda v: v[:-1] + [_Opaque()]),
        good.map(lambda v: [complex(a, 1.0) for a in v]),
        st.lists(st.booleans(), min_size=dim, max_size=dim),
        st.just(np.zeros((3, dim + 1))),
    )


def bad_numbers(shape: tuple[int, ...]):
    """An array of the right ``shape`` whose entries are not finite real numbers."""
    n = int(np.prod(shape))
    base = np.linspace(0.5, 1.5, n).reshape(shape)

    def with_entry(value):
        out = base.astype(object)
        out.flat[n // 2] = value
        return out.tolist()

    return st.one_of(
        st.text(max_size=4), st.none(), st.just(_Opaque()),
        st.sampled_from(["a", None, _Opaque(), 1 + 2j]).map(with_entry),
        NONFINITE.map(with_entry),
        st.just(base.astype(complex) + 1j), st.just(np.ones(shape, dtype=bool)),
        st.just(base.astype(str)),
    )


def bad_range(*, positive: bool):
    """Not a non-empty finite 1-D array of values (> 0 with ``positive``) or a
    ``(start, stop, num)`` triple with ``start < stop`` and ``num >= 1``."""
    pair = st.tuples(st.floats(0.1, 5), st.floats(0.1, 5))
    options = [
        st.just([]), st.just(np.array([])), st.just(()),
        # reversed or empty (start, stop, num) ranges
        st.tuples(pair, st.integers(2, 50)).map(
            lambda t: (max(t[0]), min(t[0]), t[1])),
        st.tuples(st.floats(0.1, 5), st.floats(0.1, 5), st.integers(-5, 0)).map(
            lambda t: (min(t[0], t[1]), max(t[0], t[1]) + 1.0, t[2])),
        # NaN or inf among the values, as an array or a triple
        st.tuples(st.lists(st.floats(0.1, 5), min_size=0, max_size=3), NONFINITE).map(
            lambda t: t[0] + [t[1]]),
        st.tuples(NONFINITE, st.floats(0.1, 5)).map(lambda t: (t[0], t[1], 3)),
        # not numbers, not one-dimensional
        st.text(max_size=6), st.none(), st.just("0.5:2:31"), st.just(["a", "b"]),
        st.just([0.5, None]), st.just([[0.5, 1.0], [1.5, 2.0]]), st.just([1 + 1j, 2.0]),
        st.just(_Opaque()), st.just([[1.0, 2.0], [3.0]]),
    ]
    if positive:
        options.append(st.tuples(st.lists(st.floats(0.1, 5), max_size=3),
                                 st.floats(-5, 0)).map(lambda t: t[0] + [t[1]]))
    return st.one_of(*options)


def bad_system():
    """Objects that are neither a dynsys Map nor a Model."""
    return st.one_of(st.text(max_size=8), st.integers(), st.none(),
                     st.sampled_from(["logistic", "QuadraticRegression2D"]),
                     st.just(np.zeros(2)), st.just({"r": 3.5}), st.just(lambda x: x),
                     st.just(xr.Dataset()), st.just(_Opaque()))


STRATEGIES: dict[str, Callable] = {
    "real": lambda arg: bad_real(),
    "positive": lambda arg: bad_positive(),
    "nonnegative": lambda arg: bad_nonnegative(),
    "count": lambda minimum: bad_count(1 if minimum is None else minimum),
    "name": lambda allowed: bad_name(allowed),
    "point": lambda dim: bad_point(dim),
    "points": lambda dim: bad_point(dim, batch=True),
    "theta": lambda dim: bad_theta(dim),
    "range": lambda arg: bad_range(positive=False),
    "prange": lambda arg: bad_range(positive=True),
    "system": lambda arg: bad_system(),
    "function": lambda arg: bad_system().filter(lambda v: not callable(v)),
    "numbers": lambda shape: bad_numbers(shape),
}


@dataclasses.dataclass
class Slot:
    """One argument of one entry point: ``func(**{**valid, arg: bad})`` must be rejected."""

    label: str
    func: Callable
    valid: dict
    arg: str
    kind: str
    kind_arg: object = None
    names: str | None = None       # the regex the message must match (default: ``arg``)
    optional: bool = False         # None is a valid value of the argument

    def strategy(self):
        out = STRATEGIES[self.kind](self.kind_arg)
        return out.filter(lambda v: v is not None) if self.optional else out

    @property
    def pattern(self) -> str:
        return self.names if self.names is not None else re.escape(self.arg)

    def call(self, value):
        return self.func(**{**self.valid, self.arg: value})

    def __str__(self) -> str:
        return f"{self.label}:{self.arg}"


def assert_rejected(slot: Slot, value) -> None:
    """Require ``slot.call(value)`` to raise ValueError/TypeError naming the argument."""
    with pytest.raises((ValueError, TypeError), match=slot.pattern) as info:
        slot.call(value)
    # a numba typing error is a TypeError too, but it names no argument of ours
    assert "numba" not in type(info.value).__module__, info.value


def slot_params(slots):
    return [pytest.param(s, id=str(s)) for s in slots]
