"""``import dynsys`` stays light (issue 16): the slow parts of scipy and the plotting, dask and
progress libraries are imported when first used, not at ``import dynsys``."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("scipy.stats", "scipy.optimize", "scipy.integrate", "scipy.spatial", "matplotlib",
         "dask", "distributed", "networkx")


def test_import_dynsys_does_not_import_the_heavy_modules():
    code = ("import sys, dynsys\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == []


def test_the_lazy_imports_still_work():
    # each formerly eager import is used by a public function: they run in a fresh process
    code = """
import numpy as np, dynsys
m = dynsys.maps.logistic(3.2)
ds = dynsys.periodic_orbits(m, 2, bounds=[(0.0, 1.0)])                       # scipy.stats.qmc
assert ds.sizes[next(iter(ds.sizes))] >= 1
res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r", bounds=(2.5, 3.2))
assert "PD1" in res.labels                                                # scipy.optimize
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "ok"


# -- issue 16: the lazily imported subpackages, and a first call without dask or compilation ----
LAZY = ("dynsys.bifurcation", "dynsys.eos", "dynsys.rigorous", "dynsys.plot", "dynsys.networks",
        "flint", "jax", "scipy.linalg", "scipy.sparse")


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout


def test_import_dynsys_leaves_the_lazy_subpackages_unimported():
    out = _run("import sys, dynsys\n"
               f"print(' '.join(m for m in {LAZY!r} if m in sys.modules))").split()
    assert out == []


def test_every_public_name_resolves_lazily():
    # each name of __all__, in a fresh process (the lazy ones through dynsys.__getattr__), and
    # ``from dynsys import *``; dir() lists them before they are imported
    out = _run("import dynsys\n"
               "listed = set(dir(dynsys)) >= set(dynsys.__all__)\n"
               "missing = [n for n in dynsys.__all__ if getattr(dynsys, n, None) is None]\n"
               "ns = {}\n"
               "exec('from dynsys import *', ns)\n"
               "print(listed, missing, sorted(set(dynsys.__all__) - set(ns)))\n"
               "import dynsys.eos, dynsys.bifurcation\n"
               "print(dynsys.eos_region is dynsys.eos.eos_region,"
               " dynsys.continuation is dynsys.bifurcation.continuation,"
               " dynsys.rigorous is __import__('dynsys.rigorous').rigorous)")
    assert out.split("\n")[:2] == ["True [] []", "True True True"]
    try:
        import dynsys
        dynsys.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("dynsys.no_such_name did not raise AttributeError")


FIRST_CALLS = """
import sys
import dynsys
from numba.core import event

compiles = []


class Count(event.Listener):
    def on_start(self, ev):
        compiles.append(ev.data["dispatcher"].py_func.__qualname__)

    def on_end(self, ev):
        pass


event.register("numba:compile", Count())
dynsys.basins(dynsys.QuadraticRegression2D(0.1), [1.0], grid=((-3, 3, 16), (-12, 12, 16)),
              steps=50)
dynsys.lyapunov_spectrum(dynsys.maps.henon(), [0.1, 0.1], steps=100)
print("dask" in sys.modules, compiles)
"""


def test_first_basins_and_lyapunov_calls_load_cached_kernels_without_dask():
    # dask is imported by xarray's duck-array probe when a Dataset is built the ordinary way;
    # dynsys builds its plain-numpy results without it (dynsys._xr). The first process may
    # compile (cold cache); the second loads every kernel from the on-disk cache.
    _run(FIRST_CALLS)
    assert _run(FIRST_CALLS).strip() == "False []"


