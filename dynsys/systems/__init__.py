"""Systems: the map protocol, gradient descent as a map."""

from ._gd import GDMap, gd_map
from ._map import Map, MapKernel

__all__ = ["Map", "MapKernel", "GDMap", "gd_map"]
