"""Rigorous enclosures of GD orbits: interval arithmetic, Lohner sets, proofs over covers.

Below :mod:`dynsys.eos` in the layering (it knows maps and boxes, not edge-of-stability
definitions). :mod:`._interval` holds outward-rounded interval operations for compiled kernels,
:mod:`._lohner` the compiled mean-value/QR enclosure of the rescaled 2-D map with the terminal
lemma, :mod:`._pq` the interval kernel a model provides, :mod:`._cover` the box-by-box proof of
a region, and :mod:`._arb` an independent re-proof in ball arithmetic (python-flint).
"""

from ._arb import gfs_lower, reprove_box, require_flint
from ._cover import ProofBudget, ProofStatus, prove_cover
from ._pq import RescaledPlaneKernel, RescaledSpaceKernel, gfs_root

__all__ = ["ProofBudget", "ProofStatus", "prove_cover", "RescaledPlaneKernel", "RescaledSpaceKernel",
           "gfs_root", "reprove_box",
           "gfs_lower", "require_flint"]
