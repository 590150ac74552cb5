"""The region U x [eta_1, eta_2] of Theorem 1 (Agarwala et al.), computed and certified."""

from __future__ import annotations

import dataclasses
import math

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
from ._proved_box import largest_proved_box


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
        return "U = " + " x ".join(f"[{lo:.6g}, {hi:.6g}] ({name})"
                                   for name, (lo, hi) in self.bounds.items())


@dataclasses.dataclass
class EoSRegion:
    """Result of :func:`eos_region`: ``U`` (a :class:`Box`), ``lr_interval`` = (eta_1, eta_2),
    ``delta`` (the tolerance used, in units of ``lr x sharpness``), ``certificate`` (the random
    check of the candidate box: points checked by plain iteration and how many failed, a
    failure rate), ``dataset`` (the whole sweep, the edge-of-stability set and the mask of U),
    ``proof`` (the :class:`~dynsys.eos.Certificate` of the region, or None), ``candidate``
    (the sampled box before the proof: ``{"U": bounds, "lr_interval": (lo, hi)}``) and
    ``search`` (the trials of the largest-proved-box search; ``time_limited``: whether a proof
    of it ran out of time; ``skipped``: why no proof was tried, if none was)."""

    U: Box
    lr_interval: tuple[float, float] | None
    delta: float
    certificate: dict
    dataset: xr.Dataset
    proof: object = None
    candidate: dict | None = None
    search: dict | None = None

    @property
    def empty(self) -> bool:
        """Whether no region was found."""
        return self.lr_interval is None

    @property
    def proved(self) -> bool:
        """Whether the region is proved (every box of its cover proved by certify_region)."""
        return (not self.empty) and self.proof is not None and self.proof.proved

    def volume_fraction(self) -> float:
        """Return the volume of U x [eta_1, eta_2] over that of the candidate box (1 without
        a proof, NaN when empty)."""
        if self.empty or self.candidate is None:
            return math.nan
        def vol(bounds, lr):
            v = lr[1] - lr[0]
            for a, b in bounds.values():
                v *= b - a
            return v
        return vol(self.U.bounds, self.lr_interval) / vol(self.candidate["U"],
                                                          self.candidate["lr_interval"])

    def summary(self) -> str:
        """Return a one-paragraph description of the region, its proof and the evidence."""
        if self.empty:
            text = (f"no proved edge-of-stability region found at delta = {self.delta:g}"
                    f"{self._target_text()}")
            if self.search is not None and self.search.get("skipped"):
                text += f" ({self.search['skipped']})"
            if self.candidate is not None:
                (lo, hi) = self.candidate["lr_interval"]
                text += (f" (candidate {Box(self.candidate['U'], None)}, lr in "
                         f"[{lo:.4g}, {hi:.4g}] not proved)")
            return text
        lo, hi = self.lr_interval
        cert = self.certificate
        text = (f"{self.U}, lr in [{lo:.6g}, {hi:.6g}]{self._target_text()}; limit lr x "
                f"sharpness in [2 - {self.delta:g}, 2]")
        if self.proved:
            e = self.proof.enclosure
            text += (f"; proved for every start and step size ({len(self.proof.status)} "
                     f"boxes, {self.proof.wall_time:.1f} s), limit in [{e[0]:.9f}, {e[1]:.9f}]")
            if self.search is not None and self.search.get("time_limited"):
                text += ("; a proof of the search ran out of time, so the box found depends "
                         "on the machine's speed")
            if self.candidate is not None:
                c = self.candidate
                text += (f"; {self.volume_fraction():.3g} of the volume of the candidate "
                         f"{Box(c['U'], None)}, lr in [{c['lr_interval'][0]:.4g}, "
                         f"{c['lr_interval'][1]:.4g}]")
        else:
            text += "; NOT proved (a candidate)"
        return text + (f"; random check of the candidate, plain iteration at "
                       f"{cert['n_checked']} points: {cert['n_failed']} failed (a failure rate, "
                       f"not a proof)")

    def _target_text(self) -> str:
        target = self.dataset.attrs.get("target", 0.0)
        return f", target {float(target):g}" if target else ""

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


