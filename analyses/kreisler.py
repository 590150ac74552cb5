"""Thin wrapper: ``python analyses/kreisler.py`` runs the study ``dynsys.studies.kreisler``.

The study itself ships with the package; ``dynsys reproduce --only kreisler`` runs the same code.
"""

from dynsys.studies.kreisler import main

if __name__ == "__main__":
    main()
