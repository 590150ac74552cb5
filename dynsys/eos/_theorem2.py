"""Theorem 2 of Agarwala et al.: the top NTK eigenvalue at a random start under gradient flow.

Derivation (docs/math.md sections 2 and 4). Under gradient flow on ``L = |z|^2 / 2`` the exact
function-space dynamics are ``dz/dt = -K z`` and ``dJ/dt = -Q(g, .)`` with ``g = J^T z`` and
``K = J J^T``. Write ``M_g = Q(g, .)`` (a ``D x P`` matrix, ``(M_g)_ap = sum_q Q_apq g_q``),
``lambda`` the top eigenvalue of ``K`` with unit eigenvector ``v``, ``w = J^T v`` and
``(lambda_j, v_j)`` the other eigenpairs. Then

* ``K' = -(M_g J^T + J M_g^T)`` and ``lambda' = v^T K' v = -2 v^T M_g w``;
* ``g' = -M_g^T z - J^T K z`` and ``K'' = 2 M_g M_g^T - (M_{g'} J^T + J M_{g'}^T)``;
* second-order perturbation theory (with the eigenvector rotation term):
  ``lambda'' = v^T K'' v + 2 sum_{j != top} (v_j^T K' v)^2 / (lambda - lambda_j)``.

Expectations. ``lambda'`` is linear in ``Q``, which is independent of ``(z, J)`` with zero
mean, so ``E[lambda'(0)] = 0`` exactly, for every ``D`` and ``P`` and every normalisation. For
``Q_a`` symmetric with independent entries of variance ``s^2`` off the diagonal (``2 s^2`` on
it, the GOE convention of :meth:`SecondOrderRegression.random` with ``sigma_Q = s``),
``E[Q_apq Q_brs] = s^2 delta_ab (delta_pr delta_qs + delta_ps delta_qr)`` and, averaging over
``Q`` at fixed ``(z, J)``,

``E_Q[lambda''] = 2 s^2 (P + 1) (|g|^2 + lambda (v.z)^2)
+ 2 s^2 sum_{j != top} (|g|^2 (lambda + lambda_j) + lambda^2 (v.z)^2
+ lambda_j^2 (v_j.z)^2) / (lambda - lambda_j)``.

Large ``D, P`` with ``r = D/P`` fixed (``r <= 1``), ``z`` and ``J`` with i.i.d. entries of
variances ``sigma_z^2`` and ``sigma_J^2``: ``|g|^2 -> sigma_z^2 sigma_J^2 D P``,
``lambda -> sigma_J^2 P (1 + sqrt r)^2`` (Marchenko-Pastur edge), and the eigenvalue sum is
``D`` times ``int (lambda + x)/(lambda - x) dmu_MP = -1 + 2 lambda G(lambda) = 1 + 2/sqrt(r)``
(``G`` the Stieltjes transform at the edge, ``lambda G = (1 + sqrt r)/sqrt r``). The remaining
terms are smaller by a factor ``D``. So

``E[lambda''(0)] = 2 s^2 sigma_z^2 sigma_J^2 D P^2 (1 + r (1 + 2/sqrt r)) (1 + o(1))
= 2 s^2 sigma_z^2 sigma_J^2 D P^2 (1 + sqrt r)^2 (1 + o(1))``,

and the ratio ``E[lambda'']/E[lambda] -> 2 s^2 sigma_z^2 D P``: independent of ``sigma_J`` and
of ``r`` except through ``D P``. **Normalisation**: the statement
``E[lambda'']/E[lambda] = sigma_z^2`` holds in the limit iff ``s^2 = 1 / (2 D P)``, i.e.
``Q_a = (G + G^T) / (2 sqrt(D P))`` with ``G`` standard normal (``Q`` scaled by
``1/sqrt(D P)``, unit-variance entries of ``(G + G^T)/2``); any scale of ``J`` will do (for
example ``J / sqrt(P)``). With the common choice ``Q / P`` (``s^2 = 1/(2 P^2)``) the ratio tends
to ``sigma_z^2 D / P`` instead, equal to ``sigma_z^2`` only at ``D = P``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .. import _validate as check
from .._labels import provenance
from ..models import SecondOrderRegression

NORMALISATIONS = ("theorem", "inverse_P")


def ntk_eigenvalue_derivatives(model, theta) -> tuple[float, float, float]:
    """Return ``(lambda, d lambda/dt, d^2 lambda/dt^2)`` of the top NTK eigenvalue at ``theta``
    under gradient flow on a second-order model (formulas in the module docstring).

    Examples
    --------
    >>> import numpy as np, dynsys
    >>> m = dynsys.SecondOrderRegression.random(3, 5, sigma_z=1.0, sigma_J=1.0, seed=0)
    >>> lam, d1, d2 = dynsys.ntk_eigenvalue_derivatives(m, np.zeros(5))
    >>> bool(np.isclose(lam, m.ntk_eigenvalue(np.zeros(5))))
    True
    """
    Q = getattr(model, "constant_residual_hessian", None)
    if Q is None:
        raise TypeError(f"model must have constant residual Hessians (the "
                        f"constant_residual_hessian hook of second-order models such as "
                        f"SecondOrderRegression), got {type(model).__name__}")
    if getattr(model, "scale", 1.0) != 1.0:
        raise ValueError(f"model must have the loss |z|^2 / 2 (scale 1), got scale "
                         f"{model.scale}")
    theta = check.array("theta", theta, dim=model.dim)
    if theta.ndim != 1:
        raise ValueError(f"theta must be one point of shape ({model.dim},)")
    return _derivatives(model.residual(theta), model.jacobian(theta), np.asarray(Q))


def _derivatives(z, J, Q):
    K = J @ J.T
    evals, evecs = np.linalg.eigh(K)
    lam, v = evals[-1], evecs[:, -1]
    g = J.T @ z
    Mg = np.einsum("apq,q->ap", Q, g)
    w = J.T @ v
    d1 = -2.0 * v @ Mg @ w
    Kp = -(Mg @ J.T + J @ Mg.T)
    gp = -Mg.T @ z - J.T @ (K @ z)
    Mgp = np.einsum("apq,q->ap", Q, gp)
    Kpp = 2.0 * Mg @ Mg.T - (Mgp @ J.T + J @ Mgp.T)
    coupling = evecs[:, :-1].T @ Kp @ v
    gaps = lam - evals[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        rotation = 2.0 * np.sum(np.where(gaps > 0, coupling ** 2 / gaps, 0.0))
    d2 = v @ Kpp @ v + rotation
    return float(lam), float(d1), float(d2)


def expected_second_derivative(z, J, sigma_q: float) -> float:
    """Return ``E_Q[d^2 lambda/dt^2]`` at fixed ``(z, J)`` for GOE ``Q`` with off-diagonal
    standard deviation ``sigma_q`` (the closed form in the module docstring)."""
    z = check.array("z", z)
    if z.ndim != 1 or z.size < 1:
        raise ValueError(f"z must have shape (D,), got shape {z.shape}")
    J = check.array("J", J)
    if J.ndim != 2 or J.shape[0] != z.size or J.shape[1] < 1:
        raise ValueError(f"J must have shape (D, P) = ({z.size}, P) to match z of length "
                         f"{z.size}, got shape {J.shape}")
    sigma_q = check.real("sigma_q", sigma_q, nonnegative=True)
    K = J @ J.T
    evals, evecs = np.linalg.eigh(K)
    lam, v = evals[-1], evecs[:, -1]
    g2 = float(z @ K @ z)
    vz = float(v @ z)
    first = (J.shape[1] + 1) * (g2 + lam * vz ** 2)
    lj = evals[:-1]
    vjz = evecs[:, :-1].T @ z
    gaps = lam - lj
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (g2 * (lam + lj) + lam ** 2 * vz ** 2 + lj ** 2 * vjz ** 2) / gaps
    second = float(np.sum(np.where(gaps > 0, terms, 0.0)))
    return 2.0 * sigma_q ** 2 * (first + second)


def sigma_q_for(D: int, P: int, normalisation: str = "theorem") -> float:
    """Return the off-diagonal standard deviation of ``Q`` for a normalisation:
    ``"theorem"``: ``1/sqrt(2 D P)`` (Theorem 2 holds); ``"inverse_P"``: ``1/(sqrt(2) P)``
    (``Q`` scaled by ``1/P`` with ``(G + G^T)/2`` entries).

    Examples
    --------
    >>> import dynsys
    >>> dynsys.sigma_q_for(4, 8)
    0.125
    """
    D = check.integer("D", D, minimum=1)
    P = check.integer("P", P, minimum=1)
    normalisation = check.choice("normalisation", normalisation, NORMALISATIONS)
    if normalisation == "theorem":
        return float(1.0 / np.sqrt(2.0 * D * P))
    return float(1.0 / (np.sqrt(2.0) * P))


def theorem2_monte_carlo(P_values, *, ratio: float = 0.5, samples: int = 200,
                         sigma_z: float = 1.0, sigma_J: float | None = None,
                         normalisation: str = "theorem", seed: int = 0) -> xr.Dataset:
    """Return Monte Carlo estimates of ``E[lambda']``, ``E[lambda'']`` and ``E[lambda]`` at a
    random start, for growing ``P`` at fixed ``D/P = ratio``.

    Each sample is :meth:`SecondOrderRegression.random` (seeded ``seed + k``) with
    ``sigma_J = 1/sqrt(P)`` unless given and ``sigma_Q`` from :func:`sigma_q_for`; the
    derivatives come from :func:`ntk_eigenvalue_derivatives` at ``theta = 0``.

    Returns
    -------
    xarray.Dataset
        Over dim ``P``: ``D``, ``mean_d1``/``se_d1``, ``mean_d2``/``se_d2``,
        ``mean_lambda``/``se_lambda``, ``ratio_d2`` (``E[lambda'']/E[lambda]``) with
        ``se_ratio`` (delta method), ``ratio_d2_rb`` and ``se_ratio_rb`` (the same with the
        ``Q``-averaged closed form per sample, a lower-variance estimator), and
        ``predicted_ratio`` (``2 sigma_Q^2 sigma_z^2 D P``, the large-size limit).

    Examples
    --------
    >>> import dynsys
    >>> ds = dynsys.theorem2_monte_carlo([8], samples=20)
    >>> ds.ratio_d2.dims
    ('P',)
    """
    P_values = check.value_range("P_values", P_values, positive=True)
    if not np.all(P_values == np.round(P_values)):
        raise ValueError("P_values must be integers")
    ratio = check.real("ratio", ratio, positive=True, hi=1.0)
    samples = check.integer("samples", samples, minimum=2)
    sigma_z = check.real("sigma_z", sigma_z, positive=True)
    if sigma_J is not None:
        sigma_J = check.real("sigma_J", sigma_J, positive=True)
    normalisation = check.choice("normalisation", normalisation, NORMALISATIONS)
    seed = check.integer("seed", seed, minimum=0)
    Ps = P_values.astype(int)
    names = ("d1", "d2", "lambda", "d2_rb")
    stats = {n: np.zeros((Ps.size, 2)) for n in names}
    ratios = np.zeros((Ps.size, 2))
    ratios_rb = np.zeros((Ps.size, 2))
    Ds = np.zeros(Ps.size, dtype=np.int64)
    predicted = np.zeros(Ps.size)
    for i, P in enumerate(Ps):
        D = max(1, int(round(ratio * P)))
        Ds[i] = D
        sj = sigma_J if sigma_J is not None else 1.0 / np.sqrt(P)
        sq = sigma_q_for(D, int(P), normalisation)
        predicted[i] = 2 * sq ** 2 * sigma_z ** 2 * D * P
        vals = np.zeros((samples, 4))
        for k in range(samples):
            m = SecondOrderRegression.random(D, int(P), sigma_z=sigma_z, sigma_J=sj, sigma_Q=sq,
                                             seed=seed + 7919 * i + k)
            lam, d1, d2 = _derivatives(m.z0, m.J0, m.Q)
            vals[k] = d1, d2, lam, expected_second_derivative(m.z0, m.J0, sq)
        mean = vals.mean(axis=0)
        se = vals.std(axis=0, ddof=1) / np.sqrt(samples)
        for j, n in enumerate(names):
            stats[n][i] = mean[j], se[j]
        for target, col in ((ratios, 1), (ratios_rb, 3)):
            r = mean[col] / mean[2]
            cov = np.cov(vals[:, col], vals[:, 2], ddof=1) / samples
            var = (cov[0, 0] / mean[2] ** 2 - 2 * mean[col] * cov[0, 1] / mean[2] ** 3
                   + mean[col] ** 2 * cov[1, 1] / mean[2] ** 4)
            target[i] = r, np.sqrt(max(var, 0.0))
    data = {
        "D": ("P", Ds, {"long_name": "number of outputs D", "units": "1"}),
        "mean_d1": ("P", stats["d1"][:, 0], {"long_name": "mean of d lambda/dt at t = 0"}),
        "se_d1": ("P", stats["d1"][:, 1], {"long_name": "standard error of mean_d1"}),
        "mean_d2": ("P", stats["d2"][:, 0], {"long_name": "mean of d2 lambda/dt2 at t = 0"}),
        "se_d2": ("P", stats["d2"][:, 1], {"long_name": "standard error of mean_d2"}),
        "mean_lambda": ("P", stats["lambda"][:, 0], {"long_name": "mean top NTK eigenvalue"}),
        "se_lambda": ("P", stats["lambda"][:, 1], {"long_name": "standard error of mean_lambda"}),
        "ratio_d2": ("P", ratios[:, 0], {"long_name": "E[d2 lambda/dt2] / E[lambda]"}),
        "se_ratio": ("P", ratios[:, 1], {"long_name": "standard error of ratio_d2"}),
        "ratio_d2_rb": ("P", ratios_rb[:, 0],
                        {"long_name": "E[E_Q d2 lambda/dt2] / E[lambda] (Q averaged exactly)"}),
        "se_ratio_rb": ("P", ratios_rb[:, 1], {"long_name": "standard error of ratio_d2_rb"}),
        "predicted_ratio": ("P", predicted,
                            {"long_name": "large-size limit 2 sigma_Q^2 sigma_z^2 D P"}),
    }
    ds = xr.Dataset(data, coords={"P": Ps})
    ds["P"].attrs.update(long_name="number of parameters P", units="1")
    ds.attrs.update(provenance(SecondOrderRegression.random(1, 1, sigma_z=1, sigma_J=1, seed=0),
                               analysis="theorem2_monte_carlo", ratio=ratio, samples=samples,
                               sigma_z=sigma_z, sigma_J=-1.0 if sigma_J is None else sigma_J,
                               normalisation=normalisation, seed=seed))
    ds.attrs["system_params"] = "random second-order models (see attrs)"
    return ds
