"""Numba kernels compiled from user functions: the automatic fast path of ``Map`` and
``Model.from_loss``.

A user writes ``step(x, **params)`` (or ``loss``/``grad``/``hessian``) with numpy. When numba can
compile that function in nopython mode for one point (``x`` a float64 array of shape ``(dim,)``),
it is wrapped into the :class:`~dynsys.MapKernel` form the compiled loops take
(``step(x, p, out)``, ``jacobian(x, p, out)``, see :class:`~dynsys.MapKernel`) and checked
against the Python function on fixed sample points. When it cannot, the numpy path is used and
one :class:`SlowPathWarning` says why (numba's error, shortened), how slow the numpy path is
(measured point-iterations per second) and how to write a function numba compiles.

The wrappers do the arithmetic of the numpy path in the same order (``x - lr * g`` for GD, the
same five-point differences as :mod:`._numdiff` for a missing gradient or Hessian, the same
symmetrisation of the Hessian), so the two paths agree to round-off of the user's own
function (numba's and numpy's elementary functions may differ in the last bit).

User functions are compiled with numba's on-disk cache when numba can cache them (functions
defined in a file; not those defined in a REPL or notebook cell). The few-line wrappers are
compiled in memory (they close over the user's compiled function), so is the generic basin loop
that takes them (see :mod:`dynsys.basins._kernels`): those recompile in each new process.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from collections.abc import Callable
import re
import time
import warnings
import weakref

import numpy as np

from .._numba import numba
from ._map import MapKernel
from ._numdiff import _STENCIL, _WEIGHTS

__all__ = ["AutoKernel", "SlowPathWarning", "Uncompilable", "compile_map_kernel",
           "compile_gd_kernel", "fallback_warning", "matches", "memoised", "numpy_rate"]

#: How many point-iterations per second the generic compiled loop runs on a user's own model,
#: for the warning's comparison: ``(low, high)``, GD on a 2-D loss given without its gradient
#: (a difference gradient inside numba) and with it. Measured by
#: ``NUMBA_NUM_THREADS=1 python benchmarks/bench_user_model.py --quick`` (one core, load 3,
#: December 2026): 5.7e6 and 8.3e7 (gradient returning an array) to 1.0e8 (a tuple) point-iterations/s (min
#: of 7 rounds); the value 1e7 used before was measured on the built-in model's GD kernel
#: through the loop before the tuple step (2.3e7 today).
COMPILED_RATE = (5e6, 1e8)

HOWTO = ("write it for one point (x a float64 array of shape (dim,), parameters as float "
         "arguments) with numpy/math functions on floats and arrays, return an array or a tuple, "
         "and avoid Python objects (dicts, lists of mixed types, scipy, classes); see the "
         "'fast path for your own model' section of docs/tutorial.md")


class SlowPathWarning(UserWarning):
    """A user function could not be compiled: an analysis runs the (much slower) numpy path."""


@dataclasses.dataclass(frozen=True)
class AutoKernel(MapKernel):
    """A :class:`~dynsys.MapKernel` that numba compiled from the user's Python functions.

    ``cached`` says whether numba keeps the user's compiled functions in its on-disk cache
    (a function defined in a REPL or notebook cell cannot be cached); ``source`` names the
    functions it was built from; ``final(states, loss, sharpness)`` (GD on a user loss) fills
    the loss and the sharpness at final states (NaN where not finite), as the numpy
    ``model.loss`` and ``model.sharpness`` compute them; ``tstep(x, p) -> y`` (GD on a user
    gradient that numba also compiles for ``x`` a tuple of floats) is the step on tuples, equal
    to ``step`` bit for bit on the sample points, which the generic basin loop runs on
    registers (see :mod:`dynsys.basins._kernels`).
    """

    cached: bool = False
    source: str = ""
    final: Callable | None = None
    tstep: Callable | None = None


# -- results memoised per user function (so that one warning is given, and one compilation) ----
_MEMO: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def memoised(owner, key, build, valid=None):
    """Return ``build()`` memoised on the object ``owner`` (weakly held) and ``key``; a
    memoised value for which ``valid(value)`` is False is built again (numba froze the
    globals a user function read when it was compiled: if they changed since, the compiled
    function no longer equals the Python one)."""
    try:
        table = _MEMO.setdefault(owner, {})
    except TypeError:                       # not weak-referenceable: no memo
        return build()
    if key in table and valid is not None and not valid(table[key]):
        del table[key]
    if key not in table:
        table[key] = build()
    return table[key]


def matches(kernel, python_step, dim: int, p) -> bool:
    """Return whether ``kernel.step`` (an :class:`AutoKernel`) still equals ``python_step`` on
    the sample points (True for anything that is not a kernel)."""
    if not isinstance(kernel, AutoKernel):
        return True
    try:
        _check(kernel.step, python_step, dim, (dim,), np.asarray(p, dtype=float), "step")
    except Uncompilable:
        return False
    return True


# -- helpers the generated wrappers call: one entry of what the user returned --------------------
def _component(y, i):                       # pragma: no cover  (the Python twin of the overload)
    return float(np.ravel(y)[i]) if np.ndim(y) else float(y)


def _entry(y, r, c, d):                     # pragma: no cover
    return float(np.ravel(y)[r * d + c]) if np.ndim(y) else float(y)


@numba.extending.overload(_component)
def _component_nb(y, i):
    if isinstance(y, numba.types.Number):
        return lambda y, i: y
    if isinstance(y, numba.types.Array):
        if y.ndim == 0:
            return lambda y, i: y[()]
        if y.ndim == 1:
            return lambda y, i: y[i]
        return lambda y, i: y.ravel()[i]
    return lambda y, i: y[i]


@numba.extending.overload(_entry)
def _entry_nb(y, r, c, d):
    if isinstance(y, numba.types.Number):
        return lambda y, r, c, d: y
    if isinstance(y, numba.types.Array):
        if y.ndim == 0:
            return lambda y, r, c, d: y[()]
        if y.ndim == 1:
            return lambda y, r, c, d: y[r * d + c]
        if y.ndim == 2:
            return lambda y, r, c, d: y[r, c]
        return lambda y, r, c, d: y.ravel()[r * d + c]
    return lambda y, r, c, d: y[r][c]


# -- compiling ----------------------------------------------------------------------------------
class Uncompilable(Exception):
    """Why a user function has no compiled kernel (the message is shown to the user)."""


def _shorten(exc: BaseException, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    keep = [ln for ln in lines if not ln.startswith(("Failed in nopython", "During:",
                                                     "- Resolution failure", "Rewrite"))]
    msg = " / ".join((keep or lines or [type(exc).__name__])[:3])
    msg = f"{type(exc).__name__}: {msg}"
    return msg if len(msg) <= limit else msg[:limit - 3] + "..."


_USE_CACHE = [True]


def _jit(func, what: str):
    """Return ``(dispatcher, cacheable)``: ``func`` compiled lazily by numba, with the on-disk
    cache when numba can locate a file for it."""
    if isinstance(func, numba.core.dispatcher.Dispatcher):
        return func, bool(getattr(func, "_cache", None)) and not isinstance(
            func._cache, numba.core.caching.NullCache)
    if not callable(func):
        raise Uncompilable(f"{what} is not a function")
    if _USE_CACHE[0]:
        try:
            return numba.njit(cache=True)(func), True
        except Exception:                      # defined in a REPL / exec: no file to cache in
            pass
    try:
        return numba.njit(func), False
    except Exception as exc:
        raise Uncompilable(f"{what}: {_shorten(exc)}") from None


def _exec(source: str, name: str, namespace: dict):
    namespace = {"np": np, "_component": _component, "_entry": _entry, **namespace}
    exec(compile(source, f"<dynsys compiled {name}>", "exec"), namespace)   # noqa: S102
    return numba.njit(error_model="numpy")(namespace[name])


def _trigger(funcs, args_list):
    """Compile ``funcs`` by calling them on ``args_list``; return whether numba could cache
    the user's functions (no "cannot cache" warning)."""
    cached = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for f, args in zip(funcs, args_list, strict=True):
            try:
                with np.errstate(all="ignore"):
                    f(*args)
            except Exception as exc:
                raise Uncompilable(_shorten(exc)) from None
    for w in caught:
        if "cache" in str(w.message).lower():
            cached = False
    return cached


