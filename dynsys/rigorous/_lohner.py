"""Rigorous enclosures of orbits of the rescaled 2-D map (Lohner's method, compiled).

The map is ``(p, q) -> ((1 - x)^2 p, (1 + eps x)^2 q)`` with ``x = (p - q)/2``: gradient descent
on the 2-D model ``z = (theta_1^2 - eps theta_2^2)/2`` (target 0) in the coordinates
``p = lr theta_1^2``, ``q = eps lr theta_2^2``, where the step size has dropped out.

A set of states is carried as ``[c] + A R``: ``[c]`` a (tiny) interval vector, ``A`` a float
matrix, ``R`` an interval vector. One step uses the mean-value form
``F(X) in F(c) + DF(hull X) (X - c)`` and chooses the next ``A'`` among three candidates by the
predicted size of the next set: Q of a QR factorisation of the midpoint of ``DF A`` (Lohner's
choice), that midpoint with its columns normalised (a parallelepiped) and the eigenvectors of
the midpoint of ``DF`` (near the solution set, where ``DF`` has eigenvalues 1 and about -1 with
eigenvectors far from orthogonal, an orthogonal ``A'`` wraps by a factor near 2 per step). It
then folds ``([A']^-1 (DF A)) R`` -- the matrix product first, which is what keeps the wrapping
effect small -- and the centre's rounding error into the new ``R``; any invertible float ``A'``
is rigorous, as only an interval enclosure of its inverse is used. Every operation is an
interval operation widened outwards by one ulp (:mod:`._interval`), so the true image of every
point of the set lies in the new set. When the interval hull of a set grows wider than
``split_width`` the set is bisected along its widest direction and both halves are followed
(depth first). With a cache of proved lattice cells (:func:`cache_lookup`) a set that lies in
cells proved before is done (docs/math.md, section 8).

A set becomes *terminal* when the terminal lemma holds on it (:func:`terminal_lemma`); then
every orbit from it converges to a point of the solution set ``p = q`` and the limit of
``lr x sharpness = p + eps q`` is enclosed.
"""

from __future__ import annotations

import numpy as np

from .._numba import njit, numba
from ._interval import down, iadd, idiv, imag, imul, iscale, isqr, isub, up

#: Piece outcomes (internal to the kernels; the public table is :class:`ProofStatus`).
PIECE_PROVED = 0          # terminal, limit enclosure inside [lo_target, hi_target]
PIECE_LIMIT_OUTSIDE = 1   # terminal, limit enclosure disjoint from the target interval
PIECE_ESCAPED = 2         # the enclosure left the ball of radius ``radius`` or stopped being finite
PIECE_BUDGET = 3          # the step, piece or depth budget ran out

_STACK = 64
_TIGHTEN = 1000   # steps a terminal piece is followed to tighten its enclosure
#: largest 1/|sin(angle)| between the columns of a parallelepiped set before it is re-orthogonalised
_MAX_COND = 100.0
#: lattice cells tested per containment check (larger sets go on without the cache)
MAX_CELLS = 64


@njit
def _x_of(plo, phi, qlo, qhi, elo, ehi):
    """Enclosure of ``x = (p - q)/2 - e`` (``e = lr x target``; exactly ``(p - q)/2`` when
    ``e`` is the point 0, so the target-0 kernel is unchanged bit for bit)."""
    dlo, dhi = isub(plo, phi, qlo, qhi)
    xlo, xhi = iscale(0.5, dlo, dhi)
    if elo != 0.0 or ehi != 0.0:
        xlo, xhi = isub(xlo, xhi, elo, ehi)
    return xlo, xhi


@njit
def _pq_map(plo, phi, qlo, qhi, eps, elo, ehi):
    """Enclosure of the image of the box [plo, phi] x [qlo, qhi] (term by term), for every
    ``e`` in [elo, ehi]."""
    xlo, xhi = _x_of(plo, phi, qlo, qhi, elo, ehi)
    alo, ahi = isub(1.0, 1.0, xlo, xhi)
    exlo, exhi = iscale(eps, xlo, xhi)
    blo, bhi = iadd(1.0, 1.0, exlo, exhi)
    a2lo, a2hi = isqr(alo, ahi)
    b2lo, b2hi = isqr(blo, bhi)
    p1lo, p1hi = imul(a2lo, a2hi, plo, phi)
    q1lo, q1hi = imul(b2lo, b2hi, qlo, qhi)
    return p1lo, p1hi, q1lo, q1hi


