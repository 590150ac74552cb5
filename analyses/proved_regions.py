"""Thin wrapper: ``python analyses/proved_regions.py`` runs the study ``dynsys.studies.proved_regions``.

The study itself ships with the package; ``dynsys reproduce --only proved_regions`` runs the same
code.
"""

from dynsys.studies.proved_regions import main

if __name__ == "__main__":
    main()