def _samples(dim: int, n: int = 6) -> np.ndarray:
    """Fixed sample points for checking a compiled function against the Python one."""
    rng = np.random.default_rng(1234)
    return np.ascontiguousarray(0.7 * rng.standard_normal((n, dim)))


def _check(kernel_fn, python_fn, dim, shape, p, what: str):
    """Raise if the compiled ``kernel_fn(x, p, out)`` differs from ``python_fn(x)``."""
    worst = 0.0
    for x in _samples(dim):
        out = np.empty(shape)
        with np.errstate(all="ignore"):
            kernel_fn(x, p, out)
            try:
                ref = np.asarray(python_fn(x), dtype=float).reshape(shape)
            except Exception:
                continue
        both = np.isfinite(out) & np.isfinite(ref)
        if not np.array_equal(np.isfinite(out), np.isfinite(ref)):
            raise Uncompilable(f"the compiled {what} is not finite where the Python one is "
                                f"(or the other way round) at x = {x.tolist()}")
        if both.any():
            err = np.max(np.abs(out[both] - ref[both]) / (1.0 + np.abs(ref[both])))
            worst = max(worst, float(err))
    if worst > 1e-9:
        raise Uncompilable(f"the compiled {what} differs from the Python one by {worst:.2e} "
                            f"(relative) on sample points")


