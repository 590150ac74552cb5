"""The stopping rule: when an orbit stops, and with which :class:`~dynsys.Outcome`.

One rule for every loop in dynsys (the compiled basin kernels, the numpy fallback, the
limit-sharpness loop, trajectories, orbit diagrams and Lyapunov spectra). Its tests are written
once, below, as plain arithmetic on squared norms, so the same functions run elementwise on numpy
arrays (the numpy fallback) and, compiled with numba (:mod:`dynsys._stopping_nb`), inside the
kernels:

1. **divergence**, every step, on the current state ``x``: ``|x|^2 > radius^2`` or not finite
   (:func:`diverged`) gives ``DIVERGED``;
2. **convergence**: the step is short, ``|F(x) - x|^2 <= tol_s^2 (shift + |x|^2)`` with
   ``shift = 1`` (:func:`converged`), gives ``CONVERGED``. The tolerance is relative to the
   map's step scale ``s`` (``lr`` for gradient descent, 1 for other maps):
   ``tol_s = min(tol, s sqrt(tol))`` (:func:`jump_tol2`). The step of GD is ``lr |grad L|``, so
   the plain bound ``tol`` says nothing once ``lr <= tol`` (a state that never moved passed it);
   the second bound also asks that the step measured in its own scale, ``|grad L|``, be at most
   ``sqrt(tol)`` (the residual bound of the zero-loss family). For ``s >= sqrt(tol)`` (1e-6 at
   the default ``tol``) ``tol_s = tol``: the plain step test. ``tol`` itself is at least
   :data:`MIN_TOL` (about 4.5 float64 epsilons: a smaller relative step is rounding noise, and
   converged orbits would be reported as cycles). A system may supply a cheaper test
   that implies it on its own solution set (the 2-D model's ``|z| < tol``, its residual): loops
   use that one every step and the step test at every check below;
3. **cycles**, at every check (every :data:`COMPACT` steps): the state is back at the last
   checkpoint to within ``cycle_rtol`` times its one-step jump, which stays below ``2 radius``
   (:func:`returned`), gives ``PERIODIC``; the return time is a multiple of the period.
   Checkpoints are refreshed after ``4 COMPACT`` steps, then at doubling intervals up to
   :func:`checkpoint_interval` ``= COMPACT max_period``: every period up to ``max_period``
   divides some return time;
4. **the budget**: after ``steps`` iterations a still-running orbit is ``CHAOTIC`` if its
   finite-time Lyapunov exponent over the last ``lyapunov_steps`` exceeds
   ``chaos_threshold``, else ``UNDECIDED``. Loops that run a fixed number of steps and test only
   1 label what is left ``BOUNDED``.

Examples
--------
>>> import numpy as np
>>> from dynsys import StoppingRule
>>> rule = StoppingRule(steps=500, tol=1e-10, radius=1e3)
>>> rule.diverged(np.array([1e7, 4.0, np.nan]))          # squared norms
array([ True, False,  True])
>>> bool(rule.converged(jump2=1e-22, r2=3.0))
True
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple

import numpy as np

from . import _validate as check


#: The default divergence radius of loops that follow one orbit for a fixed number of steps
#: (trajectories, orbit diagrams, Lyapunov spectra) and of :func:`~dynsys.limit_sharpness`:
#: they stop only near overflow. Sweeps over many starts (:func:`~dynsys.basins`) default to
#: ``StoppingRule().radius`` = 1e6 to stop early; the test is the same.
ORBIT_RADIUS = 1e30
#: Steps between two checks of rule 3 (and of the step test when a cheaper test runs per step).
COMPACT = 16
#: Largest allowed ``radius`` (``radius^2`` must stay finite).
MAX_RADIUS = 1e150
#: Smallest allowed ``tol``: steps shorter than this relative to the state are rounding noise
#: of float64 (machine epsilon 2.2e-16), not convergence.
MIN_TOL = 1e-15


# -- the tests, written once (numpy elementwise, and compiled below) --------------------------
def diverged(r2, radius2):
    """Return whether a state with squared norm ``r2`` has diverged (also when not finite)."""
    return np.logical_not(r2 <= radius2)


def converged(jump2, r2, tol2, shift=1.0):
    """Return whether a step of squared length ``jump2`` from a state of squared norm ``r2``
    is short enough to call the orbit converged: ``jump2 <= tol2 (shift + r2)``."""
    return jump2 <= tol2 * (shift + r2)


def jump_tol2(tol, step_scale):
    """Return the squared tolerance of the step test for a map whose steps scale with
    ``step_scale`` (``lr`` for gradient descent): ``min(tol, step_scale sqrt(tol))^2``."""
    return tol * tol * min(1.0, step_scale * step_scale / tol)


def returned(back2, jump2, rtol2, radius2):
    """Return whether a state at squared distance ``back2`` from its checkpoint, with one-step
    jump ``jump2``, has come back: ``back2 <= rtol2 jump2`` and ``jump2 <= 4 radius2``."""
    return (back2 <= rtol2 * jump2) & (jump2 <= 4.0 * radius2)


def checkpoint_interval(max_period):
    """Return the longest interval between cycle checkpoints, ``COMPACT max_period``."""
    return COMPACT * max_period


def block_length(t, steps, t_lyap):
    """Return how many steps to take from step ``t`` before the next check: ``COMPACT``, cut
    at the budget ``steps`` and at the start ``t_lyap`` of the Lyapunov window."""
    k = min(COMPACT, steps - t)
    if t < t_lyap and t + k > t_lyap:
        k = t_lyap - t
    return k


def first_interval(max_period):
    """Return the first checkpoint interval, ``min(4 COMPACT, checkpoint_interval)``."""
    return min(4 * COMPACT, COMPACT * max_period)


#: Where each orbit of a batch ended: outcome code (int8), period (1 converged, the return time
#: or minimal period on a cycle, 0 none), iterations used, final state ``(n, dim)`` and
#: finite-time Lyapunov exponent (NaN where not measured). Kernels fill these flat arrays.
OrbitEnds = namedtuple("OrbitEnds", ["code", "period", "used", "final", "ftle"])

#: What a kernel receives: the rule's numbers, squared where the tests take squares.
KernelRule = namedtuple("KernelRule", ["steps", "tol", "tol2", "radius2", "max_period", "rtol2",
                                       "lyapunov_steps", "chaos_threshold"])


@dataclasses.dataclass(frozen=True)
class StoppingRule:
    """The rule every loop in dynsys stops by (see the module docstring for the tests).

    Parameters
    ----------
    steps : int
        Iteration budget (>= 1).
    tol : float
        Convergence tolerance: the step ``|F(x) - x|`` at most ``tol sqrt(1 + |x|^2)``, and for
        a map with step scale ``s < sqrt(tol)`` (gradient descent at ``lr = s``) at most
        ``s sqrt(tol) sqrt(1 + |x|^2)``. At least :data:`MIN_TOL` = 1e-15.
    radius : float
        Divergence: ``|x| > radius`` or not finite (at most 1e150).
    max_period : int
        Every cycle of period up to ``max_period`` is detected.
    cycle_rtol : float
        A return to the checkpoint within ``cycle_rtol`` times the one-step jump is a cycle.
    lyapunov_steps : int
        Window at the end of the budget over which a finite-time Lyapunov exponent is measured.
    chaos_threshold : float
        Above this exponent an orbit that ran out of steps is chaotic, not undecided.

    Examples
    --------
    >>> from dynsys import StoppingRule
    >>> StoppingRule(steps=100).replace(radius=10.0).radius
    10.0
    """

    steps: int = 1000
    tol: float = 1e-12
    radius: float = 1e6
    max_period: int = 64
    cycle_rtol: float = 1e-8
    lyapunov_steps: int = 1000
    chaos_threshold: float = 0.01

    def __post_init__(self):
        fix = object.__setattr__
        fix(self, "steps", check.integer("steps", self.steps, minimum=1, maximum=2**31 - 1))
        fix(self, "tol", check.real("tol", self.tol, positive=True, hi=1e-1))
        if self.tol < MIN_TOL:
            raise ValueError(f"tol must be >= {MIN_TOL:g} (a relative step below that is "
                             f"float64 rounding noise, not convergence), got {self.tol!r}")
        fix(self, "radius", check.real("radius", self.radius, positive=True, hi=MAX_RADIUS))
        fix(self, "max_period", check.integer("max_period", self.max_period, minimum=1,
                                              maximum=4096))
        fix(self, "cycle_rtol", check.real("cycle_rtol", self.cycle_rtol, positive=True,
                                           hi=0.1))
        fix(self, "lyapunov_steps", check.integer("lyapunov_steps", self.lyapunov_steps,
                                                  minimum=0))
        fix(self, "chaos_threshold", check.real("chaos_threshold", self.chaos_threshold))

    def replace(self, **changes) -> StoppingRule:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def kernel(self, step_scale: float = 1.0) -> KernelRule:
        """Return the numbers a compiled kernel takes (one argument, a named tuple), for a map
        whose steps scale with ``step_scale`` (``lr`` for gradient descent; see
        :func:`jump_tol2`)."""
        return KernelRule(self.steps, self.tol, jump_tol2(self.tol, float(step_scale)),
                          self.radius * self.radius,
                          self.max_period, self.cycle_rtol * self.cycle_rtol,
                          min(self.lyapunov_steps, self.steps), self.chaos_threshold)

    def attrs(self) -> dict:
        """Return the rule as provenance attributes."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    # the tests at this rule's numbers (numpy, elementwise)
    def diverged(self, r2):
        """Return whether states of squared norm ``r2`` have diverged."""
        return diverged(r2, self.radius * self.radius)

    def converged(self, jump2, r2, shift=1.0, step_scale=1.0):
        """Return whether steps of squared length ``jump2`` from states of squared norm ``r2``
        count as converged (for a map whose steps scale with ``step_scale``)."""
        return converged(jump2, r2, jump_tol2(self.tol, float(step_scale)), shift)

    def returned(self, back2, jump2):
        """Return whether states have come back to their checkpoint (a cycle)."""
        return returned(back2, jump2, self.cycle_rtol * self.cycle_rtol,
                        self.radius * self.radius)


__all__ = ["StoppingRule", "KernelRule", "OrbitEnds", "COMPACT", "ORBIT_RADIUS", "MIN_TOL",
           "diverged", "converged", "jump_tol2", "returned", "checkpoint_interval", "block_length", "first_interval"]
