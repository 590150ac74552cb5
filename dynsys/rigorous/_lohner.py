"""Rigorous enclosures of orbits of the rescaled 2-D map (Lohner's method, compiled).

The map is ``(p, q) -> ((1 - x)^2 p, (1 + eps x)^2 q)`` with ``x = (p - q)/2``: gradient descent
on the 2-D model ``z = (theta_1^2 - eps theta_2^2)/2`` (target 0) in the coordinates
``p = lr theta_1^2``, ``q = eps lr theta_2^2``, where the step size has dropped out.

A set of states is carried as ``[c] + A R``: ``[c]`` a (tiny) interval vector, ``A`` a float
matrix, ``R`` an interval vector. One step uses the mean-value form
``F(X) in F(c) + DF(hull X) (X - c)`` and re-orthogonalises ``A`` by a QR factorisation of the
midpoint of ``DF A`` (columns pivoted by their length times the width of ``R``), then folds
``([A']^-1 (DF A)) R`` -- the matrix product first, which is what keeps the wrapping effect
small -- and the centre's rounding error into the new ``R``. Every operation is an interval
operation widened outwards by one ulp (:mod:`._interval`), so the true image of every point of
the set lies in the new set. When the interval hull of a set grows wider than ``split_width`` the
set is bisected along its widest direction and both halves are followed (depth first).

A set becomes *terminal* when the terminal lemma holds on it (:func:`terminal_lemma`); then
every orbit from it converges to a point of the solution set ``p = q`` and the limit of
``lr x sharpness = p + eps q`` is enclosed.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit
from ._interval import down, iadd, idiv, imag, imul, iscale, isqr, isub, up

#: Piece outcomes (internal to the kernels; the public table is :class:`ProofStatus`).
PIECE_PROVED = 0          # terminal, limit enclosure inside [lo_target, hi_target]
PIECE_LIMIT_OUTSIDE = 1   # terminal, limit enclosure disjoint from the target interval
PIECE_ESCAPED = 2         # the enclosure left the ball of radius ``radius`` or stopped being finite
PIECE_BUDGET = 3          # the step, piece or depth budget ran out

_STACK = 64
_TIGHTEN = 1000   # steps a terminal piece is followed to tighten its enclosure


@njit
def _pq_map(plo, phi, qlo, qhi, eps):
    """Enclosure of the image of the box [plo, phi] x [qlo, qhi] (term by term)."""
    dlo, dhi = isub(plo, phi, qlo, qhi)
    xlo, xhi = iscale(0.5, dlo, dhi)
    alo, ahi = isub(1.0, 1.0, xlo, xhi)
    exlo, exhi = iscale(eps, xlo, xhi)
    blo, bhi = iadd(1.0, 1.0, exlo, exhi)
    a2lo, a2hi = isqr(alo, ahi)
    b2lo, b2hi = isqr(blo, bhi)
    p1lo, p1hi = imul(a2lo, a2hi, plo, phi)
    q1lo, q1hi = imul(b2lo, b2hi, qlo, qhi)
    return p1lo, p1hi, q1lo, q1hi


@njit
def _pq_jacobian(plo, phi, qlo, qhi, eps, J):
    """Interval Jacobian of the map on the box; J has shape (2, 2, 2) (row, col, lo/hi)."""
    dlo, dhi = isub(plo, phi, qlo, qhi)
    xlo, xhi = iscale(0.5, dlo, dhi)
    alo, ahi = isub(1.0, 1.0, xlo, xhi)           # 1 - x
    exlo, exhi = iscale(eps, xlo, xhi)
    blo, bhi = iadd(1.0, 1.0, exlo, exhi)         # 1 + eps x
    # d p'/d p = a (a - p); d p'/d q = p a; d q'/d p = eps q b; d q'/d q = b (b - eps q)
    tlo, thi = isub(alo, ahi, plo, phi)
    J[0, 0, 0], J[0, 0, 1] = imul(alo, ahi, tlo, thi)
    J[0, 1, 0], J[0, 1, 1] = imul(plo, phi, alo, ahi)
    eqlo, eqhi = iscale(eps, qlo, qhi)
    J[1, 0, 0], J[1, 0, 1] = imul(eqlo, eqhi, blo, bhi)
    tlo, thi = isub(blo, bhi, eqlo, eqhi)
    J[1, 1, 0], J[1, 1, 1] = imul(blo, bhi, tlo, thi)


@njit
def _mr(a, b, c, d, eps):
    """Enclosures of m and g of the terminal lemma on x in [a, b], sigma in [c, d]."""
    plo, phi = iadd(c, d, a, b)          # p = sigma + x
    qlo, qhi = isub(c, d, a, b)          # q = sigma - x
    eqlo, eqhi = iscale(eps, qlo, qhi)
    e2 = up(eps * eps)
    e2lo = down(eps * eps)
    e2qlo, e2qhi = imul(e2lo, e2, qlo, qhi)
    hxlo, hxhi = iscale(0.5, a, b)
    # m = 1 - (p + eps q) + (x/2)(p - eps^2 q)
    slo, shi = iadd(plo, phi, eqlo, eqhi)
    mlo, mhi = isub(1.0, 1.0, slo, shi)
    tlo, thi = isub(plo, phi, e2qlo, e2qhi)
    tlo, thi = imul(hxlo, hxhi, tlo, thi)
    mlo, mhi = iadd(mlo, mhi, tlo, thi)
    # g = -p + eps q + (x/2)(p + eps^2 q)
    glo, ghi = isub(eqlo, eqhi, plo, phi)
    tlo, thi = iadd(plo, phi, e2qlo, e2qhi)
    tlo, thi = imul(hxlo, hxhi, tlo, thi)
    glo, ghi = iadd(glo, ghi, tlo, thi)
    return imag(mlo, mhi), imag(glo, ghi)


@njit
def terminal_lemma(xlo, xhi, slo, shi, eps):
    """Return ``(ok, s_lo, s_hi)``: whether the terminal lemma holds for the set
    ``x in [xlo, xhi], sigma in [slo, shi]`` and, if so, an enclosure of the common limit of
    ``p`` and ``q`` of every orbit from it.

    With ``r = max |x|``, ``D`` a trial drift bound and ``T = [-r, r] x [slo - D, shi + D]``:
    if ``|m| <= rho < 1`` and ``|g| <= G`` on ``T`` and ``r G / (1 - rho) <= D``, then every orbit
    from the set stays in ``T`` (``|x|`` shrinks by ``rho`` per step, ``sigma`` moves by at most
    ``|x| G``), ``x -> 0`` and ``sigma`` converges within ``r G / (1 - rho)`` of ``[slo, shi]``.
    """
    r = max(abs(xlo), abs(xhi))
    if not (r < 1.0) or not (shi - slo < 1e300):
        return False, 0.0, 0.0
    rho0, g0 = _mr(-r, r, slo, shi, eps)
    if not (rho0 < 1.0):
        return False, 0.0, 0.0
    trial = up(2.0 * up(r * g0) / down(1.0 - rho0)) + 1e-300
    lo_t = down(slo - trial)
    hi_t = up(shi + trial)
    rho, g = _mr(-r, r, lo_t, hi_t, eps)
    if not (rho < 1.0):
        return False, 0.0, 0.0
    need = up(up(r * g) / down(1.0 - rho))
    if not (need <= trial):
        return False, 0.0, 0.0
    return True, down(slo - need), up(shi + need)


@njit
def _hull(clo, chi, A, rlo, rhi, with_zero, out):
    """out[i] = [c_i] + sum_j A_ij R_j (R_j widened to contain 0 when with_zero)."""
    for i in range(2):
        lo, hi = clo[i], chi[i]
        for j in range(2):
            a, b = rlo[j], rhi[j]
            if with_zero:
                a = min(a, 0.0)
                b = max(b, 0.0)
            tlo, thi = iscale(A[i, j], a, b)
            lo, hi = iadd(lo, hi, tlo, thi)
        out[i, 0] = lo
        out[i, 1] = hi


@njit
def _xs(clo, chi, A, rlo, rhi):
    """Enclosures of x = (p - q)/2 and sigma = (p + q)/2 over the set (no wrapping)."""
    dlo, dhi = isub(clo[0], chi[0], clo[1], chi[1])
    xlo, xhi = iscale(0.5, dlo, dhi)
    slo, shi = iadd(clo[0], chi[0], clo[1], chi[1])
    slo, shi = iscale(0.5, slo, shi)
    for j in range(2):
        alo, ahi = isub(A[0, j], A[0, j], A[1, j], A[1, j])
        alo, ahi = iscale(0.5, alo, ahi)
        tlo, thi = imul(alo, ahi, rlo[j], rhi[j])
        xlo, xhi = iadd(xlo, xhi, tlo, thi)
        alo, ahi = iadd(A[0, j], A[0, j], A[1, j], A[1, j])
        alo, ahi = iscale(0.5, alo, ahi)
        tlo, thi = imul(alo, ahi, rlo[j], rhi[j])
        slo, shi = iadd(slo, shi, tlo, thi)
    return xlo, xhi, slo, shi


@njit
def lohner_step(clo, chi, A, rlo, rhi, eps, X, J, M, B, Ainv, W):
    """Advance the set ``[c] + A R`` by one step, in place (``clo == chi`` afterwards).

    ``X``, ``J``, ``M``, ``B``, ``Ainv``, ``W`` (shape (4, 2)) are work arrays. Returns False when an intermediate
    stopped being finite (the caller treats the set as escaped)."""
    _hull(clo, chi, A, rlo, rhi, True, X)
    _pq_jacobian(X[0, 0], X[0, 1], X[1, 0], X[1, 1], eps, J)
    c0 = 0.5 * (clo[0] + chi[0])
    c1 = 0.5 * (clo[1] + chi[1])
    f0lo, f0hi, f1lo, f1hi = _pq_map(c0, c0, c1, c1, eps)
    # v = F(c_hat) + J ([c] - c_hat)
    vlo = W[0]
    vhi = W[1]
    vlo[0], vhi[0] = f0lo, f0hi
    vlo[1], vhi[1] = f1lo, f1hi
    d0lo, d0hi = isub(clo[0], chi[0], c0, c0)
    d1lo, d1hi = isub(clo[1], chi[1], c1, c1)
    for i in range(2):
        tlo, thi = imul(J[i, 0, 0], J[i, 0, 1], d0lo, d0hi)
        vlo[i], vhi[i] = iadd(vlo[i], vhi[i], tlo, thi)
        tlo, thi = imul(J[i, 1, 0], J[i, 1, 1], d1lo, d1hi)
        vlo[i], vhi[i] = iadd(vlo[i], vhi[i], tlo, thi)
    # M = J A
    for i in range(2):
        for j in range(2):
            lo, hi = iscale(A[0, j], J[i, 0, 0], J[i, 0, 1])
            tlo, thi = iscale(A[1, j], J[i, 1, 0], J[i, 1, 1])
            M[i, j, 0], M[i, j, 1] = iadd(lo, hi, tlo, thi)
    # A' = Q of QR(mid M), first column the longer one (length x width of R)
    m00 = 0.5 * (M[0, 0, 0] + M[0, 0, 1])
    m10 = 0.5 * (M[1, 0, 0] + M[1, 0, 1])
    m01 = 0.5 * (M[0, 1, 0] + M[0, 1, 1])
    m11 = 0.5 * (M[1, 1, 0] + M[1, 1, 1])
    w0 = np.hypot(m00, m10) * (rhi[0] - rlo[0])
    w1 = np.hypot(m01, m11) * (rhi[1] - rlo[1])
    if w1 > w0:
        u0, u1 = m01, m11
    else:
        u0, u1 = m00, m10
    nrm = np.hypot(u0, u1)
    if not (nrm > 0.0) or not np.isfinite(nrm):
        u0, u1, nrm = 1.0, 0.0, 1.0
    u0 /= nrm
    u1 /= nrm
    A[0, 0], A[1, 0] = u0, u1
    A[0, 1], A[1, 1] = -u1, u0
    # [A']^-1 by the adjugate over an interval determinant
    p1lo, p1hi = imul(u0, u0, u0, u0)
    p2lo, p2hi = imul(-u1, -u1, u1, u1)
    dlo, dhi = isub(p1lo, p1hi, p2lo, p2hi)
    Ainv[0, 0, 0], Ainv[0, 0, 1] = idiv(u0, u0, dlo, dhi)
    Ainv[0, 1, 0], Ainv[0, 1, 1] = idiv(u1, u1, dlo, dhi)
    Ainv[1, 0, 0], Ainv[1, 0, 1] = idiv(-u1, -u1, dlo, dhi)
    Ainv[1, 1, 0], Ainv[1, 1, 1] = idiv(u0, u0, dlo, dhi)
    # B = [A']^-1 M, then R' = B R + [A']^-1 (v - c')
    for i in range(2):
        for j in range(2):
            lo, hi = imul(Ainv[i, 0, 0], Ainv[i, 0, 1], M[0, j, 0], M[0, j, 1])
            tlo, thi = imul(Ainv[i, 1, 0], Ainv[i, 1, 1], M[1, j, 0], M[1, j, 1])
            B[i, j, 0], B[i, j, 1] = iadd(lo, hi, tlo, thi)
    n0 = 0.5 * (vlo[0] + vhi[0])
    n1 = 0.5 * (vlo[1] + vhi[1])
    e0lo, e0hi = isub(vlo[0], vhi[0], n0, n0)
    e1lo, e1hi = isub(vlo[1], vhi[1], n1, n1)
    newlo = W[2]
    newhi = W[3]
    for i in range(2):
        lo, hi = imul(B[i, 0, 0], B[i, 0, 1], rlo[0], rhi[0])
        tlo, thi = imul(B[i, 1, 0], B[i, 1, 1], rlo[1], rhi[1])
        lo, hi = iadd(lo, hi, tlo, thi)
        tlo, thi = imul(Ainv[i, 0, 0], Ainv[i, 0, 1], e0lo, e0hi)
        lo, hi = iadd(lo, hi, tlo, thi)
        tlo, thi = imul(Ainv[i, 1, 0], Ainv[i, 1, 1], e1lo, e1hi)
        newlo[i], newhi[i] = iadd(lo, hi, tlo, thi)
    ok = np.isfinite(n0) and np.isfinite(n1)
    for i in range(2):
        rlo[i] = newlo[i]
        rhi[i] = newhi[i]
        ok = ok and np.isfinite(newlo[i]) and np.isfinite(newhi[i])
    clo[0] = chi[0] = n0
    clo[1] = chi[1] = n1
    return ok


@njit
def _init_set(plo, phi, qlo, qhi, clo, chi, A, rlo, rhi):
    """The box as a set: centre its midpoint, A = I, R the half-widths (rounded outwards)."""
    c0 = 0.5 * (plo + phi)
    c1 = 0.5 * (qlo + qhi)
    clo[0] = chi[0] = c0
    clo[1] = chi[1] = c1
    A[0, 0], A[0, 1], A[1, 0], A[1, 1] = 1.0, 0.0, 0.0, 1.0
    rlo[0], rhi[0] = isub(plo, phi, c0, c0)
    rlo[1], rhi[1] = isub(qlo, qhi, c1, c1)


@njit
def enclose_box(plo, phi, qlo, qhi, eps, target_lo, target_hi, split_width, max_pieces,
                max_depth, max_steps, terminal_x, enclosure_tol, radius):
    """Follow the box ``[plo, phi] x [qlo, qhi]`` until every piece is terminal or one fails.

    Returns ``(status, terminal_step, lim_lo, lim_hi, pieces, depth, steps)``: the outcome
    (``PIECE_*``; the first failing piece ends the search), the largest step at which a piece
    became terminal, the hull of the enclosures of ``lr x sharpness`` at the limit over all
    pieces, the number of pieces followed, the deepest split and the Lohner steps taken.
    """
    sclo = np.empty((_STACK, 2))
    schi = np.empty((_STACK, 2))
    sA = np.empty((_STACK, 2, 2))
    srlo = np.empty((_STACK, 2))
    srhi = np.empty((_STACK, 2))
    sstep = np.zeros(_STACK, dtype=np.int64)
    sdepth = np.zeros(_STACK, dtype=np.int64)
    clo = np.empty(2)
    chi = np.empty(2)
    A = np.empty((2, 2))
    rlo = np.empty(2)
    rhi = np.empty(2)
    X = np.empty((2, 2))
    J = np.empty((2, 2, 2))
    M = np.empty((2, 2, 2))
    B = np.empty((2, 2, 2))
    Ainv = np.empty((2, 2, 2))
    W = np.empty((4, 2))
    _init_set(plo, phi, qlo, qhi, clo, chi, A, rlo, rhi)
    top = 0
    sclo[0, :] = clo
    schi[0, :] = chi
    sA[0] = A
    srlo[0, :] = rlo
    srhi[0, :] = rhi
    top = 1
    pieces = 1
    deepest = 0
    total = 0
    last_terminal = 0
    lim_lo = np.inf
    lim_hi = -np.inf
    onelo, onehi = iadd(1.0, 1.0, eps, eps)
    while top > 0:
        top -= 1
        clo[:] = sclo[top]
        chi[:] = schi[top]
        A[:, :] = sA[top]
        rlo[:] = srlo[top]
        rhi[:] = srhi[top]
        k = sstep[top]
        depth = sdepth[top]
        have = False
        force_split = False
        best_lo = -np.inf
        best_hi = np.inf
        first_terminal = -1
        while True:
            xlo, xhi, slo, shi = _xs(clo, chi, A, rlo, rhi)
            if max(abs(xlo), abs(xhi)) <= terminal_x:
                ok, s_lo, s_hi = terminal_lemma(xlo, xhi, slo, shi, eps)
                if ok:
                    llo, _ = imul(onelo, onehi, s_lo, s_lo)
                    _, lhi = imul(onelo, onehi, s_hi, s_hi)
                    if first_terminal < 0:
                        first_terminal = k
                    have = True
                    best_lo = max(best_lo, llo)
                    best_hi = min(best_hi, lhi)
                    if best_hi < target_lo or best_lo > target_hi:
                        return PIECE_LIMIT_OUTSIDE, k, best_lo, best_hi, pieces, deepest, total
                    inside = best_lo >= target_lo and best_hi <= target_hi
                    # the drift bound shrinks with |x|; the width along the solution set
                    # does not (and Lohner's error slowly grows there): stop when the drift
                    # no longer matters
                    drift = (s_hi - s_lo) - (shi - slo)
                    settled = (drift <= enclosure_tol or drift <= 0.05 * (shi - slo)
                               or k - first_terminal >= _TIGHTEN)
                    if settled and inside:
                        break
                    if settled:
                        force_split = True
            if k >= max_steps:
                return PIECE_BUDGET, k, lim_lo, lim_hi, pieces, deepest, total
            _hull(clo, chi, A, rlo, rhi, False, X)
            width = max(X[0, 1] - X[0, 0], X[1, 1] - X[1, 0])
            if not (max(abs(X[0, 0]), abs(X[0, 1]), abs(X[1, 0]), abs(X[1, 1])) <= radius):
                return PIECE_ESCAPED, k, lim_lo, lim_hi, pieces, deepest, total
            if force_split or (width > split_width and not have):
                if depth >= max_depth or pieces >= max_pieces or top + 2 > _STACK:
                    return PIECE_BUDGET, k, lim_lo, lim_hi, pieces, deepest, total
                # bisect R along its widest direction; recentre each half
                j = 0
                if (rhi[1] - rlo[1]) * (abs(A[0, 1]) + abs(A[1, 1])) > \
                        (rhi[0] - rlo[0]) * (abs(A[0, 0]) + abs(A[1, 0])):
                    j = 1
                mid = 0.5 * (rlo[j] + rhi[j])
                for h in range(2):
                    a = rlo[j] if h == 0 else mid
                    b = mid if h == 0 else rhi[j]
                    mh = 0.5 * (a + b)
                    sA[top] = A
                    for i in range(2):
                        tlo, thi = iscale(A[i, j], mh, mh)
                        sclo[top, i], schi[top, i] = iadd(clo[i], chi[i], tlo, thi)
                        srlo[top, i] = rlo[i]
                        srhi[top, i] = rhi[i]
                    srlo[top, j], srhi[top, j] = isub(a, b, mh, mh)
                    sstep[top] = k
                    sdepth[top] = depth + 1
                    top += 1
                pieces += 1
                deepest = max(deepest, depth + 1)
                have = False
                break
            if not lohner_step(clo, chi, A, rlo, rhi, eps, X, J, M, B, Ainv, W):
                return PIECE_ESCAPED, k, lim_lo, lim_hi, pieces, deepest, total
            k += 1
            total += 1
        if have:
            last_terminal = max(last_terminal, first_terminal)
            lim_lo = min(lim_lo, best_lo)
            lim_hi = max(lim_hi, best_hi)
    return PIECE_PROVED, last_terminal, lim_lo, lim_hi, pieces, deepest, total


@njit
def enclose_boxes(boxes, eps, target_lo, target_hi, split_width, max_pieces, max_depth,
                  max_steps, terminal_x, enclosure_tol, radius, status, terminal, limit,
                  pieces, depth, steps):
    """:func:`enclose_box` for every row ``(plo, phi, qlo, qhi)`` of ``boxes`` (one after another)."""
    for n in range(boxes.shape[0]):
        s, t, lo, hi, pc, dp, st = enclose_box(
            boxes[n, 0], boxes[n, 1], boxes[n, 2], boxes[n, 3], eps, target_lo, target_hi,
            split_width, max_pieces, max_depth, max_steps, terminal_x, enclosure_tol, radius)
        status[n] = s
        terminal[n] = t
        limit[n, 0] = lo
        limit[n, 1] = hi
        pieces[n] = pc
        depth[n] = dp
        steps[n] = st