def _kwargs_call(name: str, names) -> str:
    if all(n.isidentifier() for n in names):
        args = "".join(f", {n}=p[{k}]" for k, n in enumerate(names))
    else:
        args = "".join(f", p[{k}]" for k in range(len(names)))
    return f"{name}(x{args})"


def _retry_uncached(build):
    """Return ``build()``; if that fails, ``build()`` again without numba's disk cache. The
    cache keys a function by its code, not by the globals numba froze into it, so an entry
    compiled when a global had another value loads stale (and fails the check)."""
    try:
        return build()
    except Uncompilable:
        _USE_CACHE[0] = False
        try:
            return build()
        finally:
            _USE_CACHE[0] = True


def compile_map_kernel(*args) -> AutoKernel:
    """Return an :class:`AutoKernel` for a map (see :func:`_compile_map_kernel`)."""
    return _retry_uncached(lambda: _compile_map_kernel(*args))


def compile_gd_kernel(*args) -> AutoKernel:
    """Return an :class:`AutoKernel` for GD on a user loss (see :func:`_compile_gd_kernel`)."""
    return _retry_uncached(lambda: _compile_gd_kernel(*args))


def _compile_map_kernel(step, jacobian, dim: int, param_names, python_step, python_jacobian,
                        params) -> AutoKernel:
    """Return an :class:`AutoKernel` for a map's ``step(x, **params)`` (and ``jacobian``).

    ``python_step(x)``/``python_jacobian(x)`` are the numpy versions at the parameter values
    ``params`` (a float array in ``param_names`` order), against which the compiled ones are
    checked. Raises ``Uncompilable`` with the reason when numba cannot compile them.
    """
    f, cached = _jit(step, "step")
    lines = [f"def step(x, p, out):\n    y = {_kwargs_call('f', param_names)}\n"]
    lines += [f"    out[{i}] = _component(y, {i})\n" for i in range(dim)]
    kstep = _exec("".join(lines), "step", {"f": f})
    kjac = None
    funcs, args = [kstep], [(_samples(dim)[0], params, np.empty(dim))]
    if jacobian is not None:
        jf, jcached = _jit(jacobian, "jacobian")
        cached = cached and jcached
        body = [f"def jac(x, p, out):\n    y = {_kwargs_call('jf', param_names)}\n"]
        body += [f"    out[{r}, {c}] = _entry(y, {r}, {c}, {dim})\n"
                 for r in range(dim) for c in range(dim)]
        kjac = _exec("".join(body), "jac", {"jf": jf})
        funcs.append(kjac)
        args.append((_samples(dim)[0], params, np.empty((dim, dim))))
    cached = _trigger(funcs, args) and cached
    _check(kstep, python_step, dim, (dim,), params, "step")
    if kjac is not None:
        _check(kjac, python_jacobian, dim, (dim, dim), params, "jacobian")
    names = getattr(step, "__name__", "step")
    return AutoKernel(kstep, kjac, tuple(param_names), (), cached=cached, source=names)


