"""Systems: the map protocol and iterating a map."""

from ._autojit import (AutoKernel, SlowPathWarning, Uncompilable, compile_gd_kernel,
                       fallback_warning, matches, memoised, numpy_rate)
from ._iterate import orbit
from ._map import Map, MapKernel, compiled
from ._numdiff import gradient as numerical_gradient
from ._numdiff import jacobian as numerical_jacobian
from ._vectorise import BatchFunction

__all__ = ["AutoKernel", "Map", "MapKernel", "SlowPathWarning", "compiled", "orbit",
           "BatchFunction", "numerical_gradient", "numerical_jacobian", "Uncompilable",
           "compile_gd_kernel", "fallback_warning", "matches", "memoised", "numpy_rate"]
