"""Non-isolated periodic points: curves along which ``F^p(x) = x`` and ``DF^p - I`` is singular.

A curve of fixed points (the solution set ``z = 0`` of an over-parametrised regression model,
say) is traced by pseudo-arclength continuation: predict along the null vector of
``DF^p - I``, correct by Gauss-Newton on ``[F^p(y) - y, t . (y - x) - h] = 0``, and keep the
tangent's orientation by projecting the previous tangent onto the new null space (which also
carries the trace straight through a crossing of two curves, where the null space is 2-D).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._newton import residual_and_derivative


def null_space(dg: np.ndarray, tol: float) -> np.ndarray:
    """Return an orthonormal basis (rows) of the numerical null space of one ``(dim, dim)``
    matrix: right singular vectors with singular value ``<= tol * max(1, s_max)``."""
    _, s, vt = np.linalg.svd(dg)
    return vt[s <= tol * max(1.0, float(s[0]))]


def nullity(dg: np.ndarray, tol: float) -> np.ndarray:
    """Return the numerical nullity of each matrix of a batch ``(..., dim, dim)``."""
    if dg.shape[0] == 0:
        return np.zeros(0, dtype=int)
    s = np.linalg.svd(dg, compute_uv=False)
    return np.sum(s <= tol * np.maximum(1.0, s[..., :1]), axis=-1)


@dataclasses.dataclass
class Family:
    """An ordered sample of a curve of period-``period`` points, with its arclength."""

    points: np.ndarray      # (n, dim)
    arclength: np.ndarray   # (n,)
    period: int
    closed: bool

    def images(self, mapping) -> np.ndarray:
        """Return the sample's orbit points ``(period, n, dim)`` (phase 0 is the sample)."""
        out = [self.points]
        with np.errstate(all="ignore"):
            for _ in range(self.period - 1):
                out.append(mapping.step(out[-1]))
        return np.stack(out)

    def distance(self, points: np.ndarray, images: np.ndarray | None = None) -> np.ndarray:
        """Return the distance of each of ``points`` (m, dim) to the sample polyline (or to the
        polylines of ``images``, (period, n, dim), taking the nearest)."""
        curves = [self.points] if images is None else list(images)
        best = np.full(points.shape[0], np.inf)
        for curve in curves:
            best = np.minimum(best, _polyline_distance(points, curve))
        return best


def _polyline_distance(points: np.ndarray, curve: np.ndarray) -> np.ndarray:
    if curve.shape[0] == 1:
        return np.linalg.norm(points - curve[0], axis=-1)
    a, b = curve[:-1], curve[1:]
    ab = b - a
    ab2 = np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300)
    ap = points[:, None, :] - a[None]
    u = np.clip(np.einsum("mij,ij->mi", ap, ab) / ab2, 0.0, 1.0)
    nearest = a[None] + u[..., None] * ab[None]
    return np.min(np.linalg.norm(points[:, None, :] - nearest, axis=-1), axis=1)