_FD_GRAD = """
def grad(x):
    g = np.empty(D)
    xp = x.copy()
    for j in range(D):
        h = REL * max(1.0, abs(x[j]))
        xj = x[j]
        xp[j] = xj + S0 * h
        f0 = _component(loss(xp), 0)
        xp[j] = xj + S1 * h
        f1 = _component(loss(xp), 0)
        xp[j] = xj + S2 * h
        f2 = _component(loss(xp), 0)
        xp[j] = xj + S3 * h
        f3 = _component(loss(xp), 0)
        xp[j] = xj
        g[j] = (W0 * f0 + W1 * f1 + W2 * f2 + W3 * f3) / h
    return g
"""

#: Largest dimension for which a loss without a gradient gets the tuple step (its source grows
#: as ``dim ** 2``).
TUPLE_FD_DIM = 8


def _fd_tuple_grad(dim: int) -> str:
    """Return the source of ``_FD_GRAD`` written out for ``x`` a tuple of ``dim`` floats (the
    loss called on tuples; the same operations in the same order)."""
    lines = ["def grad(x):"]
    for j in range(dim):
        lines.append(f"    h{j} = REL * max(1.0, abs(x[{j}]))")
        for k in range(4):
            pt = ", ".join(f"x[{j}] + S{k} * h{j}" if i == j else f"x[{i}]" for i in range(dim))
            lines.append(f"    f{j}_{k} = _component(loss(({pt},)), 0)")
    lines.append("    return (" + "".join(
        f"(W0 * f{j}_0 + W1 * f{j}_1 + W2 * f{j}_2 + W3 * f{j}_3) / h{j}, "
        for j in range(dim)) + ")")
    return "\n".join(lines) + "\n"


_USER_GRAD = """
def grad(x):
    y = ugrad(x)
    g = np.empty(D)
    for i in range(D):
        g[i] = _component(y, i)
    return g
"""

_FD_HESS = """
def hess(x):
    H = np.empty((D, D))
    xp = x.copy()
    for j in range(D):
        h = REL * max(1.0, abs(x[j]))
        xj = x[j]
        xp[j] = xj + S0 * h
        g0 = grad(xp)
        xp[j] = xj + S1 * h
        g1 = grad(xp)
        xp[j] = xj + S2 * h
        g2 = grad(xp)
        xp[j] = xj + S3 * h
        g3 = grad(xp)
        xp[j] = xj
        for m in range(D):
            H[m, j] = (W0 * g0[m] + W1 * g1[m] + W2 * g2[m] + W3 * g3[m]) / h
    return H
"""

_FINAL = """
def final(states, loss_out, sharp_out):
    n = states.shape[0]
    for i in range(n):
        x = states[i]
        finite = True
        for c in range(D):
            if not np.isfinite(x[c]):
                finite = False
        if not finite:
            loss_out[i] = np.nan
            sharp_out[i] = np.nan
            continue
        loss_out[i] = _component(uloss(x), 0)
        H = hess(x)
        S = np.empty((D, D))
        ok = True
        for r in range(D):
            for c in range(D):
                S[r, c] = 0.5 * (H[r, c] + H[c, r])
                if not np.isfinite(S[r, c]):
                    ok = False
        sharp_out[i] = np.linalg.eigvalsh(S)[D - 1] if ok else np.nan
"""


_USER_HESS = """
def hess(x):
    y = uhess(x)
    H = np.empty((D, D))
    for r in range(D):
        for c in range(D):
            H[r, c] = _entry(y, r, c, D)
    return H
"""

_GD_JAC = """
def jac(x, p, out):
    lr = p[0]
    H = hess(x)
    for r in range(D):
        for c in range(D):
            eye = 1.0 if r == c else 0.0
            out[r, c] = eye - lr * (0.5 * (H[r, c] + H[c, r]))
"""


