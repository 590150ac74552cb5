"""Input validation shared by every public entry point.

Each checker returns the cleaned value or raises ``TypeError``/``ValueError`` with a message that
names the argument and the allowed range, so that nothing fails deep inside numpy.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np


def _is_real_scalar(value) -> bool:
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Real):
        return True
    return isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf"


def real(name: str, value, *, positive: bool = False, nonnegative: bool = False,
         lo: float | None = None, hi: float | None = None) -> float:
    """Return ``value`` as a finite float, or raise naming ``name``."""
    if not _is_real_scalar(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    if positive and not out > 0:
        raise ValueError(f"{name} must be > 0, got {out!r}")
    if nonnegative and not out >= 0:
        raise ValueError(f"{name} must be >= 0, got {out!r}")
    if lo is not None and out < lo:
        raise ValueError(f"{name} must be >= {lo}, got {out!r}")
    if hi is not None and out > hi:
        raise ValueError(f"{name} must be <= {hi}, got {out!r}")
    return out


def integer(name: str, value, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int (bools and non-integral floats rejected), or raise."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    out = int(value)
    if minimum is not None and out < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {out}")
    return out


def array(name: str, value, *, dim: int | None = None, ndim_min: int = 0,
          finite: bool = True, dtype=float) -> np.ndarray:
    """Return ``value`` as a float array whose last axis has length ``dim``, or raise."""
    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        out = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers: {exc}") from None
    if out.dtype == object or out.dtype.kind not in "iufc":
        what = "booleans" if out.dtype.kind == "b" else f"dtype {out.dtype}"
        raise TypeError(f"{name} must be an array of numbers, got {what}")
    if out.dtype.kind == "c" and dtype is float:
        raise TypeError(f"{name} must be real, got complex values")
    out = out.astype(dtype, copy=False)
    if dim is not None:
        if out.ndim == 0 or out.shape[-1] != dim:
            raise ValueError(f"{name} must have shape (..., {dim}), got shape {out.shape}")
    if out.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimension(s), got shape {out.shape}")
    if finite and out.size and not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return out


def lr(value, name: str = "lr") -> float:
    """A step size: finite and strictly positive."""
    return real(name, value, positive=True)


def value_range(name: str, value, *, positive: bool = False) -> np.ndarray:
    """Return a 1-D float array of swept values, or raise naming ``name``.

    ``value`` is the values themselves (a list, tuple or array) or an explicit range,
    :func:`dynsys.linspace`/:func:`dynsys.geomspace`. The old spelling, a tuple
    ``(start, stop, num)`` with an integer ``num``, is deprecated: it still means
    ``linspace(start, stop, num)`` (with a ``DeprecationWarning``), except where it cannot be
    told from a list of three values, i.e. when all three entries are integers (``(1, 3, 5)``)
    or when it is no valid range (``stop <= start``, ``num < 1``): that is a ``ValueError``
    asking for ``dynsys.linspace(...)`` or a list. Values must be finite and non-empty; with
    ``positive`` they must also be > 0.
    """
    from ._range import SweepRange

    if isinstance(value, str | bytes) or value is None:
        raise TypeError(f"{name} must be an array of values or a range such as "
                        f"dynsys.linspace(start, stop, num), got {value!r}")
    if isinstance(value, SweepRange) or _old_range(value):
        from ._limits import require

        num = int(value.num if isinstance(value, SweepRange) else value[2])
        # each value's result takes at least a few float64 (a sweep: a whole grid)
        require(f"{name} num", 64 * max(num, 0), f"{num} values x at least 64 bytes of result each")
        out = value.values if isinstance(value, SweepRange) else _deprecated_range(name, value)
    else:
        out = array(name, value, finite=False)
        if out.ndim == 0:
            out = out.reshape(1)
        if out.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {out.shape}")
    if out.size == 0:
        raise ValueError(f"{name} must not be empty")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    if positive and not np.all(out > 0):
        raise ValueError(f"{name} must be > 0 everywhere, got min {float(out.min())!r}")
    return out


def _old_range(value) -> bool:
    """Whether ``value`` has the deprecated form of a range: a 3-tuple with an integer last."""
    return (isinstance(value, tuple) and len(value) == 3
            and isinstance(value[2], numbers.Integral) and not isinstance(value[2], bool | np.bool_))


def _deprecated_range(name: str, value) -> np.ndarray:
    """Return ``linspace(*value)`` for the deprecated ``(start, stop, num)`` spelling, with a
    ``DeprecationWarning``, or raise where it is ambiguous (see :func:`value_range`)."""
    start, stop, num = value
    items = ", ".join(repr(v) for v in value)
    fix = (f"write dynsys.linspace({items}) for {num} evenly spaced values from {start} to "
           f"{stop}, or the list [{items}] for these three values")
    if all(isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_) for v in value):
        raise ValueError(f"{name}=({items}) is ambiguous (three integers: a (start, stop, num) "
                         f"range or three values?); {fix}")
    start = real(f"{name} start", start)
    stop = real(f"{name} stop", stop)
    if num < 1 or (num > 1 and not stop > start):
        if num >= 1:
            fix = f"write dynsys.linspace({items}) for a downward sweep, or the list [{items}]"
        else:
            fix = f"write the list [{items}] for these three values"
        raise ValueError(f"{name}=({items}) is neither a valid (start, stop, num) range "
                         f"(needs stop > start and num >= 1) nor unambiguously three values; "
                         f"{fix}")
    warnings.warn(f"{name}=({items}) as a (start, stop, num) tuple is deprecated and will be "
                  f"removed in the next release (a tuple reads like three values); {fix}",
                  DeprecationWarning, stacklevel=_caller_level())
    return np.linspace(start, stop, int(num))


def _caller_level() -> int:
    """Return the ``stacklevel`` that points a warning at the first frame outside dynsys."""
    import os
    import sys

    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


#: Largest coordinate of a box or a state that analyses in closed form accept: squares and
#: products of such numbers stay finite in float64.
MAX_STATE = 1e100


def bounds(name: str, value, dim: int) -> np.ndarray:
    """Return a ``(dim, 2)`` array of ``(lo, hi)`` rows with lo < hi, or raise.

    Accepts ``[(lo1, hi1), (lo2, hi2), ...]``; for ``dim == 1`` also a bare ``(lo, hi)``.
    """
    out = array(name, value)
    if dim == 1 and out.shape == (2,):
        out = out.reshape(1, 2)
    if out.shape != (dim, 2):
        raise ValueError(f"{name} must be {dim} (lo, hi) pair(s), shape ({dim}, 2), "
                         f"got shape {out.shape}")
    if not np.all(out[:, 0] < out[:, 1]):
        raise ValueError(f"{name} must have lo < hi in every dimension, got {out.tolist()}")
    if np.any(np.abs(out) > MAX_STATE):
        raise ValueError(f"{name} must lie within +-{MAX_STATE:g} (products of states beyond "
                         f"overflow float64), got {out.tolist()}")
    return out


def grid(name: str, value, dim: int = 2) -> list[tuple[float, float, int]]:
    """Return ``dim`` triples ``(lo, hi, n)`` with lo < hi and n >= 1, or raise."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or len(value) != dim:
        raise ValueError(f"{name} must be {dim} (lo, hi, n) triples, got {value!r}")
    out = []
    for axis, triple in enumerate(value):
        if not isinstance(triple, Sequence) or isinstance(triple, str | bytes) or len(triple) != 3:
            raise ValueError(f"{name}[{axis}] must be a (lo, hi, n) triple, got {triple!r}")
        lo = real(f"{name}[{axis}] lo", triple[0])
        hi = real(f"{name}[{axis}] hi", triple[1])
        n = integer(f"{name}[{axis}] n", triple[2], minimum=1)
        if not lo < hi:
            raise ValueError(f"{name}[{axis}] must have lo < hi, got lo={lo}, hi={hi}")
        out.append((lo, hi, n))
    return out


