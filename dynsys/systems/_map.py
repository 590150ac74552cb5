"""The map protocol: ``x_{n+1} = step(x_n; params)``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np

from .. import _validate as check
from . import _numdiff
from ._vectorise import BatchFunction


@dataclasses.dataclass(frozen=True)
class MapKernel:
    """Compiled (numba ``njit``) versions of a map, used by the hot loops when present.

    Implementers provide module-level ``@njit(cache=True)`` functions

    * ``step(x, p, out)``: write the image of one point ``x`` (float64[dim]) into ``out``;
    * ``jacobian(x, p, out)``: write the ``(dim, dim)`` Jacobian into ``out`` (optional);
    * ``escapes(p, radius2) -> bool`` (optional): True only if, for the parameters ``p``, every
      state beyond the divergence radius (squared norm not ``<= radius2``, NaN and infinities
      included) is mapped by ``step``, as it computes in floating point, to a state beyond it
      again: an exit from the radius is permanent. It unlocks the orbit-diagram loop's cheaper
      divergence test (one test per window of steps instead of one per step; the exit step is
      still found exactly, by replay). False is always safe; a True that is wrong gives wrong
      exit steps. ``tests/test_conformance.py`` checks the property where a map claims it;

    where ``p`` is a float64 array of the map's parameter values in ``param_names`` order,
    followed by ``constants`` (fixed numbers the kernel needs that are not map parameters, such
    as a model's ``eps`` in its GD map).
    """

    step: Callable
    jacobian: Callable | None
    param_names: tuple[str, ...]
    constants: tuple[float, ...] = ()
    escapes: Callable | None = None


class Map:
    """A discrete dynamical system ``x' = step(x, **params)`` on R^dim.

    What an implementer must provide:

    1. ``step(x, **params)``: the image of ``x``; ``x`` has shape ``(..., dim)`` and the result
       the same shape. It may be written for one point (shape ``(dim,)``) and is then looped for
       you, or for batches (detected automatically on the first batch call, or said with
       ``vectorized=``).
    2. ``dim`` and ``params``, a dict of named scalar parameters passed to ``step`` as keywords.

    That is enough for every analysis (trajectories, orbits, Lyapunov spectra, basins in a
    numpy loop, orbit diagrams, continuation). The optional hooks below unlock more; every
    algorithm asks for the hook, and ``tests/test_conformance.py`` checks each against the
    generic path:

    1. ``jacobian(x, **params)``: ``(..., dim, dim)``, ``J[i, j] = d step_i / d x_j``. Without
       it the Jacobian is computed by fourth-order central differences (accurate to ~1e-10 for
       smooth maps with O(1) derivatives); with it multipliers, Lyapunov spectra and Newton
       steps are exact.
    2. ``kernel``: a :class:`MapKernel` of numba functions; unlocks the compiled loops of
       basins, trajectories, orbit diagrams and Lyapunov spectra (checked to equal ``step``).
    3. ``symmetries``: ``(dim, dim)`` matrices ``S`` with ``step(S x) = S step(x)``; orbits
       related by them are reported once.
    4. ``default_box(value) -> ((lo, hi), ...)`` and ``default_range(param) -> (lo, hi)``:
       the box of starts where the dynamics happen (the default grid of
       :func:`~dynsys.basins`) and the interesting interval of a parameter (the CLI's default
       sweep); the built-in maps have them.

    Without a ``kernel``, :meth:`compiled` (which basins, basin fractions, trajectories, orbit
    diagrams and Lyapunov spectra call) compiles ``step`` and ``jacobian`` with numba when they
    compile for one point, giving the compiled loops' speed (``jit=None``, the default;
    ``jit=True`` makes failing to compile an error, ``jit=False`` keeps the numpy path). When
    they do not compile, one :class:`~dynsys.SlowPathWarning` says why and how slow the numpy
    path is.

    Examples
    --------
    >>> import dynsys
    >>> m = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.2}, name="logistic")
    >>> m.step([0.5])
    array([0.8])
    >>> m.with_params(r=2.0).step([0.5])
    array([0.5])
    >>> m.jacobian([0.5]).round(10)
    array([[0.]])
    """

    def __init__(self, step, jacobian=None, *, dim, params: Mapping | None = None,
                 name: str | None = None, vectorized: bool | None = None,
                 kernel: MapKernel | None = None, symmetries=None, jit: bool | None = None):
        dim = check.integer("dim", dim, minimum=1)
        if jit is not None and not isinstance(jit, bool | np.bool_):
            raise TypeError(f"jit must be True, False or None, got {jit!r}")
        self._jit = None if jit is None else bool(jit)
        if not callable(step):
            raise TypeError(f"step must be callable, got {type(step).__name__}")
        if jacobian is not None and not callable(jacobian):
            raise TypeError(f"jacobian must be callable or None, got {type(jacobian).__name__}")
        if params is None:
            params = {}
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of named scalars, got {type(params).__name__}")
        self.dim = dim
        self.params = {str(k): check.real(f"params[{k!r}]", v) for k, v in params.items()}
        self.name = str(name) if name is not None else getattr(step, "__name__", "map")
        self._step_fn = step
        self._jac_fn = jacobian
        self._vectorized = vectorized
        self._step = BatchFunction(step, dim, (dim,), vectorized=vectorized, name="step")
        self._jac = (BatchFunction(jacobian, dim, (dim, dim), vectorized=vectorized,
                                   name="jacobian") if jacobian is not None else None)
        if vectorized is not None and not isinstance(vectorized, bool | np.bool_):
            raise TypeError(f"vectorized must be True, False or None, got {vectorized!r}")
        if kernel is not None and not isinstance(kernel, MapKernel):
            raise TypeError(f"kernel must be a MapKernel or None, got {type(kernel).__name__}")
        self.kernel = kernel
        if kernel is not None and tuple(kernel.param_names) != tuple(self.params):
            raise ValueError(f"kernel.param_names {kernel.param_names} must match the params "
                             f"{tuple(self.params)}")
        if symmetries is not None and (isinstance(symmetries, str | bytes)
                                       or not np.iterable(symmetries)):
            raise TypeError(f"symmetries must be a list of ({dim}, {dim}) matrices, got "
                            f"{type(symmetries).__name__}")
        syms = [] if symmetries is None else [check.array(f"symmetries[{i}]", s)
                                              for i, s in enumerate(symmetries)]
        for s in syms:
            if s.shape != (dim, dim):
                raise ValueError(f"each symmetry must be a ({dim}, {dim}) matrix, got {s.shape}")
        self.symmetries = syms

    # -- parameters -------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        """The names of the map's parameters, in order."""
        return tuple(self.params)

    def _resolve(self, overrides: Mapping) -> dict:
        unknown = set(overrides) - set(self.params)
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} for map {self.name!r}; "
                             f"its parameters are {list(self.params)}")
        out = dict(self.params)
        for key, value in overrides.items():
            out[key] = check.real(key, value)
        return out

    def with_params(self, **params) -> Map:
        """Return a copy of the map with some parameters changed."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.params = self._resolve(params)
        return new

    @property
    def step_scale(self) -> float:
        """Return the scale of the map's steps, 1 (a gradient-descent map: its ``lr``): the
        step test of the stopping rule is relative to it (see :class:`~dynsys.StoppingRule`)."""
        return 1.0

    def describe(self) -> dict:
        """Return the map's scalar parameters (for provenance attrs)."""
        return dict(self.params)

    def param_vector(self, **overrides) -> np.ndarray:
        """Return the kernel's parameter vector: the parameter values in ``param_names`` order,
        then the kernel's constants (if the map has a kernel)."""
        resolved = self._resolve(overrides)
        constants = tuple(self.kernel.constants) if self.kernel is not None else ()
        return np.array([resolved[k] for k in self.params] + list(constants), dtype=float)

    # -- evaluation -------------------------------------------------------------------------
    def step(self, x, **params) -> np.ndarray:
        """Return the image of ``x`` (shape ``(..., dim)``) under the map."""
        x = check.array("x", x, dim=self.dim, finite=False)
        return self._step(x, **self._resolve(params))

    __call__ = step

    def batch_step(self, **params):
        """Return ``f(x)``, the map at these parameters on a batch ``x`` of shape
        ``(n, dim)``, without the input checks of :meth:`step` (for loops that call it often).
        """
        resolved = self._resolve(params)
        fn = self._step
        return lambda x: fn(x, **resolved)

    def jacobian(self, x, **params) -> np.ndarray:
        """Return the Jacobian ``(..., dim, dim)`` at ``x`` (analytic if given, else numerical)."""
        x = check.array("x", x, dim=self.dim, finite=False)
        resolved = self._resolve(params)
        if self._jac is not None:
            return self._jac(x, **resolved)
        return _numdiff.jacobian(lambda p: self._step(p, **resolved), x)

    def compiled(self, numpy_rate=None) -> Map:
        """Return the map with a compiled kernel when it can have one.

        The map itself if it has a ``kernel`` (or was made with ``jit=False``); else a copy whose
        ``kernel`` is an :class:`~dynsys.systems.AutoKernel` numba compiled from ``step`` (and
        ``jacobian``), checked against them on sample points; else, when they do not compile,
        the map itself after one :class:`~dynsys.SlowPathWarning` (a ``ValueError`` with
        ``jit=True``). Compilation happens once per step function. ``numpy_rate(map)``, if
        given, estimates the point-iterations per second of the numpy path for the warning
        (the default times ``step`` alone on a batch).

        Examples
        --------
        >>> import dynsys
        >>> m = dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.2})
        >>> fast = m.compiled()
        >>> m.kernel is None, type(fast.kernel).__name__, fast.kernel.param_names
        (True, 'AutoKernel', ('r',))
        """
        if self.kernel is not None or self._jit is False:
            return self
        kernel = self._auto_kernel(numpy_rate)
        if kernel is None:
            return self
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.kernel = kernel
        return new

    def _auto_kernel(self, numpy_rate):
        from . import _autojit

        resolved = dict(self.params)
        p = np.array([resolved[k] for k in self.params], dtype=float)

        def build():
            jac = self._jac
            try:
                return _autojit.compile_map_kernel(
                    self._step_fn, self._jac_fn, self.dim, self.param_names,
                    lambda x: self._step(x, **resolved),
                    None if jac is None else (lambda x: jac(x, **resolved)), p)
            except _autojit.Uncompilable as exc:
                return exc

        def warn():
            rate = (numpy_rate(self) if numpy_rate is not None
                    else _autojit.numpy_rate(self.batch_step(), self.dim))
            _autojit.fallback_warning(f"map {self.name!r}", str(result), rate)
            return True

        key = ("map", id(self._jac_fn), self.dim, self.param_names)
        python_step = lambda x: self._step(x, **resolved)   # noqa: E731
        result = _autojit.memoised(self._step_fn, key, build, valid=lambda k: _autojit.matches(
            k, python_step, self.dim, p))
        if not isinstance(result, _autojit.Uncompilable):
            return result
        if self._jit:
            raise ValueError(f"map {self.name!r} was made with jit=True but numba cannot "
                             f"compile it: {result}")
        _autojit.memoised(self._step_fn, key + ("warned",), warn)
        return None

    @property
    def step_function(self):
        """The ``step`` callable the map was built from (as given, before vectorising)."""
        return self._step_fn

    @property
    def has_analytic_jacobian(self) -> bool:
        """Whether the map was given a Jacobian (otherwise it is computed numerically)."""
        return self._jac is not None

    def iterate(self, x, n: int, **params) -> np.ndarray:
        """Return the ``n``-th iterate of ``x`` (no intermediate states are kept)."""
        n = check.integer("n", n, minimum=0)
        x = check.array("x", x, dim=self.dim, finite=False)
        resolved = self._resolve(params)
        with np.errstate(all="ignore"):
            for _ in range(n):
                x = self._step(x, **resolved)
        return x

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Map({self.name}, dim={self.dim}{', ' if params else ''}{params})"


