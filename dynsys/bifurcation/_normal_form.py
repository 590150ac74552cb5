"""Normal-form coefficients of period-doubling (flip) points.

Notation (Kuznetsov, *Elements of Applied Bifurcation Theory*, sections 4.4 and 5.4): at a fixed
point ``x*`` of a map ``G`` (here ``G = F^k``) with ``A = DG(x*)``, write
``G(x* + w) = x* + A w + B(w, w)/2 + C(w, w, w)/6 + ...``. Let ``A q = -q``, ``A^T p = -p``
with ``|q| = 1`` and ``<p, q> = 1``.

* **Isolated flip** (no other multiplier on the unit circle): on the centre manifold the map
  reads ``u -> -u + c u^3 + ...`` after removing the quadratic term, with

      c = <p, C(q, q, q)>/6 + <p, B(q, (I - A)^{-1} B(q, q))>/2.

  For a 1-D map ``u -> -u + a u^2 + b u^3`` this is ``c = a^2 + b``. The second iterate is
  ``u -> u - 2 c u^3``: for ``c > 0`` the bifurcating 2-cycle is stable and exists where the
  fixed point is unstable (supercritical); for ``c < 0`` it is unstable and coexists with the
  stable fixed point (subcritical).

* **Flip of a curve of fixed points** (a multiplier 1 along the curve as well, so ``I - A`` is
  singular and the formula above breaks down). Let ``A r = r``, ``A^T l = l``, ``|r| = 1``,
  ``<l, r> = 1``. With ``w = u q + v r``, the second iterate on the 2-D centre manifold is, to
  leading order,

      u'' = u + alpha u v,   v'' = v + beta u^2,
      alpha = -2 <p, B(q, r)>,   beta = <l, B(q, q)>.

  (``<l, B(r, r)> = 0`` because the curve consists of fixed points; the ``v^2`` and ``u^2``
  terms of ``u''`` cancel between the two steps.) The level sets ``beta u^2 - alpha v^2`` are
  conserved at this order: for ``alpha beta < 0`` they are ellipses (the *elliptic* case: every
  orbit near the unstable part of the curve is carried over a half-ellipse to the mirror-image
  point on the stable part; there are no 2-cycles), for ``alpha beta > 0`` hyperbolas (orbits
  leave). This is the discrete-time analogue of Liebscher's bifurcations without parameters;
  the product ``alpha beta`` does not depend on the scaling of ``r``. When ``alpha beta = 0``
  because ``B(q, q)`` has no component along the curve (as where the curve crosses an
  invariant line), the classical ``c`` is computed with the pseudo-inverse of ``I - A`` and
  decides the criticality within that line.

Derivatives are central differences of the Jacobian of ``G`` (analytic when the map has one).
"""

from __future__ import annotations

import numpy as np

_D1_OFFSETS = np.array([-2.0, -1.0, 1.0, 2.0])
_D1_WEIGHTS = np.array([1.0, -8.0, 8.0, -1.0]) / 12.0
_D2_OFFSETS = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
_D2_WEIGHTS = np.array([-1.0, 16.0, -30.0, 16.0, -1.0]) / 12.0


def _step_size(x) -> float:
    return 1e-3 * max(1.0, float(np.max(np.abs(x))))


def bilinear(problem, x, p, u, v):
    """Return ``B(u, v) = (d/dt) DG(x + t v) u`` at ``t = 0``."""
    h = _step_size(x) / max(np.linalg.norm(v), 1e-300)
    jacs = [problem.jacobian_x(x + o * h * v, p) for o in _D1_OFFSETS]
    return sum(w * (j @ u) for w, j in zip(_D1_WEIGHTS, jacs, strict=True)) / h


def trilinear_diagonal(problem, x, p, q):
    """Return ``C(q, q, q) = (d/dt)^2 DG(x + t q) q`` at ``t = 0``."""
    h = 2.0 * _step_size(x) / max(np.linalg.norm(q), 1e-300)
    jacs = [problem.jacobian_x(x + o * h * q, p) for o in _D2_OFFSETS]
    return sum(w * (j @ q) for w, j in zip(_D2_WEIGHTS, jacs, strict=True)) / h ** 2


def _eigenpair(a, target):
    """Return unit right and matching left eigenvectors ``(q, p)`` of ``a`` for the eigenvalue
    nearest ``target`` with ``<p, q> = 1`` (real parts)."""
    vals, vecs = np.linalg.eig(a)
    i = int(np.argmin(np.abs(vals - target)))
    q = np.real(vecs[:, i])
    q /= np.linalg.norm(q)
    lvals, lvecs = np.linalg.eig(a.T)
    j = int(np.argmin(np.abs(lvals - target)))
    left = np.real(lvecs[:, j])
    left /= left @ q
    return q, left


def flip_coefficients(problem, x, p, *, family_tol: float = 1e-6) -> dict:
    """Return the normal-form data of the flip of ``F^k`` at ``(x, p)``.

    Keys: ``normal_form`` (``c`` of an isolated flip, NaN for a flip of a curve of fixed
    points), ``rate`` and ``drift`` (``alpha`` and ``beta`` of a curve flip, NaN otherwise),
    ``criticality`` (``supercritical``, ``subcritical``, ``elliptic``, ``hyperbolic`` or
    ``degenerate``) and ``eigenvector`` (``q``).
    """
    a = problem.jacobian_x(x, p)
    q, left = _eigenpair(a, -1.0)
    vals = np.linalg.eigvals(a)
    curve = problem.m > 0 or np.any(np.abs(vals - 1.0) < family_tol)
    out = {"eigenvector": q, "normal_form": np.nan, "rate": np.nan, "drift": np.nan}
    bqq = bilinear(problem, x, p, q, q)
    if curve:
        r, l_vec = _eigenpair(a, 1.0)
        alpha = -2.0 * float(left @ bilinear(problem, x, p, q, r))
        beta = float(l_vec @ bqq)
        out.update(rate=alpha, drift=beta)
        prod = alpha * beta
        scale = max(abs(alpha), 1.0) * max(abs(beta), 1.0)
        if abs(prod) > 1e-7 * scale:
            out["criticality"] = "elliptic" if prod < 0 else "hyperbolic"
            return out
        # alpha beta = 0: B(q, q) lies in the range of I - A (as on an invariant line through
        # the curve); the classical coefficient is then defined with the pseudo-inverse.
        h2 = np.linalg.lstsq(np.eye(problem.n) - a, bqq, rcond=1e-10)[0]
    else:
        h2 = np.linalg.solve(np.eye(problem.n) - a, bqq)
    c = (float(left @ trilinear_diagonal(problem, x, p, q)) / 6.0
         + float(left @ bilinear(problem, x, p, q, h2)) / 2.0)
    out["normal_form"] = c
    out["criticality"] = ("degenerate" if abs(c) <= 1e-9 else
                          "supercritical" if c > 0 else "subcritical")
    return out