def test_datasets_built_without_the_dask_probe_equal_xarrays():
    import numpy as np
    import xarray as xr

    from dynsys._xr import dataarray, dataset

    cases = [
        ({"a": (("x", "y"), np.zeros((3, 2)), {"units": "1"}),
          "b": ("x", np.arange(3, dtype=np.int32))},
         {"x": ("x", np.arange(3.0), {"long_name": "x"}), "y": np.array(["p", "q"]),
          "w": ("x", np.ones(3))}),
        ({"m": (("x",), np.array([True, False]))}, {"x": np.array([b"a", b"b"])}),
        ({"c": (("k",), np.array([1 + 2j, 3j]), {"q": np.int32(1)})},
         {"k": ("k", np.array([2, 1], np.uint8))}),
        ({"h": (("k",), np.ones(2, np.float16))}, {"k": np.ones(2, np.float32)}),
        ({"e": ((), np.float64(3.0))}, {}),                 # not plain: xarray's own path
        ({"f": (("x",), [1, 2])}, {"x": [0, 1]}),
        ({"t": (("x",), np.array(["2000-01-01"], "datetime64[ns]"))}, {"x": np.array([5])}),
        # cases xr.Dataset settles itself: a data variable named like a dimension, a
        # non-dimension coordinate named like one, a coordinate without the dimension's name
        ({"x": (("x",), np.zeros(2)), "v": (("x",), np.ones(2))}, {}),
        ({"v": (("x", "y"), np.zeros((2, 3)))}, {"y": ("x", np.arange(2.0))}),
        ({"v": (("x",), np.zeros(2))}, {"w": ("x", np.arange(2.0)), "x": np.arange(2)}),
    ]
    for data_vars, coords in cases + cases:          # the second time with cached indexes
        ours = dataset(data_vars, coords, attrs={"title": "t"})
        theirs = xr.Dataset(data_vars, coords=coords, attrs={"title": "t"})
        xr.testing.assert_identical(ours, theirs)
        assert list(ours.variables) == list(theirs.variables)
        for name, var in theirs.variables.items():
            assert type(ours.variables[name]) is type(var), name
            assert type(ours.variables[name]._data) is type(var._data), name
            assert ours.variables[name].dtype == var.dtype, name
        assert set(ours.xindexes) == set(theirs.xindexes)
        for name, index in theirs.xindexes.items():
            assert ours.xindexes[name].equals(index), name
            assert ours.xindexes[name].index.dtype == index.index.dtype, name
            assert ours.xindexes[name].index.name == index.index.name, name
    # what xr.Dataset refuses, dataset refuses with xarray's own error
    for data_vars, coords in [({"a": (("x",), np.zeros(2)), "b": (("x",), np.zeros(3))}, {}),
                              ({"a": (("x",), np.zeros(2))}, {"x": np.arange(3)}),
                              ({"a": (("x",), np.zeros(2))}, {"a": ("x", np.arange(2))})]:
        with pytest.raises(ValueError) as theirs:
            xr.Dataset(data_vars, coords=coords)
        with pytest.raises(ValueError) as ours:
            dataset(data_vars, coords)
        assert str(ours.value) == str(theirs.value)
    da = dataarray(np.arange(3.0), ("k",), {"k": ("k", np.arange(3), {"long_name": "k"})},
                   name="v", attrs={"units": "1"})
    xr.testing.assert_identical(da, xr.DataArray(np.arange(3.0), dims=("k",),
                                                 coords={"k": ("k", np.arange(3),
                                                               {"long_name": "k"})},
                                                 name="v", attrs={"units": "1"}))


def test_cached_indexes_are_never_changed_through_a_dataset_or_its_inputs():
    import numpy as np

    from dynsys import _xr

    values = np.linspace(0.0, 1.0, 5)
    first = _xr.dataset({"v": (("x",), np.zeros(5))}, {"x": values})
    values[0] = -7.0                         # the caller's array, changed after the call
    again = _xr.dataset({"v": (("x",), np.zeros(5))}, {"x": values})
    assert first.x.values[0] == 0.0 and first.indexes["x"][0] == 0.0
    assert again.x.values[0] == -7.0 and again.indexes["x"][0] == -7.0
    copy = _xr.dataset({"v": (("x",), np.zeros(5))}, {"x": np.linspace(0.0, 1.0, 5)})
    assert copy.xindexes["x"] is first.xindexes["x"]        # the shared one
    with pytest.raises(ValueError, match="read-only"):
        first.x.values[1] = 9.0
    with pytest.raises(ValueError, match="read-only"):
        first.indexes["x"].values[1] = 9.0
    assert copy.x.values[1] == 0.25
    # -0.0 and 0.0 (equal, different bits) keep their own indexes; the cache stays bounded
    zero = _xr.dataset({}, {"z": np.array([0.0])})
    assert np.signbit(_xr.dataset({}, {"z": np.array([-0.0])}).z.values[0])
    assert not np.signbit(zero.z.values[0])
    for k in range(2 * _xr.INDEX_CACHE):
        _xr.dataset({}, {"n": np.arange(k + 1)})
    assert len(_xr._INDEXES) <= _xr.INDEX_CACHE
