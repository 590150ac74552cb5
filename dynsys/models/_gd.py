"""Gradient descent as a map."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..systems import Map


class GDMap(Map):
    """The gradient-descent map ``theta' = theta - lr grad L(theta)`` of a model.

    A :class:`Map` with one parameter ``lr`` and Jacobian ``I - lr H(theta)``; ``model`` is the
    model it was built from.
    """

    def __init__(self, model, lr: float):
        from ._base import Model

        if not isinstance(model, Model):
            raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
        lr = check.lr(lr)
        self.model = model
        eye = np.eye(model.dim)

        def step(theta, lr):
            with np.errstate(over="ignore", invalid="ignore"):
                return theta - lr * model.grad(theta)

        def jacobian(theta, lr):
            with np.errstate(over="ignore", invalid="ignore"):
                return eye - lr * model.hessian(theta)

        super().__init__(step, jacobian, dim=model.dim, params={"lr": lr},
                         name=f"gd[{model.name}]", vectorized=True, kernel=model.gd_kernel,
                         symmetries=list(model.symmetries))

    def _resolve(self, overrides):
        resolved = super()._resolve(overrides)
        if "lr" in overrides:
            check.lr(resolved["lr"])
        return resolved

    @property
    def step_scale(self) -> float:
        """Return ``lr``: the step of GD is ``lr |grad L|``."""
        return float(self.params["lr"])

    def describe(self) -> dict:
        return {**self.model.describe(), "lr": self.params["lr"]}

    def compiled(self, numpy_rate=None) -> GDMap:
        """Return the map with a compiled kernel: itself if the model has a ``gd_kernel``,
        else a copy with the kernel of the model's ``auto_gd_kernel`` hook (models made by
        :meth:`~dynsys.Model.from_loss`; one :class:`~dynsys.SlowPathWarning` if they do not
        compile), else itself. ``numpy_rate(map)`` estimates the numpy path's
        point-iterations per second for that warning."""
        if self.kernel is not None:
            return self
        hook = getattr(self.model, "auto_gd_kernel", None)
        if not callable(hook):       # a model class of its own: its author chose numpy
            return self
        kernel = hook(numpy_rate=numpy_rate)
        if kernel is None:
            return self
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.kernel = kernel
        return new


def gd_map(model, lr: float) -> GDMap:
    """Return the gradient-descent map of ``model`` with step size ``lr`` (a :class:`Map`).

    Examples
    --------
    >>> import dynsys
    >>> f = dynsys.gd_map(dynsys.QuadraticRegression2D(eps=0.1), lr=0.5)
    >>> f.step([2.0, 1.0])          # z = 1.95: theta_1 (1 - 0.975), theta_2 (1 + 0.0975)
    array([0.05  , 1.0975])
    >>> f.jacobian([0.0, 0.0])
    array([[1., 0.],
           [0., 1.]])
    """
    return GDMap(model, lr)


def loss_and_sharpness(model, mapping, states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(loss, sharpness)`` of ``model`` at ``states`` (n, P): compiled when the
    kernel of ``mapping`` (GD on ``model``) has a ``final`` function (an
    :class:`~dynsys.systems.AutoKernel` compiled from ``Model.from_loss`` functions), else by
    the model's own ``loss`` and ``sharpness``."""
    final = getattr(getattr(mapping, "kernel", None), "final", None)
    if final is None:
        return model.loss(states), model.sharpness(states)
    loss, sharpness = np.empty(states.shape[0]), np.empty(states.shape[0])
    final(np.ascontiguousarray(states, dtype=float), loss, sharpness)
    return loss, sharpness



def resolve_system(system, lr=None, *, lr_name: str = "lr"):
    """Return ``(map, model)`` for a Model (with ``lr`` required) or a Map (``lr`` optional).

    ``model`` is the model behind a GD map, else None. For a Map, ``lr`` overrides the
    map's ``lr`` parameter and is an error if the map has none.
    """
    from ._base import Model

    if isinstance(system, Model):
        if lr is None:
            raise TypeError(f"{lr_name} is required to run gradient descent on a model")
        return gd_map(system, lr), system
    if isinstance(system, Map):
        if lr is not None:
            if "lr" not in system.params:
                raise ValueError(f"{lr_name} given but map {system.name!r} has no 'lr' "
                                 f"parameter; its parameters are {list(system.params)}")
            system = system.with_params(lr=check.lr(lr, lr_name))
        return system, getattr(system, "model", None)
    raise TypeError(f"system must be a dynsys Map or Model, got {type(system).__name__}")


def resolve_swept(system, param: str | None):
    """Return ``(map, model, param)``: the map to iterate, the model behind it (or None) and the
    name of the parameter a sweep varies.

    For a Model the map is its GD map (at lr = 1; set the swept value with ``with_params``) and
    the parameter must be ``lr``. For a Map, ``param`` defaults to ``lr`` if it has one, else to
    its only parameter.
    """
    from ._base import Model

    if isinstance(system, Model):
        if param not in (None, "lr"):
            raise ValueError(f"unknown param {param!r} for a model; the only parameter of its "
                             f"gradient-descent map is 'lr'")
        return gd_map(system, 1.0), system, "lr"
    if isinstance(system, Map):
        names = list(system.params)
        if param is None:
            if "lr" in names:
                param = "lr"
            elif len(names) == 1:
                param = names[0]
            else:
                raise ValueError(f"param must name the swept parameter of map {system.name!r}, "
                                 f"one of {names}")
        if param not in names:
            raise ValueError(f"unknown param {param!r}; map {system.name!r} has parameters "
                             f"{names}")
        return system, getattr(system, "model", None), param
    raise TypeError(f"system must be a dynsys Model or Map, got {type(system).__name__}")