def _compile_gd_kernel(loss, grad, hessian, dim: int, python_step, python_jacobian
                       ) -> AutoKernel:
    """Return an :class:`AutoKernel` for gradient descent ``theta - lr grad L(theta)`` on a
    user loss, with the Jacobian ``I - lr sym(H)`` (given a ``hessian``) for the Lyapunov window.

    A missing ``grad`` is the five-point difference of ``loss`` of :mod:`._numdiff` (the numpy
    path's). Without ``hessian`` the kernel has no Jacobian: the compiled loops then carry
    tangent vectors by a forward difference of the step (the numpy path by the difference
    Hessian), so finite-time Lyapunov exponents of the two paths agree to about 1e-7. ``python_step`` and
    ``python_jacobian`` (functions of ``x`` at ``lr = 1``) are the numpy path, against which the
    kernel is checked. Raises ``Uncompilable`` with the reason when numba cannot compile them.
    """
    consts = {"D": int(dim), "REL": 1e-3, **{f"S{k}": float(s) for k, s in enumerate(_STENCIL)},
              **{f"W{k}": float(w) for k, w in enumerate(_WEIGHTS)}}
    cached = True
    if grad is not None:
        ug, cached = _jit(grad, "grad")
        kgrad = _exec(_USER_GRAD, "grad", {**consts, "ugrad": ug})
    else:
        ul, cached = _jit(loss, "loss")
        kgrad = _exec(_FD_GRAD, "grad", {**consts, "loss": ul})
    if hessian is not None:
        uh, hcached = _jit(hessian, "hessian")
        cached = cached and hcached
        khess = _exec(_USER_HESS, "hess", {**consts, "uhess": uh})
        kjac = _exec(_GD_JAC, "jac", {**consts, "hess": khess})
    else:
        # no Hessian: the loop's tangent vector is a forward difference of the step (one more
        # step per iteration) rather than 4 P gradient calls of a difference Hessian; the
        # final sharpness uses the difference Hessian (as the numpy path does)
        khess = _exec(_FD_HESS, "hess", {**consts, "grad": kgrad})
        kjac = None
    ul = ul if grad is None else _jit(loss, "loss")[0]
    kfinal = _exec(_FINAL, "final", {**consts, "uloss": ul, "hess": khess})
    # the step calls the user's gradient directly (no copy into an array of ours: a tuple
    # returned by the user then costs no allocation at all)
    step_src = ("def step(x, p, out):\n    lr = p[0]\n    g = grad(x)\n"
                + "".join(f"    out[{i}] = x[{i}] - lr * _component(g, {i})\n"
                          for i in range(dim)))
    kstep = _exec(step_src, "step", {"grad": ug if grad is not None else kgrad})
    p = np.array([1.0])
    x = _samples(dim)[0]
    try:                    # the final loss and sharpness: optional (numpy if they fail)
        _trigger([kfinal], [(np.ascontiguousarray(x[None]), np.empty(1), np.empty(1))])
    except Uncompilable:
        kfinal = None
    funcs, args = [kstep], [(x, p, np.empty(dim))]
    if kjac is not None:
        funcs.append(kjac)
        args.append((x, p, np.empty((dim, dim))))
    cached = _trigger(funcs, args) and cached
    _check(kstep, python_step, dim, (dim,), p, "gradient step")
    if kjac is not None:
        _check(kjac, python_jacobian, dim, (dim, dim), p, "Jacobian of the gradient step")
    ktstep = None
    if grad is not None and kjac is None:
        variant = _tuple_return(grad)
        if variant is not None:
            ktstep = _tuple_step(numba.njit(variant), dim, kstep)
        if ktstep is None:
            ktstep = _tuple_step(ug, dim, kstep)
    elif kjac is None and dim <= TUPLE_FD_DIM:
        # the same five-point differences with the loss called on tuples (no array at all)
        ktstep = _tuple_step(_exec(_fd_tuple_grad(dim), "grad", {**consts, "loss": ul}), dim,
                             kstep)
    names = "/".join(getattr(f, "__name__", "?") for f in (loss, grad, hessian) if f is not None)
    return AutoKernel(kstep, kjac, ("lr",), (), cached=cached, source=names, final=kfinal,
                      tstep=ktstep)


