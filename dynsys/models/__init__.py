"""Models: losses that gradient descent runs on."""

from ._base import LossModel, Model, RegressionModel
from ._scalar import ScalarNetwork
from ._second_order import QuadraticRegression2D, SecondOrderRegression

__all__ = ["Model", "LossModel", "RegressionModel", "SecondOrderRegression",
           "QuadraticRegression2D", "ScalarNetwork"]
