"""The label tables of dynsys: one home for every integer code a result carries.

:class:`Outcome` is *the* outcome table: what became of an orbit. Every result in the library
that says whether an orbit converged, cycled, diverged, ... stores an ``int8`` variable with
these codes and the CF attributes of :meth:`FlagTable.cf_attrs` (``flag_values`` lists every
code of the table, ``flag_meanings`` their names), so that ``ds.outcome == Outcome.DIVERGED``
means the same on a basin map, a trajectory, an orbit diagram or a limit-sharpness run.

Other label variables (attractor kinds, stability classes, ...) are tables of their own, each a
:class:`FlagTable` defined next to the code that assigns it; none reuses an outcome code for
another meaning.

Examples
--------
>>> from dynsys import Outcome
>>> int(Outcome.DIVERGED), Outcome(0).name.lower()
(2, 'converged')
>>> attrs = Outcome.cf_attrs("outcome of gradient descent")
>>> attrs["flag_values"].tolist(), attrs["flag_meanings"]
([0, 1, 2, 3, 4, 5], 'converged periodic diverged undecided chaotic bounded')
"""

from __future__ import annotations

import enum
import functools

import numpy as np


@functools.cache
def _flags(table) -> tuple:
    """Return ``(meanings, flag_values, flag_meanings)`` of a table (an enum class: its members
    are fixed when it is defined, so this is computed once per table)."""
    meanings = {int(m): m.name.lower() for m in sorted(table)}
    return meanings, np.asarray(list(meanings), dtype=np.int8), " ".join(meanings.values())


class FlagTable(enum.IntEnum):
    """An integer label table that knows its CF flag attributes.

    Subclasses list their members with small non-negative values; member names, lower-cased,
    are the CF ``flag_meanings`` (so they must be single words or joined by underscores).
    """

    @classmethod
    def meanings(cls) -> dict[int, str]:
        """Return ``{code: meaning}`` for every member, in code order."""
        return dict(_flags(cls)[0])

    @classmethod
    def cf_attrs(cls, long_name: str) -> dict:
        """Return CF attributes (``long_name``, ``flag_values``, ``flag_meanings``) of a
        variable labelled with this table; ``flag_values`` lists every code of the table."""
        _, values, meanings = _flags(cls)
        return {"long_name": str(long_name), "flag_values": values.copy(),
                "flag_meanings": meanings}

    @classmethod
    def decode(cls, variable) -> dict[int, str]:
        """Return ``{code: meaning}`` stored in ``variable``'s CF flag attributes, after
        checking that they are this table's.

        CF readers see the same flags: with cf-xarray, ``variable.cf == "diverged"`` and
        ``variable.cf.flags`` give the masks of these codes, in memory and after a netCDF round
        trip (``tests/test_outcomes.py``). This method is not delegated to cf-xarray: cf-xarray
        turns flags into masks but neither returns the code table nor checks whose table it is
        (it reads an attractor-kind table as happily as the outcome table), and it is a test-only
        dependency of dynsys, not worth a runtime one for parsing two attributes.

        Examples
        --------
        >>> import xarray as xr
        >>> var = xr.DataArray(np.int8([0, 2]), attrs=Outcome.cf_attrs("outcome"))
        >>> Outcome.decode(var)[2]
        'diverged'
        """
        values = [int(v) for v in np.atleast_1d(np.asarray(variable.attrs["flag_values"]))]
        names = str(variable.attrs["flag_meanings"]).split()
        stored = dict(zip(values, names, strict=True))
        if stored != cls.meanings():
            raise ValueError(f"variable's flags {stored} are not those of {cls.__name__} "
                             f"{cls.meanings()}")
        return stored


class Outcome(FlagTable):
    """What became of an orbit: the one outcome table of dynsys.

    Which outcomes a result can carry depends on its stopping rule
    (:class:`~dynsys.StoppingRule`): loops that stop early label ``converged``, ``periodic``,
    ``diverged``, ``undecided`` and ``chaotic``; loops that run a fixed number of steps (an
    orbit diagram, a trajectory) label ``bounded`` or ``diverged``.
    """

    #: the convergence test of the stopping rule held (a fixed point, or the zero-loss set)
    CONVERGED = 0
    #: the orbit came back to a checkpoint: it lies on a cycle (the period is stored apart)
    PERIODIC = 1
    #: the state left the ball of the stopping rule's ``radius`` or stopped being finite
    DIVERGED = 2
    #: the step budget ran out before any test held
    UNDECIDED = 3
    #: the step budget ran out with a finite-time Lyapunov exponent above the threshold
    CHAOTIC = 4
    #: every step was taken and the state stayed finite and inside ``radius`` (no other test
    #: was applied)
    BOUNDED = 5


__all__ = ["FlagTable", "Outcome"]
