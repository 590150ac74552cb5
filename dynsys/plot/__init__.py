"""Figures (matplotlib is imported lazily, only when a plot function is called).

Every plot function takes a dynsys Dataset (or result object), returns the matplotlib
``Figure`` and, given ``path``, also writes it there.
"""

from ._trajectory import trajectory

# -- basins (issue 4) --
# -- bifurcation (issue 5) --
# -- edge of stability (issue 6) --

__all__ = ["trajectory"]
