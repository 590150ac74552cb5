"""Explicit swept ranges: ``dynsys.linspace`` and ``dynsys.geomspace``.

A sweep argument (``lr_range``/``values`` of :func:`dynsys.basins`,
:func:`dynsys.bifurcation_diagram`, :func:`dynsys.eos_region`, ...) is either the values
themselves (a list or array) or one of these labelled ranges. The old spelling, a bare
``(start, stop, num)`` tuple, read like a list of three values and meant something else; it
is deprecated (see :func:`dynsys._validate.value_range`).
"""

from __future__ import annotations

import numbers

import numpy as np

_KINDS = ("linspace", "geomspace")


class SweepRange:
    """A labelled range of ``num`` values from ``start`` to ``stop`` (both included), evenly
    spaced (``kind="linspace"``) or evenly spaced in log (``kind="geomspace"``).

    Build it with :func:`dynsys.linspace` or :func:`dynsys.geomspace`. It behaves as the
    1-D float array of its values (``numpy.asarray(r)``, ``len(r)``, iteration) and keeps the
    recipe (``kind``, ``start``, ``stop``, ``num``) for labels and ``repr``.

    Examples
    --------
    >>> import dynsys, numpy as np
    >>> r = dynsys.linspace(0.5, 1.0, 3)
    >>> r
    dynsys.linspace(0.5, 1.0, 3)
    >>> np.asarray(r).tolist(), len(r)
    ([0.5, 0.75, 1.0], 3)
    """

    __slots__ = ("kind", "start", "stop", "num")

    def __init__(self, kind: str, start, stop, num):
        if kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}, got {kind!r}")
        start = _real(f"{kind} start", start)
        stop = _real(f"{kind} stop", stop)
        if isinstance(num, bool) or not isinstance(num, numbers.Integral):
            raise TypeError(f"{kind} num must be an integer (the number of values), "
                            f"got {type(num).__name__} {num!r}")
        num = int(num)
        if num < 1:
            raise ValueError(f"{kind} num must be >= 1, got {num}")
        if num > 1 and start == stop:
            raise ValueError(f"{kind}: start and stop must differ for num > 1, got "
                             f"start = stop = {start}")
        if kind == "geomspace" and not (start * stop > 0):
            raise ValueError(f"geomspace: start and stop must be non-zero and of the same sign, "
                             f"got ({start}, {stop})")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "num", num)

    def __setattr__(self, name, value):
        raise AttributeError("a SweepRange is immutable")

    @property
    def values(self) -> np.ndarray:
        """The values, a new 1-D float array of length ``num``."""
        fn = np.linspace if self.kind == "linspace" else np.geomspace
        out = fn(self.start, self.stop, self.num)
        out[0] = self.start                    # exact end points (geomspace rounds)
        if self.num > 1:
            out[-1] = self.stop
        return out

    def __array__(self, dtype=None, copy=None):
        out = self.values
        return out if dtype is None else out.astype(dtype)

    def __len__(self) -> int:
        return self.num

    def __iter__(self):
        return iter(self.values.tolist())

    def __eq__(self, other):
        if not isinstance(other, SweepRange):
            return NotImplemented
        return (self.kind, self.start, self.stop, self.num) == \
            (other.kind, other.start, other.stop, other.num)

    def __hash__(self):
        return hash((self.kind, self.start, self.stop, self.num))

    def __repr__(self) -> str:
        return f"dynsys.{self.kind}({self.start!r}, {self.stop!r}, {self.num!r})"


def _real(name, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {out!r}")
    return out


def linspace(start, stop, num) -> SweepRange:
    """Return the sweep of ``num`` evenly spaced values from ``start`` to ``stop`` (both
    included), for any argument that takes swept values.

    Parameters
    ----------
    start, stop : float
        First and last value (``stop < start`` sweeps downwards).
    num : int
        Number of values (>= 1; ``num = 1`` is ``[start]``).

    Returns
    -------
    SweepRange
        Behaves as ``numpy.linspace(start, stop, num)``.

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.basins(dynsys.maps.logistic(), dynsys.linspace(3.2, 3.3, 2),
    ...                    grid=((0.1, 0.9, 3),), steps=300)
    >>> ds.r.values.tolist()
    [3.2, 3.3]
    """
    return SweepRange("linspace", start, stop, num)


def geomspace(start, stop, num) -> SweepRange:
    """Return the sweep of ``num`` values from ``start`` to ``stop`` (both included) evenly
    spaced in log, for any argument that takes swept values.

    Parameters
    ----------
    start, stop : float
        First and last value, non-zero and of the same sign.
    num : int
        Number of values (>= 1).

    Returns
    -------
    SweepRange
        Behaves as ``numpy.geomspace(start, stop, num)``.

    Examples
    --------
    >>> import dynsys, numpy as np
    >>> np.asarray(dynsys.geomspace(0.01, 1.0, 3)).tolist()
    [0.01, 0.1, 1.0]
    """
    return SweepRange("geomspace", start, stop, num)