def choice(name: str, value, allowed) -> str:
    """Return ``value`` if it is one of ``allowed``, or raise listing them."""
    allowed = list(allowed)
    if value not in allowed:
        raise ValueError(f"unknown {name} {value!r}; expected one of {allowed}")
    return value


def renamed(func: str, old: str, old_value, new: str, new_value, *, default=None):
    """Return the value of argument ``new``, accepting its deprecated name ``old`` for one
    release (with a ``DeprecationWarning``); both given is an error naming them."""
    if old_value is None:
        return default if new_value is None else new_value
    if new_value is not None:
        raise TypeError(f"{func}() got both {new}= and its deprecated name {old}=; give {new}=")
    warnings.warn(f"{func}({old}=...) is deprecated and will be removed in the next release; "
                  f"use {new}=...", DeprecationWarning, stacklevel=3)
    return old_value


def swept_values(func: str, values, lr_range, param: str):
    """Return the swept parameter values of a sweep over ``param``: ``values`` (the name for
    every system), or ``lr_range`` (the name when the sweep is over step sizes ``lr``; for any
    other parameter it is deprecated)."""
    if lr_range is None:
        if values is None:
            name = "lr_range" if param == "lr" else "values"
            raise TypeError(f"{func}() missing {name}, the values of the swept parameter "
                            f"{param!r} (its second argument)")
        return value_range("lr_range" if param == "lr" else "values", values,
                           positive=param == "lr")
    if values is not None:
        raise TypeError(f"{func}() got both values and lr_range; give one")
    if param != "lr":
        warnings.warn(f"{func}(lr_range=...) for a sweep of {param!r} is deprecated and will be "
                      f"removed in the next release; pass the values of {param!r} as values=",
                      DeprecationWarning, stacklevel=3)
    return value_range("lr_range", lr_range, positive=param == "lr")