@njit
def _pq_jacobian(plo, phi, qlo, qhi, eps, elo, ehi, J):
    """Interval Jacobian in (p, q) of the map on the box, for every ``e`` in [elo, ehi]; J has
    shape (2, 2, 2) (row, col, lo/hi)."""
    xlo, xhi = _x_of(plo, phi, qlo, qhi, elo, ehi)
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
def _mr(a, b, c, d, eps, elo, ehi):
    """Enclosures of m and g of the terminal lemma on x in [a, b], sigma in [c, d], e in
    [elo, ehi]."""
    plo, phi = iadd(c, d, a, b)          # p = sigma + x (+ e)
    qlo, qhi = isub(c, d, a, b)          # q = sigma - x (- e)
    if elo != 0.0 or ehi != 0.0:
        plo, phi = iadd(plo, phi, elo, ehi)
        qlo, qhi = isub(qlo, qhi, elo, ehi)
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
def terminal_lemma(xlo, xhi, slo, shi, eps, elo=0.0, ehi=0.0):
    """Return ``(ok, s_lo, s_hi)``: whether the terminal lemma holds for the set
    ``x in [xlo, xhi], sigma in [slo, shi]`` (and ``e = lr x target`` in ``[elo, ehi]``) and,
    if so, an enclosure of the limit of ``sigma = (p + q)/2`` of every orbit from it (with
    ``e = 0`` the common limit of ``p`` and ``q``).

    With ``r = max |x|``, ``D`` a trial drift bound and ``T = [-r, r] x [slo - D, shi + D]``:
    if ``|m| <= rho < 1`` and ``|g| <= G`` on ``T`` and ``r G / (1 - rho) <= D``, then every orbit
    from the set stays in ``T`` (``|x|`` shrinks by ``rho`` per step, ``sigma`` moves by at most
    ``|x| G``), ``x -> 0`` and ``sigma`` converges within ``r G / (1 - rho)`` of ``[slo, shi]``.
    """
    r = max(abs(xlo), abs(xhi))
    if not (r < 1.0) or not (shi - slo < 1e300):
        return False, 0.0, 0.0
    rho0, g0 = _mr(-r, r, slo, shi, eps, elo, ehi)
    if not (rho0 < 1.0):
        return False, 0.0, 0.0
    trial = up(2.0 * up(r * g0) / down(1.0 - rho0)) + 1e-300
    lo_t = down(slo - trial)
    hi_t = up(shi + trial)
    rho, g = _mr(-r, r, lo_t, hi_t, eps, elo, ehi)
    if not (rho < 1.0):
        return False, 0.0, 0.0
    need = up(up(r * g) / down(1.0 - rho))
    if not (need <= trial):
        return False, 0.0, 0.0
    return True, down(slo - need), up(shi + need)


@njit
def _hull(clo, chi, A, rlo, rhi, with_zero, out, ev):
    """out[i] = [c_i] + sum_j A_ij R_j (+ a_i de, see :func:`_e_range`; R_j and de widened to
    contain 0 when with_zero)."""
    for i in range(2):
        lo, hi = clo[i], chi[i]
        for j in range(2):
            a, b = rlo[j], rhi[j]
            if with_zero:
                a = min(a, 0.0)
                b = max(b, 0.0)
            tlo, thi = iscale(A[i, j], a, b)
            lo, hi = iadd(lo, hi, tlo, thi)
        if ev[1] != 0.0 or ev[2] != 0.0:
            a, b = ev[1], ev[2]
            if with_zero:
                a = min(a, 0.0)
                b = max(b, 0.0)
            tlo, thi = iscale(ev[3 + i], a, b)
            lo, hi = iadd(lo, hi, tlo, thi)
        out[i, 0] = lo
        out[i, 1] = hi


@njit
def _e_range(ev):
    """The interval of ``e = e_c + de`` of a set whose parameter state is ``ev = (e_c, de_lo,
    de_hi, a_0, a_1)``: the set is ``[c] + A R + a de`` (``a`` the float column carrying the
    dependence on e; exactly [0, 0] for target 0)."""
    if ev[0] == 0.0 and ev[1] == 0.0 and ev[2] == 0.0:
        return 0.0, 0.0
    return iadd(ev[0], ev[0], ev[1], ev[2])


