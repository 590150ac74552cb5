"""Closed-form gradient-flow solutions of the built-in models (their ``gfs_limit`` hook).

Closed forms (derived here; the conformance suite checks each against the ODE path of\n:func:`dynsys.gfs_solution`):

* 2-D model, ``z = (a^2 - eps b^2)/2 - E`` with ``(a, b) = theta``: the flow is
  ``a' = -z a``, ``b' = eps z b``, so ``d/dt (eps log|a| + log|b|) = 0``: ``|a|^eps |b|`` is
  conserved and neither coordinate changes sign. For ``a, b != 0`` and ``eps > 0``, along the
  conserved curve ``z`` increases monotonically in ``|a|`` from ``-inf`` to ``+inf``, so the
  flow ends at the unique zero of ``z`` on it: with ``s = a_inf^2``, ``eps b_inf^2 = s - 2E`` and
  ``s - eps C^2 s^(-eps) = 2E`` (``C = |a|^eps |b|``); the sharpness there is
  ``a_inf^2 + eps^2 b_inf^2 = (1 + eps) s - 2 eps E``. The root is found by Newton's method in a
  variable in which the equation is convex and increasing (``log s`` for ``E <= 0``,
  ``log(s - 2E)`` for ``E > 0``), which converges from any start. On the axes the flow stays on
  the axis: ``a = 0`` ends at ``b^2 = -2E/eps`` (sharpness ``-2 eps E``) when ``E < 0`` and at
  the origin otherwise; ``b = 0`` ends at ``a^2 = 2E`` (sharpness ``2E``) when ``E > 0`` and at
  the origin otherwise; at the origin (a saddle or degenerate point when it is not a minimum)
  the sharpness is ``max(-E, eps E)``. For ``eps = 0``, ``b`` is conserved.
* Scalar network ``L = a/2 (prod w - y)^2`` (``docs/math.md``): every ``w_i^2 - w_j^2`` is
  conserved, so ``w_i(inf)^2 = w_i^2 + c`` with ``c`` the root of
  ``sum_i log(w_i^2 + c) = log y^2`` on ``c > -min w_i^2`` (convex and increasing in
  ``log(c + min w_i^2)``), and the sharpness is ``a y^2 sum_i 1 / (w_i^2 + c)``. Special cases:
  ``y = 0`` ends where the smallest weight vanishes (sharpness ``a prod_{j != k} (w_j^2 - w_k^2)``);
  when two or more weights share the smallest magnitude and ``prod w`` has the wrong sign (or
  is zero), those weights shrink together to a saddle with them at zero (sharpness
  ``a |y| prod_{others} |w_j(inf)|`` for exactly two, 0 for more).

"""

from __future__ import annotations

import numpy as np


# -- a globally convergent vectorised Newton solver ------------------------------------------
def _newton_convex(func, x0, consts, *, max_iter: int = 200) -> np.ndarray:
    """Return the roots of convex increasing functions by Newton's method, vectorised.

    ``func(x, c) -> (f, f')`` elementwise over the leading axis of ``consts`` (one equation
    per row), with ``f`` convex and increasing in ``x``. From any start, Newton's iterate lands
    right of the root after one step and then decreases monotonically to it, so no bracketing
    is needed. Iteration stops when an iterate moves by no more than a few ulps.
    """
    consts = np.asarray(consts, dtype=float)
    x = np.broadcast_to(np.asarray(x0, dtype=float), consts.shape[:1]).copy()
    active = np.ones(x.shape, dtype=bool)
    for _ in range(max_iter):
        if not active.any():
            break
        val, der = func(x[active], consts[active])
        step = val / der
        new = x[active] - step
        done = np.abs(step) <= 4 * np.finfo(float).eps * np.maximum(1.0, np.abs(new))
        x[active] = new
        idx = np.flatnonzero(active)
        active[idx[done]] = False
    return x


