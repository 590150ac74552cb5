"""Pseudo-arclength continuation of fixed points and cycles in a named parameter."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import _validate as check
from ..models._base import Model
from ..models import GDMap, gd_map
from ..systems._map import Map
from . import _special_points as sp
from ._normal_form import flip_coefficients
from ._problem import FixedPointProblem, NewtonError, solve_state


@dataclasses.dataclass
class Options:
    """Step-size control and tolerances of the continuation."""

    step: float
    min_step: float
    max_step: float
    max_points: int
    tol: float
    max_state: float


@dataclasses.dataclass
class Branch:
    """A traced branch: points ``U`` (rows ``u = (x, mu, p)``), unit tangents ``T`` (oriented
    along the branch), its problem, the special point it was switched from, and why each end
    stopped."""

    problem: FixedPointProblem
    U: np.ndarray
    T: np.ndarray
    parent: str | None
    ends: tuple[str, str]


# -- tracing ------------------------------------------------------------------------------
def _boundary_point(problem, u, t, u_new, bound, tol):
    """Return the branch point between ``u`` and ``u_new`` whose parameter equals ``bound``."""
    s_end = float(t @ (u_new - u))

    def gap(s):
        v, _ = problem.correct(u + s * t, t, tol=tol, max_iter=20)
        return v[-1] - bound

    try:
        from scipy.optimize import brentq   # lazily: scipy.optimize takes ~1 s to import

        s = brentq(gap, 0.0, s_end, xtol=1e-15 * max(1.0, abs(s_end)), rtol=1e-15)
        v, _ = problem.correct(u + s * t, t, tol=tol, max_iter=20)
        return v
    except (NewtonError, ValueError):
        return None


def trace(problem, u0, t0, bounds, opts: Options):
    """Return ``(points, tangents, reason)``: the branch from ``u0`` in direction ``t0`` until
    the parameter leaves ``bounds`` (the last point lies exactly on the bound), the step size
    underflows, the state exceeds ``opts.max_state`` or ``opts.max_points`` is reached."""
    lo, hi = bounds
    pts, tans = [u0], [t0]
    u, t, h = u0, t0, opts.step
    reason = "max_points"
    while len(pts) < opts.max_points:
        try:
            u_new, iters = problem.correct(u + h * t, t, tol=opts.tol)
            t_new = problem.tangent(u_new, t)
            if t_new @ t < 0.98 and h > 4 * opts.min_step:
                raise NewtonError("tangent turned too fast", 0.0)
        except (NewtonError, np.linalg.LinAlgError):
            h *= 0.5
            if h < opts.min_step:
                reason = "step_underflow"
                break
            continue
        p_new = u_new[-1]
        if p_new < lo or p_new > hi:
            bound = lo if p_new < lo else hi
            v = _boundary_point(problem, u, t, u_new, bound, opts.tol)
            if v is not None:
                pts.append(v)
                tans.append(problem.tangent(v, t))
            reason = "bounds"
            break
        if np.max(np.abs(u_new[: problem.n])) > opts.max_state:
            reason = "max_state"
            break
        pts.append(u_new)
        tans.append(t_new)
        u, t = u_new, t_new
        if iters <= 3:
            h = min(opts.max_step, 1.6 * h)
        elif iters >= 6:
            h = max(opts.min_step, 0.6 * h)
    return pts, tans, reason


def trace_both(problem, u0, t0, bounds, opts, direction="both"):
    """Return ``(U, T, ends)`` of the whole branch through ``u0`` (both directions joined,
    ordered along ``t0``)."""
    fwd, tf, rf = ([u0], [t0], "start")
    back, tb, rb = ([u0], [-t0], "start")
    if direction in ("both", "forward"):
        fwd, tf, rf = trace(problem, u0, t0, bounds, opts)
    if direction in ("both", "backward"):
        back, tb, rb = trace(problem, u0, -t0, bounds, opts)
    pts = back[::-1] + fwd[1:]
    tans = [-t for t in tb[::-1]] + tf[1:]
    return np.array(pts), np.array(tans), (rb, rf)


# -- special points -----------------------------------------------------------------------
def detect(problem, U, T, *, skip=(), tol: float):
    """Return ``(U, T, found)`` with every special point located and inserted into the branch;
    ``found`` lists ``(index, kind, u, t)`` in branch order. Intervals ``(i, i + 1)`` with
    ``i`` in ``skip`` are not searched (those touching the point a branch was switched from,
    where the test functions of the new branch vanish by construction)."""
    values = [sp.evaluate(problem, u, t) for u, t in zip(U, T, strict=True)]
    new_u, new_t, found = [U[0]], [T[0]], []
    for i in range(len(U) - 1):
        hits = []
        if i not in skip:
            for kind in sp.KINDS:
                a, b = values[i][kind], values[i + 1][kind]
                if np.isfinite(a) and np.isfinite(b) and a * b < 0:
                    s_end = float(T[i] @ (U[i + 1] - U[i]))
                    located = sp.locate(problem, kind, U[i], T[i], s_end, tol=tol)
                    if located is None:
                        continue
                    u, t = located
                    if sp.is_genuine(problem, kind, u):
                        hits.append((float(T[i] @ (u - U[i])), kind, u, t))
        for _, kind, u, t in sorted(hits, key=lambda h: h[0]):
            found.append((len(new_u), kind, u, t))
            new_u.append(u)
            new_t.append(t)
        new_u.append(U[i + 1])
        new_t.append(T[i + 1])
    return np.array(new_u), np.array(new_t), found


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
def _resolve_system(system, param, start, bounds):
    if isinstance(system, Model):
        if param != "lr":
            raise ValueError(f"unknown param {param!r} for a model; the only parameter of "
                             f"its gradient-descent map is 'lr'")
        if bounds[0] <= 0:
            raise ValueError(f"bounds for the step size lr must be positive, got {bounds}")
        if start is None:
            start = 0.5 * (bounds[0] + bounds[1])
        return gd_map(system, check.lr(start, "start")), system
    if isinstance(system, Map):
        if not isinstance(param, str) or param not in system.params:
            raise ValueError(f"unknown param {param!r}; map {system.name!r} has parameters "
                             f"{list(system.params)}")
        return system, getattr(system, "model", None)
    raise TypeError(f"map must be a dynsys Map or Model, got {type(system).__name__}")


def continuation(map, x0, *, param: str = "lr", bounds, start: float | None = None,
                 period: int = 1, direction: str = "both", family: str | bool = "auto",
                 step: float | None = None, min_step: float | None = None,
                 max_step: float | None = None, max_points: int = 2000,
                 tol: float = 1e-12, max_state: float = 1e8):
    """Return a :class:`ContinuationResult`: the branch of fixed points of ``F^period``
    through ``x0``, continued in the parameter ``param`` over ``bounds`` by pseudo-arclength
    continuation, with its special points (PD, LP, BP, NS) located.

    Parameters
    ----------
    map : Map or Model
        The map (a Model is continued through its gradient-descent map, parameter ``lr``).
    x0 : array (dim,)
        A point near a fixed point of ``F^period`` at the start value of the parameter.
    param : str
        The parameter to vary (``"lr"`` for GD maps and models).
    bounds : (lo, hi)
        The parameter interval (lo < hi); branches stop exactly on its ends.
    start : float, optional
        The parameter value at ``x0``: by default the map's current value (for a Model, the
        middle of ``bounds``). Must lie in ``bounds``.
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
        width of ``bounds``). Steps grow after fast Newton convergence and shrink on failure
        or sharp turns.
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
        ``.graph`` and ``.to_dataset()``.

    Raises
    ------
    ValueError
        For an unknown ``param``, empty or reversed ``bounds``, a ``start`` outside them, or an
        ``x0`` from which Newton's method does not converge (the message gives the residual).

    Examples
    --------
    >>> import dynsys
    >>> res = dynsys.continuation(dynsys.maps.logistic(2.8), [0.64], param="r",
    ...                           bounds=(2.5, 3.3))
    >>> float(res["PD1"].r.round(12))
    3.0
    >>> str(res["PD1"].criticality.values)
    'supercritical'
    """
    bounds_arr = check.bounds("bounds", bounds, 1)[0]
    lo, hi = float(bounds_arr[0]), float(bounds_arr[1])
    mapping, model = _resolve_system(map, param, start, (lo, hi))
    if isinstance(mapping, GDMap) and lo <= 0:
        raise ValueError(f"bounds for the step size lr must be positive, got ({lo}, {hi})")
    p0 = float(mapping.params[param]) if start is None else check.real("start", start)
    if not lo <= p0 <= hi:
        raise ValueError(f"start value {param} = {p0} must lie in bounds ({lo}, {hi})")
    x0 = check.array("x0", x0, dim=mapping.dim)
    if x0.ndim != 1:
        raise ValueError(f"x0 must be one point of shape ({mapping.dim},), got {x0.shape}")
    period = check.integer("period", period, minimum=1)
    check.choice("direction", direction, ["both", "forward", "backward"])
    if family not in ("auto", True, False):
        raise ValueError(f"family must be 'auto', True or False, got {family!r}")
    width = hi - lo
    opts = Options(
        step=check.real("step", step, positive=True) if step is not None else width / 200,
        min_step=(check.real("min_step", min_step, positive=True) if min_step is not None
                  else 1e-10 * width),
        max_step=(check.real("max_step", max_step, positive=True) if max_step is not None
                  else width / 40),
        max_points=check.integer("max_points", max_points, minimum=2),
        tol=check.real("tol", tol, positive=True),
        max_state=check.real("max_state", max_state, positive=True))

    problem = FixedPointProblem(mapping, param, period)
    try:
        u0 = solve_state(problem, x0, p0)
    except NewtonError as err:
        raise ValueError(f"x0 = {x0.tolist()} is not near a fixed point of F^{period} at "
                         f"{param} = {p0}: {err}") from None
    is_family = detect_family(problem, u0) if family == "auto" else bool(family)
    if is_family:
        x, _, _ = problem.split(u0)
        left, _ = family_basis(problem, x, p0)
        if left.shape[1] == 0:
            raise ValueError("family=True but DF^k - I is not singular at the fixed point "
                             "found from x0")
        problem = FixedPointProblem(mapping, param, period, (left, x))
        u0 = solve_state(problem, x, p0)

    from ._result import ContinuationResult

    result = ContinuationResult(mapping, model, param, (lo, hi), opts)
    t0 = problem.tangent(u0)
    U, T, ends = trace_both(problem, u0, t0, (lo, hi), opts, direction)
    result._add_branch(problem, U, T, parent=None, ends=ends, skip=())
    return result


# -- branch switching ---------------------------------------------------------------------
def switch_at_flip(problem, u, opts, bounds, coefficients):
    """Return ``(problem2, U, T, ends, skip)``: the branch of ``F^(2k)`` fixed points (the
    period-doubled cycle) emanating from the flip point ``u`` of ``problem``."""
    x, _, p = problem.split(u)
    q = coefficients["eigenvector"]
    if problem.m:
        left = _closest_family_vectors(problem, x, p, problem.m)
        new = FixedPointProblem(problem.map, problem.param, 2 * problem.period, (left, x))
    else:
        new = problem.with_period(2 * problem.period)
    u_pd = new.pack(x, np.zeros(new.m), p)
    direction = new.pack(q, np.zeros(new.m), 0.0)
    return new, *_leave(new, u_pd, direction, opts, bounds, both=False)


def _closest_family_vectors(problem, x, p, m):
    """Return the left singular vectors of ``DF^k - I`` for its ``m`` smallest singular
    values (the family's left null space, robust when it is only approximately singular)."""
    a = problem.jacobian_x(x, p) - np.eye(problem.n)
    uu, _, _ = np.linalg.svd(a)
    return uu[:, -m:]


def switch_at_branch_point(problem, u, t_old, opts, bounds):
    """Return ``(problem, U, T, ends, skip)``: the second branch through the branch point ``u``."""
    _, _, vt = np.linalg.svd(problem.jacobian(u))
    kernel = vt[-2:].T                       # (N, 2)
    c = kernel.T @ t_old
    direction = kernel @ np.array([-c[1], c[0]])
    direction /= np.linalg.norm(direction)
    return problem, *_leave(problem, u, direction, opts, bounds, both=True)


def _leave(problem, u_start, direction, opts, bounds, *, both):
    """Trace the branch that leaves ``u_start`` along ``direction`` (and along ``-direction``
    when ``both``); the start point is the first point (the middle one when ``both``)."""
    halves = []
    for sign in ((1.0, -1.0) if both else (1.0,)):
        d = sign * direction
        h = opts.step
        while True:
            try:
                u1, _ = problem.correct(u_start + h * d, d, tol=opts.tol)
                if np.linalg.norm(u1 - u_start) > 1e-3 * h:
                    break
            except (NewtonError, np.linalg.LinAlgError):
                pass
            h *= 0.5
            if h < opts.min_step:
                raise ValueError("branch switching failed: no second branch found near the "
                                 "special point")
        chord = (u1 - u_start) / np.linalg.norm(u1 - u_start)
        t1 = problem.tangent(u1, chord)
        pts, tans, reason = trace(problem, u1, t1, bounds, opts)
        halves.append(([u_start] + pts, [d] + tans, reason))
    if not both:
        pts, tans, reason = halves[0]
        return np.array(pts), np.array(tans), ("switch", reason), (0,)
    (pf, tf, rf), (pb, tb, rb) = halves
    pts = pb[::-1] + pf[1:]
    tans = [-t for t in tb[::-1]] + tf[1:]
    start = len(pb) - 1
    return np.array(pts), np.array(tans), (rb, rf), (start - 1, start)


__all__ = ["continuation", "flip_coefficients"]
