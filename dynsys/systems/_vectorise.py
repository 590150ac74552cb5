"""Run a user function written either for one point or for a batch of points on a batch."""

from __future__ import annotations

import numpy as np


def _real(value, name: str) -> np.ndarray:
    """Return a user function's result as float64, refusing what is not real numbers (complex
    values, None, strings) instead of dropping imaginary parts or making NaN of them."""
    out = np.asarray(value)
    if out.dtype.kind == "c":
        raise TypeError(f"{name} returned complex values; a map must return real numbers "
                        f"(take .real explicitly if that is what you mean)")
    if out.dtype.kind not in "biuf":
        raise TypeError(f"{name} returned {type(value).__name__} (dtype {out.dtype}); it must "
                        f"return an array of real numbers")
    return out.astype(float, copy=False)


class BatchFunction:
    """Return a callable ``g(x, **kw)`` that maps ``x`` of shape ``(..., dim)`` to
    ``(..., *core_shape)`` whether ``func`` was written for one point or for batches.

    With ``vectorized=None`` the first batch call decides: ``func`` is called on the whole batch
    and its first and last rows are compared against one-point calls; if the shapes or values
    disagree (or the batch call raises), ``func`` is treated as a one-point function and looped.
    """

    def __init__(self, func, dim: int, core_shape: tuple[int, ...], *, vectorized=None,
                 name: str = "function"):
        if not callable(func):
            raise TypeError(f"{name} must be callable, got {type(func).__name__}")
        self.func = func
        self.dim = dim
        self.core_shape = tuple(core_shape)
        self.vectorized = vectorized
        self.name = name
        self._given = vectorized

    def fingerprint_data(self) -> dict:
        """Return what determines the results (not the detected calling convention)."""
        return {"func": self.func, "dim": self.dim, "core_shape": self.core_shape,
                "vectorized": self._given}

    def _point(self, x, kw):
        out = _real(self.func(x, **kw), self.name)
        if out.size != int(np.prod(self.core_shape, dtype=int)):
            raise ValueError(f"{self.name} returned shape {out.shape} for one point; "
                             f"expected {self.core_shape}")
        return out.reshape(self.core_shape)

    def _loop(self, flat, kw):
        out = np.empty((flat.shape[0], *self.core_shape))
        for i in range(flat.shape[0]):
            out[i] = self._point(flat[i], kw)
        return out

    def __call__(self, x, **kw):
        x = np.asarray(x, dtype=float)
        batch = x.shape[:-1]
        if x.ndim == 1:
            return self._point(x, kw)
        flat = x.reshape(-1, self.dim)
        if self.vectorized is None and flat.shape[0] > 0:
            self.vectorized = self._detect(flat, kw)
        if self.vectorized:
            out = _real(self.func(flat, **kw), self.name)
            out = out.reshape(flat.shape[0], *self.core_shape)
        else:
            out = self._loop(flat, kw)
        return out.reshape(*batch, *self.core_shape)

    def _detect(self, flat, kw) -> bool:
        try:
            with np.errstate(all="ignore"):
                out = _real(self.func(flat, **kw), self.name)
        except Exception:
            return False
        if out.size != flat.shape[0] * int(np.prod(self.core_shape, dtype=int)):
            return False
        out = out.reshape(flat.shape[0], *self.core_shape)
        with np.errstate(all="ignore"):
            for i in {0, flat.shape[0] - 1}:
                if not np.allclose(out[i], self._point(flat[i], kw), rtol=1e-12, atol=0,
                                   equal_nan=True):
                    return False
        return True
