"""Memory limits: every analysis estimates what its result takes before allocating it, and
refuses with a ValueError naming the argument and the estimate when that exceeds the limit.

The limit is half of the memory available to this process when the call is made (``MemAvailable``
of ``/proc/meminfo``, capped by a cgroup ``memory.max``), or what
:func:`set_memory_limit` or the environment variable ``DYNSYS_MEMORY_LIMIT`` (bytes, or with a
suffix ``K``, ``M``, ``G``, ``T``: ``DYNSYS_MEMORY_LIMIT=64G``) set. The available memory is
read at most every :data:`MAX_AGE` seconds (a reading takes three file reads, 20-60 us, which
a millisecond call should not pay twice). Sweeps written to a
``store=`` are out of core: only one chunk at a time is held, so only the chunk counts.

Examples
--------
>>> import dynsys
>>> previous = dynsys.set_memory_limit(10**6)
>>> try:
...     dynsys.trajectory(dynsys.maps.logistic(3.2), [0.3], steps=10**6)
... except ValueError as exc:
...     print(str(exc)[:61])
steps: the result would take about 7.63 MiB (1000001 states x
>>> _ = dynsys.set_memory_limit(previous)
"""

from __future__ import annotations

import os
import time

ENV = "DYNSYS_MEMORY_LIMIT"
#: Fraction of the available memory one result may take by default.
FRACTION = 0.5
_FALLBACK = 8 * 2**30            # when the available memory cannot be read
_limit: int | None = None
_SUFFIX = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
#: Seconds for which a reading of the available memory is reused.
MAX_AGE = 0.5
_reading = (-float("inf"), 0)     # (time.monotonic() of the last reading, bytes)


def available_memory() -> int:
    """Return the memory available to this process, in bytes (best effort; a reading at most
    :data:`MAX_AGE` seconds old)."""
    global _reading
    now = time.monotonic()
    if now - _reading[0] <= MAX_AGE:
        return _reading[1]
    _reading = (now, _read_available())
    return _reading[1]


def _read_available() -> int:
    avail = None
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            avail = _FALLBACK
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            cap = fh.read().strip()
        if cap != "max":
            used = 0
            try:
                with open("/sys/fs/cgroup/memory.current") as fh:
                    used = int(fh.read().strip())
            except (OSError, ValueError):
                pass
            avail = min(avail, max(int(cap) - used, 0))
    except (OSError, ValueError):
        pass
    return int(avail)


def _parse(text: str) -> int:
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = 1
    if text and text[-1] in _SUFFIX:
        scale, text = _SUFFIX[text[-1]], text[:-1]
    value = float(text) * scale
    if not value > 0:
        raise ValueError
    return int(value)


def memory_limit() -> int:
    """Return the largest result (bytes) an analysis may allocate now (see the module doc)."""
    if _limit is not None:
        return _limit
    env = os.environ.get(ENV)
    if env:
        try:
            return _parse(env)
        except ValueError:
            raise ValueError(f"the environment variable {ENV} must be a positive number of "
                             f"bytes (suffix K, M, G or T allowed), got {env!r}") from None
    return int(FRACTION * available_memory())


def set_memory_limit(nbytes) -> int | None:
    """Return the previous explicit limit after setting the largest result an analysis may
    allocate to ``nbytes`` bytes (``None``: back to the default, half the available memory).

    Examples
    --------
    >>> import dynsys
    >>> old = dynsys.set_memory_limit(2**30)
    >>> dynsys.set_memory_limit(old) == 2**30
    True
    """
    global _limit
    import numbers

    if nbytes is not None and (isinstance(nbytes, bool) or not isinstance(
            nbytes, numbers.Real) or not nbytes > 0 or nbytes != nbytes):
        raise ValueError(f"nbytes must be a positive number of bytes or None, got {nbytes!r}")
    previous, _limit = _limit, (None if nbytes is None else int(nbytes))
    return previous


def human(nbytes: float) -> str:
    """Return ``nbytes`` as ``"1.5 GiB"``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if value < 1024 or unit == "EiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.3g} {unit}"
        value /= 1024
    return f"{value:.3g} EiB"            # pragma: no cover


def require(name: str, nbytes, what: str) -> None:
    """Raise ValueError naming the argument ``name`` if a result of ``nbytes`` bytes
    (``what``: how it is made up) exceeds :func:`memory_limit`."""
    limit = memory_limit()
    if nbytes > limit:
        raise ValueError(f"{name}: the result would take about {human(nbytes)} ({what}), more "
                         f"than the memory limit of {human(limit)}; reduce {name}, or raise the "
                         f"limit with dynsys.set_memory_limit() or {ENV}")


__all__ = ["memory_limit", "set_memory_limit", "available_memory", "require"]
