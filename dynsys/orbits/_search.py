"""The search behind ``fixed_points`` and ``periodic_orbits``: seeds, Newton, minimal periods,
de-duplication, families and symmetry classes."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._families import Family, Tracer, nullity
from ._jacobian import NON_HYPERBOLIC, _sort_multipliers, classify, orbit_jacobian
from ._newton import least_squares_step, polish, residual_and_derivative, solve
from ._symmetry import CycleIndex, UnionFind, group


@dataclasses.dataclass
class Settings:
    """Numerical settings of a search (all recorded in the result's attrs)."""

    starts: int
    seed: int
    max_starts: int | None = None
    residual_tol: float = 1e-9
    transient: int = 64
    xtol: float = 1e-12
    max_iter: int = 60
    dedup_tol: float = 1e-7
    null_tol: float = 1e-7
    hyperbolicity_tol: float = 1e-9
    family_step: float | None = None
    max_family_points: int = 2000

    def attrs(self) -> dict:
        return {"newton_starts": self.starts, "seed": self.seed,
                "max_starts": -1 if self.max_starts is None else self.max_starts,
                "residual_tol": self.residual_tol, "seed_transient": self.transient,
                "sampler": "scrambled Halton in the box, half of each round replaced by "
                           "forward images (after seed_transient steps) that stay in it",
                "newton_xtol": self.xtol, "newton_max_iter": self.max_iter,
                "dedup_tol": self.dedup_tol, "null_tol": self.null_tol,
                "hyperbolicity_tol": self.hyperbolicity_tol,
                "family_step": float(self.family_step), "max_family_points": self.max_family_points,
                "method": "damped Gauss-Newton (pseudo-inverse, backtracking) on F^k(x) - x from "
                          "space-filling seeds; families traced by pseudo-arclength continuation"}


@dataclasses.dataclass
class Orbit:
    """One periodic orbit: ``points`` (period, dim) from its canonical phase."""

    points: np.ndarray
    family: int = -1
    arclength: float = np.nan
    symmetry_class: int = -1
    isotropy: int = 1
    class_size: int = 1

    @property
    def period(self) -> int:
        return self.points.shape[0]


@dataclasses.dataclass
class SearchResult:
    orbits: list[Orbit]                 # isolated orbits, then family samples in order
    multipliers: np.ndarray             # (n, dim) complex
    stability: np.ndarray               # (n,) int8 codes
    families: list[Family]
    group_order: int
    info: dict


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _inside(points: np.ndarray, lo, hi, tol) -> np.ndarray:
    return np.all((points >= lo - tol) & (points <= hi + tol), axis=(-2, -1))


def _minimal_periods(points: np.ndarray, hits: np.ndarray, period: int,
                     residual_tol: float) -> np.ndarray:
    """Minimal periods of the fixed points ``hits`` of ``F^period`` (orbits ``points``): the
    smallest divisor ``d`` with ``|F^d(x) - x| <= 10 residual_tol (1 + |x|)`` (a distance
    criterion would merge distinct orbits that pass close to a fixed point)."""
    minimal = np.full(hits.shape[0], period)
    scale = 10.0 * residual_tol * (1.0 + np.max(np.abs(hits), axis=-1))
    for d in sorted(_divisors(period), reverse=True)[1:]:
        # points[:, d] is F^d(x) for d < period
        close = np.max(np.abs(points[:, d] - hits), axis=-1) <= scale
        minimal[close] = d
    return minimal


def _cells(cycles: np.ndarray, tol) -> np.ndarray:
    """Integer keys of cycles (m, q, dim) rotated to start at their smallest first coordinate:
    equal keys for repeated hits of one orbit (to rounding), used to skip duplicates."""
    q = cycles.shape[1]
    start = np.argmin(cycles[..., 0], axis=1)
    idx = (start[:, None] + np.arange(q)[None, :]) % q
    rolled = np.take_along_axis(cycles, idx[..., None], axis=1)
    return np.floor(rolled / tol).astype(np.int64).reshape(cycles.shape[0], -1)


def _seeds(mapping, sampler, n, lo, hi, transient):
    """``n`` seeds: half scrambled-Halton points of the box, half forward images of further
    Halton points after ``transient`` steps that stay in the box (they lie near the invariant
    set, where the periodic orbits are); Halton points fill in where too few stay."""
    width = hi - lo
    box = lo + sampler.random(n) * width
    n_img = n // 2
    if n_img == 0 or transient == 0:
        return box
    with np.errstate(all="ignore"):
        img = mapping.iterate(lo + sampler.random(n_img) * width, transient)
    img = img[np.all(np.isfinite(img), axis=-1) & np.all((img >= lo) & (img <= hi), axis=-1)]
    return np.concatenate([img, box[: n - img.shape[0]]])


def _seed_rounds(mapping, period, lo, hi, s: Settings, tol):
    """Return ``(hits, info)``: one representative fixed point of ``F^period`` per distinct
    orbit found by Newton (on ``F^d`` for every divisor ``d`` of the period) from rounds of
    seeds. Round ``k`` has ``starts * 2^k`` seeds; the rounds stop when two consecutive rounds
    add no new orbit in the box (``complete``) or when the next round would exceed
    ``max_starts`` (then ``complete = 0``: more orbits may exist)."""
    dim = mapping.dim
    width = hi - lo
    from scipy.stats import qmc     # imported here: scipy.stats takes ~1 s to import

    sampler = qmc.Halton(d=dim, scramble=True, seed=s.seed)
    seen = CycleIndex(tol)
    reps: list[np.ndarray] = []
    divisors = _divisors(period)
    budget = s.max_starts if s.max_starts is not None else 256 * s.starts
    n, used, quiet, complete = min(s.starts, budget), 0, 0, False
    new_per_round, converged = [], 0
    while not new_per_round or used + n <= budget:
        seeds = _seeds(mapping, sampler, n, lo, hi, s.transient)
        used += n
        new = 0
        for d in divisors:
            nd = n if d == period else max(8 * dim, -(-n * d // period))
            res = solve(mapping, seeds[:nd], d, xtol=s.xtol, max_iter=s.max_iter,
                        region=(lo - width, hi + width), residual_tol=s.residual_tol)
            converged += int(res.converged.sum())
            x = polish(mapping, res.x[res.converged], d)
            cyc, _ = orbit_jacobian(mapping, x, d)
            keep = _inside(cyc, lo, hi, tol)
            x, cyc = x[keep], cyc[keep]
            m = _minimal_periods(cyc, x, d, s.residual_tol)
            # non-isolated zeros (families, traced later) never count as new orbits
            _, dg = residual_and_derivative(mapping, x, d)
            singular = nullity(dg, s.null_tol) > 0 if x.shape[0] else np.zeros(0, bool)
            for i in np.flatnonzero(singular)[:64]:
                reps.append(x[i])
            # skip repeated hits of one orbit, then match exactly up to cyclic shifts
            for q in np.unique(m):
                rows = np.flatnonzero((m == q) & ~singular)
                if rows.size == 0:
                    continue
                _, first = np.unique(_cells(cyc[rows, :q], tol), axis=0, return_index=True)
                for i in rows[np.sort(first)]:
                    _, added = seen.add(cyc[i, :q])
                    if added:
                        reps.append(x[i])
                        new += 1
        new_per_round.append(new)
        quiet = quiet + 1 if new == 0 else 0
        if quiet >= 2:
            complete = True
            break
        n *= 2
    hits = np.array(reps).reshape(-1, dim)
    info = {"newton_converged": converged, "seed_rounds": len(new_per_round),
            "seeds_used": int(used), "complete": int(complete),
            "new_orbits_per_round": np.array(new_per_round, dtype=np.int64)}
    return hits, info


def search(mapping, period: int, lo: np.ndarray, hi: np.ndarray, s: Settings) -> SearchResult:
    """Return every orbit of minimal period dividing ``period`` lying in the box [lo, hi]."""
    dim = mapping.dim
    width = hi - lo
    tol = s.dedup_tol * width
    if s.family_step is None:
        s.family_step = float(np.linalg.norm(width)) / 200.0

    # 1. rounds of Newton from growing seed sets, over every divisor of the period
    hits, info = _seed_rounds(mapping, period, lo, hi, s, tol)

    # 2. minimal periods; keep the orbits that lie in the box
    points, _ = orbit_jacobian(mapping, hits, period)               # (n, period, dim)
    minimal = _minimal_periods(points, hits, period, s.residual_tol)

    index = CycleIndex(tol)
    loose = np.sqrt(s.dedup_tol) * width      # for degenerate (non-hyperbolic) zeros
    isolated: list[int] = []             # indices into index.cycles
    families: list[Family] = []
    family_images: list[np.ndarray] = []
    tracers: dict[int, Tracer] = {}

    def tracer(p: int) -> Tracer:
        if p not in tracers:
            tracers[p] = Tracer(mapping, p, lo, hi, step=s.family_step, null_tol=s.null_tol,
                                max_points=s.max_family_points, xtol=s.xtol)
        return tracers[p]

    def on_family(cycles: np.ndarray) -> np.ndarray:
        """(m, p, dim) cycles -> index of the family containing them, or -1."""
        out = np.full(cycles.shape[0], -1)
        for j, (fam, imgs) in enumerate(zip(families, family_images, strict=True)):
            if fam.period != cycles.shape[1]:
                continue
            todo = np.flatnonzero(out < 0)
            if todo.size == 0:
                break
            dist = fam.distance(cycles[todo, 0], imgs)
            out[todo[dist <= 0.05 * s.family_step + np.max(tol)]] = j
        return out

    def containing_family(cycles: np.ndarray) -> int:
        """Index of the family holding all of ``cycles`` (m, p, dim), or -1."""
        for j, (fam, imgs) in enumerate(zip(families, family_images, strict=True)):
            if fam.period == cycles.shape[1] and np.all(
                    fam.distance(cycles[:, 0], imgs) <= 0.05 * s.family_step + np.max(tol)):
                return j
        return -1

    def add_family(fam: Family) -> int:
        families.append(fam)
        family_images.append(fam.images(mapping))
        return len(families) - 1

    for p in sorted(set(minimal.tolist())):
        x = polish(mapping, hits[minimal == p], p)
        g, dg = residual_and_derivative(mapping, x, p)
        step = np.linalg.norm(least_squares_step(dg, g), axis=-1) if x.shape[0] else np.zeros(0)
        scale = 1 + np.linalg.norm(x, axis=-1)
        with np.errstate(all="ignore"):
            gnorm = np.linalg.norm(g, axis=-1)
        # a root is a root only if its residual is small (and the Newton step too)
        good = (np.isfinite(step) & (step <= 1e-8 * scale)
                & np.isfinite(gnorm) & (gnorm <= s.residual_tol * scale))
        x, dg = x[good], dg[good]
        cyc, _ = orbit_jacobian(mapping, x, p)
        inside = _inside(cyc, lo, hi, tol)
        x, dg, cyc = x[inside], dg[inside], cyc[inside]
        null = nullity(dg, s.null_tol)
        # isolated (regular) points: de-duplicate as cycles
        for c in cyc[null == 0]:
            i, added = index.add(c)
            if added:
                isolated.append(i)
        # candidates for families, the most regular first (a crossing has nullity 2)
        cand = np.flatnonzero(null > 0)
        cand = cand[np.argsort(null[cand], kind="stable")]
        remaining = np.ones(cand.size, dtype=bool)
        for k, c in enumerate(cand):
            if not remaining[k]:
                continue
            remaining[k] = False
            if on_family(cyc[c][None])[0] >= 0 or index.find(cyc[c], loose) >= 0:
                continue
            fam = tracer(p).trace(x[c])
            on_some = fam is not None
            if fam is not None:
                add_family(fam)
            else:                          # a crossing of curves?
                for y in tracer(p).branch_starts(x[c]):
                    cy, _ = orbit_jacobian(mapping, y[None], p)
                    if on_family(cy)[0] >= 0:
                        on_some = True
                        continue
                    branch = tracer(p).trace(y)
                    if branch is not None:
                        add_family(branch)
                        on_some = True
            if not on_some:                # isolated but not hyperbolic: a degenerate zero,
                i, added = index.add(cyc[c], loose)   # only located to ~ eps^(1/m)
                if added:
                    isolated.append(i)
            left = np.flatnonzero(remaining)
            remaining[left[on_family(cyc[cand[left]]) >= 0]] = False

    # 3. symmetry classes (images not found by Newton are added: they are orbits too)
    elements = group(mapping.symmetries, dim)
    uf = UnionFind()
    isotropy: dict[int, int] = {}
    n_before = len(index.cycles)
    k = 0
    while k < len(index.cycles):
        while len(uf.parent) <= k:
            uf.make()
        cycle = index.cycles[k]
        fixed = 0
        for gmat in elements:
            image = cycle @ gmat.T
            j = index.find(image)
            if j == k:
                fixed += 1
                continue
            if j < 0:
                if not _inside(image[None], lo, hi, tol)[0]:
                    continue
                j, _ = index.add(image)
                isolated.append(j)
            while len(uf.parent) <= j:
                uf.make()
            uf.union(k, j)
        isotropy[k] = fixed
        k += 1
    info["orbits_added_by_symmetry"] = len(index.cycles) - n_before

    fam_uf = UnionFind()
    fam_isotropy: dict[int, int] = {}
    k = 0
    while k < len(families):
        while len(fam_uf.parent) <= k:
            fam_uf.make()
        fam = families[k]
        n_pts = len(fam.points)
        probe = fam.points[[n_pts // 4, n_pts // 2, (3 * n_pts) // 4]]   # away from the ends
        fixed = 0
        for gmat in elements:
            image = probe @ gmat.T
            cycles, _ = orbit_jacobian(mapping, image, fam.period)
            j = containing_family(cycles)
            if j == k:
                fixed += 1
                continue
            if j < 0:
                if not _inside(cycles[1:2], lo, hi, tol)[0]:
                    continue
                new = tracer(fam.period).trace(image[1])
                if new is None or len(families) >= 64 * len(elements):
                    continue
                j = add_family(new)
            while len(fam_uf.parent) <= j:
                fam_uf.make()
            fam_uf.union(k, j)
        fam_isotropy[k] = fixed
        k += 1

    # 4. assemble, isolated orbits first (by period, then canonical point), then families
    orbits: list[Orbit] = []
    classes = {}
    for i in sorted(set(isolated), key=lambda i: (index.cycles[i].shape[0],
                                                 *index.cycles[i][0].tolist())):
        root = uf.find(i)
        classes.setdefault(("o", root), len(classes))
        orbits.append(Orbit(index.cycles[i], symmetry_class=classes[("o", root)],
                            isotropy=isotropy[i]))
    for j, fam in enumerate(families):
        root = fam_uf.find(j)
        classes.setdefault(("f", root), len(classes))
        imgs = family_images[j]
        for q in range(fam.points.shape[0]):
            orbits.append(Orbit(imgs[:, q], family=j, arclength=float(fam.arclength[q]),
                                symmetry_class=classes[("f", root)], isotropy=fam_isotropy[j]))
    sizes = np.bincount([o.symmetry_class for o in orbits if o.family < 0] or [0],
                        minlength=len(classes))
    fam_sizes = {}
    for j in range(len(families)):
        fam_sizes.setdefault(fam_uf.find(j), set()).add(j)
    for o in orbits:
        if o.family < 0:
            o.class_size = int(sizes[o.symmetry_class])
        else:
            o.class_size = len(fam_sizes[fam_uf.find(o.family)])

    mult, stability = _stability(mapping, orbits, s.hyperbolicity_tol)
    info.update(n_families=len(families), n_isolated=len(set(isolated)),
                symmetry_group_order=len(elements))
    return SearchResult(orbits, mult, stability, families, len(elements), info)


def _stability(mapping, orbits: list[Orbit], tol: float):
    """Multipliers (sorted by modulus) and stability codes; on a family the multiplier along
    it (the one nearest 1) is left out of the classification (transversal stability)."""
    dim = mapping.dim
    mult = np.full((len(orbits), dim), np.nan + 0j)
    stability = np.full(len(orbits), NON_HYPERBOLIC, dtype=np.int8)
    by_period: dict[int, list[int]] = {}
    for i, o in enumerate(orbits):
        by_period.setdefault(o.period, []).append(i)
    for p, rows in by_period.items():
        x0 = np.array([orbits[i].points[0] for i in rows])
        _, prod = orbit_jacobian(mapping, x0, p)
        mu = _sort_multipliers(np.linalg.eigvals(prod))
        mult[rows] = mu
        fam = np.array([orbits[i].family >= 0 for i in rows])
        iso_rows = np.asarray(rows)[~fam]
        stability[iso_rows] = classify(mu[~fam], tol=tol)
        if fam.any() and dim > 1:
            mf = mu[fam]
            along = np.argmin(np.abs(mf - 1.0), axis=-1)
            keep = np.ones(mf.shape, dtype=bool)
            keep[np.arange(mf.shape[0]), along] = False
            transversal = mf[keep].reshape(mf.shape[0], dim - 1)
            stability[np.asarray(rows)[fam]] = classify(transversal, tol=tol)
    return mult, stability


__all__ = ["Settings", "search", "SearchResult"]
