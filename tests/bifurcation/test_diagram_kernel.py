"""The compiled orbit-diagram loop (issue 16): blocks of parameter values advanced together, the
divergence accumulated per block and the exact exit step found by replay, the disk cache."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dynsys
from dynsys.bifurcation import _diagram


def _plain_logistic():
    return dynsys.Map(lambda x, r: r * x * (1 - x), dim=1, params={"r": 3.0}, vectorized=True,
                      name="logistic")


def _direct(mapping, param, values, x0, steps, keep, radius=1e10):
    """The definition, one orbit at a time: samples and the first iterate beyond the radius
    (with the map's compiled step when it has one: the same arithmetic, a plain loop)."""
    out = np.full((len(values), keep, mapping.dim), np.nan)
    at = np.full(len(values), -1)
    with np.errstate(all="ignore"):
        for i, v in enumerate(values):
            m = mapping.with_params(**{param: float(v)})
            if m.kernel is not None:
                p = m.param_vector()

                def apply(x, p=p, k=m.kernel):
                    y = np.empty_like(x)
                    k.step(x, p, y)
                    return y
            else:
                apply = m.step
            x = np.asarray(x0, dtype=float)
            for t in range(1, steps + 1):
                x = apply(x)
                if not float(np.dot(x, x)) <= radius * radius:   # |x| > radius or NaN
                    at[i] = t
                    break
                if t > steps - keep:
                    out[i, t - (steps - keep) - 1] = x
    return out, at


@settings(max_examples=30)
@given(n=st.integers(1, 150), steps=st.integers(1, 90), keep_frac=st.floats(0.01, 1.0),
       lo=st.floats(2.5, 4.2), width=st.floats(0.0, 0.6))
def test_logistic_matches_the_definition_bit_for_bit(n, steps, keep_frac, lo, width):
    # r up to 4.8: many orbits leave [0, 1] and diverge at every possible step of a block
    keep = max(1, int(keep_frac * steps))
    values = np.linspace(lo, lo + width, n)
    ds = dynsys.bifurcation_diagram(dynsys.maps.logistic(), values, x0=[0.3], steps=steps,
                                    keep=keep, radius=1e10)
    out, at = _direct(_plain_logistic(), "r", values, [0.3], steps, keep)
    np.testing.assert_array_equal(ds.x.values, out)
    np.testing.assert_array_equal(ds.diverged_at.values, at)
    expected = np.where(at > 0, int(dynsys.Outcome.DIVERGED), int(dynsys.Outcome.BOUNDED))
    np.testing.assert_array_equal(ds.outcome.values, expected)


def test_two_dimensional_map_and_model_match_the_definition():
    henon = dynsys.maps.henon()
    values = np.linspace(0.9, 1.6, 70)          # beyond a ~ 1.43 orbits escape
    ds = dynsys.bifurcation_diagram(henon, values, x0=[0.1, 0.1], steps=300, keep=40,
                                    param="a", radius=1e10)
    out, at = _direct(henon, "a", values, [0.1, 0.1], 300, 40)
    np.testing.assert_array_equal(ds.x.values, out)
    np.testing.assert_array_equal(ds.diverged_at.values, at)
    n_div = int((ds.outcome.values == dynsys.Outcome.DIVERGED).sum())
    assert 0 < n_div < values.size

    model = dynsys.QuadraticRegression2D(0.05)
    lrs = np.linspace(0.3, 2.2, 67)
    ds = dynsys.bifurcation_diagram(model, lrs, x0=[0.3, 7.0], steps=500, keep=30,
                                    radius=1e10)
    gd = dynsys.gd_map(model, 1.0)
    assert gd.kernel is not None and "lr" in gd.params
    out, at = _direct(gd, "lr", lrs, [0.3, 7.0], 500, 30)
    np.testing.assert_array_equal(ds.theta.values, out)
    np.testing.assert_array_equal(ds.diverged_at.values, at)
    n_div = int((ds.outcome.values == dynsys.Outcome.DIVERGED).sum())
    assert 0 < n_div < lrs.size
    # model quantities only at the finite samples, NaN after an orbit left the radius
    finite = np.all(np.isfinite(ds.theta.values), axis=-1)
    assert np.array_equal(np.isfinite(ds.loss.values), finite)
    np.testing.assert_allclose(ds.loss.values[finite],
                               model.loss(ds.theta.values[finite]), rtol=1e-15)


@pytest.mark.slow
def test_second_process_loads_the_diagram_loop_from_the_disk_cache(tmp_path):
    code = textwrap.dedent("""
        import dynsys
        from dynsys.bifurcation._diagram import _diagram_kernel
        m = dynsys.maps.logistic()
        dynsys.bifurcation_diagram(m, [3.2, 3.5], x0=[0.3], steps=50, keep=5)
        loop = _diagram_kernel(m.kernel, 1)
        print(sum(loop.stats.cache_misses.values()), sum(loop.stats.cache_hits.values()))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    runs = [subprocess.run([sys.executable, "-c", code], env=env, check=True,
                           capture_output=True, text=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == "1"
    assert runs[1] == ["0", "1"]


def test_orbits_near_the_radius_take_the_exact_test_and_match_the_definition():
    # radius 1: bounded logistic orbits (in [0, 1]) have window sums of x^2 far above 1, so the
    # window test flags them without an exit; the blocks then test every step (and r > 4 exits)
    values = np.linspace(2.5, 4.3, 150)
    steps, keep, radius = 1300, 300, 1.0
    ds = dynsys.bifurcation_diagram(dynsys.maps.logistic(), values, x0=[0.3], steps=steps,
                                    keep=keep, radius=radius)
    out, at = _direct(_plain_logistic(), "r", values, [0.3], steps, keep, radius=radius)
    np.testing.assert_array_equal(ds.x.values, out)
    np.testing.assert_array_equal(ds.diverged_at.values, at)
    bounded = at < 0
    window = (out[bounded, :_diagram.CHECK, 0] ** 2).sum(axis=1)
    assert 0 < bounded.sum() < values.size and (window > radius ** 2).any()


@pytest.mark.parametrize("radius", [1e10, 1e30, 3.0, 1.0])
def test_the_escapes_hook_gives_the_bits_of_the_step_by_step_test(radius):
    # the logistic map's escapes hook (exits permanent where radius >= 2 + 4 / |r|) lets blocks
    # test only each window's last state; without the hook every step is tested. Both give
    # the same samples and exit steps, for r of both signs, r = 0 (no escape: a block holding
    # it tests every step) and orbits that diverge in every window of the call
    m = dynsys.maps.logistic()
    assert m.kernel.escapes is not None
    plain = dynsys.Map(m._step_fn, m._jac_fn, dim=1, params=m.params, vectorized=True,
                       kernel=dataclasses.replace(m.kernel, escapes=None))
    values = np.concatenate([np.linspace(-2.5, 4.6, 300), [0.0],
                             4.0 + np.geomspace(1e-9, 1e-3, 90)])
    kw = dict(x0=[0.3], steps=2 * _diagram.CHECK + 77, keep=300, radius=radius)
    fast = dynsys.bifurcation_diagram(m, values, **kw)
    slow = dynsys.bifurcation_diagram(plain, values, **kw)
    assert fast.x.values.tobytes() == slow.x.values.tobytes()
    np.testing.assert_array_equal(fast.diverged_at.values, slow.diverged_at.values)
    out, at = _direct(_plain_logistic(), "r", values, [0.3], kw["steps"], kw["keep"], radius)
    np.testing.assert_array_equal(fast.x.values, out)
    np.testing.assert_array_equal(fast.diverged_at.values, at)
    late = at > _diagram.CHECK
    assert 0 < (at > 0).sum() and late.any()


def test_heap_buffers_give_the_same_bits(monkeypatch):
    # maps too large for the stack keep the lanes on the heap, in the same layout
    henon = dynsys.maps.henon()
    values = np.linspace(0.9, 1.6, 150)
    kw = dict(x0=[0.1, 0.1], steps=700, keep=80, param="a", radius=1e10)
    on_stack = dynsys.bifurcation_diagram(henon, values, **kw)
    stack_loop = _diagram._diagram_kernel(henon.kernel, 2)
    monkeypatch.setattr(_diagram, "STACK_FLOATS", 0)
    assert _diagram._diagram_kernel(henon.kernel, 2) is not stack_loop
    on_heap = dynsys.bifurcation_diagram(henon, values, **kw)
    assert on_heap.x.values.tobytes() == on_stack.x.values.tobytes()
    np.testing.assert_array_equal(on_heap.diverged_at.values, on_stack.diverged_at.values)


@pytest.mark.slow
def test_the_block_loop_is_vectorised_and_allocates_nothing(tmp_path):
    # compiled afresh (numba inspects only what it compiled): the parallel body (the loop over
    # a block's lanes and steps) does the map's arithmetic on vectors of doubles and neither
    # allocates nor touches a reference count (the lanes live on the stack, not in row views)
    code = textwrap.dedent("""
        import re
        import dynsys
        from dynsys.bifurcation._diagram import _diagram_kernel
        for m in (dynsys.maps.logistic(), dynsys.gd_map(dynsys.QuadraticRegression2D(0.1), 1.0)):
            dynsys.bifurcation_diagram(m, [0.5, 0.6], x0=[0.3] * m.dim, steps=50, keep=5,
                                       param=list(m.params)[0])
            loop = _diagram_kernel(m.kernel, m.dim)
            ir = "".join(loop.overloads[s].library.get_llvm_str() for s in loop.overloads)
            body = re.findall(r"define [^\\n]*__numba_parfor_gufunc[^\\n]*[{].*?\\n[}]", ir,
                              flags=re.S)[-1]
            print(len(re.findall(r"fmul <\\d+ x double>", body)),
                  len(re.findall(r"NRT_incref|NRT_decref|NRT_MemInfo", body)))
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    got = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    assert len(got) == 4, got
    vector_muls, refcounts = [int(v) for v in got[::2]], [int(v) for v in got[1::2]]
    assert all(v > 0 for v in vector_muls) and refcounts == [0, 0], got


@pytest.mark.parametrize("fill", [7.0, -1e300, 0.0])
def test_the_loop_writes_every_sample_whatever_out_held(fill):
    # bifurcation_diagram hands the loop an unfilled array: every sample must be written, NaN
    # after an exit, in the window of the exit and in every later one (orbits with r > 4 leave
    # the radius before the kept samples and at times spread over several CHECK windows)
    m = dynsys.maps.logistic()
    values = 4.0 + np.geomspace(1e-7, 1e-2, 200)
    steps, keep = 1500, 1400
    n = values.size
    pmat = np.repeat(m.param_vector()[None, :], n, axis=0)
    pmat[:, 0] = values
    nblk = -(-n // _diagram.LANES)
    loop = _diagram._diagram_kernel(m.kernel, 1)
    outs = []
    for value in (np.nan, fill):
        state = np.full((nblk * _diagram.LANES, 1), 0.3)
        dead = np.zeros(nblk * _diagram.LANES, dtype=np.bool_)
        out = np.full((n, keep, 1), value)
        last = np.full(n, steps, dtype=np.int64)
        loop(state, dead, pmat, 0, steps, 0, nblk, steps, keep, 1e60, out, last)
        outs.append(out)
    np.testing.assert_array_equal(outs[1], outs[0])
    early = np.isnan(outs[0][:, 0, 0]).sum()
    assert 0 < early < n and np.isnan(outs[0][:, -1, 0]).sum() > early
    assert np.isnan(outs[0][:, _diagram.CHECK * 2, 0]).sum() < np.isnan(outs[0][:, -1, 0]).sum()
