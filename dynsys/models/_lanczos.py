"""Top eigenpairs of a symmetric operator known only through products: Lanczos.

Lanczos with full reorthogonalisation (twice, classical Gram-Schmidt) and a convergence test
after every product, so that a warm start (the previous top eigenvector of a slowly moving
Hessian) pays off at once; explicit restarts from the current Ritz vectors when the Krylov
space reaches ``max_dim``. Backend-neutral: ``matvec`` maps a float64 vector to one.
"""

from __future__ import annotations

import numpy as np


def lanczos_top(matvec, dim: int, k: int, v0=None, *, tol: float = 1e-10,
                max_dim: int | None = None, max_restarts: int = 50, seed: int = 0):
    """Return ``(values, vectors, n_products, converged)``: the ``k`` largest eigenvalues
    (descending) of the symmetric operator ``matvec`` and unit eigenvectors (``(dim, k)``).

    Converged means every returned pair has residual ``|A u - lambda u| <= tol * scale``
    with ``scale`` the largest Ritz value magnitude; the eigenvalue error is then at most
    ``tol * scale`` (and typically its square over the eigengap). Single-vector Lanczos does
    not resolve an eigenvalue's multiplicity: repeated eigenvalues may be returned once.
    """
    from scipy.linalg import eigh_tridiagonal   # lazily: scipy.linalg is slow to import

    rng = np.random.default_rng(seed)
    m_max = int(min(dim, max_dim if max_dim is not None else max(3 * k + 40, 60)))
    q = np.asarray(v0, dtype=float).copy() if v0 is not None else rng.standard_normal(dim)
    if not np.all(np.isfinite(q)) or not np.linalg.norm(q) > 0:
        q = rng.standard_normal(dim)
    count = 0
    best = None
    for _ in range(max_restarts + 1):
        V = np.zeros((m_max, dim))
        alpha = np.zeros(m_max)
        beta = np.zeros(m_max)
        V[0] = q / np.linalg.norm(q)
        for j in range(m_max):
            w = np.asarray(matvec(V[j]), dtype=float)
            count += 1
            if not np.all(np.isfinite(w)):
                return np.full(k, np.nan), np.full((dim, k), np.nan), count, False
            alpha[j] = V[j] @ w
            basis = V[: j + 1]
            w = w - basis.T @ (basis @ w)
            w = w - basis.T @ (basis @ w)
            b = np.linalg.norm(w)
            n = j + 1
            if n >= k:
                if n == 1:
                    theta, S = alpha[:1].copy(), np.ones((1, 1))
                else:
                    theta, S = eigh_tridiagonal(alpha[:n], beta[: n - 1])
                top = np.argsort(theta)[::-1][:k]
                scale = max(np.abs(theta).max(), np.finfo(float).tiny)
                resid = np.abs(b * S[n - 1, top])
                exhausted = n == dim or b <= 1e-14 * scale
                if np.all(resid <= tol * scale) or exhausted:
                    vecs = basis.T @ S[:, top]
                    vecs /= np.linalg.norm(vecs, axis=0)
                    return theta[top], vecs, count, True
                best = (theta[top], basis.T @ S[:, top])
            if j + 1 < m_max:
                beta[j] = b
                V[j + 1] = w / b
        q = best[1].sum(axis=1)             # explicit restart from the Ritz vectors
    vecs = best[1] / np.linalg.norm(best[1], axis=0)
    return best[0], vecs, count, False
