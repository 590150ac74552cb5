"""Numba set-up shared by every compiled kernel.

The on-disk JIT cache must live somewhere writable even when the package is installed in a
read-only location, so unless the user chose ``NUMBA_CACHE_DIR`` we point it at a per-user cache
directory (``$XDG_CACHE_HOME/dynsys/numba``, falling back to the temp directory). This module must
be imported before numba itself is imported anywhere in dynsys.
"""

from __future__ import annotations

import os
import tempfile


def _writable_dir(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write-test")
        with open(probe, "w") as fh:
            fh.write("")
        os.remove(probe)
        return True
    except OSError:
        return False


def _choose_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for candidate in (os.path.join(base, "dynsys", "numba"),
                      os.path.join(tempfile.gettempdir(), f"dynsys-numba-{os.getuid()}")):
        if _writable_dir(candidate):
            return candidate
    return tempfile.mkdtemp(prefix="dynsys-numba-")


if not os.environ.get("NUMBA_CACHE_DIR"):
    os.environ["NUMBA_CACHE_DIR"] = _choose_cache_dir()

import numba  # noqa: E402  (must follow the environment set-up above)
import numba.core.config  # noqa: E402

if numba.core.config.CACHE_DIR != os.environ["NUMBA_CACHE_DIR"]:
    # numba was imported before dynsys (by the user or a library) and read its config then
    numba.core.config.reload_config()

def njit(*args, **kwargs):
    """``numba.njit`` with the on-disk cache on by default, for module-level kernels.

    Kernels that take a jitted function as an argument (the generic loops over any map's
    ``kernel.step``) must pass ``cache=False``: numba cannot cache them reliably (stale entries
    fail to load with ``ReferenceError`` once the argument's dispatcher is gone).
    """
    kwargs.setdefault("cache", True)
    return numba.njit(*args, **kwargs)


__all__ = ["njit", "numba"]
