"""A second, independent enclosure of the rescaled-plane map in ball arithmetic (FLINT's arb).

Written apart from the compiled kernels (other arithmetic, other code): balls ``mid +- rad``
with rigorous rounding from python-flint instead of outward-rounded float intervals. Same
method (mean-value form, set ``c + A R`` with A re-orthogonalised each step, bisection past a
width, the terminal lemma), so a certificate can be re-proved box by box.
"""

from __future__ import annotations

import math

#: the flint module, imported by :func:`require_flint` on first use (it takes about 0.1 s)
flint = None


def require_flint():
    """Return the flint module (imported on first use), or raise ImportError saying how to
    install it."""
    global flint
    if flint is None:
        try:  # optional dependency: pip install "dynsys[rigorous]"
            import flint as module
        except ImportError:  # pragma: no cover - exercised only without the extra
            raise ImportError("verify_certificate needs python-flint (ball arithmetic): "
                              "pip install 'dynsys[rigorous]'") from None
        flint = module
    return flint


def _ball(lo: float, hi: float):
    """A ball containing [lo, hi] (exact float endpoints)."""
    a, b = flint.arb(lo), flint.arb(hi)
    return a.union(b)


def _jac(P, Q, eps, e=0):
    x = (P - Q) / 2 - e
    a = 1 - x
    b = 1 + eps * x
    return [[a * (a - P), P * a], [eps * Q * b, b * (b - eps * Q)]]


def _jac_e(P, Q, eps, e):
    """Derivatives of the map in ``e`` (``x = (p - q)/2 - e``)."""
    x = (P - Q) / 2 - e
    return [2 * (1 - x) * P, -2 * eps * (1 + eps * x) * Q]


def _fmap(P, Q, eps, e=0):
    x = (P - Q) / 2 - e
    return (1 - x) ** 2 * P, (1 + eps * x) ** 2 * Q


def lemma(xb, sb, eps, eb=0):
    """Terminal lemma in balls (``e = lr x target`` in the ball ``eb``): return the enclosure
    of the limit sigma, or None."""
    r = xb.abs_upper()
    if not r < 1:
        return None
    xr = flint.arb(0, 0).union(r).union(-r)

    def mg(sig):
        P, Q = sig + xr + eb, sig - xr - eb
        m = 1 - (P + eps * Q) + (xr / 2) * (P - eps * eps * Q)
        g = -P + eps * Q + (xr / 2) * (P + eps * eps * Q)
        return m.abs_upper(), g.abs_upper()

    rho0, g0 = mg(sb)
    if not rho0 < 1:
        return None
    trial = (2 * r * g0 / (1 - rho0)).abs_upper() + flint.arb(1e-300)
    big = sb + flint.arb(0, 0).union(trial).union(-trial)
    rho, g = mg(big)
    if not rho < 1:
        return None
    need = (r * g / (1 - rho)).abs_upper()
    if not need <= trial:
        return None
    return sb + flint.arb(0, 0).union(need).union(-need)


_MAX_COND = 100.0


def _float_area(a, M, rrad):
    """Predicted area of the next set in the float basis ``a`` (a choice only, not rigorous)."""
    det = a[0][0] * a[1][1] - a[0][1] * a[1][0]
    if det == 0 or not math.isfinite(det):
        return math.inf
    inv = [[a[1][1] / det, -a[0][1] / det], [-a[1][0] / det, a[0][0] / det]]
    area = abs(det)
    for i in range(2):
        row = 0.0
        for j in range(2):
            b = inv[i][0] * M[0][j] + inv[i][1] * M[1][j]
            row += abs(b) * rrad[j]
        area *= 2 * row
    return area