@njit
def _xs(clo, chi, A, rlo, rhi):
    """Enclosures of x = (p - q)/2 and sigma = (p + q)/2 over the set (no wrapping)."""
    return _xs_e(clo, chi, A, rlo, rhi, np.zeros(5))


@njit
def _xs_e(clo, chi, A, rlo, rhi, ev):
    """Enclosures of x = (p - q)/2 - e and sigma = (p + q)/2 over the set ``[c] + A R + a de``
    (no wrapping: x uses the correlation of p - q with e through ``a``)."""
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
    if ev[0] != 0.0 or ev[1] != 0.0 or ev[2] != 0.0:
        # x = ... + ((a_0 - a_1)/2 - 1) de - e_c, sigma = ... + (a_0 + a_1)/2 de
        alo, ahi = isub(ev[3], ev[3], ev[4], ev[4])
        alo, ahi = iscale(0.5, alo, ahi)
        alo, ahi = isub(alo, ahi, 1.0, 1.0)
        tlo, thi = imul(alo, ahi, ev[1], ev[2])
        xlo, xhi = iadd(xlo, xhi, tlo, thi)
        xlo, xhi = isub(xlo, xhi, ev[0], ev[0])
        alo, ahi = iadd(ev[3], ev[3], ev[4], ev[4])
        alo, ahi = iscale(0.5, alo, ahi)
        tlo, thi = imul(alo, ahi, ev[1], ev[2])
        slo, shi = iadd(slo, shi, tlo, thi)
    return xlo, xhi, slo, shi


@njit(inline="always")
def _eigvec(j00, j01, j10, j11, lam):
    """A unit eigenvector of the float matrix J for its eigenvalue ``lam`` ((0, 0) if none)."""
    e0, e1 = j01, lam - j00
    f0, f1 = lam - j11, j10
    if np.hypot(f0, f1) > np.hypot(e0, e1):
        e0, e1 = f0, f1
    ne = np.hypot(e0, e1)
    if not (ne > 0.0) or not np.isfinite(ne):
        return 0.0, 0.0
    return e0 / ne, e1 / ne


@njit
def _try_basis(a00, a10, a01, a11, M, rlo, rhi, Ainv, B, bound):
    """Fill ``Ainv`` (an interval enclosure of the inverse of the float matrix
    ``[[a00, a01], [a10, a11]]``) and ``B = Ainv M``; return the predicted area
    ``|det A'| * prod_i 2 sum_j |B_ij| |R_j|`` of the next set (inf if not invertible)."""
    p1lo, p1hi = imul(a00, a00, a11, a11)
    p2lo, p2hi = imul(a01, a01, a10, a10)
    dlo, dhi = isub(p1lo, p1hi, p2lo, p2hi)
    if dlo <= 0.0 <= dhi:
        return np.inf
    Ainv[0, 0, 0], Ainv[0, 0, 1] = idiv(a11, a11, dlo, dhi)
    Ainv[0, 1, 0], Ainv[0, 1, 1] = idiv(-a01, -a01, dlo, dhi)
    Ainv[1, 0, 0], Ainv[1, 0, 1] = idiv(-a10, -a10, dlo, dhi)
    Ainv[1, 1, 0], Ainv[1, 1, 1] = idiv(a00, a00, dlo, dhi)
    area = abs(0.5 * (dlo + dhi))
    r0 = imag(rlo[0], rhi[0])
    r1 = imag(rlo[1], rhi[1])
    for i in range(2):
        for j in range(2):
            lo, hi = imul(Ainv[i, 0, 0], Ainv[i, 0, 1], M[0, j, 0], M[0, j, 1])
            tlo, thi = imul(Ainv[i, 1, 0], Ainv[i, 1, 1], M[1, j, 0], M[1, j, 1])
            B[i, j, 0], B[i, j, 1] = iadd(lo, hi, tlo, thi)
        area *= 2.0 * (imag(B[i, 0, 0], B[i, 0, 1]) * r0 + imag(B[i, 1, 0], B[i, 1, 1]) * r1)
    return area


@njit
def lohner_step(clo, chi, A, rlo, rhi, eps, X, J, M, B, Ainv, W, parallelepiped):
    """Advance the set ``[c] + A R`` by one step, in place (``clo == chi`` afterwards).

    ``X``, ``J``, ``M``, ``B``, ``Ainv``, ``W`` (shape (4, 2)) are work arrays. Returns False
    when an intermediate stopped being finite (the caller treats the set as escaped)."""
    return lohner_step_e(clo, chi, A, rlo, rhi, eps, np.zeros(5), X, J, M, B, Ainv, W,
                         parallelepiped)


