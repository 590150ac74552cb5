"""Every kind of Dataset the library writes passes the CF checker (IOOS compliance-checker,
CF 1.11 suite, run offline), opens in plain xarray and cf-xarray as CF says it should, and
round-trips losslessly through netCDF and Zarr (also lazily)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import xarray as xr

import dynsys

from _cf_datasets import MAKERS, make

pytest.importorskip("compliance_checker")
cf_units = pytest.importorskip("cf_units")
cf_xarray = pytest.importorskip("cf_xarray")


def _cf_messages(path, tmp_path) -> tuple[list[str], bool]:
    from compliance_checker.runner import CheckSuite, ComplianceChecker

    with warnings.catch_warnings():   # the checker's own (unused) IOOS SOS plugins warn
        warnings.simplefilter("ignore", DeprecationWarning)
        CheckSuite.load_all_available_checkers()
    report = tmp_path / "report.json"
    _, errors = ComplianceChecker.run_checker(str(path), ["cf:1.11"], 0, "normal",
                                              output_filename=str(report), output_format="json")
    result = json.loads(report.read_text())["cf:1.11"]
    messages = [msg for level in ("high_priorities", "medium_priorities", "low_priorities")
                for check in result[level] if check["value"][0] < check["value"][1]
                for msg in check["msgs"]]
    return messages, errors


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_netcdf_passes_the_cf_checker(name, tmp_path):
    path = dynsys.save(make(name), tmp_path / f"{name}.nc")
    messages, errors = _cf_messages(path, tmp_path)
    assert messages == [] and not errors, messages


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_plain_xarray_sees_long_names_valid_units_and_no_fill_on_coordinates(name, tmp_path):
    path = dynsys.save(make(name), tmp_path / f"{name}.nc")
    with xr.open_dataset(path, engine="h5netcdf", decode_cf=False) as raw:
        assert raw.attrs["Conventions"] == dynsys._io.CONVENTIONS
        for key, var in raw.variables.items():
            assert var.attrs.get("long_name"), f"{key} has no long_name"
            if "units" in var.attrs:
                assert cf_units.Unit(var.attrs["units"]).is_udunits(), var.attrs["units"]
            assert "_FillValue" not in var.attrs, f"{key} has a _FillValue"
            assert var.dtype.kind not in "US" or key not in raw.dims, \
                f"string coordinate variable {key} (CF wants an auxiliary label coordinate)"


@pytest.mark.parametrize("name", sorted(MAKERS))
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_round_trip_identical_eager_and_lazy(name, suffix, tmp_path):
    ds = make(name)
    path = dynsys.save(ds, tmp_path / f"{name}{suffix}")
    assert dynsys.load(path).identical(ds)
    lazy = dynsys.load(path, lazy=True)
    variables = lazy.variables if isinstance(lazy, xr.Dataset) else {"x": lazy.variable}
    assert any(type(v.data).__module__.startswith("dask") for v in variables.values())
    assert lazy.compute().identical(ds)


@pytest.mark.parametrize("name", ["basins", "continuation", "trajectory_model"])
def test_zarr_is_format_2_consolidated_and_opens_in_plain_xarray_without_warnings(name,
                                                                                   tmp_path):
    path = dynsys.save(make(name), tmp_path / f"{name}.zarr")
    assert (path / ".zmetadata").exists() and (path / ".zgroup").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = xr.open_zarr(path)
    assert ds.attrs["Conventions"] == dynsys._io.CONVENTIONS


def test_integer_sentinels_are_missing_for_cf_readers(tmp_path):
    ds = make("basins")
    assert (ds.attractor == -1).any() and (ds.period == 0).any()
    path = dynsys.save(ds, tmp_path / "basins.nc")
    with xr.open_dataset(path, engine="h5netcdf") as plain:     # CF decoding: sentinel -> NaN
        np.testing.assert_array_equal(np.isnan(plain.attractor.values),
                                      (ds.attractor == -1).values)
        np.testing.assert_array_equal(np.isnan(plain.period.values), (ds.period == 0).values)
    assert dynsys.load(path).attractor.dtype == ds.attractor.dtype   # dynsys keeps integers


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_cf_xarray_decodes_every_flag_variable(name, tmp_path):
    ds = make(name)
    ds = ds.to_dataset(name="x") if isinstance(ds, xr.DataArray) else ds
    flagged = [k for k, v in ds.variables.items() if "flag_meanings" in v.attrs]
    for key in flagged:
        var = ds[key]
        meanings = var.attrs["flag_meanings"].split()
        values = np.atleast_1d(var.attrs["flag_values"])
        for meaning, value in zip(meanings, values, strict=True):
            assert (var.cf == meaning).equals(var == value), (key, meaning)


def test_string_labels_round_trip_as_auxiliary_coordinates(tmp_path):
    ds = make("continuation")
    assert ds.point.dtype.kind == "U"
    path = dynsys.save(ds, tmp_path / "c.nc")
    with xr.open_dataset(path, engine="h5netcdf") as plain:
        assert "point" not in plain.coords and "point_label" in plain.coords
        assert list(plain.point_label.values) == list(ds.point.values)
        assert plain.point_label.dims == ("point",)
    assert dynsys.load(path).identical(ds)