def choose_basis(M, J, rrad):
    """Return the float matrix A' for the next set: among Q of QR(mid M), mid M with its
    columns normalised, and the eigenvectors of mid J, the one with the smallest predicted set
    (the same rule as the compiled kernel; any invertible A' is rigorous)."""
    n0, n1 = math.hypot(M[0][0], M[1][0]), math.hypot(M[0][1], M[1][1])
    u = (M[0][1], M[1][1]) if n1 * rrad[1] > n0 * rrad[0] else (M[0][0], M[1][0])
    n = math.hypot(*u)
    u = (u[0] / n, u[1] / n) if n > 0 and math.isfinite(n) else (1.0, 0.0)
    cands = [[[u[0], -u[1]], [u[1], u[0]]]]
    if n0 > 0 and n1 > 0 and math.isfinite(n0) and math.isfinite(n1):
        a = [[M[0][0] / n0, M[0][1] / n1], [M[1][0] / n0, M[1][1] / n1]]
        if abs(a[0][0] * a[1][1] - a[0][1] * a[1][0]) * _MAX_COND >= 1:
            cands.append(a)
    tr = 0.5 * (J[0][0] + J[1][1])
    disc = tr * tr - (J[0][0] * J[1][1] - J[0][1] * J[1][0])
    if disc > 0 and math.isfinite(disc):
        vecs = []
        for lam in (tr + math.sqrt(disc), tr - math.sqrt(disc)):
            e = (J[0][1], lam - J[0][0])
            f = (lam - J[1][1], J[1][0])
            e = f if math.hypot(*f) > math.hypot(*e) else e
            ne = math.hypot(*e)
            if not (ne > 0 and math.isfinite(ne)):
                break
            vecs.append((e[0] / ne, e[1] / ne))
        if len(vecs) == 2:
            a = [[vecs[0][0], vecs[1][0]], [vecs[0][1], vecs[1][1]]]
            if abs(a[0][0] * a[1][1] - a[0][1] * a[1][0]) * _MAX_COND >= 1:
                cands.append(a)
    return min(cands, key=lambda a: _float_area(a, M, rrad))


def _inverse(A):
    """Ball enclosure of the inverse of the float 2x2 matrix A."""
    det = flint.arb(A[0][0]) * A[1][1] - flint.arb(A[0][1]) * A[1][0]
    return [[flint.arb(A[1][1]) / det, flint.arb(-A[0][1]) / det],
            [flint.arb(-A[1][0]) / det, flint.arb(A[0][0]) / det]]


def _in_cells(X, c, A, R, cells, max_order):
    """Ball check that every point of the set ``c + A R`` (hull X) lies in a lattice cell
    proved before ``max_order``; return the hull of their limit balls, or None."""
    p0, q0, h = cells["origin"][0], cells["origin"][1], cells["h"]
    order, limit = cells["order"], cells["limit"]
    rng = []
    for k, o in ((0, p0), (1, q0)):
        lo = math.floor((float(X[k].lower()) - o) / h - 1e-9)
        hi = math.floor((float(X[k].upper()) - o) / h + 1e-9)
        if lo < 0 or hi >= order.shape[k] or (hi - lo + 1) > 64:
            return None
        rng.append((lo, hi))
    if (rng[0][1] - rng[0][0] + 1) * (rng[1][1] - rng[1][0] + 1) > 64:
        return None
    lo_h, hi_h = math.inf, -math.inf
    Ainv = None
    for i in range(rng[0][0], rng[0][1] + 1):
        for j in range(rng[1][0], rng[1][1] + 1):
            o = order[i, j]
            if 0 <= o < max_order:
                lo_h = min(lo_h, float(limit[i, j, 0]))
                hi_h = max(hi_h, float(limit[i, j, 1]))
                continue
            if Ainv is None:
                Ainv = _inverse(A)
            K = [flint.arb(p0 + i * h).union(flint.arb(p0 + (i + 1) * h)) - c[0],
                 flint.arb(q0 + j * h).union(flint.arb(q0 + (j + 1) * h)) - c[1]]
            y = [Ainv[m][0] * K[0] + Ainv[m][1] * K[1] for m in range(2)]
            if any(y[m] < R[m] or y[m] > R[m] for m in range(2)):
                continue          # the cell misses the set
            return None
    return (lo_h, hi_h) if lo_h <= hi_h else None


def _outward(ball) -> tuple[float, float]:
    """Float bounds containing the ball (rounded outwards)."""
    return (math.nextafter(float(ball.lower()), -math.inf),
            math.nextafter(float(ball.upper()), math.inf))


