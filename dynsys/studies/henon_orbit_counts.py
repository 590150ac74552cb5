"""Periodic orbits of the Henon map (a, b) = (1.4, 0.3) per minimal period, against the
published table (docs/math.md section 7).

For every period p = 1..20, ``periodic_orbits`` with default settings in the box
[-2, 2] x [-1, 1] counts the orbits of minimal period p; the count is compared with the column
n(p) of Davidchack & Lai, Phys. Rev. E 60, 6172 (1999), Table I. A second search per period, in
the larger box [-2.5, 2.5] x [-1.5, 1.5] and from another Halton seed, must give the same count
(it does not depend on the settings). Also recorded: the wall time of the default search, its
seed rounds, seeds used and completeness flag, the number of periodic points N(p) =
sum_{d | p} d n(d) and the entropy estimate ln N(p) / p. Writes
``data/henon_orbit_counts.nc`` and ``data/henon_orbit_counts.png``.

    python -m dynsys.studies.henon_orbit_counts [--quick] [--out data]
    dynsys reproduce --only henon_orbit_counts [--quick] [--out data]
"""

from __future__ import annotations

import pathlib
import time

import numpy as np
import xarray as xr

from .. import maps
from .._io import save
from .._labels import provenance
from ..orbits import periodic_orbits
from ..plot import style
from ._common import parse_args

#: n(p), the number of periodic orbits of minimal period p = 1..20 of the Henon map at
#: (a, b) = (1.4, 0.3): Davidchack & Lai, Phys. Rev. E 60, 6172 (1999), Table I, as we know the
#: table; the copy of the paper we could consult did not show it, so check it against the paper.
PUBLISHED = (2, 1, 0, 1, 0, 2, 4, 7, 6, 10, 14, 19, 32, 44, 72, 102, 166, 233, 364, 535)
SOURCE = ("R. L. Davidchack and Y.-C. Lai, Efficient algorithm for detecting unstable periodic "
          "orbits in chaotic systems, Phys. Rev. E 60, 6172 (1999), Table I")
BOX = [(-2.0, 2.0), (-1.0, 1.0)]
CHECK_BOX = [(-2.5, 2.5), (-1.5, 1.5)]
CHECK_SEED = 7


def periodic_points(counts) -> np.ndarray:
    """Return N(p) = sum_{d | p} d n(d), the fixed points of F^p, from the orbit counts n."""
    n = np.asarray(counts, dtype=np.int64)
    return np.array([sum(d * n[d - 1] for d in range(1, p + 1) if p % d == 0)
                     for p in range(1, n.size + 1)], dtype=np.int64)


def count(henon, period: int, **options):
    """Return ``(orbits of minimal period, seconds, dataset)`` of one default search."""
    t0 = time.perf_counter()
    ds = periodic_orbits(henon, period, **options)
    seconds = time.perf_counter() - t0
    return int((ds.period == period).sum()), seconds, ds


