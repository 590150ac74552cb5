"""Thin wrapper: ``python analyses/eos_trajectories.py`` runs the study ``dynsys.studies.eos_trajectories``.

The study itself ships with the package; ``dynsys reproduce --only eos_trajectories`` runs the same code.
"""

from dynsys.studies.eos_trajectories import main

if __name__ == "__main__":
    main()
