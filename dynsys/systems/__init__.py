"""Systems: the map protocol and iterating a map."""

from ._autojit import AutoKernel, SlowPathWarning
from ._map import Map, MapKernel

__all__ = ["AutoKernel", "Map", "MapKernel", "SlowPathWarning"]
