"""certify_region / verify_certificate with a nonzero target (boxes in (p, q, e = lr E))."""

import dataclasses

import numpy as np
import pytest

import dynsys
from dynsys.rigorous import ProofStatus, RescaledSpaceKernel

pytest.importorskip("flint")

E = 0.5
MT = dynsys.QuadraticRegression2D(0.05, target=E)
REGION = ((1.6, 1.6001), (8.8, 8.8001), (0.64, 0.64001))


def _cert(model=MT, region=REGION, delta=0.05, **kw):
    u1, u2, lr = region
    return dynsys.certify_region(model, (u1, u2), lr, delta, **kw)


@pytest.fixture(scope="module")
def proved():
    return _cert()


def test_kernel_of_a_target_model():
    k = MT.interval_kernel
    assert isinstance(k, RescaledSpaceKernel) and k.target == E
    assert dynsys.QuadraticRegression2D(0.0, E).interval_kernel is None


def test_small_region_is_proved_and_contains_iterated_limits(proved):
    assert proved.verdict == "proved"
    assert proved.boxes.shape[1] == 6
    lo, hi = proved.enclosure
    # limit near 2 - eps (1 - lr E)/2 = 1.983 (plain iteration: 1.98118)
    assert 1.95 <= lo <= hi <= 2.0 and hi - lo < 1e-3
    ds = proved.to_dataset()
    assert "e" in ds and float(ds.e.min()) <= 0.64 * E <= float(ds.e.max())
    rng = np.random.default_rng(5)
    for _ in range(4):
        t1, t2, lr = (rng.uniform(a, b) for a, b in REGION)
        ok, s = dynsys.eos._region_check.limit_sharpness_by_iteration(
            MT, np.array([[t1, t2]]), np.array([lr]))
        assert ok[0] and lo - 1e-9 <= lr * s[0] <= hi + 1e-9


def test_verify_accepts_honest_and_rejects_tampered(proved):
    v = dynsys.verify_certificate(proved)
    assert v.accepted, v.problems
    assert v.covered
    limit = proved.limit.copy()
    limit[0] = (limit[0, 0] + 1e-7, limit[0, 0] + 2e-7)   # excludes the true limit
    assert not dynsys.verify_certificate(dataclasses.replace(proved, limit=limit)).accepted
    boxes = proved.boxes.copy()
    boxes[:, 4:] += 0.01                                  # e range moved off the image
    v = dynsys.verify_certificate(dataclasses.replace(proved, boxes=boxes))
    assert not v.accepted and not v.covered
    v = dynsys.verify_certificate(dataclasses.replace(proved, boxes=proved.boxes[:, :4]))
    assert not v.accepted


def test_catapult_box_with_target_is_refuted():
    # lr E close to 1 leaves no edge of stability: GD from this start fails
    m = dynsys.QuadraticRegression2D(0.05, target=1.4)
    cert = _cert(m, ((1.6, 1.6001), (8.8, 8.8001), (0.70, 0.70001)),
                 budget=dynsys.rigorous.ProofBudget(max_depth=2, time=60))
    assert cert.verdict == "refuted"
    i = int(np.argmax(cert.status == ProofStatus.REFUTED))
    t1, t2, lr = cert.failing_start[i]
    assert 0.70 <= lr <= 0.70001


def test_lr_target_at_least_one_is_never_proved():
    m = dynsys.QuadraticRegression2D(0.05, target=2.0)
    cert = _cert(m, budget=dynsys.rigorous.ProofBudget(max_depth=1, time=30))
    assert cert.verdict != "proved"


def test_tiny_target_agrees_with_target_zero():
    region = ((1.6, 1.6001), (8.8, 8.8001), (0.64, 0.64001))
    zero = _cert(dynsys.QuadraticRegression2D(0.05), region)
    tiny = _cert(dynsys.QuadraticRegression2D(0.05, target=1e-9), region)
    assert zero.proved and tiny.proved
    (a, b), (c, d) = zero.enclosure, tiny.enclosure
    assert max(a, c) <= min(b, d)          # the enclosures overlap
