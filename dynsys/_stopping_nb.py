"""The tests of the stopping rule (:mod:`dynsys._stopping`) compiled with numba, for kernels.

Kernels import this module and call ``rule_tests.diverged(r2, radius2)``, ... on scalars; the
functions are the very ones the numpy fallback applies elementwise.
"""

from . import _stopping
from ._numba import njit

_jit = njit(error_model="numpy")

diverged = _jit(_stopping.diverged)
converged = _jit(_stopping.converged)
jump_tol2 = _jit(_stopping.jump_tol2)
returned = _jit(_stopping.returned)
checkpoint_interval = _jit(_stopping.checkpoint_interval)
block_length = _jit(_stopping.block_length)
first_interval = _jit(_stopping.first_interval)

__all__ = ["diverged", "converged", "jump_tol2", "returned", "checkpoint_interval", "block_length",
           "first_interval"]
