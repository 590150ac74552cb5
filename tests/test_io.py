"""save/load: lossless round trips for netCDF and Zarr."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dynsys



def _rich_dataset(rng):
    return xr.Dataset(
        {
            "multipliers": (("point", "k"), rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2)),
                            {"long_name": "multipliers"}),
            "stable": (("point",), np.array([True, False, True])),
            "outcome": (("point",), np.array([0, 2, 1], dtype=np.int8),
                        dynsys.Outcome.cf_attrs("outcome")),
            "x": (("point", "component"), rng.normal(size=(3, 2)), {"units": "1"}),
        },
        coords={"point": np.arange(3), "component": ["theta_1", "theta_2"]},
        attrs={"a": 1.5, "n": 3, "s": "text", "v": np.array([1.0, 2.0])},
    )


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_identical(tmp_path, rng, suffix):
    ds = _rich_dataset(rng)
    back = dynsys.load(dynsys.save(ds, tmp_path / f"r{suffix}"))
    xr.testing.assert_identical(back, ds)
    assert back.multipliers.dtype == np.complex128
    assert back.stable.dtype == bool
    assert back.outcome.attrs["flag_values"].dtype == np.int8


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_trajectory_and_dataarray_round_trip(tmp_path, suffix):
    ds = dynsys.trajectory(dynsys.QuadraticRegression2D(0.1, 0.3), [1.0, 2.0], lr=0.5, steps=50)
    xr.testing.assert_identical(dynsys.load(dynsys.save(ds, tmp_path / f"t{suffix}")), ds)
    da = xr.DataArray([0.42, -1.6], dims="exponent", name="lyapunov",
                      attrs={"stderr": np.array([1e-3, 2e-3])})
    back = dynsys.load(dynsys.save(da, tmp_path / f"d{suffix}"))
    assert isinstance(back, xr.DataArray)
    xr.testing.assert_identical(back, da)


def test_bad_paths_and_objects(tmp_path):
    ds = xr.Dataset({"a": ("x", [1.0])})
    with pytest.raises(ValueError, match="path"):
        dynsys.save(ds, tmp_path / "x.csv")
    with pytest.raises(TypeError, match="obj"):
        dynsys.save({"a": 1}, tmp_path / "x.nc")
    with pytest.raises(TypeError, match="attribute"):
        dynsys.save(ds.assign_attrs(bad={"nested": 1}), tmp_path / "x.nc")
    with pytest.raises(FileNotFoundError):
        dynsys.load(tmp_path / "missing.nc")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1,
                       max_size=20),
       suffix=st.sampled_from([".nc", ".zarr"]))
def test_float_round_trip_is_bitwise(tmp_path, values, suffix):
    ds = xr.Dataset({"v": ("i", np.asarray(values))})
    back = dynsys.load(dynsys.save(ds, tmp_path / f"h{suffix}", overwrite=True))
    finite = ~np.isnan(ds.v.values)            # NaN payloads are not data: any NaN is NaN
    assert np.array_equal(np.isnan(back.v.values), ~finite)
    assert np.array_equal(back.v.values[finite].view(np.int64), ds.v.values[finite].view(np.int64))


def test_save_never_deletes_a_directory_that_is_not_a_zarr_store(tmp_path):
    ds = dynsys.trajectory(dynsys.maps.logistic(3.2), [0.3], steps=4)
    victim = tmp_path / "x.zarr"
    victim.mkdir()
    (victim / "notes.txt").write_text("mine")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match="not a Zarr store"):
            dynsys.save(ds, victim, overwrite=overwrite)
    assert (victim / "notes.txt").read_text() == "mine"
    store = tmp_path / "y.zarr"
    dynsys.save(ds, store)
    with pytest.raises(ValueError, match="overwrite=True"):
        dynsys.save(ds, store)
    short = ds.assign_attrs(replaced=1)
    dynsys.save(short, store, overwrite=True)
    xr.testing.assert_identical(dynsys.load(store), short)
    with pytest.raises(TypeError, match="overwrite"):
        dynsys.save(ds, store, overwrite="yes")


def test_load_keeps_flag_values_that_do_not_fit_int8_and_tolerates_odd_attrs(tmp_path):
    ds = xr.Dataset({"kind": ("n", np.array([0, 200, 300], np.int16),
                              {"flag_values": np.array([0, 200, 300], np.int16),
                               "flag_meanings": "a b c"})})
    for suffix in (".nc", ".zarr"):
        path = dynsys.save(ds, tmp_path / f"f{suffix}")
        back = dynsys.load(path)
        assert back.kind.attrs["flag_values"].tolist() == [0, 200, 300]
    # a file naming an array attribute it does not have, or a DataArray without its name
    odd = ds.assign_attrs(dynsys_array_attrs="missing")
    odd.to_netcdf(tmp_path / "odd.nc", engine="h5netcdf")
    assert "missing" not in dynsys.load(tmp_path / "odd.nc").attrs
    ds.assign_attrs(dynsys_object="DataArray").to_netcdf(tmp_path / "da.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match="DataArray"):
        dynsys.load(tmp_path / "da.nc")
