"""Prove Theorem 1's region: every start of U and every step size of [eta_1, eta_2]."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from .._outcomes import Outcome
from .._stopping import StoppingRule
from ..rigorous import ProofBudget, ProofStatus, prove_cover
from ._converge import run_to_convergence
from ._gfs import gfs_sharpness

@dataclasses.dataclass(frozen=True)
class Certificate:
    """A proof (or refutation) of edge-of-stability behaviour on ``U x lr_interval``.

    ``boxes`` (n, 4) are the plane boxes ``(p_lo, p_hi, q_lo, q_hi)`` of a cover of the region's
    image in the rescaled plane (``p = lr theta_1^2``, ``q = eps lr theta_2^2``); with a nonzero
    target, (n, 6) boxes ``(p_lo, p_hi, q_lo, q_hi, e_lo, e_hi)`` in the space of ``(p, q, e =
    lr x target)``; ``status`` their
    :class:`~dynsys.rigorous.ProofStatus`; ``limit`` (n, 2) the proved enclosure of
    ``lr x sharpness`` at the limit (NaN unless proved); ``terminal_step`` the step at which the
    last piece of a box became terminal; ``failing_start`` (n, 3) a start ``(theta_1, theta_2,
    lr)`` that fails, found by plain iteration (NaN unless refuted).
    """

    model: object
    U: tuple
    lr_interval: tuple
    delta: float
    boxes: np.ndarray
    status: np.ndarray
    limit: np.ndarray
    terminal_step: np.ndarray
    failing_start: np.ndarray
    depth: np.ndarray
    pieces: np.ndarray
    budget: ProofBudget
    wall_time: float
    exhausted: str
    kernel: object
    cells: object = None

    def lemma_cells(self):
        """Return ``(boxes (n, 4), limits (n, 2))`` of the lattice cells proved for reuse, in
        the order they were proved (cell ``n`` may rest on cells ``0`` to ``n-1`` only; every
        box of the cover may rest on any), or empty arrays without reuse."""
        if self.cells is None:
            return np.zeros((0, 4)), np.zeros((0, 2))
        boxes, limits, _ = self.cells.proved_cells()
        return boxes, limits

    @property
    def target(self) -> tuple[float, float]:
        """The interval ``[2 - delta, 2]`` the limit of ``lr x sharpness`` must lie in."""
        return (2.0 - self.delta, 2.0)

    def count(self, status) -> int:
        """Return the number of boxes with ``status`` (a ProofStatus)."""
        return int(np.sum(self.status == int(status)))

    @property
    def verdict(self) -> str:
        """``"proved"`` (every box proved), ``"refuted"`` (some box refuted) or
        ``"undecided"``."""
        if self.count(ProofStatus.REFUTED):
            return "refuted"
        if len(self.status) and self.count(ProofStatus.PROVED) == len(self.status):
            return "proved"
        return "undecided"

    @property
    def proved(self) -> bool:
        """Whether the whole region is proved."""
        return self.verdict == "proved"

    @property
    def enclosure(self) -> tuple[float, float]:
        """The hull of the proved limit enclosures (NaN if no box is proved)."""
        ok = self.status == int(ProofStatus.PROVED)
        if not ok.any():
            return (math.nan, math.nan)
        return (float(self.limit[ok, 0].min()), float(self.limit[ok, 1].max()))

    def summary(self) -> str:
        """Return a one-paragraph account of the proof."""
        (a, b), (c, d) = self.U
        lo, hi = self.lr_interval
        text = (f"U = [{a:.6g}, {b:.6g}] x [{c:.6g}, {d:.6g}], lr in [{lo:.6g}, {hi:.6g}], "
                f"delta = {self.delta:g}: {self.verdict} ({self.count(ProofStatus.PROVED)} "
                f"proved, {self.count(ProofStatus.REFUTED)} refuted, "
                f"{self.count(ProofStatus.UNDECIDED)} undecided boxes, depth <= "
                f"{int(self.depth.max()) if len(self.depth) else 0}, {self.wall_time:.1f} s)")
        if self.proved:
            e = self.enclosure
            text += f"; lr x sharpness at the limit in [{e[0]:.9f}, {e[1]:.9f}]"
        if self.exhausted:
            text += f"; {self.exhausted}: unfinished boxes are undecided"
        if self.verdict == "refuted":
            i = int(np.argmax(self.status == int(ProofStatus.REFUTED)))
            t = self.failing_start[i]
            text += (f"; e.g. theta0 = ({t[0]:.6g}, {t[1]:.6g}), lr = {t[2]:.6g} fails "
                     f"(plain iteration)")
        return text

    def __repr__(self) -> str:
        return f"Certificate({self.summary()})"

    def to_dataset(self) -> xr.Dataset:
        """Return the certificate as a labelled Dataset (one row per box of the cover)."""
        n = len(self.status)
        bound = {"bound": ("bound", ["lo", "hi"])}
        ds = xr.Dataset(
            {
                "p": (("box", "bound"), self.boxes[:, :2],
                      {"long_name": "box in p = lr theta_1^2", "units": "1"}),
                "q": (("box", "bound"), self.boxes[:, 2:4],
                      {"long_name": "box in q = eps lr theta_2^2", "units": "1"}),
                "status": ("box", self.status.astype(np.int8),
                           ProofStatus.cf_attrs("proof status of the box")),
                "terminal_step": ("box", self.terminal_step,
                                  {"long_name": "step at which the box's enclosure became "
                                                "terminal (proved boxes)", "units": "steps"}),
                "limit": (("box", "bound"), self.limit,
                          {"long_name": "proved enclosure of lr x sharpness at the limit",
                           "units": "1"}),
                "failing_theta_1": ("box", self.failing_start[:, 0],
                                    {"long_name": "theta_1 of a failing start (refuted boxes)"}),
                "failing_theta_2": ("box", self.failing_start[:, 1],
                                    {"long_name": "theta_2 of a failing start (refuted boxes)"}),
                "failing_lr": ("box", self.failing_start[:, 2],
                               {"long_name": "step size of a failing start (refuted boxes)"}),
                "depth": ("box", self.depth, {"long_name": "bisections of the cover box"}),
                "pieces": ("box", self.pieces,
                           {"long_name": "sets followed inside the box (adaptive bisection)"}),
            },
            coords={"box": ("box", np.arange(n)), **bound},
        )
        if self.boxes.shape[1] == 6:
            ds["e"] = (("box", "bound"), self.boxes[:, 4:],
                       {"long_name": "box in e = lr x target", "units": "1"})
        cb, cl = self.lemma_cells()
        ds["cell_p"] = (("cell", "bound"), cb[:, :2],
                        {"long_name": "lattice cell proved for reuse, in p (proof order)",
                         "units": "1"})
        ds["cell_q"] = (("cell", "bound"), cb[:, 2:],
                        {"long_name": "lattice cell proved for reuse, in q (proof order)",
                         "units": "1"})
        ds["cell_limit"] = (("cell", "bound"), cl,
                            {"long_name": "proved enclosure of lr x sharpness at the limit "
                                          "from the cell", "units": "1"})
        (a, b), (c, d) = self.U
        e = self.enclosure
        ds.attrs.update(provenance(
            self.model, analysis="certify_region", verdict=self.verdict,
            U_theta_1=np.array([a, b]), U_theta_2=np.array([c, d]),
            lr_interval=np.array(self.lr_interval), delta=self.delta,
            n_proved=self.count(ProofStatus.PROVED), n_refuted=self.count(ProofStatus.REFUTED),
            n_undecided=self.count(ProofStatus.UNDECIDED),
            max_depth=int(self.depth.max()) if n else 0, wall_time=self.wall_time,
            lr_sharpness_limit_enclosure=np.array(e), budget_exhausted=self.exhausted or "no",
            method="Lohner sets (mean-value form, QR) in outward-rounded interval arithmetic "
                   "on the rescaled plane; terminal lemma"))
        return ds


def _interval(name, value, *, positive=False) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{name} must be a (lo, hi) pair, got {value!r}")
    lo = check.real(f"{name} lo", value[0], positive=positive)
    hi = check.real(f"{name} hi", value[1], positive=positive)
    if lo > hi:
        raise ValueError(f"{name} must have lo <= hi, got ({lo}, {hi})")
    return lo, hi


def region_inputs(system, U, lr_interval, delta):
    """Validate the region arguments; return ``(kernel, U, lr_interval, delta)``."""
    kernel = getattr(system, "interval_kernel", None)
    if kernel is None:
        raise TypeError(f"system: {system!r} provides no interval kernel (the "
                        f"'interval_kernel' hook of dynsys.Model), so its orbits cannot be "
                        f"enclosed rigorously")
    if isinstance(U, (str, bytes)) or not hasattr(U, "__len__") or len(U) != 2:
        raise TypeError(f"U must be two (lo, hi) pairs, one per parameter, got {U!r}")
    U = (_interval("U[0]", U[0]), _interval("U[1]", U[1]))
    lr_interval = _interval("lr_interval", lr_interval, positive=True)
    delta = check.real("delta", delta, positive=True)
    return kernel, U, lr_interval, delta


def _failure_test(model, delta):
    """Plain iteration: which starts ``(theta_1, theta_2, lr)`` provably-by-example fail."""
    rule = StoppingRule(steps=200_000, tol=1e-13, radius=1e8)

    def is_failure(starts):
        bad = np.zeros(len(starts), dtype=bool)
        for i, (t1, t2, lr) in enumerate(starts):
            last, _, outcome = run_to_convergence(model, np.array([[t1, t2]]), float(lr), rule)
            if outcome[0] == Outcome.DIVERGED:
                bad[i] = True
            elif outcome[0] == Outcome.CONVERGED:
                s = float(lr) * float(model.sharpness(last[0]))
                g = float(lr) * float(gfs_sharpness(model, np.array([t1, t2])))
                bad[i] = (s < 2 - delta - 1e-9) or (s > 2 + 1e-9) or (g < 2 - 1e-9)
        return bad
    return is_failure


def certify_region(system, U, lr_interval, delta, *, budget: ProofBudget | None = None,
                   refine_refuted: bool = False, stop_on_refute: bool = False, seed: int = 0,
                   progress=None) -> Certificate:
    """Return a :class:`Certificate`: a proof that every start in ``U`` with every step size
    in ``lr_interval`` shows edge-of-stability behaviour, or a refutation, box by box.

    Edge-of-stability behaviour (as in :func:`dynsys.eos_region`): GD converges, its limit
    satisfies ``2 - delta <= lr x sharpness <= 2``, and the gradient-flow solution from the
    start is sharper than ``2/lr``. The region ``U x lr_interval`` is mapped by the system's
    interval kernel (the ``interval_kernel`` hook; for the 2-D model with target 0 the rescaled
    plane, where one enclosure covers every step size; with a nonzero target boxes of
    ``(p, q, e = lr x target)``) and its image covered by boxes. Each box
    is enclosed rigorously (interval arithmetic rounded outwards, Lohner sets with adaptive
    bisection, the terminal lemma) and is *proved*, *refuted* (a concrete start of the region in
    it fails under plain iteration; it is recorded) or *undecided* (neither, at the maximum
    bisection depth, or left when ``budget`` ran out). Undecided is never reported as proved.

    Parameters
    ----------
    system : Model with an ``interval_kernel`` (e.g. ``QuadraticRegression2D(eps)``, target 0)
    U : ((lo1, hi1), (lo2, hi2))
        Box of starting points.
    lr_interval : (eta_1, eta_2)
        Step sizes, ``0 < eta_1 <= eta_2``.
    delta : float
        Tolerance below the edge, in units of ``lr x sharpness`` (> 0).
    budget : ProofBudget, optional
        Box and time budgets and tuning of the enclosure.
    refine_refuted : bool
        Keep bisecting refuted boxes (to map where the property fails) instead of stopping.
    stop_on_refute : bool
        End the proof at the first refuted box (the verdict is then known); the boxes not
        reached are undecided.

    Examples
    --------
    >>> import dynsys
    >>> cert = dynsys.certify_region(dynsys.QuadraticRegression2D(0.05),
    ...                              ((1.6, 1.6001), (8.8, 8.8001)), (0.64, 0.64001), 0.05)
    >>> cert.verdict, cert.enclosure[0] > 1.95, cert.enclosure[1] < 2.0
    ('proved', True, True)
    """
    kernel, U, lr_interval, delta = region_inputs(system, U, lr_interval, delta)
    budget = ProofBudget() if budget is None else budget
    if not isinstance(budget, ProofBudget):
        raise TypeError(f"budget must be a dynsys.rigorous.ProofBudget, got {budget!r}")
    seed = check.integer("seed", seed, minimum=0)
    target = (2.0 - delta, 2.0)
    res = prove_cover(kernel, U, lr_interval, target, budget,
                      is_failure=_failure_test(system, delta), gfs_floor=2.0,
                      refine_refuted=bool(refine_refuted), seed=seed, progress=progress,
                      stop_on_refute=bool(stop_on_refute))
    rows = res["rows"]
    n = len(rows)
    width = len(res["hull"])
    limit = np.array([r["limit"] for r in rows], dtype=float).reshape(n, 2)
    status = np.array([int(r["status"]) for r in rows], dtype=np.int8)
    # each proved enclosure is already padded by the kernel (room for the re-check in ball
    # arithmetic; docs/math.md section 8)
    return Certificate(
        model=system, U=U, lr_interval=lr_interval, delta=delta,
        boxes=np.array([r["box"] for r in rows], dtype=float).reshape(n, width),
        status=status, limit=limit,
        terminal_step=np.array([r["terminal_step"] for r in rows], dtype=np.int64),
        failing_start=np.array([r["failing_start"] for r in rows], dtype=float).reshape(n, 3),
        depth=np.array([r["depth"] for r in rows], dtype=np.int64),
        pieces=np.array([r["pieces"] for r in rows], dtype=np.int64),
        budget=budget, wall_time=float(res["wall_time"]), exhausted=res["exhausted"],
        kernel=kernel, cells=res["cells"])
