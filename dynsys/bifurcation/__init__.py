"""Bifurcations: orbit diagrams and numerical continuation of fixed points and cycles.

* :func:`bifurcation_diagram`: the long-time samples of orbits over a range of a parameter
  (numba-compiled, parallel over the parameter values);
* :func:`continuation`: pseudo-arclength continuation of fixed points of ``F`` and of ``F^k``
  (cycles) in a named parameter, with the special points PD, LP, BP and NS located and branch
  switching at PD and BP points and period-doubling cascades with their Feigenbaum ratios
  (:class:`ContinuationResult`, plain data: the algorithms live in ``_continuation``).
  Non-isolated families of fixed points (the solution curve of an over-parametrised model)
  are continued in a section.
"""

from ._continuation import FarStartWarning, continuation
from ._diagram import bifurcation_diagram
from ._normal_form import flip_coefficients
from ._result import ContinuationResult

__all__ = ["bifurcation_diagram", "continuation", "ContinuationResult", "flip_coefficients",
           "FarStartWarning"]
