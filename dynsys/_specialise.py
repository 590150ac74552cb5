"""Compiled loops specialised to a map's kernel, cached on disk across processes.

A hot loop that calls a map's compiled ``step`` cannot take it as an argument and still use
numba's on-disk cache (the argument's type is tied to the dispatcher object of one process), and a
closure over it cannot be cached either. So a loop is written once as module source in which the
kernel functions are free global names (``step``, ``jac``, ...); :func:`specialise` writes that
source, preceded by imports that bind each name to the kernel function's own module-level
definition, into a file under the numba cache directory and imports it. The file's name is a hash
of its text and of the kernel modules' sources, so a second process finds the same file and
numba's cache for it: nothing is compiled again.

A kernel function that cannot be imported by name (defined in ``__main__``, a closure, a lambda)
gets the same loop compiled in memory with the function bound directly (no disk cache).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import tempfile

import numpy as np

from ._numba import numba

__all__ = ["specialise"]


def _import_path(func) -> tuple[str, str] | None:
    """Return ``(module, name)`` under which ``func`` can be imported, or None."""
    py = getattr(func, "py_func", func)
    module, name = getattr(py, "__module__", None), getattr(py, "__qualname__", "")
    if not module or module == "__main__" or "." in name or "<" in name:
        return None
    try:
        if getattr(importlib.import_module(module), name, None) is not func:
            return None
    except ImportError:
        return None
    return module, name


def _module_stamp(module: str) -> str:
    """The source text of ``module`` (so that editing a kernel gives a new file)."""
    try:
        return inspect.getsource(sys.modules[module])
    except (OSError, TypeError, KeyError):
        return module


def _generated_dir() -> str:
    path = os.path.join(numba.core.config.CACHE_DIR or tempfile.gettempdir(), "generated")
    os.makedirs(path, exist_ok=True)
    return path


def _write_once(path: str, text: str) -> None:
    if os.path.exists(path):
        return
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)          # atomic: a concurrent process sees the whole file or none


@functools.lru_cache(maxsize=None)
def _specialised(source: str, entry: str, bindings: tuple, inline: frozenset) -> object:
    names = []
    for name, func in bindings:
        if isinstance(func, tuple):              # (module, attribute): import it from there
            names.append((name, getattr(importlib.import_module(func[0]), func[1]), func))
        else:
            names.append((name, func, _import_path(func)))
    if all(where is not None for _, _, where in names):
        header = "".join(
            f"from {mod} import {qual} as _{name}_compiled\n"
            f"{name} = njit(inline='always')(_{name}_compiled.py_func)\n" if name in inline
            else f"from {mod} import {qual} as {name}\n"
            for name, _, (mod, qual) in names)
        text = (f"import numpy as np\nfrom numba import njit, prange\n{header}CACHE = True\n\n"
                f"{source}")
        digest = hashlib.sha1(text.encode())
        for mod in sorted({where[0] for _, _, where in names}):
            digest.update(_module_stamp(mod).encode())
        tag = digest.hexdigest()[:20]
        path = os.path.join(_generated_dir(), f"{entry}_{tag}.py")
        try:
            _write_once(path, text)
        except OSError:
            path = None
        if path is not None:
            modname = f"_dynsys_generated_{entry}_{tag}"
            module = sys.modules.get(modname)
            if module is None:
                spec = importlib.util.spec_from_file_location(modname, path)
                module = importlib.util.module_from_spec(spec)
                sys.modules[modname] = module
                spec.loader.exec_module(module)
            return getattr(module, entry)
    namespace = {"np": np, "njit": numba.njit, "prange": numba.prange, "CACHE": False}
    namespace.update({name: numba.njit(inline="always")(func.py_func) if name in inline else func
                      for name, func, _ in names})
    exec(compile(source, f"<dynsys loop {entry}>", "exec"), namespace)   # noqa: S102
    return namespace[entry]


def specialise(source: str, entry: str, *, inline: tuple[str, ...] = (), **bindings):
    """Return the function ``entry`` defined by the module text ``source`` in which every name
    of ``bindings`` is a global bound to the given (compiled) function, or to the attribute
    named by a ``(module, attribute)`` pair (for a compiled function whose ``py_func`` lives in
    another module than the dispatcher).

    ``source`` defines its loops with ``@njit(cache=CACHE, ...)`` (``np``, ``njit`` and
    ``prange`` are defined); ``CACHE`` is True when every
    binding is importable by name (the loop then lives in a generated file and numba caches it on
    disk), False otherwise (compiled in memory). The bindings named in ``inline`` are compiled
    again from their Python source with ``inline="always"`` (numba inlines them into the loop
    before LLVM sees it, which lets a loop over many points vectorise). Results are memoised per
    process.

    Examples
    --------
    >>> from dynsys._specialise import specialise
    >>> from dynsys.maps import _logistic_step_k
    >>> src = '''
    ... @njit(cache=CACHE)
    ... def twice(x, p, out):
    ...     step(x, p, out)
    ...     x[0] = out[0]
    ...     step(x, p, out)
    ... '''
    >>> import numpy as np
    >>> f = specialise(src, "twice", step=_logistic_step_k)
    >>> out = np.empty(1); f(np.array([0.5]), np.array([2.0]), out); float(out[0])
    0.5
    """
    return _specialised(source, entry, tuple(sorted(bindings.items())), frozenset(inline))
