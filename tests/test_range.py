"""Explicit swept ranges (issue 15): ``dynsys.linspace``/``dynsys.geomspace`` everywhere a sweep
is accepted, the deprecated ``(start, stop, num)`` tuple still working with a warning, and a
clear error where a tuple is ambiguous."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys
from dynsys import _validate as check
from dynsys.cli._main import main as cli_main

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(finite, finite, st.integers(1, 300))
def test_linspace_is_numpy_linspace(start, stop, num):
    if num > 1 and start == stop:
        with pytest.raises(ValueError, match="start and stop must differ"):
            dynsys.linspace(start, stop, num)
        return
    r = dynsys.linspace(start, stop, num)
    out = check.value_range("values", r)
    np.testing.assert_array_equal(out, np.linspace(start, stop, num))
    assert len(r) == num and out[0] == start and (num == 1 or out[-1] == stop)
    assert eval(repr(r), {"dynsys": dynsys}) == r


@settings(max_examples=200, deadline=None)
@given(st.floats(1e-6, 1e6), st.floats(1e-6, 1e6), st.integers(2, 100))
def test_geomspace_is_log_spaced_with_exact_ends(start, stop, num):
    if start == stop:
        return
    out = np.asarray(dynsys.geomspace(start, stop, num))
    assert out[0] == start and out[-1] == stop and out.size == num
    steps = np.diff(np.log(out))
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(finite, finite, st.integers(1, 50))
def test_old_tuple_is_a_range_with_a_warning_or_an_error(start, stop, num):
    """The property: a (float, float, int) tuple either means linspace (with a
    DeprecationWarning) or raises a ValueError asking for an explicit form; never silently
    means something else."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = check.value_range("lr_range", (start, stop, num))
        except ValueError as exc:
            assert num > 1 and not stop > start
            assert "dynsys.linspace" in str(exc) and "lr_range" in str(exc)
            return
    np.testing.assert_array_equal(out, np.linspace(start, stop, num))
    assert [w.category for w in caught] == [DeprecationWarning]
    assert f"dynsys.linspace({start!r}, {stop!r}, {num!r})" in str(caught[0].message)


@settings(max_examples=100, deadline=None)
@given(st.lists(finite, min_size=1, max_size=6))
def test_lists_and_float_tuples_are_the_values(values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(check.value_range("values", values), values)
        np.testing.assert_array_equal(check.value_range("values", tuple(float(v) for v in values)),
                                      values)


@pytest.mark.parametrize("value", [(1, 3, 5), (0, 2, 3), (np.int64(1), 2, 4)])
def test_three_integers_are_ambiguous(value):
    with pytest.raises(ValueError, match=r"lr_range=.*is ambiguous.*dynsys\.linspace"):
        check.value_range("lr_range", value)
    with pytest.raises(ValueError, match="ambiguous"):
        dynsys.basins(dynsys.maps.logistic(), value, grid=((0.1, 0.9, 3),), steps=10)


def test_deprecated_warning_points_at_the_caller():
    with pytest.warns(DeprecationWarning, match=r"dynsys\.linspace\(3\.2, 3\.3, 2\)") as rec:
        dynsys.basins(dynsys.maps.logistic(), (3.2, 3.3, 2), grid=((0.1, 0.9, 3),), steps=50)
    assert rec[0].filename == __file__


def test_every_sweep_accepts_an_explicit_range():
    logistic = dynsys.maps.logistic()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        ds = dynsys.basins(logistic, dynsys.linspace(3.2, 3.3, 2), grid=((0.1, 0.9, 3),),
                           steps=50)
        assert ds.r.values.tolist() == [3.2, 3.3]
        d = dynsys.bifurcation_diagram(logistic, values=dynsys.geomspace(2.5, 3.0, 3), x0=[0.3],
                                       steps=50, keep=2)
        np.testing.assert_allclose(d.r.values, np.geomspace(2.5, 3.0, 3))
        res = dynsys.continuation(logistic.with_params(r=2.8), [0.6428], param="r",
                                  param_range=dynsys.linspace(2.5, 3.3, 9))
        assert res.param_range == (2.5, 3.3) and res["PD1"] is not None
        r = dynsys.eos_region(dynsys.QuadraticRegression2D(0.05),
                              lr_range=dynsys.linspace(0.9, 1.1, 2),
                              grid=((0.05, 1.0, 6), (4.0, 12.0, 6)), n_check=5, refine=0,
                              steps=2000, prove=False)
        np.testing.assert_allclose(r.dataset.lr.values, [0.9, 1.1])


def test_continuation_refuses_a_sweep_triple():
    with pytest.raises(ValueError, match="param_range is an interval"):
        dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
                            param_range=(2.5, 3.3, 9))


def test_eps_values_tuple_is_deprecated_geomspace():
    from dynsys.eos._critical import _offset_root

    with pytest.warns(DeprecationWarning, match=r"dynsys\.geomspace\(0\.05, 0\.2, 2\)"):
        ds = _offset_root(0.05, eps_values=(0.05, 0.2, 2), bisections=0, grid_n=8,
                          lr_range=dynsys.linspace(0.9, 1.1, 2), n_check=2, steps=500)
    np.testing.assert_allclose(np.sort(ds.eps.values), [0.05, 0.2])


@pytest.mark.parametrize("text, expected", [
    ("0.5:1:3", dynsys.linspace(0.5, 1.0, 3)),
    ("0.01:1:3:log", dynsys.geomspace(0.01, 1.0, 3)),
    ("0.5,1,3", [0.5, 1.0, 3.0]),
])
def test_cli_ranges_are_explicit(text, expected):
    from dynsys.cli._options import parse_range

    assert parse_range(text) == expected


def test_cli_bad_range_is_one_line(capsys):
    with pytest.raises(SystemExit) as exc:
        cli_main(["bifurcation", "--map", "logistic", "--sweep", "r", "--lr", "3:3:4"])
    assert exc.value.code == 2
    assert "start and stop must differ" in capsys.readouterr().err
