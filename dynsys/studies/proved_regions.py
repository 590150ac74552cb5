"""Proved regions of Theorem 1 for the 2-D model, and eps_c with delta = eps, every step a proof.

For eps in {0.02, 0.05, 0.1, 0.2} (target 0, delta = eps): ``dynsys.eos_region`` with its
defaults, which samples a candidate box and returns the largest box of its documented search
that ``dynsys.certify_region`` proves (every start, every step size). Records U, [eta_1, eta_2],
delta, the cover (boxes in the rescaled plane with their status), the proved enclosure of
lr x sharpness at the limit, the proof's wall time, the candidate box and its random check (a
failure rate only). Then ``dynsys.proved_critical_eps`` (delta = eps): the largest eps with a
proved region, with its bracket. Writes data/proved_regions.nc and data/proved_regions.png (the
eps = 0.05 cover, coloured by status, over the basin map at the middle step size).

    python -m dynsys.studies.proved_regions [--quick] [--out data]
    python analyses/proved_regions.py

``--quick`` proves one eps (0.05) from a small sweep and skips eps_c (about a minute).
"""

from __future__ import annotations

import pathlib
import time

import numpy as np
import xarray as xr

from .. import plot
from .._io import save
from .._range import linspace
from .._version import __version__
from ..basins import basins
from ..eos import eos_region, proved_critical_eps
from ..models import QuadraticRegression2D
from ._common import parse_args

EPS = (0.02, 0.05, 0.1, 0.2)


def _region(eps: float, quick: bool):
    model = QuadraticRegression2D(eps)
    if quick:
        # a small sweep around the default candidate of eps = 0.05
        return eos_region(model, lr_range=linspace(0.55, 0.75, 3),
                          grid=((1.0, 2.4, 10), (8.2, 9.4, 10)), n_check=20,
                          check_steps=100_000, refine=0, search_steps=1)
    return eos_region(model)


