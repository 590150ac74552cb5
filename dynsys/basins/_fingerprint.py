"""What determines a basin sweep, as named parts and one digest (the key of a resumable store).

The system's part is its *content*, not its name: every instance attribute, walked recursively
(arrays by dtype, shape and bytes; floats exactly; functions by their bytecode, constants, names,
default values, closure values and the values of the globals they use; numba functions by their
Python source function; bound methods and ``functools.partial`` by what they bind). An object
that keeps caches may say which of its data determine its results with a ``fingerprint_data()``
method returning them. Objects of unknown types without attributes count by their type name.
"""

from __future__ import annotations

import functools
import hashlib
import math
import types

import numpy as np

_ATOMS = (type(None), bool, int, str, bytes)


def _walk(obj, h, seen: set, depth: int = 0) -> None:
    """Feed a canonical description of ``obj`` into the hash ``h``."""
    up = h.update
    if depth > 60:
        up(b"<deep>")
        return
    if isinstance(obj, _ATOMS):
        up(f"{type(obj).__name__}:{obj!r};".encode())
        return
    if isinstance(obj, float):
        up(f"f:{obj.hex() if math.isfinite(obj) else repr(obj)};".encode())
        return
    if isinstance(obj, complex):
        _walk(obj.real, h, seen, depth + 1)
        _walk(obj.imag, h, seen, depth + 1)
        return
    if isinstance(obj, np.ndarray | np.generic):
        arr = np.ascontiguousarray(obj)
        up(f"a:{arr.dtype.str}:{arr.shape};".encode())
        if arr.dtype.kind == "O":
            for item in arr.ravel():
                _walk(item, h, seen, depth + 1)
        else:
            up(arr.tobytes())
        return
    if id(obj) in seen:
        up(b"<ref>")
        return
    seen.add(id(obj))
    if isinstance(obj, list | tuple | set | frozenset):
        items = sorted(obj, key=repr) if isinstance(obj, set | frozenset) else obj
        up(f"{type(obj).__name__}[{len(items)}](".encode())
        for item in items:
            _walk(item, h, seen, depth + 1)
        up(b")")
        return
    if isinstance(obj, dict):
        up(b"dict{")
        for key in sorted(obj, key=repr):
            _walk(key, h, seen, depth + 1)
            _walk(obj[key], h, seen, depth + 1)
        up(b"}")
        return
    if isinstance(obj, types.ModuleType):
        up(f"module:{obj.__name__};".encode())
        return
    if isinstance(obj, type):
        up(f"type:{obj.__module__}.{obj.__qualname__};".encode())
        return
    if isinstance(obj, types.CodeType):
        _code(obj, h, seen, depth)
        return
    if isinstance(obj, types.FunctionType):
        _function(obj, h, seen, depth)
        return
    if isinstance(obj, types.MethodType):
        up(b"method(")
        _walk(obj.__func__, h, seen, depth + 1)
        _walk(obj.__self__, h, seen, depth + 1)
        up(b")")
        return
    if isinstance(obj, functools.partial):
        up(b"partial(")
        for part in (obj.func, obj.args, obj.keywords):
            _walk(part, h, seen, depth + 1)
        up(b")")
        return
    py_func = getattr(obj, "py_func", None)          # a numba dispatcher
    if isinstance(py_func, types.FunctionType):
        up(b"numba(")
        _function(py_func, h, seen, depth + 1)
        up(b")")
        return
    cls = type(obj)
    up(f"obj:{cls.__module__}.{cls.__qualname__}".encode())
    hook = getattr(obj, "fingerprint_data", None)
    if callable(hook):
        _walk(hook(), h, seen, depth + 1)
    elif hasattr(obj, "__dict__"):
        _walk(dict(vars(obj)), h, seen, depth + 1)
    up(b";")


def _code(code: types.CodeType, h, seen, depth) -> None:
    h.update(b"code(")
    h.update(code.co_code)
    _walk(code.co_names, h, seen, depth + 1)
    for const in code.co_consts:
        _walk(const, h, seen, depth + 1)
    h.update(b")")


def _function(fn: types.FunctionType, h, seen, depth) -> None:
    h.update(b"function(")
    _code(fn.__code__, h, seen, depth + 1)
    _walk(fn.__defaults__, h, seen, depth + 1)
    _walk(fn.__kwdefaults__, h, seen, depth + 1)
    cells = []
    for cell in fn.__closure__ or ():
        try:
            cells.append(cell.cell_contents)
        except ValueError:                           # an empty cell
            cells.append("<empty cell>")
    _walk(tuple(cells), h, seen, depth + 1)
    names = _global_names(fn.__code__)
    used = {name: fn.__globals__[name] for name in sorted(names) if name in fn.__globals__}
    _walk(used, h, seen, depth + 1)
    h.update(b")")


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def digest(obj) -> str:
    """Return the SHA-256 hex digest of the content of ``obj`` (see the module docstring).

    Examples
    --------
    >>> a, b = (lambda x: 2.0 * x), (lambda x: 3.0 * x)
    >>> digest(a) == digest(lambda x: 2.0 * x), digest(a) == digest(b)
    (True, False)
    """
    h = hashlib.sha256()
    _walk(obj, h, set())
    return h.hexdigest()


def system_parts(system, skip=()) -> dict:
    """Return ``{"system.<attribute>": digest}`` for every attribute of ``system`` (its
    ``fingerprint_data()`` if it has one), except the names in ``skip``."""
    hook = getattr(system, "fingerprint_data", None)
    data = hook() if callable(hook) else dict(vars(system))
    return {f"system.{name.lstrip('_')}": digest(value)[:16]
            for name, value in sorted(data.items()) if name not in skip}
