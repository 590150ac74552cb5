"""Basins of attraction over a parameter sweep, computed by compiled loops, and measures of
their boundaries (basin entropy, uncertainty exponent, fractal test)."""

from ._api import basins, default_grid
from ._fractions import basins_fractions
from ._measures import (BasinEntropy, FractalTest, UncertaintyExponent, basin_entropy,
                        basins_fractal_test, smooth_boundary_entropy, uncertainty_exponent)

__all__ = ["basins", "basins_fractions", "default_grid", "basin_entropy", "uncertainty_exponent", "basins_fractal_test",
           "smooth_boundary_entropy", "BasinEntropy", "UncertaintyExponent", "FractalTest"]
