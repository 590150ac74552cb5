"""certify_region and verify_certificate: proofs, refutations, tampering, bad input, budgets."""

import dataclasses

import numpy as np
import pytest

import dynsys
from dynsys.rigorous import ProofBudget, ProofStatus

pytest.importorskip("flint")

M05 = dynsys.QuadraticRegression2D(0.05)
INSIDE = ((1.6, 1.6003), (8.8, 8.8003), (0.64, 0.64003))     # well inside the EoS set


def _cert(model=M05, region=INSIDE, delta=0.05, **kw):
    (u1, u2, lr) = region
    return dynsys.certify_region(model, (u1, u2), lr, delta, **kw)


@pytest.fixture(scope="module")
def proved():
    return _cert()


def test_box_well_inside_is_proved(proved):
    assert proved.verdict == "proved" and proved.proved
    lo, hi = proved.enclosure
    assert 1.95 <= lo <= hi <= 2.0
    # the limit is near-universal: 1.9727262 to 7 digits at eps = 0.05 (plain iteration),
    # enclosed tightly
    assert abs(lo - 1.9727262) < 1e-6 and abs(hi - 1.9727262) < 1e-6 and hi - lo < 1e-4
    ds = proved.to_dataset()
    assert ds.attrs["verdict"] == "proved" and ds.attrs["n_proved"] == len(ds.box)
    assert ProofStatus.decode(ds.status) == ProofStatus.meanings()
    # the plain-iteration limits of sampled starts lie in the enclosure
    rng = np.random.default_rng(3)
    for _ in range(3):
        t1, t2, lr = (rng.uniform(a, b) for a, b in INSIDE)
        ok, s = dynsys.eos._region_check.limit_sharpness_by_iteration(
            M05, np.array([[t1, t2]]), np.array([lr]))
        assert ok[0] and lo - 1e-9 <= lr * s[0] <= hi + 1e-9


def test_proof_at_a_second_eps():
    m = dynsys.QuadraticRegression2D(0.1)
    cert = _cert(m, ((1.6, 1.6002), (6.2, 6.2002), (0.64, 0.64002)), delta=0.1)
    assert cert.verdict == "proved"
    lo, hi = cert.enclosure
    assert 1.9 <= lo <= hi <= 2.0


def test_catapult_box_is_refuted():
    # the start of the issue: theta0 = (2.24913, 9.18553), lr = 0.709432 catapults to 1.843
    box = ((2.2490, 2.2493), (9.1854, 9.1857), (0.70940, 0.70946))
    cert = _cert(region=box, budget=ProofBudget(max_depth=4))
    assert cert.verdict == "refuted"
    i = int(np.argmax(cert.status == ProofStatus.REFUTED))
    t1, t2, lr = cert.failing_start[i]
    assert box[0][0] <= t1 <= box[0][1] and box[1][0] <= t2 <= box[1][1]
    assert box[2][0] <= lr <= box[2][1]
    ok, s = dynsys.eos._region_check.limit_sharpness_by_iteration(
        M05, np.array([[t1, t2]]), np.array([lr]))
    assert not (ok[0] and 1.95 <= lr * s[0] <= 2.0)


def test_budget_exhaustion_is_undecided_and_says_so():
    cert = _cert(region=((1.1, 2.2), (8.5, 9.2), (0.58, 0.7)),
                 budget=ProofBudget(max_boxes=3, max_pieces=4))
    assert cert.verdict in ("undecided", "refuted") and not cert.proved
    assert cert.count(ProofStatus.UNDECIDED) > 0
    assert "budget" in cert.exhausted and "undecided" in cert.summary()


def test_verify_accepts_the_honest_certificate(proved):
    v = dynsys.verify_certificate(proved)
    assert v.accepted, v.problems
    assert v.covered and v.n_reproved == v.n_boxes and not v.sampled


def test_verify_samples_when_asked(proved):
    v = dynsys.verify_certificate(proved, sample=1, seed=2)
    assert v.accepted and v.n_reproved == 1 and v.sampled == (v.n_boxes > 1)


def test_verify_rejects_tampered_certificates(proved):
    n = len(proved.status)
    # a box dropped from the cover
    keep = np.arange(n) != n // 2
    dropped = dataclasses.replace(
        proved, boxes=proved.boxes[keep], status=proved.status[keep],
        limit=proved.limit[keep], terminal_step=proved.terminal_step[keep],
        failing_start=proved.failing_start[keep], depth=proved.depth[keep],
        pieces=proved.pieces[keep])
    v = dynsys.verify_certificate(dropped)
    assert not v.accepted and not v.covered
    # an enclosure narrowed (to exclude the true limit ~1.9727262)
    limit = proved.limit.copy()
    limit[0] = (1.9727263, 1.9727264)
    v = dynsys.verify_certificate(dataclasses.replace(proved, limit=limit))
    assert not v.accepted and any("box 0" in p for p in v.problems)
    # a box moved to the catapult region (outside the proved set)
    boxes = proved.boxes.copy()
    t1, t2, lr = 2.24913, 9.18553, 0.709432
    p, q = lr * t1 ** 2, 0.05 * lr * t2 ** 2
    boxes[0] = (p - 1e-4, p + 1e-4, q - 1e-4, q + 1e-4)
    v = dynsys.verify_certificate(dataclasses.replace(proved, boxes=boxes))
    assert not v.accepted


@pytest.mark.parametrize("kwargs, name", [
    ({"U": ((2.0, 1.0), (8.8, 8.9))}, "U[0]"),
    ({"U": ((1.0, np.nan), (8.8, 8.9))}, "U[0] hi"),
    ({"U": ((1.0, 2.0), (8.8, np.inf))}, "U[1] hi"),
    ({"lr_interval": (0.0, 0.6)}, "lr_interval lo"),
    ({"lr_interval": (0.7, 0.6)}, "lr_interval"),
    ({"delta": 0.0}, "delta"),
    ({"delta": -1.0}, "delta"),
    ({"U": "box"}, "U"),
])
def test_bad_input_names_the_argument(kwargs, name):
    args = {"U": INSIDE[:2], "lr_interval": INSIDE[2], "delta": 0.05, **kwargs}
    with pytest.raises((ValueError, TypeError), match=name.replace("[", r"\[").replace("]", r"\]")):
        dynsys.certify_region(M05, args["U"], args["lr_interval"], args["delta"])


@pytest.mark.parametrize("model", [dynsys.QuadraticRegression2D(0.0, 0.3),
                                   dynsys.ScalarNetwork(2)])
def test_model_without_interval_kernel(model):
    with pytest.raises(TypeError, match="system.*interval kernel"):
        dynsys.certify_region(model, INSIDE[:2], INSIDE[2], 0.05)


def test_bad_budget():
    with pytest.raises(ValueError, match="budget.time"):
        ProofBudget(time=-1)
    with pytest.raises(TypeError, match="budget"):
        _cert(budget={"time": 1})


@pytest.mark.parametrize("call, name", [
    (lambda: dynsys.verify_certificate("not a certificate"), "cert"),
    (lambda: dynsys.proved_critical_eps(c=-1.0), "c"),
    (lambda: dynsys.proved_critical_eps(c=float("nan")), "c"),
    (lambda: dynsys.proved_critical_eps(bisections=-1), "bisections"),
    (lambda: dynsys.proved_critical_eps(eps_bracket=(0.0, 0.4)), "eps_bracket lo"),
])
def test_bad_input_of_the_checkers_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
