"""One outcome table: every Dataset the library returns labels orbits with the same codes."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys import Outcome

QR = dynsys.QuadraticRegression2D(0.1)
LOGISTIC = dynsys.maps.logistic(3.2)

PRODUCERS = {
    "basins[model]": lambda: dynsys.basins(QR, [0.5], grid=((-2, 2, 6), (-4, 4, 6)),
                                           steps=200),
    "basins[map]": lambda: dynsys.basins(LOGISTIC, [3.2], grid=((0.1, 0.9, 5),), steps=200),
    "trajectory": lambda: dynsys.trajectory(QR, [0.5, 1.0], lr=0.5, steps=5),
    "trajectory[diverged]": lambda: dynsys.trajectory(QR, [5.0, 1.0], lr=1.5, steps=50),
    "bifurcation_diagram": lambda: dynsys.bifurcation_diagram(LOGISTIC, [3.2, 4.5], x0=[0.3],
                                                              steps=50, keep=3),
    "bifurcation_diagram[model]": lambda: dynsys.bifurcation_diagram(QR, [0.5, 3.0],
                                                                     x0=[1.0, 2.0],
                                                                     steps=50, keep=3),
    "limit_sharpness": lambda: dynsys.limit_sharpness(QR, [[0.3, 5.0], [9.0, 1.0]], lr=1.0,
                                                      steps=10_000),
    "limit_offset": lambda: dynsys.limit_offset([0.1], [0.0], lr_gfs=[3.0], steps=100_000),
}


def _outcome_variables(ds):
    return [v for v in ds.variables.values()
            if "flag_meanings" in v.attrs and "outcome" in v.attrs.get("long_name", "")]


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_outcomes_use_the_one_table(name):
    ds = PRODUCERS[name]()
    variables = _outcome_variables(ds)
    assert variables, f"{name}: no outcome variable"
    reference = Outcome.cf_attrs("")
    for var in variables:
        assert var.dtype == np.int8
        np.testing.assert_array_equal(var.attrs["flag_values"], reference["flag_values"])
        assert var.attrs["flag_meanings"] == reference["flag_meanings"]
        assert Outcome.decode(var) == Outcome.meanings()
        assert set(np.unique(var.values)) <= set(Outcome.meanings())


def test_the_same_meaning_has_the_same_code():
    # a diverged orbit reads the same in a basin map, a trajectory and an orbit diagram
    lr, start = 1.9, [3.0, 1.0]
    b = dynsys.basins(QR, [lr], grid=((3.0, 3.1, 2), (1.0, 1.1, 2)), steps=500)
    t = dynsys.trajectory(QR, start, lr=lr, steps=500)
    d = dynsys.bifurcation_diagram(QR, [lr], x0=start, steps=500, keep=2)
    s = dynsys.limit_sharpness(QR, [start], lr=lr, steps=500)
    codes = {int(b.outcome.values[0, 0, 0]), int(t.outcome), int(d.outcome.values[0]),
             int(s.outcome.values[0])}
    assert codes == {Outcome.DIVERGED}


def test_lyapunov_reports_an_outcome_name():
    lam = dynsys.lyapunov_spectrum(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1], steps=1000)
    assert lam.attrs["outcome"] == "bounded" and lam.attrs["outcome_code"] == Outcome.BOUNDED


def test_decode_refuses_another_table():
    ds = dynsys.basins(QR, [0.5], grid=((-2, 2, 3), (-4, 4, 3)), steps=50)
    with pytest.raises(ValueError, match="not those of Outcome"):
        Outcome.decode(ds.attractor_kind)


def _basins_result_and_its_files(tmp_path):
    ds = dynsys.basins(QR, [0.5, 1.9], grid=((-2, 3, 6), (-4, 4, 6)), steps=300)
    path = dynsys.save(ds, tmp_path / "basins.nc")
    xr = pytest.importorskip("xarray")
    with xr.open_dataset(path, engine="h5netcdf") as plain:     # a plain CF reader
        plain = plain.load()
    return {"in memory": ds, "dynsys.load": dynsys.load(path), "xarray.open_dataset": plain}


def test_cf_xarray_reads_the_outcome_flags_as_decode_does(tmp_path):
    """cf-xarray's ``var.cf == meaning`` and ``var.cf.flags`` give the masks of
    ``Outcome.decode`` on a basins result and on its netCDF file (read two ways)."""
    pytest.importorskip("cf_xarray")
    for where, ds in _basins_result_and_its_files(tmp_path).items():
        var = ds.outcome
        assert var.cf.is_flag_variable, where
        flags = var.cf.flags
        assert sorted(flags.data_vars) == sorted(Outcome.meanings().values()), where
        for code, meaning in Outcome.decode(var).items():
            mask = (var == code).values
            np.testing.assert_array_equal((var.cf == meaning).values, mask, err_msg=where)
            np.testing.assert_array_equal(flags[meaning].values, mask, err_msg=where)
        # the result is not trivial: both outcomes at the two step sizes occur
        assert (var.cf == "converged").any() and (var.cf == "diverged").any(), where


def test_cf_xarray_reads_any_table_so_decode_keeps_its_own_check(tmp_path):
    """cf-xarray decodes whatever table a variable carries; ``Outcome.decode`` refuses one that
    is not the outcome table (why dynsys keeps its own decode, see FlagTable.decode)."""
    pytest.importorskip("cf_xarray")
    ds = _basins_result_and_its_files(tmp_path)["dynsys.load"]
    kinds = ds.attractor_kind
    assert kinds.cf.is_flag_variable and set(kinds.cf.flags.data_vars) \
        == set(kinds.attrs["flag_meanings"].split())
    with pytest.raises(ValueError, match="not those of Outcome"):
        Outcome.decode(kinds)


def test_cf_attrs_are_a_new_copy_every_time():
    first = Outcome.cf_attrs("a")
    first["flag_values"][0] = 99
    first["flag_meanings"] += " extra"
    again = Outcome.cf_attrs("b")
    assert again["flag_values"].tolist() == sorted(int(m) for m in Outcome)
    assert again["flag_meanings"].split() == [m.name.lower() for m in sorted(Outcome)]
    assert again["long_name"] == "b"
    meanings = Outcome.meanings()
    meanings[0] = "changed"
    assert Outcome.meanings()[0] == "converged"
