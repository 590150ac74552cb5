"""Helpers that make every result a labelled, serialisable xarray object.

Conventions used across dynsys:

* provenance attrs on every Dataset: ``dynsys_version``, ``dynsys_commit`` (see
  :func:`source_commit`), ``system`` (the map or model name),
  ``system_params`` (a JSON string of its scalar parameters) and one attr per scalar parameter;
* integer label variables carry CF ``flag_values``/``flag_meanings`` from their label table
  (a :class:`~dynsys.FlagTable`, e.g. :class:`~dynsys.Outcome`);
* attrs hold only str, int, float or 1-D numeric arrays, so netCDF and Zarr round trips are
  lossless.
"""

from __future__ import annotations

import functools
import json
import numbers
import pathlib
import subprocess

import numpy as np

from ._version import __version__


def serialisable(value):
    """Return ``value`` converted to a netCDF/Zarr-safe attribute value."""
    if isinstance(value, bool | np.bool_):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | np.ndarray):
        arr = np.asarray(value)
        if arr.dtype.kind in "iub" and arr.ndim == 1:
            return arr.astype(np.int64)
        if arr.dtype.kind == "f" and arr.ndim == 1:
            return arr.astype(np.float64)
        return json.dumps(np.asarray(value).tolist())
    return str(value)


@functools.lru_cache(maxsize=1)
def source_commit() -> str:
    """Return the git commit of the dynsys source that is running, or ``"unknown"``.

    From a git checkout: ``git rev-parse HEAD`` of the package's directory, with ``-dirty``
    appended when tracked files differ from it. From an installed wheel: the commit that pip
    recorded (``direct_url.json``, for installs from a repository), else ``"unknown"``.
    """
    here = pathlib.Path(__file__).resolve().parent
    try:
        def git(*args):
            return subprocess.run(["git", "-C", str(here), *args], capture_output=True,
                                  text=True, timeout=10, check=True).stdout.strip()
        top = pathlib.Path(git("rev-parse", "--show-toplevel")).resolve()
        if here.parent == top:
            commit = git("rev-parse", "HEAD")
            dirty = git("status", "--porcelain", "--untracked-files=no", "--", str(here))
            return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from importlib.metadata import distribution
        info = json.loads(distribution("dynsys").read_text("direct_url.json") or "{}")
        return str(info.get("vcs_info", {}).get("commit_id", "unknown"))
    except Exception:    # noqa: BLE001  (no metadata, or unreadable: the commit is unknown)
        return "unknown"


def provenance(system, **extra) -> dict:
    """Return provenance attrs for a result computed on ``system`` (a Map or Model)."""
    params = dict(getattr(system, "describe", lambda: {})())
    attrs = {
        "dynsys_version": __version__,
        "dynsys_commit": source_commit(),
        "system": str(getattr(system, "name", type(system).__name__)),
        "system_params": json.dumps({k: _jsonable(v) for k, v in params.items()}, sort_keys=True),
    }
    for key, value in params.items():
        attrs[f"param_{key}"] = serialisable(value)
    for key, value in extra.items():
        if value is not None:
            attrs[key] = serialisable(value)
    return attrs


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def decode_flags(variable) -> dict[int, str]:
    """Return ``{code: meaning}`` from a variable's ``flag_values``/``flag_meanings`` attrs."""
    values = np.atleast_1d(np.asarray(variable.attrs["flag_values"])).tolist()
    meanings = str(variable.attrs["flag_meanings"]).split()
    return dict(zip((int(v) for v in values), meanings, strict=True))
