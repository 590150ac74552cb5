"""Run the packaged studies in parallel processes, one progress line per finished study."""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import sys
import tempfile
import time

from . import STUDIES


@dataclasses.dataclass(frozen=True)
class StudyRun:
    """One finished study: its name, whether it succeeded, its wall time and its output."""

    name: str
    ok: bool
    seconds: float
    stdout: str
    error: str


def _environment(jobs: int) -> dict:
    """Return the environment of a study process: the cores shared among ``jobs`` processes
    (numba threads), BLAS single-threaded (one level of parallelism at a time)."""
    env = dict(os.environ)
    cores = os.cpu_count() or 1
    env["NUMBA_NUM_THREADS"] = str(max(1, cores // jobs))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = "1"
    return env


def _bar(done: int, total: int, width: int = 10) -> str:
    filled = round(width * done / total) if total else width
    return "[" + "#" * filled + "." * (width - filled) + f"] {done}/{total}"


def run_studies(names=None, out="data", *, quick: bool = False, jobs: int | None = None,
                echo=None) -> list[StudyRun]:
    """Return one :class:`StudyRun` per study, after running them as parallel processes.

    Each study runs as ``python -P -m dynsys.studies.<name>`` (``-P``: the current directory is
    never on the module path, so only the installed package runs), ``jobs`` at a time (default:
    the number of cores, at most the number of studies), each with ``cores // jobs`` numba
    threads. ``echo`` (a callable taking one line, e.g. ``print``) receives one progress line
    per finished study, in the order they finish; silent by default.

    Examples
    --------
    >>> from dynsys.studies import run_studies
    >>> run_studies(["nothing"])
    Traceback (most recent call last):
    ...
    ValueError: unknown study ['nothing']; available: ['proved_regions', 'henon_orbit_counts', 'network_kreisler', 'network_eos', 'eos_region', 'limit_offset', 'kreisler', 'bifurcation_2d', 'self_stabilisation', 'theorem2', 'eos_trajectories']
    """
    names = list(STUDIES if names is None else names)
    unknown = [n for n in names if n not in STUDIES]
    if unknown:
        raise ValueError(f"unknown study {unknown}; available: {list(STUDIES)}")
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    jobs = max(1, min(jobs, len(names)))
    out = pathlib.Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = _environment(jobs)
    pending, running, finished = list(names), {}, []
    with tempfile.TemporaryDirectory(prefix="dynsys-reproduce-") as logs:
        while pending or running:
            while pending and len(running) < jobs:
                name = pending.pop(0)
                stdout = open(os.path.join(logs, name + ".out"), "w+")
                stderr = open(os.path.join(logs, name + ".err"), "w+")
                cmd = [sys.executable, "-P", "-m", f"dynsys.studies.{name}", "--out", str(out)]
                proc = subprocess.Popen(cmd + (["--quick"] if quick else []), stdout=stdout,
                                        stderr=stderr, env=env, text=True)
                running[name] = (proc, stdout, stderr, time.perf_counter())
            time.sleep(0.05)
            for name, (proc, stdout, stderr, start) in list(running.items()):
                if proc.poll() is None:
                    continue
                seconds = time.perf_counter() - start
                del running[name]
                stdout.seek(0), stderr.seek(0)
                text, err = stdout.read(), stderr.read()
                stdout.close(), stderr.close()
                lines = err.strip().splitlines()
                run = StudyRun(name, proc.returncode == 0, seconds, text,
                               "" if proc.returncode == 0 else (lines[-1] if lines
                                                                else f"exit {proc.returncode}"))
                finished.append(run)
                if echo is not None:
                    status = "ok" if run.ok else "FAILED: " + run.error
                    echo(f"{_bar(len(finished), len(names))} {name:<20} {seconds:6.1f} s  "
                         f"{status}")
    order = {n: i for i, n in enumerate(names)}
    return sorted(finished, key=lambda r: order[r.name])


def summary_table(runs, wall: float) -> str:
    """Return the table printed at the end of ``dynsys reproduce``: one row per study."""
    rows = [f"{'study':<20} {'status':<7} {'time':>8}", "-" * 37]
    for r in runs:
        rows.append(f"{r.name:<20} {'ok' if r.ok else 'FAILED':<7} {r.seconds:6.1f} s")
    rows.append("-" * 37)
    rows.append(f"{'wall time':<28} {wall:6.1f} s (sum {sum(r.seconds for r in runs):.1f} s)")
    return "\n".join(rows)