@njit
def lohner_step_e(clo, chi, A, rlo, rhi, eps, ev, X, J, M, B, Ainv, W, parallelepiped):
    """:func:`lohner_step` for the set ``[c] + A R + a de`` of the map with ``e = e_c + de``
    (``ev`` as in :func:`_e_range`, updated in place): the third state ``e`` has ``e' = e``, so
    only its column ``a`` moves, ``a' = mid(J a + J_e)``, and the rest ``(J a + J_e - a') de``
    joins the centre's error (a 3-D Lohner step whose e row is exact)."""
    elo, ehi = _e_range(ev)
    with_e = ev[1] != 0.0 or ev[2] != 0.0
    _hull(clo, chi, A, rlo, rhi, True, X, ev)
    _pq_jacobian(X[0, 0], X[0, 1], X[1, 0], X[1, 1], eps, elo, ehi, J)
    c0 = 0.5 * (clo[0] + chi[0])
    c1 = 0.5 * (clo[1] + chi[1])
    f0lo, f0hi, f1lo, f1hi = _pq_map(c0, c0, c1, c1, eps, ev[0], ev[0])
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
    if with_e:
        # d p'/d e = 2 (1 - x) p, d q'/d e = -2 eps (1 + eps x) q, on the hull
        xlo, xhi = _x_of(X[0, 0], X[0, 1], X[1, 0], X[1, 1], elo, ehi)
        alo, ahi = isub(1.0, 1.0, xlo, xhi)
        g0lo, g0hi = imul(alo, ahi, X[0, 0], X[0, 1])
        g0lo, g0hi = iscale(2.0, g0lo, g0hi)
        exlo, exhi = iscale(eps, xlo, xhi)
        blo, bhi = iadd(1.0, 1.0, exlo, exhi)
        g1lo, g1hi = imul(blo, bhi, X[1, 0], X[1, 1])
        g1lo, g1hi = iscale(-2.0 * eps, g1lo, g1hi)
        for i in range(2):
            nlo, nhi = (g0lo, g0hi) if i == 0 else (g1lo, g1hi)
            tlo, thi = iscale(ev[3], J[i, 0, 0], J[i, 0, 1])
            nlo, nhi = iadd(nlo, nhi, tlo, thi)
            tlo, thi = iscale(ev[4], J[i, 1, 0], J[i, 1, 1])
            nlo, nhi = iadd(nlo, nhi, tlo, thi)
            a_new = 0.5 * (nlo + nhi)
            nlo, nhi = isub(nlo, nhi, a_new, a_new)
            tlo, thi = imul(nlo, nhi, ev[1], ev[2])
            vlo[i], vhi[i] = iadd(vlo[i], vhi[i], tlo, thi)
            if not np.isfinite(a_new):
                return False
            W[2, i] = a_new
        ev[3], ev[4] = W[2, 0], W[2, 1]
    # M = J A
    for i in range(2):
        for j in range(2):
            lo, hi = iscale(A[0, j], J[i, 0, 0], J[i, 0, 1])
            tlo, thi = iscale(A[1, j], J[i, 1, 0], J[i, 1, 1])
            M[i, j, 0], M[i, j, 1] = iadd(lo, hi, tlo, thi)
    # A', among three candidates the one with the smallest predicted set (|det A'| times the
    # area of the box B R, B = [A']^-1 M in intervals): Q of QR(mid M) (Lohner's choice, first
    # column the longer one by length x width of R); the columns of mid M normalised (a
    # parallelepiped: B nearly diagonal, no wrapping, while the columns stay apart); the
    # eigenvectors of mid J (near the solution set, where J has eigenvalues 1 and about -1 and
    # its eigenvectors are far from orthogonal). Any invertible float A' is rigorous: only
    # [A']^-1 is needed in intervals.
    m00 = 0.5 * (M[0, 0, 0] + M[0, 0, 1])
    m10 = 0.5 * (M[1, 0, 0] + M[1, 0, 1])
    m01 = 0.5 * (M[0, 1, 0] + M[0, 1, 1])
    m11 = 0.5 * (M[1, 1, 0] + M[1, 1, 1])
    n0 = np.hypot(m00, m10)
    n1 = np.hypot(m01, m11)
    w0 = n0 * (rhi[0] - rlo[0])
    w1 = n1 * (rhi[1] - rlo[1])
    if w1 > w0:
        u0, u1, nrm = m01, m11, n1
    else:
        u0, u1, nrm = m00, m10, n0
    if not (nrm > 0.0) or not np.isfinite(nrm):
        u0, u1, nrm = 1.0, 0.0, 1.0
    u0 /= nrm
    u1 /= nrm
    best = _try_basis(u0, u1, -u1, u0, M, rlo, rhi, Ainv, B, np.inf)
    c00, c10, c01, c11 = u0, u1, -u1, u0
    if parallelepiped:
        if n0 > 0.0 and n1 > 0.0 and np.isfinite(n0) and np.isfinite(n1):
            a00, a10, a01, a11 = m00 / n0, m10 / n0, m01 / n1, m11 / n1
            if abs(a00 * a11 - a01 * a10) * _MAX_COND >= 1.0:
                area = _try_basis(a00, a10, a01, a11, M, rlo, rhi, Ainv, B, best)
                if area < best:
                    best = area
                    c00, c10, c01, c11 = a00, a10, a01, a11
        j00 = 0.5 * (J[0, 0, 0] + J[0, 0, 1])
        j01 = 0.5 * (J[0, 1, 0] + J[0, 1, 1])
        j10 = 0.5 * (J[1, 0, 0] + J[1, 0, 1])
        j11 = 0.5 * (J[1, 1, 0] + J[1, 1, 1])
        tr = 0.5 * (j00 + j11)
        disc = tr * tr - (j00 * j11 - j01 * j10)
        if disc > 0.0 and np.isfinite(disc):
            root = np.sqrt(disc)
            e00, e10 = _eigvec(j00, j01, j10, j11, tr + root)
            e01, e11 = _eigvec(j00, j01, j10, j11, tr - root)
            if abs(e00 * e11 - e01 * e10) * _MAX_COND >= 1.0:
                area = _try_basis(e00, e10, e01, e11, M, rlo, rhi, Ainv, B, best)
                if area < best:
                    best = area
                    c00, c10, c01, c11 = e00, e10, e01, e11
    A[0, 0], A[1, 0] = c00, c10
    A[0, 1], A[1, 1] = c01, c11
    _try_basis(c00, c10, c01, c11, M, rlo, rhi, Ainv, B, np.inf)
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
def _cell_range(lo, hi, origin, inv_h):
    """Lattice indices ``(first, last)`` of the cells that may hold points of ``[lo, hi]``
    (rounded so that every such cell is included; ``inv_h`` is a power of 2)."""
    return (int(np.floor(down(lo - origin) * inv_h)),
            int(np.floor(up(hi - origin) * inv_h)))


