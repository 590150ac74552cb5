"""The region U x [eta_1, eta_2] of Theorem 1 (Agarwala et al.), computed and certified."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from .._range import linspace
from ..basins import basins
from ..models import Model
from ._gfs import gfs_sharpness
from ._region_check import limit_sharpness_by_iteration
from ._maxbox import largest_box


@dataclasses.dataclass
class Box:
    """The neighbourhood U: a box of initial conditions, with its mask on the sweep grid."""

    bounds: dict[str, tuple[float, float]]
    mask: xr.DataArray

    @property
    def empty(self) -> bool:
        """Whether the box is empty (no edge-of-stability region was found)."""
        return not self.bounds

    def contains(self, theta) -> np.ndarray:
        """Return whether each point of ``theta`` (shape ``(..., 2)``) lies in the box."""
        theta = check.array("theta", theta, dim=2, finite=False)
        if self.empty:
            return np.zeros(theta.shape[:-1], dtype=bool)
        inside = np.ones(theta.shape[:-1], dtype=bool)
        for axis, (lo, hi) in enumerate(self.bounds.values()):
            inside &= (theta[..., axis] >= lo) & (theta[..., axis] <= hi)
        return inside

    def __str__(self) -> str:
        if self.empty:
            return "U = (empty)"
        return "U = " + " x ".join(f"[{lo:.4g}, {hi:.4g}] ({name})"
                                   for name, (lo, hi) in self.bounds.items())


@dataclasses.dataclass
class EoSRegion:
    """Result of :func:`eos_region`: ``U`` (a :class:`Box`), ``lr_interval`` = (eta_1, eta_2),
    ``delta`` (the tolerance used, in units of ``lr x sharpness``), ``certificate`` (points
    checked by plain iteration and how many failed) and ``dataset`` (the whole sweep, the
    edge-of-stability set and the mask of U)."""

    U: Box
    lr_interval: tuple[float, float] | None
    delta: float
    certificate: dict
    dataset: xr.Dataset
    proof: object = None

    @property
    def empty(self) -> bool:
        """Whether no region was found."""
        return self.lr_interval is None

    def summary(self) -> str:
        """Return a one-paragraph description of the region and its certificate."""
        if self.empty:
            return f"no edge-of-stability region found at delta = {self.delta:g}"
        lo, hi = self.lr_interval
        cert = self.certificate
        text = (f"{self.U}, lr in [{lo:.4g}, {hi:.4g}]; limit lr x sharpness in "
                f"[2 - {self.delta:g}, 2]")
        if self.proof is not None and self.proof.proved:
            e = self.proof.enclosure
            text += (f"; certified: proved for every start and step size "
                     f"({self.proof.count(0)} boxes), limit in [{e[0]:.9f}, {e[1]:.9f}]")
        elif self.proof is not None:
            text += f"; not proved ({self.proof.verdict})"
        return text + (f"; plain iteration at {cert['n_checked']} random points: "
                       f"{cert['n_failed']} failed (a failure rate, not a proof)")

    def to_dataset(self) -> xr.Dataset:
        """Return the dataset (for :func:`dynsys.save`)."""
        return self.dataset

    def __repr__(self) -> str:
        return f"EoSRegion({self.summary()})"


def _default_delta(model) -> float:
    hook = getattr(model, "default_delta", None)
    if hook is None:
        raise TypeError(f"delta is required: {type(model).__name__} has no default_delta hook")
    return float(hook())


def _default_grid(model, lr_values) -> tuple:
    """A positive-quadrant grid wide enough to hold the EoS set: the model's ``default_box``
    at the smallest step size, its first axis as is and its second stretched by 3/2."""
    hook = getattr(model, "default_box", None)
    if hook is None:
        raise TypeError(f"grid is required: {type(model).__name__} has no default_box hook")
    (_, t1_hi), (_, t2_hi) = hook(float(np.min(lr_values)))[:2]
    t2_hi = 1.5 * t2_hi
    return ((t1_hi / 128, t1_hi, 96), (t2_hi / 128, t2_hi, 96))


def _is_eos(model, theta0, lr, limit_sharpness, converged, delta, gfs):
    """The definition: converged, limit in [2 - delta, 2] (in lr x sharpness), started past
    the edge (lr x GFS sharpness > 2)."""
    with np.errstate(invalid="ignore"):
        scaled = lr * limit_sharpness
        return converged & (scaled <= 2.0) & (scaled >= 2.0 - delta) & (lr * gfs > 2.0)


def eos_region(model, *, lr_range=linspace(0.5, 2.0, 16), grid=None, delta=None,
               steps: int = 50_000,
               refine: int = 4, n_check: int = 300, seed: int = 0, progress=None,
               check_steps: int = 400_000, prove: bool = False, proof_budget=None,
               shrink_rounds: int = 8) -> EoSRegion:
    """Return the largest certified region U x [eta_1, eta_2] of edge-of-stability behaviour.

    Definition (Theorem 1 of Agarwala et al., made precise). GD from ``theta0`` with step size
    ``lr`` shows *edge-of-stability behaviour* when

    1. it converges (to a minimum, here a point of the solution set z = 0);
    2. its limiting sharpness ``S_inf`` satisfies ``2 - delta <= lr S_inf <= 2``; and
    3. it started past the edge: the sharpness of the gradient-flow solution from ``theta0``
       exceeds ``2/lr`` (so the limit was capped by the instability, not reached by the flow).

    ``delta`` is in units of ``lr x sharpness`` (so ``delta_lambda = delta / lr``); the default
    for the 2-D model is ``delta = eps``, twice the leading-order offset ``eps (1 - lr E)/2``
    of docs/math.md, i.e. ``delta_lambda = O(eps)`` as in the theorem.

    The edge-of-stability set is computed on a grid of starts and step sizes with
    :func:`dynsys.basins`; U x [eta_1, eta_2] is the largest box of grid cells (by number of
    cells, with at least 2 grid values along every axis so that U has positive area and the
    step sizes a positive range) inside it, found exactly. Each face of the box is then pushed outwards by bisection
    towards the next grid line (``refine`` halvings, each new slab checked by iteration), and the
    result is certified at ``n_check`` random points of the box by plain, independent numpy GD;
    if any fails, the box is shrunk about its centre (by 10% per round) and re-checked with
    fresh points. The number checked, failed and shrink rounds are in ``certificate``.

    By the sign-flip symmetry of the 2-D model the default grid covers the positive quadrant;
    U's mirror images are edge-of-stability regions too.

    With ``prove=True`` the box is then *proved* with :func:`dynsys.certify_region` (every
    start, every step size). Where the proof does not succeed (a part is refuted or undecided),
    the box is halved about its centre along every axis and proved again, up to
    ``shrink_rounds`` times; the region returned is the first proved box of that sequence (the
    largest proved box of the sequence, not necessarily the largest proved box overall), and
    ``proof`` holds its certificate. If none is proved the region is empty. Only a proved region
    is called certified; the random check stays as a failure rate.

    Parameters
    ----------
    model : 2-parameter Model (e.g. QuadraticRegression2D)
    lr_range : array or dynsys.linspace
        Step sizes scanned (default ``dynsys.linspace(0.5, 2.0, 16)``).
    grid : ((lo1, hi1, n1), (lo2, hi2, n2)), optional
        Starts scanned (default: a positive-quadrant grid scaled to eps and lr).
    delta : float, optional
        Tolerance below the edge in units of lr x sharpness (default eps for the 2-D model).
    steps : int
        Iteration budget of the sweep.

    Returns
    -------
    EoSRegion

    Examples
    --------
    >>> import dynsys
    >>> r = dynsys.eos_region(dynsys.QuadraticRegression2D(0.05),
    ...                       lr_range=dynsys.linspace(0.8, 1.2, 3),
    ...                       grid=((0.05, 1.0, 12), (4.0, 12.0, 12)), n_check=20, refine=0)
    >>> r.certificate["n_failed"]
    0
    """
    if not isinstance(model, Model) or model.dim != 2:
        raise TypeError(f"model must be a dynsys Model with 2 parameters, got {model!r}")
    lr_values = check.value_range("lr_range", lr_range, positive=True)
    delta = check.real("delta", _default_delta(model) if delta is None else delta, positive=True)
    grid = check.grid("grid", _default_grid(model, lr_values) if grid is None else grid)
    steps = check.integer("steps", steps, minimum=1)
    refine = check.integer("refine", refine, minimum=0)
    n_check = check.integer("n_check", n_check, minimum=1)
    seed = check.integer("seed", seed, minimum=0)
    check_steps = check.integer("check_steps", check_steps, minimum=1)

    sweep = basins(model, lr_values, grid=grid, steps=steps, progress=progress)
    names = [d for d in sweep.outcome.dims if d != "lr"]
    t1 = sweep[names[0]].values
    t2 = sweep[names[1]].values
    starts = np.stack(np.meshgrid(t1, t2, indexing="ij"), axis=-1)
    gfs = gfs_sharpness(model, starts)
    flags = {v: k for k, v in Outcome.decode(sweep.outcome).items()}
    converged = sweep.outcome.values == flags["converged"]
    lr3 = sweep.lr.values[:, None, None]
    eos = _is_eos(model, None, lr3, sweep.final_sharpness.values, converged, delta, gfs[None])

    cells, box = largest_box(eos, min_size=(2, 2, 2))
    certificate = {"n_checked": 0, "n_failed": 0, "shrink_rounds": 0, "refine_checks": 0}
    rng = np.random.default_rng(seed)

    def check_points(theta, lr):
        ok, sharp = limit_sharpness_by_iteration(model, theta, lr, max_steps=check_steps)
        g = gfs_sharpness(model, theta)
        return _is_eos(model, theta, lr, sharp, ok, delta, g)

    proof = None
    if box is None:
        bounds, lr_interval = {}, None
    else:
        ks, is_, js = box
        lo = np.array([sweep.lr.values[ks.start], t1[is_.start], t2[js.start]])
        hi = np.array([sweep.lr.values[ks.stop - 1], t1[is_.stop - 1], t2[js.stop - 1]])
        axes = [sweep.lr.values, t1, t2]
        # push each face out towards the next grid line by bisection, checking the new slab
        for axis in range(3):
            for side, sign in ((0, -1), (1, +1)):
                coord = axes[axis]
                index = (ks, is_, js)[axis]
                nxt = index.start - 1 if side == 0 else index.stop
                if nxt < 0 or nxt >= len(coord):
                    continue
                good, bad = (lo if side == 0 else hi)[axis], coord[nxt]
                for _ in range(refine):
                    trial = 0.5 * (good + bad)
                    slab_lo, slab_hi = lo.copy(), hi.copy()
                    if side == 0:
                        slab_lo[axis], slab_hi[axis] = trial, good
                    else:
                        slab_lo[axis], slab_hi[axis] = good, trial
                    pts = rng.uniform(slab_lo, slab_hi, size=(32, 3))
                    certificate["refine_checks"] += len(pts)
                    if check_points(pts[:, 1:], pts[:, 0]).all():
                        good = trial
                    else:
                        bad = trial
                (lo if side == 0 else hi)[axis] = good
        # certify: random points by plain iteration; shrink about the centre on failure
        for _ in range(20):
            pts = rng.uniform(lo, hi, size=(n_check, 3))
            ok = check_points(pts[:, 1:], pts[:, 0])
            certificate["n_checked"] += n_check
            if ok.all():
                break
            certificate["n_failed"] += int((~ok).sum())
            certificate["shrink_rounds"] += 1
            centre = 0.5 * (lo + hi)
            lo, hi = centre + 0.9 * (lo - centre), centre + 0.9 * (hi - centre)
        else:
            raise RuntimeError("could not certify the region after 20 shrink rounds")
        if certificate["shrink_rounds"]:
            # report the failures of the final box only: it passed n_check fresh points
            certificate["n_failed_before_shrinking"] = certificate["n_failed"]
            certificate["n_failed"] = 0
            certificate["n_checked_final_box"] = n_check
        proof = None
        if prove:
            lo, hi, proof = _prove_by_halving(model, lo, hi, delta, proof_budget,
                                              shrink_rounds, seed)
        if prove and proof is None:
            bounds, lr_interval = {}, None
        else:
            bounds = {names[0]: (float(lo[1]), float(hi[1])),
                      names[1]: (float(lo[2]), float(hi[2]))}
            lr_interval = (float(lo[0]), float(hi[0]))

    u_mask = xr.DataArray(
        (starts[..., 0] >= bounds[names[0]][0]) & (starts[..., 0] <= bounds[names[0]][1])
        & (starts[..., 1] >= bounds[names[1]][0]) & (starts[..., 1] <= bounds[names[1]][1])
        if bounds else np.zeros(starts.shape[:-1], dtype=bool),
        dims=names, coords={n: sweep[n] for n in names},
        attrs={"long_name": "starting point in U"})
    ds = sweep.copy()
    ds["eos"] = (("lr", *names), eos, {"long_name": "edge-of-stability behaviour"})
    ds["gfs_sharpness"] = (tuple(names), gfs,
                           {"long_name": "sharpness of the gradient-flow solution"})
    ds["in_U"] = u_mask
    attrs = provenance(model, analysis="eos_region", delta=delta, grid_cells_in_box=cells,
                       **{f"certificate_{k}": v for k, v in certificate.items()})
    if bounds:
        attrs.update({f"U_{n}": np.asarray(b) for n, b in bounds.items()})
        attrs["lr_interval"] = np.asarray(lr_interval)
    attrs["proved"] = int(proof is not None and proof.proved)
    if proof is not None and proof.proved:
        attrs["lr_sharpness_limit_enclosure"] = np.asarray(proof.enclosure)
        attrs["proof_boxes"] = len(proof.status)
        attrs["proof_wall_time"] = proof.wall_time
    ds.attrs.update(attrs)
    return EoSRegion(Box(bounds, u_mask), lr_interval, delta, certificate, ds, proof)


def _prove_by_halving(model, lo, hi, delta, budget, rounds, seed):
    """Prove ``[lo, hi]`` (rows lr, theta_1, theta_2); halve about the centre until proved.

    Returns ``(lo, hi, certificate)`` of the first proved box, or ``(lo, hi, None)``."""
    from ._certify import certify_region
    from ..rigorous import ProofBudget
    budget = ProofBudget(time=15.0, max_boxes=4000) if budget is None else budget
    lo, hi = np.array(lo, float), np.array(hi, float)
    for _ in range(int(rounds) + 1):
        cert = certify_region(model, ((lo[1], hi[1]), (lo[2], hi[2])), (lo[0], hi[0]), delta,
                              budget=budget, seed=seed, stop_on_refute=True)
        if cert.proved:
            return lo, hi, cert
        centre = 0.5 * (lo + hi)
        lo, hi = centre + 0.5 * (lo - centre), centre + 0.5 * (hi - centre)
    return lo, hi, None