# -- closed forms --------------------------------------------------------------------------
def qr2d_limit(model, theta: np.ndarray):
    """Return ``(theta_inf, sharpness)`` of gradient flow on the 2-D model (closed form)."""
    eps, E = model.eps, model.target
    a, b = theta[..., 0], theta[..., 1]
    shape = a.shape
    a, b = a.ravel(), b.ravel()
    lim = np.zeros((a.size, 2))
    sharp = np.empty(a.size)
    origin_sharpness = max(-E, eps * E) + 0.0     # + 0.0: no negative zero
    if eps == 0.0:
        lim[:, 1] = b
        if E > 0:
            moving = a != 0
            lim[moving, 0] = np.sign(a[moving]) * np.sqrt(2 * E)
            sharp[:] = np.where(moving, 2 * E, max(-E, 0.0))
        else:
            sharp[:] = -E if E < 0 else 0.0
        return lim.reshape(*shape, 2), sharp.reshape(shape)

    on_a0 = a == 0
    on_b0 = (b == 0) & ~on_a0
    generic = ~on_a0 & ~on_b0
    # a = 0: b flows on its axis
    if E < 0:
        moving = on_a0 & (b != 0)
        lim[moving, 1] = np.sign(b[moving]) * np.sqrt(-2 * E / eps)
        sharp[moving] = -2 * eps * E
        sharp[on_a0 & (b == 0)] = origin_sharpness
    else:
        sharp[on_a0] = origin_sharpness
    # b = 0: a flows on its axis
    if E > 0:
        lim[on_b0, 0] = np.sign(a[on_b0]) * np.sqrt(2 * E)
        sharp[on_b0] = 2 * E
    else:
        sharp[on_b0] = origin_sharpness
    # generic: the conserved curve |a|^eps |b| = C meets z = 0 once
    if generic.any():
        ag, bg = np.abs(a[generic]), np.abs(b[generic])
        log_c = np.log(eps) + 2 * eps * np.log(ag) + 2 * np.log(bg)   # log(eps C^2)
        if E == 0.0:
            log_s = log_c / (1 + eps)
            s = np.exp(log_s)
            excess = s                                               # s - 2E = eps b_inf^2
        elif E < 0:
            def f(v, lc):
                ev = np.exp(v)
                return np.log(ev - 2 * E) + eps * v - lc, ev / (ev - 2 * E) + eps
            # start right of the root (log(e^v - 2E) >= max(v, log(-2E))): monotone descent
            start = np.minimum(log_c / (1 + eps), (log_c - np.log(-2 * E)) / eps)
            log_s = _newton_convex(f, start, log_c)
            s = np.exp(log_s)
            excess = s - 2 * E
        else:
            def f(w, lc):
                ew = np.exp(w)
                return w + eps * np.log(2 * E + ew) - lc, 1 + eps * ew / (2 * E + ew)
            start = np.minimum(log_c / (1 + eps), log_c - eps * np.log(2 * E))   # right of the root
            log_excess = _newton_convex(f, start, log_c)
            excess = np.exp(log_excess)
            s = 2 * E + excess
        lim[generic, 0] = np.sign(a[generic]) * np.sqrt(s)
        lim[generic, 1] = np.sign(b[generic]) * np.sqrt(excess / eps)
        sharp[generic] = (1 + eps) * excess + 2 * E
    return lim.reshape(*shape, 2), sharp.reshape(shape)


def scalar_limit(model, theta: np.ndarray):
    """Return ``(theta_inf, sharpness)`` of gradient flow on a scalar network (closed form)."""
    a, y = model.scale, model.target
    shape = theta.shape[:-1]
    w = theta.reshape(-1, theta.shape[-1])
    n, depth = w.shape
    sq = w * w
    k = np.argmin(sq, axis=1)
    m = sq[np.arange(n), k]
    d = sq - m[:, None]                                        # >= 0, zero at k
    ties = np.sum(d == 0, axis=1)
    prod = np.prod(w, axis=1)
    signs = np.where(w < 0, -1.0, 1.0)
    lim = np.empty_like(w)
    sharp = np.empty(n)
    if y == 0.0:
        others = d.copy()
        others[np.arange(n), k] = 1.0
        sharp[:] = a * np.prod(others, axis=1)
        lim[:] = signs * np.sqrt(d)
        return lim.reshape(theta.shape), sharp.reshape(shape)
    saddle = (ties >= 2) & (prod * y <= 0)
    regular = ~saddle
    if saddle.any():
        ds = d[saddle]
        others = np.where(ds == 0, 1.0, np.sqrt(ds))
        sharp[saddle] = np.where(ties[saddle] == 2, a * abs(y) * np.prod(others, axis=1), 0.0)
        lim[saddle] = signs[saddle] * np.sqrt(ds)
    if regular.any():
        dr = d[regular]
        log_y2 = np.log(y * y)

        def f(v, rows):
            ev = np.exp(v)[:, None]
            return (np.sum(np.log(rows + ev), axis=1) - log_y2,
                    np.sum(ev / (rows + ev), axis=1))

        v = _newton_convex(f, log_y2 / depth, dr)          # starts right of the root
        t = np.exp(v)
        s2 = dr + t[:, None]
        sharp[regular] = a * y * y * np.sum(1.0 / s2, axis=1)
        sg = signs[regular].copy()
        # the weight that crosses zero when prod w has the wrong sign (unique smallest)
        flip = prod[regular] * y < 0
        kr = k[regular]
        rows = np.flatnonzero(flip)
        sg[rows, kr[rows]] *= -1
        zero_prod = prod[regular] == 0
        rows = np.flatnonzero(zero_prod)
        if rows.size:
            wr = w[regular][rows]
            rest = wr.copy()
            rest[np.arange(rows.size), kr[rows]] = 1.0
            sg[rows, kr[rows]] = np.sign(y * np.prod(rest, axis=1))
        lim[regular] = sg * np.sqrt(s2)
    return lim.reshape(theta.shape), sharp.reshape(shape)