def reprove_box(box, eps: float, target, *, split_width: float, max_pieces: int,
                max_steps: int, terminal_x: float, radius: float, tighten: int = 1000,
                cells=None, max_order: int = 0, claimed=None):
    """Return ``(proved, (lim_lo, lim_hi), reason)`` for one plane box, re-proved in arb.

    ``proved`` is True when every piece became terminal with ``(1 + eps) s_inf`` inside
    ``target`` (a pair of floats), or landed inside lattice cells of ``cells`` (a dict with
    ``origin``, ``h``, ``order``, ``limit``) proved before ``max_order`` whose claimed limits
    lie inside ``claimed`` (a float pair; the target if None); ``(lim_lo, lim_hi)`` are float
    bounds (rounded outwards) of the hull of the pieces' limit enclosures.
    """
    require_flint()
    eps_b = flint.arb(eps)
    lo_t, hi_t = flint.arb(target[0]), flint.arb(target[1])
    plo, phi, qlo, qhi = box[:4]
    cp, cq = (plo + phi) / 2, (qlo + qhi) / 2
    # with a target, e = ec + de (de a ball) and the set is c + A R + a de, a a float column
    ec = 0.0 if len(box) == 4 else (box[4] + box[5]) / 2
    de = flint.arb(0) if len(box) == 4 else _ball(box[4], box[5]) - ec
    with_e = len(box) > 4
    start = ([flint.arb(cp), flint.arb(cq)], [[1.0, 0.0], [0.0, 1.0]],
             [_ball(plo, phi) - cp, _ball(qlo, qhi) - cq], 0, [0.0, 0.0], ec, de)
    stack = [start]
    pieces = 1
    union = None
    while stack:
        c, A, R, k, a, ec, de = stack.pop()
        eb = ec + de
        best = None
        first = -1
        split = False
        prev_w = None
        while True:
            if cells is not None and best is None:
                X0 = [c[i] + sum(A[i][j] * R[j] for j in range(2)) + a[i] * de for i in range(2)]
                hit = _in_cells(X0, c, A, R, cells, max_order)
                bounds = target if claimed is None else claimed
                if hit is not None and hit[0] >= max(bounds[0], target[0]) \
                        and hit[1] <= min(bounds[1], target[1]):
                    union = hit if union is None else (min(union[0], hit[0]),
                                                       max(union[1], hit[1]))
                    break
            # x = (p - q)/2 and sigma = (p + q)/2 over the set, without wrapping
            xb = (c[0] - c[1]) / 2 + sum(((A[0][j] - A[1][j]) / 2) * R[j] for j in range(2))
            sb = (c[0] + c[1]) / 2 + sum(((A[0][j] + A[1][j]) / 2) * R[j] for j in range(2))
            if with_e:
                xb = xb + ((flint.arb(a[0]) - a[1]) / 2 - 1) * de - ec
                sb = sb + ((flint.arb(a[0]) + a[1]) / 2) * de
            terminal_now = False
            if xb.abs_upper() <= terminal_x:
                s = lemma(xb, sb, eps_b, eb)
                if s is not None:
                    terminal_now = True
                    lim = (1 + eps_b) * s + (1 - eps_b) * eb
                    first = k if first < 0 else first
                    best = lim if best is None else (best.intersection(lim)
                                                     if best.overlaps(lim) else lim)
                    if best < lo_t or best > hi_t:
                        return False, best, "limit outside the target"
                    inside = best >= lo_t and best <= hi_t
                    growing = prev_w is not None and lim.rad() > prev_w
                    prev_w = lim.rad()
                    drift_small = (lim.rad() <= 1.05 * sb.rad() * (1 + eps)
                                   or k - first >= tighten or growing)
                    if inside and drift_small:
                        break
                    if drift_small:
                        split = True
            if best is not None and not terminal_now and best >= lo_t and best <= hi_t:
                break     # grown out of the terminal set: the best enclosure stands
            if k >= max_steps:
                return False, best, "step budget"
            X = [c[i] + sum(A[i][j] * R[j].union(flint.arb(0)) for j in range(2))
                 + a[i] * de.union(flint.arb(0)) for i in range(2)]
            if not all(xi.is_finite() and xi.abs_upper() <= radius for xi in X):
                return False, None, "escaped"
            width = max(float(2 * X[i].rad()) for i in range(2))
            if split or (width > split_width and best is None):
                if pieces >= max_pieces:
                    return False, None, "piece budget"
                j = 0 if (float(R[0].rad()) * (abs(A[0][0]) + abs(A[1][0]))
                          >= float(R[1].rad()) * (abs(A[0][1]) + abs(A[1][1]))) else 1
                if with_e and float(de.rad()) * (abs(a[0]) + abs(a[1])) > \
                        float(R[j].rad()) * (abs(A[0][j]) + abs(A[1][j])):
                    # halves of de, each recentred: e_c' = e_c + mh, c' = c + a mh
                    m = flint.arb(de.mid())
                    for half in (de.lower().union(m), m.union(de.upper())):
                        mh = float(half.mid())
                        cn = [c[i] + a[i] * flint.arb(mh) for i in range(2)]
                        ecn = ec + mh
                        den = (ec + half) - ecn       # the half's e range, about e_c'
                        stack.append((cn, [row[:] for row in A], list(R), k, list(a), ecn, den))
                    pieces += 1
                    best = None
                    break
                m = flint.arb(R[j].mid())
                for half in (R[j].lower().union(m), m.union(R[j].upper())):
                    mh = float(half.mid())
                    Rn = list(R)
                    Rn[j] = half - mh
                    cn = [c[i] + A[i][j] * flint.arb(mh) for i in range(2)]
                    stack.append((cn, [row[:] for row in A], Rn, k, list(a), ec, de))
                pieces += 1
                best = None       # the halves carry the proof on
                break
            J = _jac(X[0], X[1], eps_b, eb)
            mc = [flint.arb(c[i].mid()) for i in range(2)]
            f = _fmap(mc[0], mc[1], eps_b, flint.arb(ec))
            v = [f[i] + J[i][0] * (c[0] - mc[0]) + J[i][1] * (c[1] - mc[1]) for i in range(2)]
            if with_e:
                je = _jac_e(X[0], X[1], eps_b, eb)
                N = [J[i][0] * a[0] + J[i][1] * a[1] + je[i] for i in range(2)]
                a = [float(N[i].mid()) for i in range(2)]
                v = [v[i] + (N[i] - a[i]) * de for i in range(2)]
            M = [[J[i][0] * A[0][j] + J[i][1] * A[1][j] for j in range(2)] for i in range(2)]
            mid = [[float(M[i][j].mid()) for j in range(2)] for i in range(2)]
            jmid = [[float(J[i][j].mid()) for j in range(2)] for i in range(2)]
            A = choose_basis(mid, jmid, [float(R[0].rad()), float(R[1].rad())])
            Ainv = _inverse(A)
            B = [[Ainv[i][0] * M[0][j] + Ainv[i][1] * M[1][j] for j in range(2)]
                 for i in range(2)]
            nc = [flint.arb(v[i].mid()) for i in range(2)]
            R = [B[i][0] * R[0] + B[i][1] * R[1] + Ainv[i][0] * (v[0] - nc[0])
                 + Ainv[i][1] * (v[1] - nc[1]) for i in range(2)]
            c = nc
            k += 1
        if best is not None:
            b_lo, b_hi = _outward(best)
            union = (b_lo, b_hi) if union is None else (min(union[0], b_lo),
                                                       max(union[1], b_hi))
    return True, union, ""


