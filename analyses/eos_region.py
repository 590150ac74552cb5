"""Thin wrapper: ``python analyses/eos_region.py`` runs the study ``dynsys.studies.eos_region``.

The study itself ships with the package; ``dynsys reproduce --only eos_region`` runs the same code.
"""

from dynsys.studies.eos_region import main

if __name__ == "__main__":
    main()
