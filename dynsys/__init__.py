"""dynsys: gradient descent as a discrete dynamical system.

Maps and models, their orbits, basins and bifurcations, and the edge-of-stability analyses of
second-order regression models, every result a labelled xarray Dataset.
"""

from . import _numba  # noqa: F401  (sets NUMBA_CACHE_DIR before numba is imported)
from . import _labels, maps  # noqa: F401
from ._io import load, save
from ._limits import memory_limit, set_memory_limit
from ._outcomes import FlagTable, Outcome
from ._range import SweepRange, geomspace, linspace
from ._stopping import StoppingRule
from ._version import __version__
from .models import (AutodiffModel, LossModel, Model, QuadraticRegression2D, RegressionModel,
                     ScalarNetwork,
                     SecondOrderRegression)
from .systems import Map, MapKernel, SlowPathWarning
from .models import GDMap, gd_map

from . import orbits  # noqa: F401
from .orbits import (trajectory, classify, fixed_points, jacobian, lyapunov_convergence,
                     lyapunov_spectrum, multipliers, periodic_orbits)
from .basins import (basin_entropy, basins, basins_fractal_test, basins_fractions,
                     uncertainty_exponent)

# Imported on first use (issue 16: ``import dynsys`` < 1 s): the bifurcation, edge-of-stability,
# proof, network and plotting subpackages, and the names taken from them (PEP 562 __getattr__).
_LAZY_MODULES = ("bifurcation", "eos", "networks", "plot", "rigorous")
_LAZY = {name: "bifurcation" for name in ("ContinuationResult", "bifurcation_diagram",
                                          "continuation")}
_LAZY.update({name: "eos" for name in (
    "eos_start", "expected_second_derivative", "fit_offset", "gfs_sharpness", "gfs_solution",
    "gfs_trajectory", "kreisler_scan", "limit_offset", "limit_sharpness",
    "ntk_eigenvalue_derivatives", "offset_formula", "predicted_dynamics",
    "qr2d_increase_threshold", "self_stabilisation", "self_stabilisation_coefficients",
    "sharpness_gradient", "sigma_q_for", "theorem2_monte_carlo", "constrained_trajectory",
    "edge_geometry", "project_stable_set", "self_stabilisation_tracking", "third_derivative",
    "EoSRegion", "eos_critical_eps", "eos_region", "Certificate", "Verification",
    "certify_region", "verify_certificate", "offset_root_eps", "proved_critical_eps")})


def __getattr__(name: str):
    if name in _LAZY_MODULES or name in _LAZY:
        import importlib

        module = importlib.import_module(f"{__name__}.{_LAZY.get(name, name)}")
        value = module if name in _LAZY_MODULES else getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__",
    # vocabulary
    "Outcome", "FlagTable", "StoppingRule", "linspace", "geomspace", "SweepRange",
    # systems
    "Map", "MapKernel", "SlowPathWarning", "GDMap", "gd_map", "maps",
    # models
    "Model", "LossModel", "AutodiffModel", "networks", "RegressionModel", "SecondOrderRegression", "QuadraticRegression2D",
    "ScalarNetwork",
    # analyses
    "trajectory",
    # storage and figures
    "save", "load", "plot", "memory_limit", "set_memory_limit",
    "orbits", "jacobian", "multipliers", "classify", "fixed_points", "periodic_orbits",
    "lyapunov_spectrum", "lyapunov_convergence",
    "basins", "basins_fractions", "basin_entropy", "uncertainty_exponent", "basins_fractal_test",
    "bifurcation_diagram", "continuation", "ContinuationResult",
    # edge of stability (issue 6)
    "eos_region", "EoSRegion", "eos_critical_eps",
    "certify_region", "Certificate", "offset_root_eps", "proved_critical_eps", "verify_certificate", "Verification", "rigorous",
    "gfs_sharpness", "gfs_solution", "limit_sharpness", "eos_start", "limit_offset", "fit_offset",
    "offset_formula", "gfs_trajectory", "kreisler_scan", "qr2d_increase_threshold",
    "predicted_dynamics", "self_stabilisation", "self_stabilisation_coefficients",
    "sharpness_gradient", "expected_second_derivative", "ntk_eigenvalue_derivatives",
    "sigma_q_for", "theorem2_monte_carlo", "constrained_trajectory", "edge_geometry",
    "project_stable_set", "self_stabilisation_tracking", "third_derivative",
]
