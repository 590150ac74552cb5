"""Derivatives shared by the self-stabilisation analyses: one point of a model and the third
derivative of its loss (docs/math.md section 6)."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..models import SecondOrderRegression
from ..models import Model


def one_point(model, theta, name: str = "theta") -> np.ndarray:
    """Return ``theta`` as one point of ``model`` (shape ``(P,)``), or raise naming it."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a dynsys Model, got {type(model).__name__}")
    theta = check.array(name, theta, dim=model.dim)
    if theta.ndim != 1:
        raise ValueError(f"{name} must be one point of shape ({model.dim},), got {theta.shape}")
    return theta


def third_derivative(model, theta, *, method: str = "auto", rel_step: float = 1e-4) -> np.ndarray:
    """Return ``T`` of shape ``(P, P, P)``, ``T[k] = dH/dtheta_k`` at one point ``theta``.

    ``method``: ``"analytic"`` (exact, :class:`dynsys.SecondOrderRegression` models), ``"fd"``
    (central differences of ``model.hessian`` with step ``rel_step * max(1, |theta_k|)``, any
    model) or ``"auto"`` (analytic where available).

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.QuadraticRegression2D(eps=0.1)
    >>> T = dynsys.eos.third_derivative(m, [1.0, 2.0])
    >>> bool(np.allclose(T, np.transpose(T, (1, 0, 2))) and np.allclose(T, np.transpose(T, (0, 2, 1))))
    True
    """
    theta = one_point(model, theta)
    method = check.choice("method", method, ("auto", "analytic", "fd"))
    rel_step = check.real("rel_step", rel_step, positive=True, hi=0.1)
    if method == "analytic" and not isinstance(model, SecondOrderRegression):
        raise ValueError("method='analytic' needs a SecondOrderRegression model; use 'fd'")
    if isinstance(model, SecondOrderRegression) and method != "fd":
        jac = model.jacobian(theta)                               # (D, P)
        Q = model.Q
        t = np.einsum("apk,aq->kpq", Q, jac)
        return model.scale * (t + np.transpose(t, (0, 2, 1)) + np.einsum("ak,apq->kpq", jac, Q))
    out = np.empty((model.dim,) * 3)
    for k in range(model.dim):
        h = rel_step * max(1.0, abs(theta[k]))
        e = np.zeros(model.dim)
        e[k] = h
        out[k] = (model.hessian(theta + e) - model.hessian(theta - e)) / (2 * h)
    return out
