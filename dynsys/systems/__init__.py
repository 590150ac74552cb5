"""Systems: the map protocol and iterating a map."""

from ._map import Map, MapKernel

__all__ = ["Map", "MapKernel"]