class _ArrayReturnToTuple(ast.NodeTransformer):
    """``return np.array([a, b, ...])`` (or ``numpy.array``, ``np.asarray``) -> ``return (a, b,
    ...)``; counts the rewrites."""

    def __init__(self):
        self.count = 0

    def visit_Return(self, node):
        v = node.value
        if (isinstance(v, ast.Call) and len(v.args) == 1 and not v.keywords
                and isinstance(v.args[0], (ast.List, ast.Tuple))
                and isinstance(v.func, ast.Attribute) and v.func.attr in ("array", "asarray")
                and isinstance(v.func.value, ast.Name) and v.func.value.id in ("np", "numpy")):
            node.value = ast.Tuple(elts=v.args[0].elts, ctx=ast.Load())
            self.count += 1
        return node


def _tuple_return(func):
    """Return a copy of the user's Python function ``func`` whose ``return np.array([...])``
    statements return the tuple of the same entries instead (the gradient then costs no
    allocation), or None (no such return, no source, a lambda or a decorated function).
    The copy is only used when its step equals the original's bit for bit (:func:`_tuple_step`)."""
    func = getattr(func, "py_func", func)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef):
        return None
    fdef = tree.body[0]
    if fdef.decorator_list or fdef.name != func.__name__:
        return None
    rewrite = _ArrayReturnToTuple()
    rewrite.visit(fdef)
    if rewrite.count == 0:
        return None
    namespace = dict(func.__globals__)
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:
            return None
    try:
        exec(compile(ast.fix_missing_locations(tree),           # noqa: S102
                     f"<dynsys tuple-returning copy of {func.__name__}>", "exec"), namespace)
    except Exception:
        return None
    return namespace[fdef.name]


def _tuple_step(ugrad, dim: int, kstep):
    """Return GD on the user's compiled gradient ``ugrad`` for ``x`` a tuple of ``dim`` floats
    (``tstep(x, p) -> tuple``, ``p = (lr,)``), or None when numba cannot compile the gradient for a tuple
    (``x @ A``, ``x.shape``, ... need an array) or the result differs from ``kstep``'s by a bit
    on the sample points."""
    src = ("def tstep(x, p):\n    lr = p[0]\n    g = grad(x)\n    return ("
           + "".join(f"x[{i}] - lr * _component(g, {i}), " for i in range(dim)) + ")\n")
    tstep = _exec(src, "tstep", {"grad": ugrad})
    p = np.array([1.0])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for x in _samples(dim):
                ref = np.empty(dim)
                with np.errstate(all="ignore"):
                    kstep(x, p, ref)
                    got = np.array(tstep(tuple(float(v) for v in x), (1.0,)), dtype=float)
                if not np.array_equal(got, ref, equal_nan=True):
                    return None
    except Exception:
        return None
    return tstep


def numpy_rate(batch_step, dim: int, n: int = 512) -> float:
    """Return the measured point-iterations per second of ``batch_step`` on ``n`` points."""
    x = np.ascontiguousarray(0.7 * np.random.default_rng(99).standard_normal((n, dim)))
    with np.errstate(all="ignore"):
        try:
            batch_step(x[:2])                      # let a batch function detect its convention
            t0 = time.perf_counter()
            batch_step(x)
            dt = time.perf_counter() - t0
        except Exception:
            return float("nan")
    return n / max(dt, 1e-9)


def _caller_level() -> int:
    """Return the ``stacklevel`` that points a warning (raised by the caller of this function)
    at the first frame outside dynsys: the user's call of an analysis, whichever it is."""
    import os
    import sys

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def fallback_warning(what: str, reason: str, rate: float, stacklevel: int | None = None
                     ) -> None:
    """Warn once that ``what`` runs the numpy path, why, and how slow it is (pointing at the
    first frame outside dynsys unless ``stacklevel`` is given)."""
    low, high = COMPILED_RATE
    speed = (f"about {rate:.1e} point-iterations/s (the compiled loop runs about "
             f"{low:.0e} to {high:.0e} per core)" if np.isfinite(rate) else "much slower")
    warnings.warn(f"{what} could not be compiled by numba, so it runs on the numpy path at "
                  f"{speed}. Reason: {reason}. To get the fast path, {HOWTO}. Pass jit=False "
                  f"to silence this warning.", SlowPathWarning,
                  stacklevel=_caller_level() if stacklevel is None else stacklevel)
