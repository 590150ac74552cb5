"""Regions of parameter space: the edge-of-stability region of Theorem 1."""

from ._critical import eos_critical_eps
from ._eos_region import Box, EoSRegion, eos_region
from ._maxbox import largest_box

__all__ = ["eos_region", "eos_critical_eps", "EoSRegion", "Box", "largest_box"]