def point_rate(mapping, n: int = 32) -> float:
    """Return the measured point-iterations per second of ``mapping.step`` called on one point
    at a time (the numpy path of the analyses that follow one orbit)."""
    import time

    x = np.full(mapping.dim, 0.3)
    with np.errstate(all="ignore"):
        try:
            mapping.step(x)
            t0 = time.perf_counter()
            for _ in range(n):
                mapping.step(x)
            dt = time.perf_counter() - t0
        except Exception:
            return float("nan")
    return n / max(dt, 1e-9)


def compiled(mapping, numpy_rate=point_rate):
    """Return the map an analysis runs: the result of the map's ``compiled`` hook (a copy with
    a kernel numba compiled from a user's ``step`` or ``Model.from_loss`` functions, see
    :meth:`Map.compiled` and :meth:`dynsys.GDMap.compiled`), or the map itself when it has no
    such hook.

    Trajectories, orbit diagrams and Lyapunov spectra ask for it (basins too, with the rate of
    their batch loop), so a user's map or model runs in their compiled loops without a
    ``kernel`` of its own; when numba cannot compile it, one :class:`~dynsys.SlowPathWarning`
    is given (with the speed ``numpy_rate(mapping)`` measures: by default one point at a time,
    as these analyses call the map) and the map itself, the numpy path, is returned.
    """
    hook = getattr(mapping, "compiled", None)
    return hook(numpy_rate=numpy_rate) if callable(hook) else mapping
