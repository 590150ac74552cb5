"""dynsys: gradient descent as a discrete dynamical system.

Maps and models, their orbits, basins and bifurcations, and the edge-of-stability analyses of
second-order regression models, every result a labelled xarray Dataset.
"""

from . import _numba  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from . import _labels, maps, plot  # noqa: F401
from ._io import load, save
from ._version import __version__
from .analysis import trajectory
from .models import (LossModel, Model, QuadraticRegression2D, RegressionModel, ScalarNetwork,
                     SecondOrderRegression)
from .systems import GDMap, Map, MapKernel, gd_map

# -- orbits (issue 3) --
# -- basins (issue 4) --
# -- bifurcation (issue 5) --
# -- edge of stability (issue 6) --

__all__ = [
    "__version__",
    # systems
    "Map", "MapKernel", "GDMap", "gd_map", "maps",
    # models
    "Model", "LossModel", "RegressionModel", "SecondOrderRegression", "QuadraticRegression2D",
    "ScalarNetwork",
    # analyses
    "trajectory",
    # storage and figures
    "save", "load", "plot",
    # -- __all__ orbits (issue 3) --
    # -- __all__ basins (issue 4) --
    # -- __all__ bifurcation (issue 5) --
    # -- __all__ edge of stability (issue 6) --
]