class Tracer:
    """Traces curves of solutions of ``F^period(x) = x`` inside a box."""

    def __init__(self, mapping, period: int, lo: np.ndarray, hi: np.ndarray, *, step: float,
                 null_tol: float, max_points: int, xtol: float):
        self.mapping, self.period = mapping, period
        self.lo, self.hi = lo, hi
        self.step, self.null_tol = step, null_tol
        self.max_points, self.xtol = max_points, xtol

    def _derivs(self, x):
        g, dg = residual_and_derivative(self.mapping, x[None], self.period)
        return g[0], dg[0]

    def tangent(self, x: np.ndarray, previous: np.ndarray | None) -> np.ndarray | None:
        """Return the unit tangent at ``x``: the previous tangent projected on the null space
        (or the first null vector); None if ``DF^p - I`` has no null space at ``x``."""
        _, dg = self._derivs(x)
        if not np.all(np.isfinite(dg)):
            return None
        basis = null_space(dg, self.null_tol)
        if basis.shape[0] == 0:
            return None
        if previous is None:
            return basis[0]
        t = basis.T @ (basis @ previous)
        norm = np.linalg.norm(t)
        if norm < 0.5:          # sharp turn: not the same smooth curve
            return None
        return t / norm

    def correct(self, x: np.ndarray, t: np.ndarray, h: float, *,
                normal: np.ndarray | None = None, level: float = 0.0) -> np.ndarray | None:
        """Return the solution ``y`` with ``t . (y - x) = h`` near ``x + h t``, or None.

        With ``normal``, the constraint is ``normal . y = level`` instead (a box face)."""
        y = x + h * t
        if normal is None:
            normal, level = t, float(t @ x) + h
        scale = 1.0 + np.linalg.norm(x)
        for _ in range(30):
            g, dg = self._derivs(y)
            if not (np.all(np.isfinite(g)) and np.all(np.isfinite(dg))):
                return None
            a = np.vstack([dg, normal[None]])
            r = np.concatenate([g, [normal @ y - level]])
            delta = np.linalg.lstsq(a, -r, rcond=None)[0]
            y = y + delta
            if np.linalg.norm(delta) <= self.xtol * scale:
                g, _ = self._derivs(y)
                if np.linalg.norm(g) <= 1e3 * np.sqrt(self.xtol) * scale:
                    return y
                return None
        return None

    def _inside(self, y: np.ndarray) -> bool:
        return bool(np.all((y >= self.lo) & (y <= self.hi)))

    def _boundary_point(self, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Return the point where the curve from ``x`` (inside) to ``y`` (outside) leaves the
        box, or None if the correction fails."""
        d = y - x
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(d > 0, (self.hi - x) / d, np.where(d < 0, (self.lo - x) / d, np.inf))
        axis = int(np.argmin(frac))
        face = self.hi[axis] if d[axis] > 0 else self.lo[axis]
        normal = np.zeros_like(x)
        normal[axis] = 1.0
        t = d / np.linalg.norm(d)
        end = self.correct(x, t, float(frac[axis]) * np.linalg.norm(d), normal=normal,
                           level=face)
        if end is None or np.linalg.norm(end - x) > 2.0 * np.linalg.norm(d):
            return None
        end[axis] = face
        slack = 1e-9 * (self.hi - self.lo)
        return end if np.all((end >= self.lo - slack) & (end <= self.hi + slack)) else None

    def _march(self, x0: np.ndarray, t0: np.ndarray) -> tuple[list[np.ndarray], bool]:
        points: list[np.ndarray] = []
        x, t, h = x0, t0, self.step
        min_h = self.step * 2.0 ** -12
        while len(points) < self.max_points:
            y = t_new = None
            while h >= min_h:
                y = self.correct(x, t, h)
                if y is not None and np.linalg.norm(y - (x + h * t)) <= 0.3 * h:
                    t_new = self.tangent(y, t)
                    if t_new is not None and t_new @ t > np.cos(0.4):
                        break
                y = None
                h *= 0.5
            if y is None:
                return points, False
            if not self._inside(y):
                end = self._boundary_point(x, y)
                if end is not None:
                    points.append(end)
                return points, False
            if len(points) > 2 and np.linalg.norm(y - x0) < 0.75 * h:
                return points, True        # back at the start: a closed curve
            points.append(y)
            x, t = y, t_new
            h = min(2.0 * h, self.step)
        return points, False

    def branch_starts(self, x0: np.ndarray) -> list[np.ndarray]:
        """Return one point on each curve leaving ``x0`` when ``DF^p - I`` has a null space of
        dimension >= 2 there (a crossing of curves, where the tangent is not unique): corrector
        solutions from predictors along directions spread over the null space."""
        _, dg = self._derivs(x0)
        if not np.all(np.isfinite(dg)):
            return []
        basis = null_space(dg, self.null_tol)
        m = basis.shape[0]
        if m < 2:
            return []
        if m == 2:
            angles = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
            coef = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        else:
            coef = np.random.default_rng(0).normal(size=(12 * m, m))
            coef /= np.linalg.norm(coef, axis=-1, keepdims=True)
        h = self.step
        starts: list[np.ndarray] = []
        for v in coef @ basis:
            y = self.correct(x0, v, h)
            if y is None or np.linalg.norm(y - (x0 + h * v)) > 0.3 * h:
                continue
            if self.tangent(y, None) is None:
                continue
            if all(np.linalg.norm(y - z) > 0.5 * h for z in starts):
                starts.append(y)
        return starts

    def trace(self, x0: np.ndarray) -> Family | None:
        """Return the curve through ``x0`` (both directions, inside the box), or None if no
        continuation step succeeds (``x0`` is then an isolated, non-hyperbolic point)."""
        t0 = self.tangent(x0, None)
        if t0 is None:
            return None
        forward, closed = self._march(x0, t0)
        backward: list[np.ndarray] = []
        if not closed:
            backward, _ = self._march(x0, -t0)
        if not forward and not backward:
            return None
        points = np.array(backward[::-1] + [x0] + forward)
        seg = np.linalg.norm(np.diff(points, axis=0), axis=-1)
        arclength = np.concatenate([[0.0], np.cumsum(seg)])
        return Family(points, arclength, self.period, closed)
