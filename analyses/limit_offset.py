"""Thin wrapper: ``python analyses/limit_offset.py`` runs the study ``dynsys.studies.limit_offset``.

The study itself ships with the package; ``dynsys reproduce --only limit_offset`` runs the same code.
"""

from dynsys.studies.limit_offset import main

if __name__ == "__main__":
    main()
