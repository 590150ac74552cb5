"""Pseudo-arclength continuation of fixed points and cycles in a named parameter: tracing,
step-size control, special points, branch switching and period-doubling cascades.

Step-size control follows the branch, not the parameter range:

* a step is accepted only if its corrector converged inside the parameter range, moved the
  point by at most twice the step, stayed close to the predictor, turned the tangent by less
  than about 11 degrees, changed the multipliers by at most a quarter of their scale
  ``1 + max |mu|`` and did not fall onto an orbit of a smaller period; otherwise the step is
  halved (these reject a corrector that lands on another orbit);
* after an accepted step the next one grows (up to 1.6 times) after fast convergence and a
  small change of the multipliers, and shrinks so that the multipliers change by about a tenth
  of their scale per step: every stable interval of every cycle gets about ten or more nodes,
  whatever the width of the range;
* the last node lies exactly on the end of the range (a corrector with the parameter fixed);
* the first step after a switch is at most the distance (in the parameter) from the switch
  point to its neighbouring special point on the parent branch.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _validate as check
from ..models import Model
from ..models import GDMap, gd_map
from ..systems import Map
from . import _special_points as sp
from ._normal_form import flip_coefficients
from ._problem import FixedPointProblem, NewtonError, solve_state
from ._result import KINDS, Branch, ContinuationResult, Options, _deprecated_range

#: Acceptance thresholds of a continuation step (see the module docstring).
_MAX_TURN_COS = 0.98
_MAX_MULTIPLIER_CHANGE = 0.25
_TARGET_MULTIPLIER_CHANGE = 0.1
_MAX_CORRECTION = 0.5
_GROWTH = 1.6


class RejectedStep(RuntimeError):
    """A corrected point that does not continue the branch (another orbit, too far, ...)."""


# -- acceptance and step size -------------------------------------------------------------
def _multiplier_change(old, new) -> float:
    """Return the symmetric Hausdorff distance between two multiplier sets over their scale."""
    if not (np.all(np.isfinite(old)) and np.all(np.isfinite(new))):
        return np.inf
    d = np.abs(old[:, None] - new[None, :])
    return float(max(d.min(axis=1).max(), d.min(axis=0).max())
                 / (1.0 + np.abs(old).max()))


def _proper_divisors(n: int) -> list[int]:
    return [d for d in range(1, n) if n % d == 0]


def _collapsed(problem, u) -> bool:
    """Return whether the point ``u`` is (to rounding) a fixed point of a lower iterate."""
    if problem.period == 1:
        return False
    x, _, p = problem.split(u)
    scale = 1e-9 * (1.0 + float(np.max(np.abs(x))))
    return any(np.max(np.abs(problem.step(x, p, d) - x)) <= scale
               for d in _proper_divisors(problem.period))


def _accept(problem, u, t, mult, u_new, t_new, mult_new, pred, h, opts, *, first=False):
    """Raise :class:`RejectedStep` unless ``u_new`` continues the branch from ``u``."""
    tiny = h <= 4 * opts.min_step
    if np.linalg.norm(u_new - u) > 2.0 * h + 1e3 * opts.tol * problem.scale(u):
        raise RejectedStep("the corrector moved too far")
    if np.linalg.norm(u_new - pred) > _MAX_CORRECTION * h + 1e3 * opts.tol * problem.scale(u):
        raise RejectedStep("the corrector moved too far from the predictor")
    if not tiny and not first and t_new @ t < _MAX_TURN_COS:
        raise RejectedStep("the tangent turned too fast")
    if not tiny and _multiplier_change(mult, mult_new) > _MAX_MULTIPLIER_CHANGE:
        raise RejectedStep("the multipliers jumped")
    if _collapsed(problem, u_new) and not _collapsed(problem, u):
        raise RejectedStep("the corrector fell onto an orbit of a smaller period")


def _next_step(h, iters, change, opts) -> float:
    factor = _GROWTH if iters <= 3 else (1.0 if iters < 6 else 0.6)
    if change > 0:
        factor = min(factor, max(0.5, _TARGET_MULTIPLIER_CHANGE / change))
    return float(min(opts.max_step, max(opts.min_step, h * factor)))


# -- tracing ------------------------------------------------------------------------------
def trace(problem, u0, t0, opts: Options, *, step: float | None = None):
    """Return ``(points, tangents, reason)``: the branch from ``u0`` in direction ``t0`` until
    the parameter reaches an end of ``problem.domain`` (the last node lies exactly on it), the
    step underflows, the state exceeds ``opts.max_state`` or ``opts.max_points`` is reached."""
    lo, hi = problem.domain
    pts, tans = [u0], [t0]
    u, t = u0, t0
    h = opts.step if step is None else step
    mult = problem.multipliers(u0)
    e_p = np.zeros(problem.n_unknowns)
    e_p[-1] = 1.0
    reason = "max_points"
    while len(pts) < opts.max_points:
        if h < opts.min_step:
            reason = "step_underflow"
            break
        pred, constraint, h_eff, end = u + h * t, t, h, None
        if not lo <= pred[-1] <= hi:
            end = hi if pred[-1] > hi else lo
            h_eff = (end - u[-1]) / t[-1]
            if h_eff <= 0.0:                     # already on the end, pointing out
                reason = "param_range"
                break
            pred = u + h_eff * t
            pred[-1] = end
            constraint = e_p                     # land exactly on the end of the range
        try:
            u_new, iters = problem.correct(pred, constraint, tol=opts.tol)
            t_new = problem.tangent(u_new, t)
            mult_new = problem.multipliers(u_new)
            _accept(problem, u, t, mult, u_new, t_new, mult_new, pred, h_eff, opts)
        except (NewtonError, RejectedStep, np.linalg.LinAlgError):
            h = 0.5 * min(h, h_eff)
            continue
        pts.append(u_new)
        tans.append(t_new)
        if end is not None:
            reason = "param_range"
            break
        if np.max(np.abs(u_new[: problem.n])) > opts.max_state:
            reason = "max_state"
            break
        h = _next_step(h, iters, _multiplier_change(mult, mult_new), opts)
        u, t, mult = u_new, t_new, mult_new
    return pts, tans, reason


def trace_both(problem, u0, t0, opts, direction="both"):
    """Return ``(U, T, ends, start)`` of the whole branch through ``u0`` (both directions
    joined, ordered along ``t0``); ``start`` is the index of ``u0``."""
    fwd, tf, rf = ([u0], [t0], "start")
    back, tb, rb = ([u0], [-t0], "start")
    if direction in ("both", "forward"):
        fwd, tf, rf = trace(problem, u0, t0, opts)
    if direction in ("both", "backward"):
        back, tb, rb = trace(problem, u0, -t0, opts)
    pts = back[::-1] + fwd[1:]
    tans = [-t for t in tb[::-1]] + tf[1:]
    return np.array(pts), np.array(tans), (rb, rf), len(back) - 1


# -- special points -----------------------------------------------------------------------
def detect(problem, U, T, *, skip=(), start=None, tol: float):
    """Return ``(U, T, found)`` with every special point located and inserted into the branch;
    ``found`` lists ``(index, kind, u, t)`` in branch order. Intervals ``(i, i + 1)`` with
    ``i`` in ``skip`` are not searched (those touching the point a branch was switched from,
    where the test functions of the new branch vanish by construction). At the node ``start``
    (the start of a continuation) a test function that vanishes there counts as a zero."""
    values = [sp.evaluate(problem, u, t) for u, t in zip(U, T, strict=True)]
    at_start = set(sp.vanishing(problem, U[start], T[start])) if start is not None else set()
    new_u, new_t, found = [U[0]], [T[0]], []

    def near_start(u) -> bool:
        return bool(np.linalg.norm(u - U[start]) <= 1e-7 * problem.scale(u))

    if start == 0:
        for kind in sorted(at_start, key=KINDS.index):
            found.append((0, kind, U[0], T[0]))
    for i in range(len(U) - 1):
        hits = []
        if i not in skip:
            for kind in KINDS:
                a, b = values[i][kind], values[i + 1][kind]
                if np.isfinite(a) and np.isfinite(b) and a * b < 0:
                    s_end = float(T[i] @ (U[i + 1] - U[i]))
                    located = sp.locate(problem, kind, U[i], T[i], s_end, tol=tol)
                    if located is None:
                        continue
                    u, t = located
                    if kind in at_start and near_start(u):
                        continue             # the zero at the start node, reported there
                    if sp.is_genuine(problem, kind, u):
                        hits.append((float(T[i] @ (u - U[i])), kind, u, t))
        for _, kind, u, t in sorted(hits, key=lambda h: h[0]):
            found.append((len(new_u), kind, u, t))
            new_u.append(u)
            new_t.append(t)
        if start is not None and i + 1 == start:
            for kind in sorted(at_start, key=KINDS.index):
                found.append((len(new_u), kind, U[i + 1], T[i + 1]))
        new_u.append(U[i + 1])
        new_t.append(T[i + 1])
    return np.array(new_u), np.array(new_t), found


def _records(result, problem, found, branch_index):
    counts = {k: sum(p["kind"] == k for p in result.points) for k in KINDS}
    out = []
    for position, kind, u, t in found:
        counts[kind] += 1
        x, _, p = problem.split(u)
        record = {"label": f"{kind}{counts[kind]}", "kind": kind, "branch": branch_index,
                  "index": position, "u": u, "t": t, "period": problem.period,
                  "multipliers": problem.multipliers(u), "normal_form": np.nan,
                  "rate": np.nan, "drift": np.nan, "criticality": "", "eigenvector": None}
        if kind == "PD":
            coefficients = flip_coefficients(problem, x, p)
            record.update({k: coefficients[k] for k in
                           ("normal_form", "rate", "drift", "criticality", "eigenvector")})
        out.append(record)
    return out


def add_branch(result, problem, U, T, *, parent, ends, skip=(), start=None):
    """Return ``result`` extended by the branch ``(U, T)`` with its special points detected."""
    U, T, found = detect(problem, U, T, skip=skip, start=start,
                         tol=min(result.options.tol, 1e-12))
    index = len(result.raw_branches)
    name = f"branch{index}"
    records = _records(result, problem, found, index)
    edges = [(parent, name, "switch")] if parent is not None else []
    edges += [(name, r["label"], "contains") for r in records]
    return result.extended(Branch(problem, U, T, parent, ends), records, edges)


# -- families of fixed points -------------------------------------------------------------
def _rank_deficient(problem, u, rel: float = 1e-8) -> bool:
    sv = np.linalg.svd(problem.jacobian(u), compute_uv=False)
    return bool(sv[-1] <= rel * max(1.0, sv[0]))


def family_basis(problem, x, p, *, rel: float = 1e-8):
    """Return ``(L, R)``: orthonormal left and right null bases of ``DF^k - I`` at ``x``."""
    a = problem.jacobian_x(x, p) - np.eye(problem.n)
    uu, sv, vt = np.linalg.svd(a)
    null = sv <= rel * max(1.0, sv[0])
    return uu[:, null], vt[null].T


def detect_family(problem, u, *, rel: float = 1e-8) -> bool:
    """Return whether the fixed point ``u`` lies on a (non-isolated) family of fixed points:
    the extended Jacobian ``[DF^k - I, dF^k/dp]`` is rank deficient at ``u`` and at a
    neighbouring fixed point along the null direction."""
    if not _rank_deficient(problem, u, rel):
        return False
    x, _, p = problem.split(u)
    _, right = family_basis(problem, x, p, rel=rel)
    if right.shape[1] == 0:
        return False
    shift = 1e-4 * max(1.0, float(np.max(np.abs(x))))
    try:
        v = solve_state(problem, x + shift * right[:, 0], p)
    except NewtonError:
        return False
    return _rank_deficient(problem, v, rel)


# -- entry point --------------------------------------------------------------------------
_UNSET = object()


def _interval(name, value):
    """Return ``value`` as ``(lo, hi)``: an explicit range (``dynsys.linspace``) gives its end
    points; a ``(start, stop, num)`` triple is refused (continuation chooses its own steps)."""
    from .._range import SweepRange

    if isinstance(value, SweepRange):
        return (min(value.start, value.stop), max(value.start, value.stop))
    if isinstance(value, tuple | list) and len(value) == 3:
        raise ValueError(f"{name} is an interval (lo, hi), got the three values {value!r}; "
                         f"continuation chooses its own steps (see step, max_step)")
    return value


def _resolve_system(system, param, start, param_range):
    if isinstance(system, Model):
        if param != "lr":
            raise ValueError(f"unknown param {param!r} for a model; the only parameter of "
                             f"its gradient-descent map is 'lr'")
        if start is None:
            start = 0.5 * (param_range[0] + param_range[1])
        return gd_map(system, check.lr(start, "start")), system
    if isinstance(system, Map):
        if not isinstance(param, str) or param not in system.params:
            raise ValueError(f"unknown param {param!r}; map {system.name!r} has parameters "
                             f"{list(system.params)}")
        return system, getattr(system, "model", None)
    raise TypeError(f"system must be a dynsys Map or Model, got {type(system).__name__}")


#: A start farther than this, relative to ``1 + |x0|``, from the fixed point Newton's method
#: finds is "far from any fixed point" (:func:`continuation` warns).
FAR_START = 0.1


class FarStartWarning(UserWarning):
    """``x0`` of :func:`continuation` is far from the fixed point the branch starts on."""


def _orbit(mapping, param, p0, x, period) -> np.ndarray:
    """Return the ``period`` points of the orbit of ``x`` (a fixed point of ``F^period``)."""
    step = mapping.with_params(**{param: p0}).step
    points = [np.asarray(x, dtype=float)]
    for _ in range(period - 1):
        points.append(np.asarray(step(points[-1]), dtype=float))
    return np.array(points)


def _warn_far_start(x0, orbit, period, param, p0) -> None:
    """Warn when Newton's method went far from ``x0`` (to another fixed point, often the
    origin): the branch is then not the one near ``x0``. ``orbit`` holds the points of the
    cycle found (one for a fixed point); the distance is to the nearest of them."""
    distances = np.linalg.norm(orbit - x0, axis=1)
    found = orbit[int(np.argmin(distances))]
    distance = float(distances.min())
    if distance <= FAR_START * (1.0 + float(np.linalg.norm(x0))):
        return
    where = "the origin" if float(np.linalg.norm(found)) <= 1e-6 * (1.0 + distance) \
        else f"{np.round(found, 6).tolist()}"
    warnings.warn(f"continuation: x0 = {x0.tolist()} is far from any fixed point of "
                  f"F^{period} at {param} = {p0:g}; Newton's method went a distance "
                  f"{distance:.3g} to {where}, and the branch (and its special points) is "
                  f"the one through that point. Start at a fixed point (dynsys.fixed_points "
                  f"or the end of dynsys.trajectory)", FarStartWarning, stacklevel=3)


def _options(width, step, min_step, max_step, max_points, tol, max_state) -> Options:
    if min_step is not None and max_step is not None and \
            check.real("min_step", min_step, positive=True) > check.real(
                "max_step", max_step, positive=True):
        raise ValueError(f"min_step must be <= max_step, got min_step={min_step!r} > "
                         f"max_step={max_step!r}")
    return Options(
        step=check.real("step", step, positive=True) if step is not None else width / 200,
        min_step=(check.real("min_step", min_step, positive=True) if min_step is not None
                  else 1e-10 * width),
        max_step=(check.real("max_step", max_step, positive=True) if max_step is not None
                  else width / 40),
        max_points=check.integer("max_points", max_points, minimum=2),
        tol=check.real("tol", tol, positive=True),
        max_state=check.real("max_state", max_state, positive=True))


def continuation(system=_UNSET, x0=None, *, param: str = "lr", param_range=None,
                 start: float | None = None, period: int = 1, direction: str = "both",
                 family: str | bool = "auto", step: float | None = None,
                 min_step: float | None = None, max_step: float | None = None,
                 max_points: int = 2000, tol: float = 1e-12, max_state: float = 1e8,
                 map=_UNSET, bounds=None):
    """Return a :class:`ContinuationResult`: the branch of fixed points of ``F^period``
    through ``x0``, continued in the parameter ``param`` over ``param_range`` by
    pseudo-arclength continuation, with its special points (PD, LP, BP, NS) located.

    Parameters
    ----------
    system : Map or Model
        The map (a Model is continued through its gradient-descent map, parameter ``lr``).
        ``map`` is its deprecated name.
    x0 : array (dim,)
        A point near a fixed point of ``F^period`` at the start value of the parameter.
    param : str
        The parameter to vary (``"lr"`` for GD maps and models).
    param_range : (lo, hi) or dynsys.linspace
        The interval of the continued parameter (lo < hi); branches stop exactly on its ends
        and the map is never evaluated outside it. A range such as ``dynsys.linspace(lo, hi,
        num)`` gives its end points (``num`` is not used: the steps follow the branch).
        ``bounds`` is its deprecated name.
    start : float, optional
        The parameter value at ``x0``: by default the map's current value (for a Model, the
        middle of ``param_range``). Must lie in ``param_range``.
    period : int
        Continue fixed points of the ``period``-th iterate (cycles).
    direction : {"both", "forward", "backward"}
        Continue towards increasing parameter, decreasing, or both.
    family : "auto", True or False
        Whether ``x0`` lies on a non-isolated family of fixed points (as the solution curve of
        an over-parametrised model): then the family is cut by the section through ``x0``
        orthogonal to the left null space of ``DF^k - I`` and the system is regularised by
        unfolding parameters (see ``dynsys.bifurcation._problem``). ``"auto"`` detects it.
    step, min_step, max_step : float, optional
        Initial, smallest and largest arclength steps (default: 1/200, 1e-10 and 1/40 of the
        width of ``param_range``). In between, the step follows the branch (module docstring of
        ``dynsys.bifurcation._continuation``): steps whose corrector lands on another orbit are
        rejected and halved.
    max_points : int
        Maximum number of points per direction.
    tol : float
        Newton tolerance (relative).
    max_state : float
        Stop a branch when the state exceeds this.

    Returns
    -------
    ContinuationResult
        ``.branches`` (xarray Datasets along ``s``), ``.special_points``, ``.switch(label)``,
        ``.cascade()``, ``.doublings``, ``.graph`` and ``.to_dataset()``. A special point at
        the start node itself (a start exactly on a bifurcation) is reported.

    Raises
    ------
    ValueError
        For an unknown ``param``, empty or reversed ``param_range``, a ``start`` outside it, or
        an ``x0`` from which Newton's method does not converge (the message gives the residual).

    Warns
    -----
    FarStartWarning
        When Newton's method from ``x0`` lands farther than ``0.1 (1 + |x0|)`` from ``x0``
        (typically on the origin): the branch is the one through the point found, not one
        near ``x0``. The test depends on ``x0``, the start value and the map only, not on the
        continuation's settings (``step``, ``tol``, ``max_points``, ``direction``,
        ``param_range``; tests/bifurcation/test_continuation_start.py). It is relative for
        ``|x0| >= 1`` and absolute (0.1) below: for a map whose fixed points lie closer than
        that, check the start's fixed point yourself.

    Examples
    --------
    >>> import dynsys
    >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
    ...                           param_range=(2.5, 3.3))
    >>> float(res["PD1"].r.round(12))
    3.0
    >>> str(res["PD1"].criticality.values)
    'supercritical'
    """
    if map is not _UNSET:
        if system is not _UNSET:
            raise TypeError("continuation: give system only (map is its deprecated name)")
        warnings.warn("continuation: the argument 'map' is renamed 'system'; 'map' will be "
                      "removed in the next release", DeprecationWarning, stacklevel=2)
        system = map
    if system is _UNSET:
        raise TypeError("continuation() missing the argument 'system' (a Map or Model)")
    if x0 is None:
        raise TypeError("continuation() missing the argument 'x0' (a point near a fixed "
                        "point)")
    range_name = "bounds" if bounds is not None and param_range is None else "param_range"
    param_range = _deprecated_range(param_range, bounds, "continuation")
    if param_range is None:
        raise TypeError("continuation() missing the argument 'param_range' (lo, hi)")
    param_range = _interval(range_name, param_range)
    bounds_arr = check.bounds(range_name, param_range, 1)[0]
    lo, hi = float(bounds_arr[0]), float(bounds_arr[1])
    if isinstance(system, Model) and lo <= 0:
        raise ValueError(f"{range_name} for the step size lr must be positive, got "
                         f"({lo}, {hi})")
    mapping, model = _resolve_system(system, param, start, (lo, hi))
    if isinstance(mapping, GDMap) and lo <= 0:
        raise ValueError(f"{range_name} for the step size lr must be positive, got "
                         f"({lo}, {hi})")
    p0 = float(mapping.params[param]) if start is None else check.real("start", start)
    if not lo <= p0 <= hi:
        raise ValueError(f"start value {param} = {p0} must lie in {range_name} ({lo}, {hi})")
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got {x0.shape}")
    period = check.integer("period", period, minimum=1)
    check.choice("direction", direction, ["both", "forward", "backward"])
    if family not in ("auto", True, False):
        raise ValueError(f"family must be 'auto', True or False, got {family!r}")
    opts = _options(hi - lo, step, min_step, max_step, max_points, tol, max_state)

    problem = FixedPointProblem(mapping, param, period, domain=(lo, hi))
    try:
        u0 = solve_state(problem, x0, p0)
    except NewtonError as err:
        raise ValueError(f"x0 = {x0.tolist()} is not near a fixed point of F^{period} at "
                         f"{param} = {p0}: {err}") from None
    _warn_far_start(x0, _orbit(mapping, param, p0, problem.split(u0)[0], period), period,
                    param, p0)
    is_family = detect_family(problem, u0) if family == "auto" else bool(family)
    if is_family:
        x, _, _ = problem.split(u0)
        left, _ = family_basis(problem, x, p0)
        if left.shape[1] == 0:
            raise ValueError("family=True but DF^k - I is not singular at the fixed point "
                             "found from x0")
        problem = FixedPointProblem(mapping, param, period, (left, x), domain=(lo, hi))
        u0 = solve_state(problem, x, p0)

    result = ContinuationResult(mapping, model, param, (lo, hi), opts, extender=EXTENDER)
    t0 = problem.tangent(u0)
    U, T, ends, start_index = trace_both(problem, u0, t0, opts, direction)
    return add_branch(result, problem, U, T, parent=None, ends=ends, start=start_index)


# -- branch switching ---------------------------------------------------------------------
def _first_step(result, record, opts) -> float:
    """The first step off a switch point: at most ``opts.step`` and at most the parameter
    distance to the neighbouring special point (or end) of the parent branch."""
    branch = result.raw_branches[record["branch"]]
    p = record["u"][-1]
    others = [abs(r["u"][-1] - p) for r in result.points
              if r["branch"] == record["branch"] and r["label"] != record["label"]]
    others += [abs(branch.U[0, -1] - p), abs(branch.U[-1, -1] - p)]
    others = [d for d in others if d > 1e-12 * (1.0 + abs(p))]
    return float(min([opts.step] + others))


def switch_at_flip(problem, u, opts, h0, eigenvector):
    """Return ``(problem2, U, T, ends, skip)``: the branch of ``F^(2k)`` fixed points (the
    period-doubled cycle) emanating from the flip point ``u`` of ``problem``."""
    x, _, p = problem.split(u)
    if problem.m:
        left = _closest_family_vectors(problem, x, p, problem.m)
        new = problem.with_period(2 * problem.period, family=(left, x))
    else:
        new = problem.with_period(2 * problem.period)
    u_pd = new.pack(x, np.zeros(new.m), p)
    direction = new.pack(eigenvector, np.zeros(new.m), 0.0)
    return new, *_leave(new, u_pd, direction, opts, h0, both=False)


def _closest_family_vectors(problem, x, p, m):
    """Return the left singular vectors of ``DF^k - I`` for its ``m`` smallest singular
    values (the family's left null space, robust when it is only approximately singular)."""
    a = problem.jacobian_x(x, p) - np.eye(problem.n)
    uu, _, _ = np.linalg.svd(a)
    return uu[:, -m:]


def switch_at_branch_point(problem, u, t_old, opts, h0):
    """Return ``(problem, U, T, ends, skip)``: the second branch through the branch point ``u``."""
    _, _, vt = np.linalg.svd(problem.jacobian(u))
    kernel = vt[-2:].T                       # (N, 2)
    c = kernel.T @ t_old
    direction = kernel @ np.array([-c[1], c[0]])
    direction /= np.linalg.norm(direction)
    return problem, *_leave(problem, u, direction, opts, h0, both=True)


def _leave(problem, u_start, direction, opts, h0, *, both):
    """Trace the branch that leaves ``u_start`` along ``direction`` (and along ``-direction``
    when ``both``); the start point is the first point (the middle one when ``both``)."""
    halves = []
    lo, hi = problem.domain
    mult0 = problem.multipliers(u_start)
    for sign in ((1.0, -1.0) if both else (1.0,)):
        d = sign * direction
        h = h0
        while True:
            pred = u_start + h * d
            if lo <= pred[-1] <= hi:
                try:
                    u1, _ = problem.correct(pred, d, tol=opts.tol)
                    t1 = problem.tangent(u1, (u1 - u_start) / max(np.linalg.norm(u1 - u_start),
                                                                  1e-300))
                    if np.linalg.norm(u1 - u_start) <= 1e-3 * h:
                        raise RejectedStep("the corrector returned to the old branch")
                    _accept(problem, u_start, d, mult0, u1, t1, problem.multipliers(u1), pred,
                            h, opts, first=True)
                    break
                except (NewtonError, RejectedStep, np.linalg.LinAlgError):
                    pass
            h *= 0.5
            if h < opts.min_step:
                raise ValueError("branch switching failed: no second branch found near the "
                                 "special point")
        pts, tans, reason = trace(problem, u1, t1, opts, step=h)
        halves.append(([u_start] + pts, [d] + tans, reason))
    if not both:
        pts, tans, reason = halves[0]
        return np.array(pts), np.array(tans), ("switch", reason), (0,)
    (pf, tf, rf), (pb, tb, rb) = halves
    pts = pb[::-1] + pf[1:]
    tans = [-t for t in tb[::-1]] + tf[1:]
    start = len(pb) - 1
    return np.array(pts), np.array(tans), (rb, rf), (start - 1, start)


class _Extender:
    """Switching and cascades for :class:`ContinuationResult` (its ``Extender``)."""

    def switch(self, result, record, param_range, opts):
        branch = result.raw_branches[record["branch"]]
        problem = branch.problem.with_domain(param_range)
        if not problem.inside(record["u"][-1]):
            raise ValueError(f"{record['label']} ({result.param} = {record['u'][-1]:.10g}) "
                             f"lies outside param_range {param_range}")
        h0 = _first_step(result, record, opts)
        if record["kind"] == "PD":
            problem, U, T, ends, skip = switch_at_flip(problem, record["u"], opts, h0,
                                                       record["eigenvector"])
        elif record["kind"] == "BP":
            problem, U, T, ends, skip = switch_at_branch_point(problem, record["u"],
                                                               record["t"], opts, h0)
        elif record["kind"] == "NS":
            raise ValueError(f"cannot switch branches at {record['label']}: a Neimark-Sacker "
                             f"point gives birth to an invariant circle, not to a branch of "
                             f"fixed points or cycles; switching onto it is not implemented "
                             f"(iterate the map near the point to trace the circle)")
        else:
            raise ValueError(f"cannot switch branches at {record['label']} (kind "
                             f"{record['kind']}): switching is defined at PD and BP points")
        return add_branch(result, problem, U, T, parent=record["label"], ends=ends,
                          skip=skip)

    def cascade(self, result, record, param_range, opts, depth):
        """Switch at ``record`` and at the nearest doubling of each new branch, ``depth``
        times; with ``depth=None`` until no doubling is found, the interval between doublings
        is below ``CASCADE_MIN_INTERVAL (1 + |p|)`` or the doubling cycle would exceed period
        ``CASCADE_MAX_PERIOD``."""
        count = 0
        while True:
            if depth is not None and count >= depth:
                break
            if depth is None and 2 * record["period"] > CASCADE_MAX_PERIOD:
                break
            try:
                result = self.switch(result, record, param_range, opts)
            except ValueError:
                if depth is not None:
                    raise
                break                 # near the accumulation point: no cycle resolved
            count += 1
            index = len(result.raw_branches) - 1
            nxt = [r for r in result.points if r["branch"] == index and r["kind"] == "PD"]
            if not nxt:
                break
            p = record["u"][-1]
            record = min(nxt, key=lambda r: abs(r["u"][-1] - p))
            if depth is None and abs(record["u"][-1] - p) <= CASCADE_MIN_INTERVAL * (1 + abs(p)):
                break
        return result


#: Where an open-ended cascade (``depth=None``) stops (see ``_Extender.cascade``).
CASCADE_MIN_INTERVAL = 1e-6
CASCADE_MAX_PERIOD = 256


EXTENDER = _Extender()


__all__ = ["continuation", "flip_coefficients"]