@njit
def cache_lookup(clo, chi, A, rlo, rhi, X, cache, cache_lim, origin, h, max_order, max_cells):
    """Return ``(ok, lo, hi)``: whether every point of the set ``[c] + A R`` lies in a lattice
    cell of ``cache`` proved before ``max_order`` and, if so, the hull of those cells' limit
    enclosures.

    The lattice has cells ``[p0 + i h, p0 + (i + 1) h] x [q0 + j h, q0 + (j + 1) h]``
    (``origin = (p0, q0)`` multiples of ``h``, a power of 2, so the edges are exact);
    ``cache[i, j]`` is the order in which the cell was proved (-1: not proved) and
    ``cache_lim[i, j]`` its limit enclosure. Every cell meeting the hull ``X`` of the set must
    be proved, except cells shown disjoint from the set itself: ``[A]^-1 (cell - [c])`` (in
    intervals, ``[A]^-1`` enclosing the inverse of the float matrix A) misses R.
    """
    inv_h = 1.0 / h
    i0, i1 = _cell_range(X[0, 0], X[0, 1], origin[0], inv_h)
    j0, j1 = _cell_range(X[1, 0], X[1, 1], origin[1], inv_h)
    n_p, n_q = cache.shape
    if i0 < 0 or j0 < 0 or i1 >= n_p or j1 >= n_q:
        return False, 0.0, 0.0
    if (i1 - i0 + 1) * (j1 - j0 + 1) > max_cells:
        return False, 0.0, 0.0
    lo = np.inf
    hi = -np.inf
    inv_ok = False
    i00lo = i00hi = i01lo = i01hi = i10lo = i10hi = i11lo = i11hi = 0.0
    for i in range(i0, i1 + 1):
        for j in range(j0, j1 + 1):
            o = cache[i, j]
            if o >= 0 and o < max_order:
                lo = min(lo, cache_lim[i, j, 0])
                hi = max(hi, cache_lim[i, j, 1])
                continue
            if not inv_ok:
                # [A]^-1 = adj(A) / det(A), det in intervals
                d1lo, d1hi = imul(A[0, 0], A[0, 0], A[1, 1], A[1, 1])
                d2lo, d2hi = imul(A[0, 1], A[0, 1], A[1, 0], A[1, 0])
                dlo, dhi = isub(d1lo, d1hi, d2lo, d2hi)
                i00lo, i00hi = idiv(A[1, 1], A[1, 1], dlo, dhi)
                i01lo, i01hi = idiv(-A[0, 1], -A[0, 1], dlo, dhi)
                i10lo, i10hi = idiv(-A[1, 0], -A[1, 0], dlo, dhi)
                i11lo, i11hi = idiv(A[0, 0], A[0, 0], dlo, dhi)
                inv_ok = True
            # the cell, minus the centre
            kp_lo, kp_hi = isub(down(origin[0] + i * h), up(origin[0] + (i + 1) * h),
                                clo[0], chi[0])
            kq_lo, kq_hi = isub(down(origin[1] + j * h), up(origin[1] + (j + 1) * h),
                                clo[1], chi[1])
            alo, ahi = imul(i00lo, i00hi, kp_lo, kp_hi)
            blo, bhi = imul(i01lo, i01hi, kq_lo, kq_hi)
            y0lo, y0hi = iadd(alo, ahi, blo, bhi)
            alo, ahi = imul(i10lo, i10hi, kp_lo, kp_hi)
            blo, bhi = imul(i11lo, i11hi, kq_lo, kq_hi)
            y1lo, y1hi = iadd(alo, ahi, blo, bhi)
            if y0hi < rlo[0] or y0lo > rhi[0] or y1hi < rlo[1] or y1lo > rhi[1]:
                continue      # provably no point of the set in this cell
            return False, 0.0, 0.0
    if not lo <= hi:
        return False, 0.0, 0.0
    return True, lo, hi


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
def enclose_box(plo, phi, qlo, qhi, eps, elo, ehi, target_lo, target_hi, split_width, max_pieces,
                max_depth, max_steps, terminal_x, enclosure_tol, radius, cache, cache_lim,
                origin, h, max_order, max_cells, pad):
    """Follow the box ``[plo, phi] x [qlo, qhi]`` until every piece is terminal or one fails,
    for every ``e = lr x target`` in ``[elo, ehi]`` (``[0, 0]``: target 0).

    Returns ``(status, terminal_step, lim_lo, lim_hi, pieces, depth, steps)``: the outcome
    (``PIECE_*``; the first failing piece ends the search), the largest step at which a piece
    became terminal, the hull of the enclosures of ``lr x sharpness`` at the limit over all
    pieces, the number of pieces followed, the deepest split and the Lohner steps taken.

    With a non-empty ``cache`` (see :func:`cache_lookup`), a piece whose set lies inside
    lattice cells proved before ``max_order`` is done: every orbit from it is one from a proved
    cell, and its limit enclosure is the hull of theirs (``max_cells`` bounds the cells tested).
    A piece's enclosure from the terminal lemma is widened by ``pad`` times its width on each
    side (clipped to the target: room for a re-check in another arithmetic); one from the
    cache is not (it is already padded), so padding does not compound along reuse chains.
    """
    use_cache = cache.shape[0] > 0
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
    ev = np.zeros(5)
    sev = np.zeros((_STACK, 5))
    if elo != 0.0 or ehi != 0.0:
        ev[0] = 0.5 * (elo + ehi)
        ev[1], ev[2] = isub(elo, ehi, ev[0], ev[0])
    _init_set(plo, phi, qlo, qhi, clo, chi, A, rlo, rhi)
    sev[0, :] = ev
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
    ome_lo, ome_hi = isub(1.0, 1.0, eps, eps)
    while top > 0:
        top -= 1
        clo[:] = sclo[top]
        chi[:] = schi[top]
        A[:, :] = sA[top]
        rlo[:] = srlo[top]
        rhi[:] = srhi[top]
        ev[:] = sev[top]
        pelo, pehi = _e_range(ev)
        k = sstep[top]
        depth = sdepth[top]
        have = False
        force_split = False
        best_lo = -np.inf
        best_hi = np.inf
        first_terminal = -1
        prev_w = np.inf
        from_cache = False
        while True:
            if use_cache and not have:
                _hull(clo, chi, A, rlo, rhi, False, X, ev)
                hit, hlo, hhi = cache_lookup(clo, chi, A, rlo, rhi, X, cache, cache_lim,
                                             origin, h, max_order, max_cells)
                if hit:
                    have = True
                    from_cache = True
                    first_terminal = k
                    best_lo, best_hi = hlo, hhi
                    if best_hi < target_lo or best_lo > target_hi:
                        return PIECE_LIMIT_OUTSIDE, k, best_lo, best_hi, pieces, deepest, total
                    if best_lo >= target_lo and best_hi <= target_hi:
                        break
                    return PIECE_BUDGET, k, lim_lo, lim_hi, pieces, deepest, total
            xlo, xhi, slo, shi = _xs_e(clo, chi, A, rlo, rhi, ev)
            terminal_now = False
            if max(abs(xlo), abs(xhi)) <= terminal_x:
                ok, s_lo, s_hi = terminal_lemma(xlo, xhi, slo, shi, eps, pelo, pehi)
                if ok:
                    # lr x sharpness = p + eps q = (1 + eps) sigma + (1 - eps) e at x = 0
                    llo, _ = imul(onelo, onehi, s_lo, s_lo)
                    _, lhi = imul(onelo, onehi, s_hi, s_hi)
                    if pelo != 0.0 or pehi != 0.0:
                        tlo, thi = imul(ome_lo, ome_hi, pelo, pehi)
                        llo = down(llo + tlo)
                        lhi = up(lhi + thi)
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
                    # (or when the enclosure starts to widen again: past its best)
                    drift = (s_hi - s_lo) - (shi - slo)
                    growing = lhi - llo > prev_w
                    prev_w = lhi - llo
                    settled = (drift <= enclosure_tol or drift <= 0.05 * (shi - slo)
                               or k - first_terminal >= _TIGHTEN or growing)
                    if settled and inside:
                        break
                    if settled:
                        force_split = True
                    terminal_now = True
            if have and not terminal_now and best_lo >= target_lo and best_hi <= target_hi:
                break     # the set grew out of the terminal set: its best enclosure stands
            if k >= max_steps:
                return PIECE_BUDGET, k, lim_lo, lim_hi, pieces, deepest, total
            _hull(clo, chi, A, rlo, rhi, False, X, ev)
            width = max(X[0, 1] - X[0, 0], X[1, 1] - X[1, 0])
            if not (max(abs(X[0, 0]), abs(X[0, 1]), abs(X[1, 0]), abs(X[1, 1])) <= radius):
                return PIECE_ESCAPED, k, lim_lo, lim_hi, pieces, deepest, total
            if force_split or (width > split_width and not have):
                if depth >= max_depth or pieces >= max_pieces or top + 2 > _STACK:
                    return PIECE_BUDGET, k, lim_lo, lim_hi, pieces, deepest, total
                # bisect R (or de) along its widest direction; recentre each half
                j = 0
                if (rhi[1] - rlo[1]) * (abs(A[0, 1]) + abs(A[1, 1])) > \
                        (rhi[0] - rlo[0]) * (abs(A[0, 0]) + abs(A[1, 0])):
                    j = 1
                if (ev[2] - ev[1]) * (abs(ev[3]) + abs(ev[4])) > \
                        (rhi[j] - rlo[j]) * (abs(A[0, j]) + abs(A[1, j])):
                    j = 2
                if j == 2:
                    # halves of de; the new centre e_c' = e_c + mh shifts c by a (e_c' - e_c)
                    mid = 0.5 * (ev[1] + ev[2])
                    for h in range(2):
                        a = ev[1] if h == 0 else mid
                        b = mid if h == 0 else ev[2]
                        ec = ev[0] + 0.5 * (a + b)
                        slo_, shi_ = isub(ec, ec, ev[0], ev[0])
                        tlo, thi = iadd(ev[0], ev[0], a, b)      # the half's e range
                        sev[top, 0] = ec
                        sev[top, 1], _ = isub(tlo, tlo, ec, ec)
                        _, sev[top, 2] = isub(thi, thi, ec, ec)
                        sev[top, 3], sev[top, 4] = ev[3], ev[4]
                        sA[top] = A
                        for i in range(2):
                            ulo, uhi = iscale(ev[3 + i], slo_, shi_)
                            sclo[top, i], schi[top, i] = iadd(clo[i], chi[i], ulo, uhi)
                            srlo[top, i] = rlo[i]
                            srhi[top, i] = rhi[i]
                        sstep[top] = k
                        sdepth[top] = depth + 1
                        top += 1
                    pieces += 1
                    deepest = max(deepest, depth + 1)
                    have = False
                    break
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
                    sev[top, :] = ev
                    sstep[top] = k
                    sdepth[top] = depth + 1
                    top += 1
                pieces += 1
                deepest = max(deepest, depth + 1)
                have = False
                break
            if not lohner_step_e(clo, chi, A, rlo, rhi, eps, ev, X, J, M, B, Ainv, W, True):
                return PIECE_ESCAPED, k, lim_lo, lim_hi, pieces, deepest, total
            k += 1
            total += 1
        if have:
            if not from_cache:
                w = best_hi - best_lo
                best_lo = max(down(best_lo - pad * w), target_lo)
                best_hi = min(up(best_hi + pad * w), target_hi)
            last_terminal = max(last_terminal, first_terminal)
            lim_lo = min(lim_lo, best_lo)
            lim_hi = max(lim_hi, best_hi)
    return PIECE_PROVED, last_terminal, lim_lo, lim_hi, pieces, deepest, total