def gfs_lower(box, eps: float):
    """A ball enclosing lr x GFS sharpness at the box's lower corner (target 0), or below it
    (a box ``(p, q, e)`` with ``e_lo >= 0``), or None if p or q <= 0 (or ``e_lo < 0``).

    With a target the flow keeps ``p^eps q`` and ends at ``p = q + 2e``, with value
    ``(1 + eps) r + 2e``, ``r`` the root of ``eps log(r + 2e) + log r = eps log p + log q``; a
    float guess is lowered until the left side is, in balls, below the right, so the true root
    exceeds it (the value grows with p, q and, for ``e >= 0``, with e: docs/math.md, section 8).
    """
    require_flint()
    if box[0] <= 0 or box[2] <= 0:
        return None
    e = flint.arb(eps)
    if len(box) == 4:
        return (1 + e) * ((e * flint.arb(box[0]).log() + flint.arb(box[2]).log())
                          / (1 + e)).exp()
    if box[4] < 0:
        return None
    eb = flint.arb(box[4])
    rhs = e * flint.arb(box[0]).log() + flint.arb(box[2]).log()
    c = float(rhs.mid())
    lo, hi = 0.0, max(box[0], box[2]) + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if eps * math.log(mid + 2 * box[4]) + math.log(mid) < c else (lo, mid)
    r = lo * (1 - 1e-12)
    for _ in range(60):
        if r > 0 and e * (flint.arb(r) + 2 * eb).log() + flint.arb(r).log() < rhs:
            return (1 + e) * r + 2 * eb
        r *= 1 - 1e-9
    return None
