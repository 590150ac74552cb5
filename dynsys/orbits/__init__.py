"""Orbits: Jacobians, multipliers and stability, fixed points (and curves of them), periodic
orbits and Lyapunov spectra of any :class:`dynsys.Map` (or of GD on a model)."""

from ._fixed_points import fixed_points
from ._jacobian import STABILITY, classify, jacobian, multipliers
from ._lyapunov import lyapunov_convergence, lyapunov_spectrum
from ._periodic import periodic_orbits
from ._trajectory import trajectory

__all__ = ["jacobian", "multipliers", "classify", "STABILITY", "fixed_points",
           "periodic_orbits", "lyapunov_spectrum", "lyapunov_convergence", "trajectory"]
