"""Thin wrapper: ``python analyses/henon_orbit_counts.py`` runs the study
``dynsys.studies.henon_orbit_counts``.

The study itself ships with the package; ``dynsys reproduce --only henon_orbit_counts`` runs the
same code.
"""

from dynsys.studies.henon_orbit_counts import main

if __name__ == "__main__":
    main()
