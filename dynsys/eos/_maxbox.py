"""The largest all-true box in a boolean grid (exact, by the histogram/stack method)."""

from __future__ import annotations

import numpy as np

from .._numba import njit


@njit
def _largest_rectangle(mask, min_rows, min_cols):
    """Return (area, row_lo, row_hi, col_lo, col_hi) of the largest all-true rectangle.

    Bounds are inclusive; area 0 (and -1 bounds) when the mask has no true cell. The classical
    O(rows x cols) method: per row, column heights of consecutive trues, then the largest
    rectangle under that histogram with a stack. Only rectangles of at least ``min_rows`` x
    ``min_cols`` count; every maximal rectangle is a candidate, so the constrained optimum is
    found too.
    """
    n_rows, n_cols = mask.shape
    heights = np.zeros(n_cols + 1, dtype=np.int64)
    stack = np.zeros(n_cols + 1, dtype=np.int64)
    best = 0
    b_r0 = b_r1 = b_c0 = b_c1 = -1
    for r in range(n_rows):
        for c in range(n_cols):
            heights[c] = heights[c] + 1 if mask[r, c] else 0
        heights[n_cols] = 0
        top = 0
        for c in range(n_cols + 1):
            while top > 0 and heights[stack[top - 1]] >= heights[c]:
                h = heights[stack[top - 1]]
                top -= 1
                left = stack[top - 1] + 1 if top > 0 else 0
                area = h * (c - left)
                if area > best and h >= min_rows and c - left >= min_cols:
                    best = area
                    b_r0, b_r1, b_c0, b_c1 = r - h + 1, r, left, c - 1
            stack[top] = c
            top += 1
    return best, b_r0, b_r1, b_c0, b_c1


@njit
def _largest_box_kernel(mask3, min_k, min_rows, min_cols):
    n_k = mask3.shape[0]
    best = 0
    out = np.full(6, -1, dtype=np.int64)
    for k0 in range(n_k):
        inter = mask3[k0].copy()
        for k1 in range(k0, n_k):
            if k1 > k0:
                inter &= mask3[k1]
            # the area can only shrink as k1 grows: stop when even the whole slice cannot win
            if inter.sum() * (n_k - k0) <= best:
                break
            if k1 - k0 + 1 < min_k:
                continue
            area, r0, r1, c0, c1 = _largest_rectangle(inter, min_rows, min_cols)
            volume = area * (k1 - k0 + 1)
            if volume > best:
                best = volume
                out[0], out[1], out[2], out[3], out[4], out[5] = k0, k1, r0, r1, c0, c1
    return best, out


def largest_box(mask: np.ndarray, min_size=(1, 1, 1)) -> tuple[int, tuple[slice, slice, slice] | None]:
    """Return ``(cells, (s0, s1, s2))``: the largest all-true box of a 3-D boolean array.

    The box is a product of index ranges (contiguous along every axis) maximising the number of
    cells, with at least ``min_size[i]`` indices along axis ``i``; ``(0, None)`` when there is
    none. Exact (every contiguous range of the first axis is tried, with the largest rectangle
    of the intersection found exactly).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((3, 4, 5), bool); m[1:3, 1:3, 0:4] = True
    >>> largest_box(m)
    (16, (slice(1, 3, None), slice(1, 3, None), slice(0, 4, None)))
    """
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    if mask.ndim != 3:
        raise ValueError(f"mask must be 3-D, got shape {mask.shape}")
    min_k, min_rows, min_cols = (int(v) for v in min_size)
    if min(min_k, min_rows, min_cols) < 1:
        raise ValueError(f"min_size must be positive integers, got {min_size}")
    cells, idx = _largest_box_kernel(mask, min_k, min_rows, min_cols)
    if cells == 0:
        return 0, None
    k0, k1, r0, r1, c0, c1 = (int(v) for v in idx)
    return int(cells), (slice(k0, k1 + 1), slice(r0, r1 + 1), slice(c0, c1 + 1))