# -- the ODE path --------------------------------------------------------------------------


# -- when one GD step can increase the GFS sharpness (the ``gfs_growth`` hook) ---------------
def qr2d_increase_threshold(eps: float, branch: str = "upper") -> float:
    """Return ``x_c(eps)`` (``branch="upper"``) or ``x_-(eps)`` (``"lower"``), the ends of the
    set ``{x : |1 - x|^eps |1 + eps x| > 1}`` (see :func:`dynsys.qr2d_increase_threshold`)."""
    from scipy.optimize import brentq   # lazily: scipy.optimize takes ~1 s to import

    if branch == "upper":
        def f(x):
            return eps * np.log(x - 1) + np.log1p(eps * x)

        hi = 2.0
        while f(hi) < 0:
            hi = 1 + 2 * (hi - 1)
        return float(brentq(f, 1 + 1e-12, hi, xtol=1e-14, rtol=1e-14))

    def h(a):                                  # x = -a / eps with a > 1
        return eps * np.log1p(a / eps) + np.log(a - 1)

    hi = 2.0
    while h(hi) < 0:
        hi *= 2
    return float(-brentq(h, 1 + 1e-15, hi, xtol=1e-15, rtol=1e-14) / eps)


def qr2d_growth(model, theta: np.ndarray, lr: float) -> np.ndarray:
    """Return whether one GD step from ``theta`` (..., 2) can increase the GFS sharpness.

    The step multiplies ``|a|^eps |b|`` by ``|1 - x|^eps |1 + eps x|`` with ``x = lr z``; the
    GFS sharpness grows with that quantity, so it can grow only for ``x > x_c`` or
    ``x < x_-`` (and never for ``eps = 0``). False where ``theta`` is not finite.
    """
    theta = np.asarray(theta, dtype=float)
    out = np.zeros(theta.shape[:-1], dtype=bool)
    if model.eps <= 0:
        return out
    with np.errstate(all="ignore"):
        x = lr * model.residual(theta)[..., 0]
        out = ((x > qr2d_increase_threshold(model.eps))
               | (x < qr2d_increase_threshold(model.eps, "lower")))
    return out & np.all(np.isfinite(theta), axis=-1)


def scalar_growth(model, theta: np.ndarray, lr: float) -> np.ndarray:
    """Return whether one GD step from ``theta`` (..., depth) can increase the GFS sharpness.

    The step multiplies every conserved imbalance ``w_i^2 - w_j^2`` by
    ``1 - lr^2 r^2 / (w_i^2 w_j^2)`` (``r = scale (prod w - y) prod w``, docs/math.md
    section 5); the GFS sharpness can grow only when one of them has modulus above 1.
    """
    w = np.asarray(theta, dtype=float)
    with np.errstate(all="ignore"):
        prod = np.prod(w, axis=-1)
        r = model.scale * (prod - model.target) * prod
        sq = w * w
        worst = np.zeros(w.shape[:-1])
        for i in range(model.depth):
            for j in range(i + 1, model.depth):
                worst = np.maximum(worst, np.abs(1 - (lr * r) ** 2 / (sq[..., i] * sq[..., j])))
        return (worst > 1) & np.all(np.isfinite(w), axis=-1)