def run(out: pathlib.Path, quick: bool = False):
    out.mkdir(parents=True, exist_ok=True)
    rows, covers, regions = [], [], {}
    for k, eps in enumerate((0.05,) if quick else EPS):
        t = time.perf_counter()
        region = _region(eps, quick)
        total = time.perf_counter() - t
        regions[eps] = region
        print(f"eps={eps:g} ({total:.0f} s in all): {region.summary()}", flush=True)
        cert = region.proof
        cand = region.candidate
        nan2 = (np.nan, np.nan)
        row = {"eps": eps, "delta": region.delta, "proved": region.proved,
               "U_theta_1": nan2, "U_theta_2": nan2, "lr_interval": nan2,
               "limit": nan2, "boxes": 0, "proof_time": np.nan,
               "candidate_theta_1": nan2, "candidate_theta_2": nan2,
               "candidate_lr": nan2, "volume_fraction": np.nan,
               "n_checked": region.certificate["n_checked"],
               "n_failed": region.certificate["n_failed"], "total_time": total}
        if cand is not None:
            (c1, c2) = cand["U"].values()
            row.update(candidate_theta_1=c1, candidate_theta_2=c2,
                       candidate_lr=cand["lr_interval"])
        if region.proved:
            (u1, u2) = region.U.bounds.values()
            row.update(U_theta_1=u1, U_theta_2=u2, lr_interval=region.lr_interval,
                       limit=cert.enclosure, boxes=len(cert.status),
                       proof_time=cert.wall_time, volume_fraction=region.volume_fraction())
            covers.append((k, cert))
        rows.append(row)

    def col(key, pair=False, **attrs):
        dims = ("eps", "bound") if pair else ("eps",)
        return (dims, np.array([r[key] for r in rows], dtype=float if key != "proved" else bool),
                attrs)

    ds = xr.Dataset(
        {
            "proved": col("proved", long_name="region proved by certify_region"),
            "delta": col("delta", long_name="tolerance below the edge (lr x sharpness units)",
                         units="1"),
            "U_theta_1": col("U_theta_1", True, long_name="proved U: initial theta_1"),
            "U_theta_2": col("U_theta_2", True, long_name="proved U: initial theta_2"),
            "lr_interval": col("lr_interval", True, long_name="proved [eta_1, eta_2]",
                               units="1"),
            "limit": col("limit", True, units="1",
                         long_name="proved enclosure of lr x sharpness at the limit"),
            "boxes": col("boxes", long_name="boxes of the proof's cover", units="1"),
            "proof_time": col("proof_time", long_name="wall time of the proof", units="s"),
            "total_time": col("total_time", units="s",
                              long_name="wall time of eos_region (sweep, check, search)"),
            "candidate_theta_1": col("candidate_theta_1", True,
                                     long_name="candidate box (sampled, not proved): theta_1"),
            "candidate_theta_2": col("candidate_theta_2", True,
                                     long_name="candidate box (sampled, not proved): theta_2"),
            "candidate_lr": col("candidate_lr", True, units="1",
                                long_name="candidate step sizes (sampled, not proved)"),
            "volume_fraction": col("volume_fraction", units="1",
                                   long_name="volume of the proved box over the candidate's"),
            "n_checked": col("n_checked", units="1",
                             long_name="random points of the candidate checked by iteration"),
            "n_failed": col("n_failed", units="1",
                            long_name="of which failed (a failure rate, not a proof)"),
        },
        coords={"eps": ("eps", [r["eps"] for r in rows],
                        {"long_name": "eps (Q = diag(1, -eps))", "units": "1"}),
                "bound": ("bound", ["lo", "hi"])},
    )
    status_attrs = None
    if covers:
        owner = np.concatenate([np.full(len(c.status), k) for k, c in covers])
        boxes = np.concatenate([c.boxes for _, c in covers])
        status = np.concatenate([c.status for _, c in covers]).astype(np.int8)
        limit = np.concatenate([c.limit for _, c in covers])
        c0 = covers[0][1].to_dataset()
        status_attrs = dict(c0.status.attrs)
        ds["cover_eps"] = ("box", np.array([rows[k]["eps"] for k in owner]),
                           {"long_name": "eps of the region the cover box belongs to",
                            "units": "1"})
        ds["cover_p"] = (("box", "bound"), boxes[:, :2],
                         {"long_name": "cover box in p = lr theta_1^2", "units": "1"})
        ds["cover_q"] = (("box", "bound"), boxes[:, 2:],
                         {"long_name": "cover box in q = eps lr theta_2^2", "units": "1"})
        ds["cover_status"] = ("box", status, status_attrs)
        ds["cover_limit"] = (("box", "bound"), limit,
                             {"long_name": "proved enclosure of lr x sharpness at the limit",
                              "units": "1"})
    ds.attrs.update({
        "dynsys_version": __version__, "analysis": "proved_regions", "target": 0.0,
        "method": "dynsys.eos_region (defaults; prove=True): largest box centre (1 +- h) "
                  "proved by certify_region (h doubled from 1e-4, then bisected); Lohner sets "
                  "in outward-rounded interval arithmetic on the rescaled plane",
        "command": "python -m dynsys.studies.proved_regions" + (" --quick" if quick else ""),
    })
    if not quick:
        crits = []
        for c, bracket in ((1.0, (0.01, 8.0)), (0.6, (0.01, 0.4))):
            t = time.perf_counter()
            crit = proved_critical_eps(c=c, eps_bracket=bracket)
            b = crit.attrs["eps_c_bracket"]
            print(f"proved eps_c (delta = {c:g} eps): bracket [{b[0]:.4g}, {b[1]:.4g}] "
                  f"({time.perf_counter() - t:.0f} s; lower end proved, upper end: no region "
                  f"proved by the search; inf: proved at the top of {bracket})", flush=True)
            ds.attrs[f"proved_eps_c_bracket_c{c:g}"] = np.asarray(b, float)
            crits.append(crit.expand_dims(c=[c]))
        both = xr.concat(crits, dim="c", join="outer", combine_attrs="drop_conflicts")
        both["eps_c_bracket"] = (("c", "bound"), [x.attrs["eps_c_bracket"] for x in crits],
                                 {"long_name": "[largest proved eps, smallest eps without a "
                                               "proved region]", "units": "1"})
        both["c"].attrs.update({"long_name": "delta / eps", "units": "1"})
        both.attrs.pop("eps_c_bracket", None)
        both.attrs.pop("c", None)
        save(both, out / "proved_critical_eps.nc")
    save(ds, out / "proved_regions.nc")
    headline = regions.get(0.05)
    if headline is not None and headline.proved:
        _figure(headline, out / "proved_regions.png", quick)
    return ds


def _figure(region, path, quick):
    cert = region.proof
    lr = float(np.mean(cert.lr_interval))
    (a1, b1), (a2, b2) = region.candidate["U"].values()
    n = 80 if quick else 240
    bg = basins(QuadraticRegression2D(cert.kernel.eps), [lr],
                grid=((a1 - 0.1 * (b1 - a1), b1 + 0.1 * (b1 - a1), n),
                      (a2 - 0.1 * (b2 - a2), b2 + 0.1 * (b2 - a2), n)),
                steps=20_000)
    plot.proof_cover(cert, lr=lr, background=bg, candidate=((a1, b1), (a2, b2)),
                     path=path)


def main(argv=None):
    args = parse_args(__doc__, argv, quick_help="one eps from a small sweep, no eps_c")
    run(args.out, quick=args.quick)


if __name__ == "__main__":
    main()