def default_region_grid(model, lr_values) -> tuple:
    """Return a positive-quadrant grid wide enough to hold the EoS set: the model's ``default_box``
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
               check_steps: int = 400_000, prove: bool = True, proof_budget=None,
               search_h0: float = 1e-4, search_steps: int = 3) -> EoSRegion:
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

    That box is a *candidate*: random points are evidence, not a proof, and the candidate may
    contain starts that fail (at eps = 0.05 it contains catapulting starts). With ``prove=True``
    (the default) the region returned is the largest box found by a documented search that
    :func:`dynsys.certify_region` *proves* (every start, every step size): boxes
    ``centre (1 +- h)`` with the same relative half-width ``h`` along lr, theta_1 and theta_2,
    clipped to the candidate, about the candidate's centre (or, if a box of half-width
    ``search_h0`` there is not proved, about the edge-of-stability grid points of the candidate
    nearest to it); ``h`` starts at ``search_h0``, doubles while the box is proved, and the last
    proved / first unproved pair is bisected ``search_steps`` times (in log h), each step a
    proof with ``proof_budget`` (default: at most 2,000 cover boxes of side 1.6e-2 in the
    rescaled plane, 60 s). The search is deterministic: the result depends on these arguments
    only (and on the time budget, if a proof reaches it: ``search["trials"]`` says). ``proof``
    holds the certificate of the returned box; ``candidate`` the sampled box, whose random check
    (``certificate``: points and failures) is reported as a failure rate only; ``search`` the
    trials. If no box is proved the region is empty. ``prove=False`` returns the candidate,
    labelled as not proved.

    *With a nonzero target* (``QuadraticRegression2D(eps, target=E)``). Supported: the sweep,
    the candidate and its random check use the model with its target (its GD, sharpness and
    gradient-flow sharpness); the proofs are :func:`dynsys.certify_region` with boxes in
    ``(p, q, e = lr x E)`` (one enclosure no longer covers every step size, see docs/math.md
    section 8), so a returned proved region is a proof as for target 0. The result carries
    the target (``dataset.attrs["target"]``, the summary, ``proof_space``). Limits: each box
    costs far more than at target 0 (hundreds of pieces where target 0 needs one: at eps =
    0.05, E = 0.5 a box of relative half-width 4e-4 about ``(lr, theta_1, theta_2) = (0.6,
    1.7, 8.73)`` took 14 s against 0.1 s), so the proved box is small and, with the default
    ``proof_budget``, the larger trials end at its time budget (with every default at eps =
    0.05, E = 0.5: h = 1e-4 proved, 19 boxes, the four later trials cut by time, 352 s in
    all). Such trials count as not proved (never as proved), ``search["time_limited"]`` is then
    true and the box found depends on the machine's speed (a ``proof_budget`` whose
    ``max_boxes`` ends the proofs first makes the search deterministic again). A negative
    target is never proved (the lower bound of the gradient-flow sharpness needs ``e >= 0``):
    no proof is tried, the region is empty and ``search["skipped"]`` says why. The default
    grid does not depend on the target, and ``budget.reuse`` has no effect with a target.
    Not yet workable: the independent re-check :func:`dynsys.verify_certificate` of such a
    proof (its ball-arithmetic re-proof of a proved box of the test region, 368 pieces in
    the float proof, ran out of its piece budget after 300 s and rejected the box: rejected,
    never wrongly accepted).

    Parameters
    ----------
    model : 2-parameter Model (e.g. QuadraticRegression2D, with or without a target)
    lr_range : array or dynsys.linspace
        Step sizes scanned (default ``dynsys.linspace(0.5, 2.0, 16)``).
    grid : ((lo1, hi1, n1), (lo2, hi2, n2)), optional
        Starts scanned (default: a positive-quadrant grid scaled to eps and lr).
    delta : float, optional
        Tolerance below the edge in units of lr x sharpness (default eps for the 2-D model).
    steps : int
        Iteration budget of the sweep.
    prove : bool
        Return the largest proved box of the search (default) instead of the candidate.
    proof_budget : dynsys.rigorous.ProofBudget, optional
        Budget of each proof of the search.
    search_h0 : float
        First relative half-width of the search (0 < search_h0 <= 1).
    search_steps : int
        Bisections of the scale after the growth phase.

    Returns
    -------
    EoSRegion

    Examples
    --------
    >>> import dynsys
    >>> r = dynsys.eos_region(dynsys.QuadraticRegression2D(0.05),
    ...                       lr_range=dynsys.linspace(0.8, 1.2, 3),
    ...                       grid=((0.05, 1.0, 12), (4.0, 12.0, 12)), n_check=20, refine=0,
    ...                       search_steps=0)
    >>> r.proved, r.certificate["n_failed"]
    (True, 0)
    """
    if not isinstance(model, Model) or model.dim != 2:
        raise TypeError(f"model must be a dynsys Model with 2 parameters, got {model!r}")
    lr_values = check.value_range("lr_range", lr_range, positive=True)
    delta = check.real("delta", _default_delta(model) if delta is None else delta, positive=True)
    grid = check.grid("grid", default_region_grid(model, lr_values) if grid is None else grid)
    steps = check.integer("steps", steps, minimum=1)
    refine = check.integer("refine", refine, minimum=0)
    n_check = check.integer("n_check", n_check, minimum=1)
    seed = check.integer("seed", seed, minimum=0)
    check_steps = check.integer("check_steps", check_steps, minimum=1)
    if not isinstance(prove, (bool, np.bool_)):
        raise TypeError(f"prove must be True or False, got {prove!r}")
    search_h0 = check.real("search_h0", search_h0, positive=True, hi=1.0)
    search_steps = check.integer("search_steps", search_steps, minimum=0)
    if proof_budget is not None:
        from ..rigorous import ProofBudget
        if not isinstance(proof_budget, ProofBudget):
            raise TypeError(f"proof_budget must be a dynsys.rigorous.ProofBudget, got "
                            f"{proof_budget!r}")

    target = float(getattr(model, "target", 0.0))
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

    proof, candidate, search = None, None, None
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
        candidate = {"U": {names[0]: (float(lo[1]), float(hi[1])),
                           names[1]: (float(lo[2]), float(hi[2]))},
                     "lr_interval": (float(lo[0]), float(hi[0]))}
        if prove and target < 0:
            # the kernel's lower bound of lr x GFS sharpness is 0 where e = lr x target < 0,
            # so no box could be proved: report that instead of running the search
            search = {"trials": [], "h0": search_h0, "growth": 2.0,
                      "bisections": search_steps, "time_limited": False,
                      "skipped": "a negative target: certify_region cannot prove the "
                                 "gradient-flow condition there, so no proof was tried"}
            bounds, lr_interval = {}, None
        elif prove:
            centres = _search_centres(lo, hi, eos, box, axes)
            p_lo, p_hi, proof, trials = largest_proved_box(
                model, lo, hi, delta, centres, budget=proof_budget, h0=search_h0,
                bisections=search_steps, seed=seed)
            search = {"trials": trials, "h0": search_h0, "growth": 2.0,
                      "bisections": search_steps,
                      "time_limited": any("time budget" in t[5] for t in trials)}
            if proof is None:
                bounds, lr_interval = {}, None
            else:
                bounds = {names[0]: (float(p_lo[1]), float(p_hi[1])),
                          names[1]: (float(p_lo[2]), float(p_hi[2]))}
                lr_interval = (float(p_lo[0]), float(p_hi[0]))
        else:
            bounds, lr_interval = candidate["U"], candidate["lr_interval"]

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
    attrs["target"] = target
    if bounds:
        attrs.update({f"U_{n}": np.asarray(b) for n, b in bounds.items()})
        attrs["lr_interval"] = np.asarray(lr_interval)
    attrs["proved"] = int(bool(bounds) and proof is not None and proof.proved)
    if candidate is not None:
        attrs.update({f"candidate_U_{n}": np.asarray(b) for n, b in candidate["U"].items()})
        attrs["candidate_lr_interval"] = np.asarray(candidate["lr_interval"])
    if proof is not None and proof.proved:
        attrs["lr_sharpness_limit_enclosure"] = np.asarray(proof.enclosure)
        attrs["proof_boxes"] = len(proof.status)
        attrs["proof_wall_time"] = proof.wall_time
        attrs["proof_method"] = ("certify_region on the largest box centre (1 +- h) proved by "
                                 "the search (h doubled from search_h0, then bisected)")
        attrs["search_h"] = max(t[1] for t in search["trials"] if t[2] == "proved")
        attrs["proof_space"] = ("(p, q, e) = (lr theta_1^2, eps lr theta_2^2, lr x target)"
                                if proof.boxes.shape[1] == 6
                                else "(p, q) = (lr theta_1^2, eps lr theta_2^2)")
    if search is not None:
        attrs["search_time_limited"] = int(bool(search["time_limited"]))
        if search.get("skipped"):
            attrs["search_skipped"] = search["skipped"]
    ds.attrs.update(attrs)
    return EoSRegion(Box(bounds, u_mask), lr_interval, delta, certificate, ds, proof,
                     candidate, search)


def _search_centres(lo, hi, eos, box, axes, extra: int = 6):
    """Centres for the largest-proved-box search: the candidate's centre, then the
    edge-of-stability grid points of the candidate box nearest to it (relative distance)."""
    centre = 0.5 * (lo + hi)
    ks, is_, js = box
    idx = np.argwhere(eos[ks, is_, js])
    pts = np.stack([axes[0][ks][idx[:, 0]], axes[1][is_][idx[:, 1]], axes[2][js][idx[:, 2]]],
                   axis=-1)
    inside = np.all((pts >= lo) & (pts <= hi), axis=-1) & np.any(pts != centre, axis=-1)
    pts = pts[inside]
    dist = np.max(np.abs(pts - centre) / (hi - lo), axis=-1)
    order = np.argsort(dist, kind="stable")
    return [centre] + [pts[i] for i in order[:extra]]
