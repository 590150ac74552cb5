"""Curves of fixed points and the cycles of the 2-D model (docs/math.md section 3)."""

from __future__ import annotations

import numpy as np
import pytest

import dynsys
from dynsys.orbits import STABILITY


@pytest.mark.parametrize("eps,target,lr", [(0.1, 0.5, 0.7), (0.05, 1.0, 0.9), (0.1, 0.0, 0.7)])
def test_solution_curve_is_a_family_with_exact_multipliers(eps, target, lr):
    model = dynsys.QuadraticRegression2D(eps, target)
    bounds = [(-3, 3), (-6, 6)]
    ds = dynsys.fixed_points(model, lr=lr, bounds=bounds)
    fam = ds.isel(point=ds.family.values >= 0)
    x = fam.x.values
    # an ordered sample on z = 0, not a cloud of Newton hits
    np.testing.assert_allclose(model.residual(x)[:, 0], 0.0, atol=1e-10)
    assert fam.sizes["point"] >= 100
    ids = np.unique(fam.family.values)
    assert len(ids) == 2                                   # two branches / two lines
    for j in ids:
        branch = fam.isel(point=fam.family.values == j)
        assert np.all(np.diff(branch.arclength.values) > 0)
        steps = np.linalg.norm(np.diff(branch.x.values, axis=0), axis=-1)
        assert steps.max() <= 1.01 * ds.attrs["family_step"]
        np.testing.assert_allclose(np.diff(branch.arclength.values), steps, rtol=1e-12)
        # it spans the box: both ends on its boundary
        ends = branch.x.values[[0, -1]]
        on_face = np.isclose(np.abs(ends), [3.0, 6.0], rtol=0, atol=1e-9).any(axis=-1)
        assert on_face.all()
    # multipliers: 1 along the curve, 1 - lr lambda across
    lam = model.ntk_eigenvalue(x)
    expected = np.sort_complex(np.stack([np.ones_like(lam), 1 - lr * lam], axis=-1))
    np.testing.assert_allclose(np.sort_complex(fam.multipliers.values), expected, atol=1e-12)
    # transversally stable exactly where 0 < lr lambda < 2
    np.testing.assert_array_equal(fam.stable.values, (lr * lam > 0) & (lr * lam < 2))
    assert fam.stable.any() and (~fam.stable).any()        # the box crosses lr lambda = 2
    # the two branches are mirror images: one symmetry class of size 2
    assert np.unique(fam.symmetry_class.values).size == 1
    assert (fam.class_size == 2).all()
    if target == 0:
        # theta = 0 lies on the solution set: both lines pass through it
        for j in ids:
            pts = fam.x.values[fam.family.values == j]
            assert np.abs(pts[:, 0]).min() < ds.attrs["family_step"]
            # all on one line through the origin: theta_1 = +-sqrt(eps) theta_2
            slope = pts[:, 0] / pts[:, 1]
            np.testing.assert_allclose(np.abs(slope), np.sqrt(eps), rtol=1e-9)
            assert pts[:, 1].min() < 0 < pts[:, 1].max()   # the sample straddles it
    else:
        iso = ds.isel(point=ds.family.values < 0)
        np.testing.assert_allclose(iso.x.values, [[0.0, 0.0]], atol=1e-14)
        np.testing.assert_allclose(iso.multipliers.values[0].real,
                                   [1 + lr * target, 1 - lr * target * eps], rtol=1e-13)
        assert STABILITY[int(iso.stability[0])] == "saddle"


def test_symmetric_copies_option():
    model = dynsys.QuadraticRegression2D(0.1, 0.5)
    all_ = dynsys.fixed_points(model, lr=0.7, bounds=[(-3, 3), (-6, 6)])
    once = dynsys.fixed_points(model, lr=0.7, bounds=[(-3, 3), (-6, 6)], symmetric_copies=False)
    assert np.unique(all_.family.values[all_.family.values >= 0]).size == 2
    assert np.unique(once.family.values[once.family.values >= 0]).size == 1
    # every point of the copy is the mirror image of a reported point
    rep = once.x.values[once.family.values >= 0]
    other = all_.x.values[all_.family.values == 1]
    mirror = other * [-1.0, 1.0]
    dist = np.min(np.linalg.norm(mirror[:, None] - rep[None], axis=-1), axis=1)
    assert dist.max() < all_.attrs["family_step"]