@njit(parallel=True)
def enclose_boxes(boxes, eps, ebox, target_lo, target_hi, split_width, max_pieces, max_depth,
                  max_steps, terminal_x, enclosure_tol, radius, status, terminal, limit,
                  pieces, depth, steps, cache, cache_lim, origin, h, max_order, max_cells, pad):
    """:func:`enclose_box` for every row ``(plo, phi, qlo, qhi)`` of ``boxes`` with the
    interval ``ebox[n] = (elo, ehi)`` of ``e = lr x target``, in parallel over
    the rows (each box is independent: its sets are local, the cache is only read, and every
    operation rounds outwards by ``nextafter``, so no rounding mode is shared between threads;
    the result does not depend on the number of threads)."""
    for n in numba.prange(boxes.shape[0]):
        s, t, lo, hi, pc, dp, st = enclose_box(
            boxes[n, 0], boxes[n, 1], boxes[n, 2], boxes[n, 3], eps, ebox[n, 0], ebox[n, 1],
            target_lo, target_hi,
            split_width, max_pieces, max_depth, max_steps, terminal_x, enclosure_tol, radius,
            cache, cache_lim, origin, h, max_order, max_cells, pad)
        status[n] = s
        terminal[n] = t
        limit[n, 0] = lo
        limit[n, 1] = hi
        pieces[n] = pc
        depth[n] = dp
        steps[n] = st


