"""The studies behind the README's results, shipped with the package.

Each study is a module ``dynsys.studies.<name>`` with ``run(out, quick=False)`` (returns its
main Dataset and writes ``<out>/<name>.nc`` and figures) and ``main(argv=None)`` (the command
line: ``python -m dynsys.studies.<name> [--quick] [--out DIR]``). ``dynsys reproduce`` runs them
all, in parallel processes. The studies are the top layer: they use the public names of the
subpackages (and the package's provenance helper, ``dynsys._labels.provenance``), imported
relatively, and nothing in the library imports them.
"""

from __future__ import annotations

#: Every study, in the order ``dynsys reproduce`` reports them (the longest first, so that the
#: parallel run finishes early).
STUDIES = ("proved_regions", "henon_orbit_counts", "network_kreisler", "network_eos", "eos_region",
           "limit_offset",
           "kreisler", "bifurcation_2d", "self_stabilisation", "theorem2", "eos_trajectories")

#: Studies that need the ``jax`` extra: without JAX they print one line saying so and exit.
NEEDS_JAX = ("network_kreisler", "network_eos")

from ._reproduce import run_studies, summary_table  # noqa: E402  (needs STUDIES)

__all__ = ["STUDIES", "NEEDS_JAX", "run_studies", "summary_table"]
