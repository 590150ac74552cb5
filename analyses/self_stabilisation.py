"""Thin wrapper: ``python analyses/self_stabilisation.py`` runs the study ``dynsys.studies.self_stabilisation``.

The study itself ships with the package; ``dynsys reproduce --only self_stabilisation`` runs the same code.
"""

from dynsys.studies.self_stabilisation import main

if __name__ == "__main__":
    main()
