"""The extended fixed-point problem that continuation solves, and its Newton solvers.

Unknowns ``u = (x, mu, p)``: the state ``x`` (n), unfolding parameters ``mu`` (m, only for
non-isolated families of fixed points, else m = 0) and the continuation parameter ``p``.
Equations (n + m of them)::

    F^k(x; p) - x + L mu = 0        (fixed points of the k-th iterate)
    L^T (x - x_ref)      = 0        (the section, only for families)

``L`` (n x m, orthonormal columns) spans the left null space of ``DF^k - I`` at a point of a
family of fixed points. Along a family ``DF^k - I`` is rank deficient everywhere, so ordinary
continuation of a point fails; the section picks one point of the family (the family is
parametrised by position) and the unfolding ``L mu`` restores a square, regular system. At a
solution with ``mu = 0`` the point is a genuine fixed point of ``F^k``; ``mu != 0`` measures by
how much the extended system had to push the map to close the orbit (used to show that a
would-be cycle does not exist).
"""

from __future__ import annotations

import numpy as np

#: Five-point stencil for first derivatives (fourth order), central and one-sided (used at the
#: ends of the parameter domain, so that no evaluation leaves it).
_D1_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
_D1_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0
_D1_FORWARD_OFFSETS = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
_D1_FORWARD_WEIGHTS = np.array([-25.0, 48.0, -36.0, 16.0, -3.0]) / 12.0


class NewtonError(RuntimeError):
    """Newton's method did not converge (carries the last residual norm)."""

    def __init__(self, message: str, residual: float):
        super().__init__(message)
        self.residual = residual


class OutsideDomain(NewtonError):
    """A Newton iterate left the parameter domain (the step that led there must be shortened)."""