@njit
def prove_cells(cells, eps, target_lo, target_hi, split_width, max_pieces, max_depth,
                max_steps, terminal_x, enclosure_tol, radius, cache, cache_lim, origin, h,
                count, pad, status, steps, pieces):
    """Enclose the lattice cells ``cells`` (rows ``(i, j)``) in order, each allowed to end in
    cells proved before it; a proved cell enters ``cache`` with the next order number and its
    limit enclosure (``pad`` as in :func:`enclose_box`). Returns the new count of proved
    cells."""
    for n in range(cells.shape[0]):
        i, j = cells[n, 0], cells[n, 1]
        if cache[i, j] >= 0:
            status[n] = PIECE_PROVED
            continue
        plo = origin[0] + i * h
        phi = origin[0] + (i + 1) * h
        qlo = origin[1] + j * h
        qhi = origin[1] + (j + 1) * h
        s, t, lo, hi, pc, dp, st = enclose_box(
            plo, phi, qlo, qhi, eps, 0.0, 0.0, target_lo, target_hi, split_width, max_pieces,
            max_depth, max_steps, terminal_x, enclosure_tol, radius, cache, cache_lim, origin, h,
            count, MAX_CELLS, pad)
        status[n] = s
        steps[n] = st
        pieces[n] = pc
        if s == PIECE_PROVED and lo >= target_lo and hi <= target_hi:
            cache_lim[i, j, 0] = lo
            cache_lim[i, j, 1] = hi
            cache[i, j] = count
            count += 1
    return count