def test_two_cycles_of_the_2d_model_target_zero():
    lr, eps = 0.5, 0.1
    model = dynsys.QuadraticRegression2D(eps, 0.0)
    f = dynsys.gd_map(model, lr)
    ds = dynsys.periodic_orbits(model, 2, lr=lr, bounds=[(-4, 4), (-14, 14)])
    x = ds.x.values
    two = ds.isel(orbit=ds.period.values == 2)
    # every reported point is a zero of F^2 - id to 1e-10
    pts = x[~np.isnan(x[..., 0])]
    np.testing.assert_allclose(f.iterate(pts, 2), pts, rtol=0, atol=1e-10)
    # the axis cycle theta_1 = +-2/sqrt(lr), theta_2 = 0, reported once (one orbit, both
    # sign flips map it onto itself: isotropy 4 = the whole group)
    assert two.sizes["orbit"] == 1
    np.testing.assert_allclose(two.x.values[0], [[-2 / np.sqrt(lr), 0], [2 / np.sqrt(lr), 0]],
                               atol=1e-13)
    assert int(two.isotropy[0]) == 4 and int(two.class_size[0]) == 1
    # multipliers: -5 per step along the axis, (1 + 2 eps) per step across
    np.testing.assert_allclose(two.multipliers.values[0].real, [25.0, (1 + 2 * eps) ** 2],
                               rtol=1e-12)
    # the period-1 part is the solution set, returned as families
    ones = ds.isel(orbit=ds.period.values == 1)
    assert (ones.family >= 0).all()
    np.testing.assert_allclose(model.residual(ones.x.values[:, 0])[:, 0], 0.0, atol=1e-10)


def test_no_off_axis_two_cycles_and_the_flip_four_cycle():
    """For eps > 0 a 2-cycle with theta_1 theta_2 != 0 needs (1 - x1)(1 - x2) = 1 and
    (1 + eps x1)(1 + eps x2) = 1 (x = lr z), whose only solution is x1 = x2 = 0: none exist.
    The cycles with (1 - x1)(1 - x2) = -1 flip theta_1 every two steps: 4-cycles, in closed
    form x1 + x2 = 2 eps/(1 + eps), x1 x2 = -2/(1 + eps), p - q = 2 x1,
    (1 - x1)^2 p - (1 + eps x1)^2 q = 2 x2 with p = lr theta_1^2, q = eps lr theta_2^2."""
    lr, eps = 0.5, 0.1
    model = dynsys.QuadraticRegression2D(eps, 0.0)
    bounds = [(-4, 4), (-14, 14)]
    two = dynsys.periodic_orbits(model, 2, lr=lr, bounds=bounds)
    off_axis = two.isel(orbit=(two.period.values == 2) & (two.family.values < 0))
    assert np.all(np.abs(off_axis.x.values[..., 1]) < 1e-12)
    four = dynsys.periodic_orbits(model, 4, lr=lr, bounds=bounds, symmetric_copies=True)
    cycles = four.isel(orbit=four.period.values == 4)
    s, prod = 2 * eps / (1 + eps), -2 / (1 + eps)
    found = 0
    for x1 in np.roots([1, -s, prod]).real:
        p, q = np.linalg.solve([[1, -1], [(1 - x1) ** 2, -(1 + eps * x1) ** 2]],
                               [2 * x1, 2 * (s - x1)])
        point = np.array([np.sqrt(p / lr), np.sqrt(q / (eps * lr))])
        for signs in ([1, 1], [1, -1]):
            target = point * signs
            d = np.linalg.norm(cycles.x.values - target, axis=-1)
            found += int(np.nanmin(d) < 1e-12)
    assert found == 4          # both roots, both theta_2 signs (theta_1 signs are one orbit)
    assert (cycles.class_size.values == 2).sum() >= 2
