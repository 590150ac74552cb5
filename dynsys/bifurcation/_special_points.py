"""Test functions for special points along a branch, and their precise location.

Along a branch of fixed points of ``G = F^k`` (extended Jacobian ``G_u``, tangent ``t``,
multipliers ``mu_i`` of ``DG``, neutral family multipliers excluded):

* ``PD``: ``det(DG + I)`` changes sign (a real multiplier through -1);
* ``LP``: the parameter component of the tangent changes sign (a fold);
* ``BP``: ``det [G_u; t^T]`` changes sign (a multiplier through +1 without a fold: two branches
  cross, as in a transcritical or pitchfork bifurcation);
* ``NS``: ``prod_{i<j} (mu_i mu_j - 1)`` changes sign with a complex pair on the unit circle at
  the zero (a real pair with ``mu_i mu_j = 1``, a neutral saddle, is rejected).

Each sign change is located by Brent's method on the arclength of a pseudo-arclength chord: every
function evaluation is a Newton-corrected point of the branch, so the zero is located to near
machine precision in the arclength (and hence in the parameter) when it is simple.
"""

from __future__ import annotations

import numpy as np

from ._problem import NewtonError

#: A test function "vanishes at a node" when its defining quantity is this small (relative).
VANISH_TOL = 1e-8


def evaluate(problem, u, t) -> dict:
    """Return the value of every test function at ``u`` with tangent ``t``."""
    mult = problem.multipliers(u)
    free = mult[~problem.neutral(mult)]
    out = {"LP": float(t[-1])}
    if not np.all(np.isfinite(mult)):
        return {**out, "PD": np.nan, "BP": np.nan, "NS": np.nan}
    out["PD"] = float(np.real(np.prod(free + 1.0)))
    with np.errstate(all="ignore"):
        out["BP"] = float(np.linalg.det(np.vstack([problem.jacobian(u), t])))
    ns = 1.0 + 0j
    for i in range(free.size):
        for j in range(i + 1, free.size):
            ns *= free[i] * free[j] - 1.0
    out["NS"] = float(np.real(ns))
    return out


def vanishing(problem, u, t, *, tol: float = VANISH_TOL) -> list[str]:
    """Return the kinds whose defining condition holds at the node ``u`` itself (a start on a
    bifurcation, where the sign-change test of the neighbouring intervals sees no change):

    * ``PD``: a real free multiplier within ``tol`` of -1;
    * ``BP``: the extended Jacobian ``G_u`` rank deficient (smallest singular value below
      ``tol`` times the largest);
    * ``LP``: otherwise, a tangent with parameter component below ``tol``;
    * ``NS``: a complex pair with modulus within ``tol`` of 1.
    """
    mult = problem.multipliers(u)
    if not np.all(np.isfinite(mult)):
        return []
    free = mult[~problem.neutral(mult)]
    real = free[np.abs(free.imag) <= tol]
    out = []
    if real.size and np.min(np.abs(real + 1.0)) <= tol:
        out.append("PD")
    sv = np.linalg.svd(problem.jacobian(u), compute_uv=False)
    if sv[-1] <= tol * max(1.0, sv[0]):
        out.append("BP")
    elif abs(float(t[-1])) <= tol:
        out.append("LP")
    pair = free[np.abs(free.imag) > tol]
    if pair.size and np.min(np.abs(np.abs(pair) - 1.0)) <= tol:
        out.append("NS")
    return out


def _point_on_chord(problem, u0, t0, s, tol):
    """Return the branch point whose projection on the chord ``u0 + s t0`` is at ``s``."""
    try:
        u, _ = problem.correct(u0 + s * t0, t0, tol=tol, max_iter=20)
    except NewtonError:
        # next to a branch point Newton converges only linearly: allow more iterations
        u, _ = problem.correct(u0 + s * t0, t0, tol=10 * tol, max_iter=200)
    return u


def locate(problem, kind, u0, t0, s_end, *, tol: float = 1e-13):
    """Return ``(u, t)`` at the zero of the ``kind`` test function between the branch points at
    chord coordinates ``0`` and ``s_end`` from ``u0`` along ``t0`` (None if location fails)."""
    def phi(s):
        u = _point_on_chord(problem, u0, t0, s, tol)
        t = problem.tangent(u, t0)
        return evaluate(problem, u, t)[kind]

    try:
        f0, f1 = phi(0.0), phi(s_end)
        if not (np.isfinite(f0) and np.isfinite(f1)) or f0 * f1 > 0:
            return None
        if f0 == 0.0:
            s = 0.0
        elif f1 == 0.0:
            s = s_end
        else:
            from scipy.optimize import brentq   # lazily: ~1 s to import

            s = brentq(phi, 0.0, s_end, xtol=1e-15 * max(1.0, abs(s_end)), rtol=1e-15,
                       maxiter=200)
        u = _point_on_chord(problem, u0, t0, s, tol)
    except (NewtonError, ValueError, np.linalg.LinAlgError, RuntimeError):
        return None
    return u, problem.tangent(u, t0)


def is_genuine(problem, kind, u, *, tol: float = 1e-6) -> bool:
    """Return whether a located zero is the special point it claims to be (rejects neutral
    saddles for NS)."""
    if kind != "NS":
        return True
    mult = problem.multipliers(u)
    free = mult[~problem.neutral(mult)]
    pair = free[np.abs(free.imag) > tol]
    return bool(pair.size and np.min(np.abs(np.abs(pair) - 1.0)) < 1e-6)
