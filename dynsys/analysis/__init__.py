"""Analyses of maps: trajectories (orbits, basins, bifurcations live in sibling packages)."""

from ._trajectory import trajectory

__all__ = ["trajectory"]
