"""Thin wrapper: ``python analyses/network_eos.py`` runs the study ``dynsys.studies.network_eos``.

The study itself ships with the package; ``dynsys reproduce --only network_eos`` runs the same
code.
"""

from dynsys.studies.network_eos import main

if __name__ == "__main__":
    main()
