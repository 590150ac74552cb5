"""Models: losses that gradient descent runs on."""

from ._autodiff import AutodiffModel
from ._base import LossModel, Model, RegressionModel
from ._gfs_closed import qr2d_increase_threshold
from ._gd import GDMap, gd_map, loss_and_sharpness, resolve_swept, resolve_system
from ._jax import from_jax, import_jax
from ._scalar import ScalarNetwork
from ._second_order import QuadraticRegression2D, SecondOrderRegression

__all__ = ["Model", "LossModel", "RegressionModel", "AutodiffModel", "SecondOrderRegression",
           "QuadraticRegression2D", "ScalarNetwork", "GDMap", "gd_map", "resolve_system",
           "resolve_swept", "qr2d_increase_threshold", "loss_and_sharpness", "from_jax", "import_jax"]
