"""Networks: GD with the Hessian spectrum tracked by HVPs, and a small model zoo.

The zoo needs JAX (``pip install "dynsys[jax]"``); :func:`spectrum_trajectory` works on every
model.
"""

from ._trajectory import spectrum_trajectory
from ._zoo import ACTIVATIONS, digits, mlp, teacher_student

__all__ = ["spectrum_trajectory", "mlp", "digits", "teacher_student", "ACTIVATIONS"]
