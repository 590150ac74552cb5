"""Scratch arrays on the stack, for compiled loops that call a map's kernel per point.

A kernel ``step(x, p, out)`` works on small float64 arrays. Called on arrays from ``np.empty``
(opaque heap allocations) or on row views (each view costs reference-count updates), its loads
and stores stay memory operations, and a loop that calls it once per lane does not vectorise.
:func:`stack_array` returns a float64 array of a compile-time size whose data is a stack slot of
the calling function and which owns no memory (no reference count): once the kernel is inlined,
LLVM keeps its elements in registers, and the loop over lanes vectorises.

The array lives as long as the compiled function that created it: it must not be returned or
stored anywhere.

Examples
--------
>>> import numpy as np
>>> from numba import njit
>>> from dynsys._scratch import stack_array
>>> @njit
... def norm2(a, b):
...     v = stack_array(2)
...     v[0] = a
...     v[1] = b
...     return v[0] * v[0] + v[1] * v[1]
>>> float(norm2(3.0, 4.0))
25.0
"""

from __future__ import annotations

from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ["fma", "stack_array"]

_ARRAY = types.Array(types.float64, 1, "C")


@intrinsic
def stack_array(typingctx, size):
    """Return an uninitialised float64 array of ``size`` elements (an integer constant,
    possibly 0) on the stack of the calling compiled function."""
    if not isinstance(size, types.IntegerLiteral) or size.literal_value < 0:
        return None
    n = int(size.literal_value)

    def codegen(context, builder, signature, args):
        double = context.get_value_type(types.float64)
        data = cgutils.alloca_once(builder, double, size=max(n, 1))    # in the entry block
        ary = context.make_array(_ARRAY)(context, builder)
        intp = context.get_value_type(types.intp)
        context.populate_array(ary, data=data, shape=[ir.Constant(intp, n)],
                               strides=[ir.Constant(intp, 8)], itemsize=ir.Constant(intp, 8),
                               meminfo=None)
        return ary._getvalue()

    return _ARRAY(size), codegen



@intrinsic
def fma(typingctx, a, b, c):
    """Return ``a * b + c`` rounded once (LLVM's ``llvm.fma.f64``: one instruction where the
    CPU has FMA, vectorised with the loop around it), for float64 ``a``, ``b``, ``c``.

    It rounds differently from ``a * b + c`` (two roundings), which is why the compiled loops
    never contract on their own: they use it only where one rounding is known to be enough.

    Examples
    --------
    >>> from numba import njit
    >>> @njit
    ... def f(a, b, c):
    ...     return fma(a, b, c)
    >>> a = 1.0 + 2.0 ** -30
    >>> float(f(a, a, -(1.0 + 2.0 ** -29))) == 2.0 ** -60
    True
    """
    if not all(t == types.float64 for t in (a, b, c)):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return types.float64(types.float64, types.float64, types.float64), codegen