class FixedPointProblem:
    """Fixed points of ``F^period`` of ``mapping`` as functions of the parameter ``param``,
    optionally with a family section/unfolding ``(L, x_ref)`` (see the module docstring).

    ``domain = (lo, hi)`` is the closed parameter interval the problem may evaluate the map in:
    Newton iterates that leave it raise :class:`OutsideDomain` and parameter derivatives switch
    to one-sided stencils near its ends."""

    def __init__(self, mapping, param: str, period: int = 1, family=None,
                 domain=(-np.inf, np.inf)):
        self.map = mapping
        self.param = param
        self.period = int(period)
        self.domain = (float(domain[0]), float(domain[1]))
        self.n = mapping.dim
        if family is None:
            self.L = np.zeros((self.n, 0))
            self.x_ref = np.zeros(self.n)
        else:
            L, x_ref = family
            self.L = np.asarray(L, dtype=float).reshape(self.n, -1)
            self.x_ref = np.asarray(x_ref, dtype=float).copy()
        self.m = self.L.shape[1]
        self.n_eq = self.n + self.m
        self.n_unknowns = self.n_eq + 1

    # -- pieces of u --------------------------------------------------------------------------
    def split(self, u):
        """Return ``(x, mu, p)``."""
        return u[: self.n], u[self.n: self.n + self.m], float(u[-1])

    def pack(self, x, mu, p):
        return np.concatenate([np.asarray(x, float), np.asarray(mu, float).reshape(-1), [p]])

    def with_family_reference(self, x_ref) -> FixedPointProblem:
        """Return the same problem with the section through ``x_ref``."""
        family = (self.L, x_ref) if self.m else None
        return FixedPointProblem(self.map, self.param, self.period, family, self.domain)

    def with_period(self, period: int, x_ref=None, family=None) -> FixedPointProblem:
        """Return the problem for ``F^period`` (same domain; ``family`` replaces the section)."""
        if family is None and self.m:
            family = (self.L, self.x_ref if x_ref is None else x_ref)
        return FixedPointProblem(self.map, self.param, period, family, self.domain)

    def with_domain(self, domain) -> FixedPointProblem:
        """Return the same problem restricted to the parameter interval ``domain``."""
        family = (self.L, self.x_ref) if self.m else None
        return FixedPointProblem(self.map, self.param, self.period, family, domain)

    def inside(self, p) -> bool:
        """Return whether the parameter value ``p`` lies in the domain."""
        return bool(self.domain[0] <= p <= self.domain[1])

    # -- the map ------------------------------------------------------------------------------
    def step(self, x, p, times: int | None = None):
        """Return ``F^times(x; p)`` (``times`` defaults to the period)."""
        times = self.period if times is None else times
        with np.errstate(all="ignore"):
            for _ in range(times):
                x = self.map.step(x, **{self.param: p})
        return x

    def orbit(self, x, p):
        """Return the ``period`` points of the orbit of ``x`` (rows) and ``F^period(x)``
        (the last few orbits are cached: residual and Jacobians at one point share one)."""
        x = np.asarray(x, dtype=float)
        key = (x.tobytes(), float(p))
        cache = self.__dict__.setdefault("_orbits", {})
        if key in cache:
            return cache[key]
        pts = [x]
        with np.errstate(all="ignore"):
            for _ in range(self.period):
                pts.append(self.map.step(pts[-1], **{self.param: p}))
        out = (np.array(pts[:-1]), pts[-1])
        if len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[key] = out
        return out

    def jacobian_x(self, x, p):
        """Return ``D F^period`` at ``x`` (chain rule over the orbit)."""
        pts, _ = self.orbit(x, p)
        with np.errstate(all="ignore"):
            jacs = self.map.jacobian(pts, **{self.param: p})
            out = np.eye(self.n)
            for j in jacs:
                out = j @ out
        return out

    def _stencil(self, p):
        """Return ``(h, offsets, weights)`` of a fourth-order first-derivative stencil at ``p``
        that stays inside the domain (central, else one-sided towards the inside)."""
        lo, hi = self.domain
        h = 1e-3 * (abs(p) if p != 0 else 1.0)
        h = min(h, max(0.125 * (hi - lo), 1e-300))
        if p - 2 * h >= lo and p + 2 * h <= hi:
            return h, _D1_OFFSETS, _D1_WEIGHTS
        if p + 4 * h <= hi:
            return h, _D1_FORWARD_OFFSETS, _D1_FORWARD_WEIGHTS
        return h, -_D1_FORWARD_OFFSETS, -_D1_FORWARD_WEIGHTS

    def derivative_p(self, x, p):
        """Return ``d F^period / d p`` at ``x``: the chain rule over the orbit,
        ``sum_j DF^(k-j-1)(x_(j+1)) dF/dp(x_j)``, with the one-step derivative ``dF/dp`` from
        the map's ``param_derivative(x, name, **params)`` hook when it has one, else from
        fourth-order differences inside the domain (accurate: one step of the map is smooth
        in its parameter, where differences of ``F^k`` would amplify rounding by ``DF^k``)."""
        pts, _ = self.orbit(x, p)
        hook = getattr(self.map, "param_derivative", None)
        with np.errstate(all="ignore"):
            if hook is not None:
                dps = np.asarray(hook(pts, self.param, **{self.param: p}), dtype=float)
            else:
                h, offsets, weights = self._stencil(p)
                dps = sum(w * self.map.step(pts, **{self.param: p + o * h})
                          for o, w in zip(offsets, weights, strict=True)) / h
            jacs = self.map.jacobian(pts, **{self.param: p})
            out = np.zeros(self.n)
            for j, dp in zip(jacs, dps, strict=True):
                out = j @ out + dp
        return out

    # -- the extended system ------------------------------------------------------------------
    def residual(self, u):
        x, mu, p = self.split(u)
        _, fx = self.orbit(x, p)
        top = fx - x + self.L @ mu
        return np.concatenate([top, self.L.T @ (x - self.x_ref)])

    def jacobian(self, u):
        """Return ``dG/du``, shape ``(n + m, n + m + 1)``."""
        x, _, p = self.split(u)
        out = np.zeros((self.n_eq, self.n_unknowns))
        out[: self.n, : self.n] = self.jacobian_x(x, p) - np.eye(self.n)
        out[: self.n, self.n: self.n + self.m] = self.L
        out[: self.n, -1] = self.derivative_p(x, p)
        out[self.n:, : self.n] = self.L.T
        return out

    def multipliers(self, u):
        x, _, p = self.split(u)
        with np.errstate(all="ignore"):
            a = self.jacobian_x(x, p)
        if not np.all(np.isfinite(a)):
            return np.full(self.n, np.nan + 0j)
        mult = np.linalg.eigvals(a).astype(complex)
        return mult[np.lexsort((mult.imag, -np.abs(mult)))]

    def neutral(self, mult):
        """Return a mask of the ``m`` multipliers that belong to the family (closest to 1)."""
        mask = np.zeros(mult.shape, dtype=bool)
        if self.m:
            mask[np.argsort(np.abs(mult - 1.0))[: self.m]] = True
        return mask

    # -- solvers ------------------------------------------------------------------------------
    def scale(self, u) -> float:
        return 1.0 + float(np.max(np.abs(u)))

    def correct(self, u_pred, tangent, *, tol: float = 1e-12, max_iter: int = 10):
        """Return ``(u, iterations)`` solving ``G(u) = 0``, ``tangent . (u - u_pred) = 0`` by
        Newton from ``u_pred``; raise :class:`NewtonError` if it does not converge."""
        u = u_pred.copy()
        prev = np.inf
        res = np.inf
        for it in range(1, max_iter + 1):
            if not self.inside(u[-1]):
                raise OutsideDomain(f"Newton left the parameter domain {self.domain} "
                                    f"({self.param} = {u[-1]:.10g})", res)
            g = self.residual(u)
            rhs = np.concatenate([g, [tangent @ (u - u_pred)]])
            res = float(np.linalg.norm(g))
            if not np.all(np.isfinite(rhs)):
                raise NewtonError("the map overflowed during Newton's method", np.inf)
            mat = np.vstack([self.jacobian(u), tangent])
            if not np.all(np.isfinite(mat)):
                raise NewtonError("the Jacobian overflowed during Newton's method", res)
            try:
                du = np.linalg.solve(mat, -rhs)
            except np.linalg.LinAlgError:     # exactly singular (at a branch point): min-norm
                du = np.linalg.lstsq(mat, -rhs, rcond=None)[0]
            u = u + du
            step = float(np.linalg.norm(du))
            if step <= tol * self.scale(u) and self.inside(u[-1]):
                g = self.residual(u)
                res = float(np.linalg.norm(g))
                if res <= 1e3 * tol * self.scale(u):
                    return u, it
            if it > 2 and step > 2.0 * prev and step > 1e3 * tol * self.scale(u):
                break
            prev = step
        raise NewtonError(f"Newton did not converge in {max_iter} iterations", res)

    def tangent(self, u, orient=None):
        """Return the unit tangent of the solution curve at ``u`` (oriented like ``orient``;
        without it, with a positive parameter component when possible)."""
        jac = self.jacobian(u)
        if orient is None:
            _, _, vt = np.linalg.svd(jac)
            t = vt[-1]
            if t[-1] < 0 or (t[-1] == 0 and t[0] < 0):
                t = -t
            return t
        mat = np.vstack([jac, orient])
        rhs = np.zeros(self.n_unknowns)
        rhs[-1] = 1.0
        try:
            t = np.linalg.solve(mat, rhs)
        except np.linalg.LinAlgError:
            # exactly at a branch point the null space of G_u is 2-D: keep the direction
            # closest to ``orient``
            _, sv, vt = np.linalg.svd(jac)
            null = vt[-(self.n_unknowns - int(np.sum(sv > 1e-12 * max(1.0, sv[0])))):]
            t = null.T @ (null @ orient)
        t /= np.linalg.norm(t)
        return t if t @ orient >= 0 else -t


def solve_state(problem: FixedPointProblem, x0, p, *, tol: float = 1e-12, max_iter: int = 50):
    """Return ``u = (x, mu, p)`` with ``x`` a fixed point of ``F^k`` near ``x0`` at parameter
    ``p``, by (least-squares) Newton in ``(x, mu)``; raise :class:`NewtonError` on failure."""
    n, m = problem.n, problem.m
    u = problem.pack(x0, np.zeros(m), p)
    res = np.inf
    for _ in range(max_iter):
        g = problem.residual(u)
        res = float(np.linalg.norm(g))
        if not np.isfinite(res):
            break
        jac = problem.jacobian(u)[:, : n + m]
        if not np.all(np.isfinite(jac)):
            break
        du, *_ = np.linalg.lstsq(jac, -g, rcond=None)
        u[: n + m] += du
        if np.linalg.norm(du) <= tol * problem.scale(u):
            res = float(np.linalg.norm(problem.residual(u)))
            if res <= 1e3 * tol * problem.scale(u):
                return u
    raise NewtonError(f"Newton did not converge to a fixed point of F^{problem.period} near "
                      f"x0 (residual |F^k(x) - x| = {res:.3g})", res)
