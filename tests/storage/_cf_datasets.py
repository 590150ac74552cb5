"""Small instances of every kind of Dataset the library writes (shared by the CF tests)."""

from __future__ import annotations

import functools

import numpy as np

import dynsys


def _qr():
    return dynsys.QuadraticRegression2D(0.05)


MAKERS = {
    "trajectory_model": lambda: dynsys.trajectory(_qr(), [0.3, 7.0], lr=1.0, steps=50),
    "trajectory_map": lambda: dynsys.trajectory(dynsys.maps.henon(1.4, 0.3), [0.1, 0.1],
                                                steps=20),
    "basins": lambda: dynsys.basins(_qr(), [0.8, 1.0], grid=((-3, 3, 12), (-12, 12, 12)),
                                    steps=2000),
    "basins_map": lambda: dynsys.basins(dynsys.maps.logistic(3.2), [3.2, 3.5], param="r",
                                        grid=((0.05, 0.95, 8),), steps=500),
    "basins_fractions": lambda: dynsys.basins_fractions(
        dynsys.maps.logistic(3.2), [(0.05, 0.95)], [3.2, 3.5], n=50, steps=500),
    "bifurcation_diagram": lambda: dynsys.bifurcation_diagram(
        _qr(), [0.5, 1.0, 1.5], x0=[0.5, 4.0], steps=200, keep=10),
    "continuation": lambda: dynsys.continuation(dynsys.maps.logistic(2.8), [0.6], param="r",
                                                bounds=(2.5, 3.2)).to_dataset(),
    "fixed_points": lambda: dynsys.fixed_points(dynsys.maps.henon(1.4, 0.3),
                                                bounds=[(-3, 3), (-3, 3)]),
    "periodic_orbits": lambda: dynsys.periodic_orbits(dynsys.maps.henon(1.4, 0.3), 2,
                                                      bounds=[(-3, 3), (-3, 3)]),
    "lyapunov_spectrum": lambda: dynsys.lyapunov_spectrum(dynsys.maps.henon(1.4, 0.3),
                                                          [0.1, 0.1], steps=2000),
    "eos_region": lambda: dynsys.eos_region(_qr(), lr_range=dynsys.linspace(0.9, 1.1, 3),
                                            grid=((0.05, 2.0, 12), (4.0, 12.0, 12)),
                                            n_check=10, seed=0, prove=False).to_dataset(),
    "kreisler_scan": lambda: dynsys.kreisler_scan(dynsys.ScalarNetwork(2, 1.0, 1.0),
                                                  np.array([[0.5, 1.5], [1.2, 0.4]]),
                                                  [2.2, 2.6], steps=300),
    "limit_offset": lambda: dynsys.limit_offset([0.05], [0.0], lr_gfs=(2.5,),
                                                max_steps=200_000),
    "theorem2": lambda: dynsys.theorem2_monte_carlo([8], samples=5, seed=0),
    "gfs_trajectory": lambda: dynsys.gfs_trajectory(_qr(), [0.3, 7.0], lr=1.0, steps=50),
    "central_flow": lambda: dynsys.eos.central_flow(
        dynsys.SecondOrderRegression.random(3, 8, sigma_z=1.0, sigma_J=0.3, sigma_Q=0.3, seed=2),
        np.zeros(8), 1.0, time=30.0, every=2.0, save_theta=True),
    "constrained_trajectory": lambda: dynsys.eos.constrained_trajectory(_qr(), [1.5, 4.0], 1.0,
                                                                        steps=5),
}


@functools.cache
def make(name: str):
    return MAKERS[name]()
