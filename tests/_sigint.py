"""The one harness of the Ctrl-C tests: a child process that compiles, says "ready", runs a long
compiled loop and reports when a SIGINT reached it; the parent measures the latency."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time


def child(setup: str, warm: str, long_call: str) -> str:
    """Return the source of a child: ``setup`` (imports, objects), ``warm`` (a short call that
    compiles), then ``long_call`` (minutes in one compiled call without slicing)."""
    body = textwrap.dedent("""
        import sys, time
        import numpy as np
        import dynsys
    """) + textwrap.dedent(setup) + textwrap.dedent(warm) + textwrap.dedent("""
        print("ready", flush=True)
        try:
    """) + textwrap.indent(textwrap.dedent(long_call), "    ") + textwrap.dedent("""
        except KeyboardInterrupt:
            print("interrupted", time.time(), flush=True)
            raise
        print("finished", flush=True)
    """)
    return body


def sigint_latency(source: str, wait: float = 1.0) -> float:
    """Run ``source`` (from :func:`child`) on one numba thread, send SIGINT ``wait`` seconds
    after it is ready, assert that it stopped with KeyboardInterrupt, and return the seconds from
    the signal to the interrupt (the interpreter's shutdown after it is not counted)."""
    proc = subprocess.Popen([sys.executable, "-c", source], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()[-500:]
        time.sleep(wait)                        # inside the long loop
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().split()
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert line and line[0] == "interrupted", (line, err[-500:])
    assert proc.returncode != 0 and "KeyboardInterrupt" in err, err[-500:]
    return float(line[1]) - sent
