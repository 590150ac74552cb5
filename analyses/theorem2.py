"""Thin wrapper: ``python analyses/theorem2.py`` runs the study ``dynsys.studies.theorem2``.

The study itself ships with the package; ``dynsys reproduce --only theorem2`` runs the same code.
"""

from dynsys.studies.theorem2 import main

if __name__ == "__main__":
    main()