def run(out: pathlib.Path, quick: bool = False) -> xr.Dataset:
    henon = maps.henon(1.4, 0.3)
    periods = np.arange(1, (10 if quick else 20) + 1)
    found, check, seconds = [], [], []
    rounds, seeds, complete = [], [], []
    for p in periods:
        n, t, ds = count(henon, int(p), bounds=BOX)
        found.append(n)
        seconds.append(t)
        rounds.append(int(ds.attrs["seed_rounds"]))
        seeds.append(int(ds.attrs["seeds_used"]))
        complete.append(int(ds.attrs["complete"]))
        check.append(count(henon, int(p), bounds=CHECK_BOX, seed=CHECK_SEED)[0])
    published = np.asarray(PUBLISHED[: periods.size], dtype=np.int64)
    found = np.asarray(found, dtype=np.int64)
    points = periodic_points(found)
    one = {"units": "1"}
    result = xr.Dataset({
        "orbits": ("period", found, {"long_name": "periodic orbits of this minimal period "
                                                  "found with default settings", **one}),
        "orbits_published": ("period", published,
                             {"long_name": "periodic orbits of this minimal period, "
                                           "Davidchack & Lai (1999) Table I", **one}),
        "match": ("period", (found == published).astype(np.int8),
                  {"long_name": "orbits equal orbits_published (1) or not (0)", **one,
                   "flag_values": np.array([0, 1], dtype=np.int8),
                   "flag_meanings": "differs equal"}),
        "orbits_check": ("period", np.asarray(check, dtype=np.int64),
                         {"long_name": "the same count in the box [-2.5, 2.5] x [-1.5, 1.5] "
                                       f"from Halton seed {CHECK_SEED}", **one}),
        "periodic_points": ("period", points,
                            {"long_name": "fixed points of F^p: sum over d | p of d orbits(d)",
                             **one}),
        "entropy_estimate": ("period", np.log(np.maximum(points, 1)) / periods,
                             {"long_name": "ln(periodic_points) / period", **one}),
        "seconds": ("period", np.asarray(seconds),
                    {"long_name": "wall time of the default search (all divisors of p)",
                     "units": "s"}),
        "seed_rounds": ("period", np.asarray(rounds, dtype=np.int64),
                        {"long_name": "seed rounds of the default search", **one}),
        "seeds_used": ("period", np.asarray(seeds, dtype=np.int64),
                       {"long_name": "Newton starts of the default search", **one}),
        "complete": ("period", np.asarray(complete, dtype=np.int8),
                     {"long_name": "two consecutive seed rounds found nothing new (1) or the "
                                   "budget ran out (0)", **one,
                      "flag_values": np.array([0, 1], dtype=np.int8),
                      "flag_meanings": "budget_exhausted complete"}),
    }, coords={"period": ("period", periods, {"long_name": "minimal period", **one})})
    result.attrs.update(provenance(
        henon, analysis="henon_orbit_counts", published_source=SOURCE,
        bounds=np.ravel(BOX), check_bounds=np.ravel(CHECK_BOX), check_seed=CHECK_SEED,
        all_match=int(np.all(found == published)),
        check_matches=int(np.all(found == np.asarray(check))),
        total_seconds=float(np.sum(seconds))))
    out.mkdir(parents=True, exist_ok=True)
    save(result, out / "henon_orbit_counts.nc")

    plt = style.pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(9.0, 3.6))
    keep = published > 0
    ax[0].semilogy(periods[keep], published[keep], "o", mfc="none", ms=8,
                   label="Davidchack & Lai (1999)")
    ax[0].semilogy(periods[found > 0], found[found > 0], "x", label="dynsys, default settings")
    ax[0].set_xlabel("minimal period p")
    ax[0].set_ylabel("periodic orbits")
    ax[0].legend(fontsize=8)
    ax[1].semilogy(periods, seconds, ".-")
    ax[1].set_xlabel("period p (all divisors searched)")
    ax[1].set_ylabel("wall time (s)")
    fig.suptitle("Henon map (1.4, 0.3): periodic orbits per minimal period", fontsize=9)
    style.finish(fig, out / "henon_orbit_counts.png")
    return result


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="periods 1..10 only (for tests)")
    r = run(args.out, quick=args.quick)
    print(" p  dynsys  published  match  check  rounds   seeds  seconds")
    for p in r.period.values:
        row = r.sel(period=p)
        print(f"{p:2d} {int(row.orbits):7d} {int(row.orbits_published):10d} "
              f"{int(row.match):6d} {int(row.orbits_check):6d} {int(row.seed_rounds):7d} "
              f"{int(row.seeds_used):7d} {float(row.seconds):8.2f}")
    print(f"all equal to the published table: {bool(r.attrs['all_match'])}; "
          f"independent of box and seed: {bool(r.attrs['check_matches'])}; "
          f"total {r.attrs['total_seconds']:.1f} s")


if __name__ == "__main__":
    main()
