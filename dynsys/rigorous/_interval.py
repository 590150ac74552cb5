"""Interval arithmetic with outward rounding, for compiled kernels.

An interval is a pair of floats ``(lo, hi)``. IEEE 754 addition, subtraction, multiplication
and division are correctly rounded, so the exact result of an operation on floats lies within
one unit in the last place (ulp) of the computed one; widening every computed bound by one ulp
outwards (``np.nextafter`` towards -inf for ``lo``, +inf for ``hi``) therefore gives an interval
that contains the exact result for every pair of points of the operands. Each function below
returns the enclosure ``(lo, hi)`` of one operation; they are compiled with numba and meant to
be inlined into kernels.

Examples
--------
>>> from dynsys.rigorous._interval import up, down
>>> down(1.0) < 1.0 < up(1.0)
True
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from .._numba import njit

_INF = np.inf


@intrinsic
def _as_int(typingctx, x):
    """Reinterpret the bits of a float64 as an int64 (no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def _as_float(typingctx, i):
    """Reinterpret the bits of an int64 as a float64."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(types.int64), codegen


@njit(inline="always")
def down(x):
    """Return the float just below ``x``: ``np.nextafter(x, -inf)``, bit for bit.

    A rigorous lower bound for a correctly rounded result. Written on the bit pattern (the
    next float is the neighbouring integer) because numpy's ``nextafter`` costs ~30 ns a call
    inside numba, which dominated the enclosure kernels.
    """
    if x != x or x == -_INF:
        return x
    if x == 0.0:
        return -5e-324
    i = _as_int(x)
    return _as_float(i + 1 if i < 0 else i - 1)


@njit(inline="always")
def up(x):
    """Return the float just above ``x``: ``np.nextafter(x, inf)``, bit for bit."""
    if x != x or x == _INF:
        return x
    if x == 0.0:
        return 5e-324
    i = _as_int(x)
    return _as_float(i - 1 if i < 0 else i + 1)


@njit(inline="always")
def iadd(alo, ahi, blo, bhi):
    """Return an enclosure of ``[alo, ahi] + [blo, bhi]``."""
    return down(alo + blo), up(ahi + bhi)


@njit(inline="always")
def isub(alo, ahi, blo, bhi):
    """Return an enclosure of ``[alo, ahi] - [blo, bhi]``."""
    return down(alo - bhi), up(ahi - blo)


@njit(inline="always")
def imul(alo, ahi, blo, bhi):
    """Return an enclosure of ``[alo, ahi] * [blo, bhi]``."""
    p1 = alo * blo
    p2 = alo * bhi
    p3 = ahi * blo
    p4 = ahi * bhi
    lo = min(min(p1, p2), min(p3, p4))
    hi = max(max(p1, p2), max(p3, p4))
    return down(lo), up(hi)


@njit(inline="always")
def iscale(s, alo, ahi):
    """Return an enclosure of the float ``s`` times ``[alo, ahi]``."""
    if s >= 0.0:
        return down(s * alo), up(s * ahi)
    return down(s * ahi), up(s * alo)


@njit(inline="always")
def isqr(alo, ahi):
    """Return an enclosure of ``{a^2 : a in [alo, ahi]}`` (non-negative, tighter than a*a)."""
    if alo >= 0.0:
        return down(alo * alo), up(ahi * ahi)
    if ahi <= 0.0:
        return down(ahi * ahi), up(alo * alo)
    m = max(-alo, ahi)
    return 0.0, up(m * m)


@njit(inline="always")
def idiv(alo, ahi, blo, bhi):
    """Return an enclosure of ``[alo, ahi] / [blo, bhi]``; ``(-inf, inf)`` when the
    divisor contains 0."""
    if blo <= 0.0 <= bhi:
        return -_INF, _INF
    q1 = alo / blo
    q2 = alo / bhi
    q3 = ahi / blo
    q4 = ahi / bhi
    lo = min(min(q1, q2), min(q3, q4))
    hi = max(max(q1, q2), max(q3, q4))
    return down(lo), up(hi)


@njit(inline="always")
def imag(alo, ahi):
    """Return an upper bound of ``max |a|`` over ``[alo, ahi]`` (exact: no rounding)."""
    return max(abs(alo), abs(ahi))


@njit(inline="always")
def ihull(alo, ahi, blo, bhi):
    """Return the smallest interval containing both operands (exact)."""
    return min(alo, blo), max(ahi, bhi)


__all__ = ["down", "up", "iadd", "isub", "imul", "iscale", "isqr", "idiv", "imag", "ihull"]
