"""``import dynsys`` stays light (issue 16): the slow parts of scipy and the plotting, dask and
progress libraries are imported when first used, not at ``import dynsys``."""

from __future__ import annotations

import subprocess
import sys

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
