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
    xtol: float = 1e-12
    max_iter: int = 60
    dedup_tol: float = 1e-7
    null_tol: float = 1e-7
    hyperbolicity_tol: float = 1e-9
    family_step: float | None = None
    max_family_points: int = 2000

    def attrs(self) -> dict:
        return {"newton_starts": self.starts, "seed": self.seed, "sampler": "scrambled Halton",
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


def search(mapping, period: int, lo: np.ndarray, hi: np.ndarray, s: Settings) -> SearchResult:
    """Return every orbit of minimal period dividing ``period`` lying in the box [lo, hi]."""
    dim = mapping.dim
    width = hi - lo
    tol = s.dedup_tol * width
    if s.family_step is None:
        s.family_step = float(np.linalg.norm(width)) / 200.0

    # 1. Newton from a space-filling set of seeds
    from scipy.stats import qmc     # imported here: scipy.stats takes ~1 s to import

    sampler = qmc.Halton(d=dim, scramble=True, seed=s.seed)
    seeds = lo + sampler.random(s.starts) * width
    res = solve(mapping, seeds, period, xtol=s.xtol, max_iter=s.max_iter,
                region=(lo - width, hi + width))
    hits = polish(mapping, res.x[res.converged], period)

    # 2. minimal periods; keep the orbits that lie in the box
    points, _ = orbit_jacobian(mapping, hits, period)               # (n, period, dim)
    minimal = np.full(hits.shape[0], period)
    for d in sorted(_divisors(period), reverse=True)[1:]:
        # F^d(x) = x within tolerance: points[:, d % period] is F^d(x) for d < period
        close = np.all(np.abs(points[:, d] - hits) <= tol * 10, axis=-1)
        minimal[close] = d
    info = {"newton_converged": int(res.converged.sum())}

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
        good = np.isfinite(step) & (step <= 1e-8 * (1 + np.linalg.norm(x, axis=-1)))
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
