"""A user's functions, written by hand as a user would, shared by the tests of the kernels numba
compiles from them (tests/test_conformance.py, tests/systems/test_auto_analyses.py).

They use only +, -, * (numba and numpy then do the same arithmetic, so compiled and numpy
results agree to the last bit): a Henon-like polynomial map, and the 2-D model's loss
(eps = 0.1, target 0) with its gradient and Hessian.
"""

import numpy as np


def poly_step(x, a, b):
    return np.array([a - x[0] * x[0] + b * x[1], x[0]])


def poly_jac(x, a, b):
    return np.array([[-2.0 * x[0], b], [1.0, 0.0]])


def qr2d_loss(t):
    z = 0.5 * (t[0] * t[0] - 0.1 * t[1] * t[1])
    return 0.5 * z * z


def qr2d_grad(t):
    z = 0.5 * (t[0] * t[0] - 0.1 * t[1] * t[1])
    return np.array([z * t[0], -0.1 * z * t[1]])


def qr2d_hess(t):                  # J^T J + z diag(1, -eps), J = (t_1, -eps t_2)
    z = 0.5 * (t[0] * t[0] - 0.1 * t[1] * t[1])
    off = -0.1 * t[0] * t[1]
    return np.array([[t[0] * t[0] + z, off], [off, 0.01 * t[1] * t[1] - 0.1 * z]])
