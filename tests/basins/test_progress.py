"""Progress by default for long basin sweeps; silent for short runs, in tests, and with False."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.basins import _api


def _plan(system, grid, steps):
    return _api._plan(system, [1.0], None, grid=grid, param=None, base=None,
                      rule=dynsys.StoppingRule(steps=steps), scaling=True, chunk_size=None)


def _slow_map():
    return dynsys.Map(lambda x, lr: x - lr * np.tanh(x), dim=1, params={"lr": 1.0},
                      name="slow", jit=False)


def test_estimate_scales_with_the_work():
    small = _api.estimated_seconds(_plan(_slow_map(), ((-1, 1, 10),), 10))
    big = _api.estimated_seconds(_plan(_slow_map(), ((-1, 1, 1000),), 1000))
    assert 0 < small < 1.0
    assert big > 1000 * small * 0.2          # 10^4 times the work; the measured rate varies


def test_default_progress_only_for_long_runs_and_never_under_pytest(monkeypatch):
    long_plan = _plan(_slow_map(), ((-1, 1, 4000),), 100000)
    short_plan = _plan(_slow_map(), ((-1, 1, 5),), 10)
    assert _api._progress(None, long_plan) is None           # PYTEST_CURRENT_TEST is set
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    assert callable(_api._progress(None, long_plan))
    assert _api._progress(None, short_plan) is None
    assert _api._progress(False, long_plan) is None
    assert callable(_api._progress(True, short_plan))


def test_numpy_path_has_small_chunks_and_bar_runs(monkeypatch, capsys):
    plan = _plan(_slow_map(), ((-1, 1, 9000),), 10)
    assert plan.path == "numpy" and plan.n_blocks == 3       # 2**12 cells per chunk
    monkeypatch.delenv("PYTEST_CURRENT_TEST")
    monkeypatch.setattr(_api, "PROGRESS_AFTER", 0.0)
    ds = dynsys.basins(_slow_map(), [1.0], grid=((-1, 1, 9000),), steps=10)
    assert "basins" in capsys.readouterr().err               # the tqdm bar on stderr
    assert ds.outcome.shape == (1, 9000)
    quiet = dynsys.basins(_slow_map(), [1.0], grid=((-1, 1, 9000),), steps=10, progress=False)
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(ds.outcome.values, quiet.outcome.values)


def test_progress_must_be_callable_or_bool():
    with pytest.raises(TypeError, match="progress"):
        dynsys.basins(_slow_map(), [1.0], grid=((-1, 1, 5),), steps=5, progress=3)
