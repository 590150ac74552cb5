"""eos_region proves what it returns: the largest-proved-box search, its insensitivity, eps_c."""

import dataclasses

import numpy as np
import pytest

import dynsys
from dynsys.eos._proved_box import SEARCH_BUDGET, largest_proved_box, scaled_box
from dynsys.rigorous import ProofStatus

pytest.importorskip("flint")

M05 = dynsys.QuadraticRegression2D(0.05)
# rows (lr, theta_1, theta_2): the centre of the default eps = 0.05 candidate box
CENTRE = np.array([0.64375, 1.6695, 8.845])
CANDIDATE = (np.array([0.5754, 1.082, 8.462]), np.array([0.7121, 2.257, 9.228]))


def _prove(model, lo, hi, delta, budget=SEARCH_BUDGET):
    return dynsys.certify_region(model, ((lo[1], hi[1]), (lo[2], hi[2])), (lo[0], hi[0]),
                                 delta, budget=budget)


@pytest.fixture(scope="module")
def small_region():
    """eos_region with its default prove=True, from a small sweep around the default
    candidate of eps = 0.05."""
    return dynsys.eos_region(M05, lr_range=dynsys.linspace(0.55, 0.75, 3),
                             grid=((1.0, 2.4, 10), (8.2, 9.4, 10)), n_check=20,
                             check_steps=100_000, refine=0, search_steps=1)


def test_eos_region_returns_a_proved_region_by_default(small_region):
    r = small_region
    assert r.proved and not r.empty
    cert = r.proof
    assert cert.count(ProofStatus.PROVED) == len(cert.status) > 0
    # the certificate is the proof of exactly the region returned
    assert cert.U == tuple(r.U.bounds.values()) and cert.lr_interval == r.lr_interval
    assert "proved for every start" in r.summary() and "failure rate" in r.summary()
    assert r.dataset.attrs["proved"] == 1
    # the region lies inside the candidate and is smaller than it
    (c1, c2) = r.candidate["U"].values()
    (u1, u2) = r.U.bounds.values()
    assert c1[0] <= u1[0] < u1[1] <= c1[1] and c2[0] <= u2[0] < u2[1] <= c2[1]
    assert 0 < r.volume_fraction() <= 1


def test_verify_certificate_accepts_the_default_result(small_region):
    v = dynsys.verify_certificate(small_region.proof, sample=4, seed=1)
    assert v.accepted and v.covered


def test_proof_status_does_not_depend_on_the_initial_cover(small_region):
    """The returned region is proved with other cover and split sizes too."""
    (u1, u2) = small_region.U.bounds.values()
    for width in (8e-3, 3.2e-2):
        budget = dataclasses.replace(SEARCH_BUDGET, initial_width=width)
        cert = dynsys.certify_region(M05, (u1, u2), small_region.lr_interval, 0.05,
                                     budget=budget)
        assert cert.proved, width


#: a small box budget, so that the search ends (deterministically) after a few cheap proofs
SMALL = dataclasses.replace(SEARCH_BUDGET, max_boxes=60)


def test_search_is_deterministic_and_monotone_in_its_budget():
    lo, hi = CANDIDATE
    a = largest_proved_box(M05, lo, hi, 0.05, [CENTRE], budget=SMALL, h0=1e-3, bisections=0)
    b = largest_proved_box(M05, lo, hi, 0.05, [CENTRE], budget=SMALL, h0=1e-3, bisections=0)
    c = largest_proved_box(M05, lo, hi, 0.05, [CENTRE], budget=SMALL, h0=1e-3, bisections=2)
    assert a[2].proved and c[2].proved
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert [t[:4] for t in a[3]] == [t[:4] for t in b[3]]
    # more bisections: a superset (boxes grow about one centre)
    assert np.all(c[0] <= a[0]) and np.all(c[1] >= a[1])
    # every trial larger than the returned box was not proved
    h = max(t[1] for t in c[3] if t[2] == "proved")
    assert all(t[2] != "proved" for t in c[3] if t[1] > h)
    assert np.allclose(c[0], scaled_box(CENTRE, lo, hi, h)[0])


def test_a_centre_that_is_not_proved_gives_way_to_the_next():
    lo, hi = CANDIDATE
    # the catapulting start of the issue: its small box is refuted; then the centre
    bad = np.array([0.709432, 2.24913, 9.18553])
    b_lo, b_hi, cert, trials = largest_proved_box(M05, lo, hi, 0.05, [bad, CENTRE],
                                                  budget=SMALL, h0=1e-3, bisections=0)
    assert trials[0][0] == 0 and trials[0][2] != "proved"
    assert cert.proved and np.all(b_lo <= CENTRE) and np.all(CENTRE <= b_hi)


@pytest.mark.parametrize("eps, t1, lr", [(0.02, 1.6, 0.64), (0.2, 1.0, 1.0)])
def test_box_well_inside_is_proved_at_other_eps(eps, t1, lr):
    model = dynsys.QuadraticRegression2D(eps)
    q = (2.2 / (1 + eps)) ** (1 + eps) / (lr * t1 * t1) ** eps    # lr x GFS sharpness 2.2
    t2 = float(np.sqrt(q / (eps * lr)))
    lo, hi = scaled_box(np.array([lr, t1, t2]), -np.inf, np.inf, 3e-4)
    cert = _prove(model, lo, hi, eps)
    assert cert.proved
    e = cert.enclosure
    assert 2 - eps <= e[0] <= e[1] <= 2


def test_proved_critical_eps_brackets_with_proofs():
    ds = dynsys.proved_critical_eps(eps_bracket=(0.05, 0.4), bisections=0)
    assert bool(ds.proved.sel(eps=0.05))
    i = int(np.argmax(ds.eps.values == 0.05))
    assert np.all(np.isfinite(ds.U_theta_1.values[i]))
    lo, hi = ds.attrs["eps_c_bracket"]
    assert lo >= 0.05


@pytest.mark.parametrize("call, name", [
    (lambda: dynsys.proved_critical_eps(h_max=0.0), "h_max"),
    (lambda: dynsys.proved_critical_eps(h_max=float("nan")), "h_max"),
    (lambda: dynsys.proved_critical_eps(budget="fast"), "budget"),
    (lambda: dynsys.proved_critical_eps(eps_bracket=(0.4, 0.1)), "eps_bracket"),
    (lambda: dynsys.plot.proof_cover("cert"), "cert"),
    (lambda: dynsys.verify_certificate(dynsys.certify_region(
        M05, ((1.6, 1.6001), (8.8, 8.8001)), (0.64, 0.64001), 0.05), split_width=0.0),
     "split_width"),
])
def test_bad_input_names_the_argument(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()
