"""Figures (matplotlib is imported lazily, only when a plot function is called).

Every plot function takes a dynsys Dataset (or result object), returns the matplotlib
``Figure`` and, given ``path``, also writes it there; ``ax=`` draws into Axes of your own and
``columns=1`` or ``2`` sizes a new figure for one column of a paper or its full width.
"""

from ._basins import basins
from ._bifurcation import bifurcation
from ._eos import gfs_trajectory, limit_offset, self_stabilisation, theorem2
from ._kreisler import kreisler_scan
from ._lyapunov import lyapunov
from ._orbits import orbits
from ._region import eos_region, proof_cover
from ._trajectory import trajectory

__all__ = ["trajectory", "basins", "bifurcation", "eos_region", "gfs_trajectory",
           "limit_offset", "self_stabilisation", "theorem2", "orbits", "lyapunov",
           "kreisler_scan", "proof_cover"]
