"""Thin wrapper: ``python analyses/bifurcation_2d.py`` runs the study ``dynsys.studies.bifurcation_2d``.

The study itself ships with the package; ``dynsys reproduce --only bifurcation_2d`` runs the same code.
"""

from dynsys.studies.bifurcation_2d import main

if __name__ == "__main__":
    main()
