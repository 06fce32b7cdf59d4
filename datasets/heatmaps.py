"""Gaussian heatmap targets and their decoding, one pure pair (GCPM's LIP loader; Newell et al.).
Cell i covers input pixels [i * stride, (i + 1) * stride), centre i * stride + (stride - 1) / 2;
targets are 0 below 0.01, with an optional background ``1 - max``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

Size = int | tuple[int, int]
_CUTOFF = 4.6052  # exp(-4.6052) = 0.01: the GCPM target is zero below 1 %


def _hw(size: Size) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def cell_centres(input_size: Size, heatmap_size: Size) -> tuple[np.ndarray, np.ndarray]:
    """Input-pixel x and y of the heatmap cell centres."""
    (in_h, in_w), (hm_h, hm_w) = _hw(input_size), _hw(heatmap_size)
    sx, sy = in_w / hm_w, in_h / hm_h
    return np.arange(hm_w) * sx + (sx - 1) / 2, np.arange(hm_h) * sy + (sy - 1) / 2


def encode(
    keypoints: np.ndarray,
    valid: np.ndarray,
    input_size: Size,
    heatmap_size: Size,
    sigma: float,
    background: bool,
) -> np.ndarray:
    """(K, 2) input-pixel keypoints -> float32 (K [+1], h, w) targets; invalid joints get zeros.
    ``sigma`` in input pixels (GCPM: 7; a sigma in heatmap cells is ``cells * stride``)."""
    xs, ys = cell_centres(input_size, heatmap_size)
    num = keypoints.shape[0]
    maps = np.zeros((num + int(background), ys.size, xs.size), dtype=np.float32)
    for k in range(num):
        if not valid[k] or not np.isfinite(keypoints[k]).all():
            continue
        squared = (xs[None, :] - keypoints[k, 0]) ** 2 + (ys[:, None] - keypoints[k, 1]) ** 2
        exponent = squared / (2 * sigma**2)
        maps[k] = np.where(exponent > _CUTOFF, 0.0, np.minimum(np.exp(-exponent), 1.0))
    if background:
        maps[num] = 1.0 - maps[:num].max(axis=0, initial=0.0)
    return maps


def decode(heatmaps: np.ndarray | torch.Tensor, input_size: Size) -> tuple[np.ndarray, np.ndarray]:
    """(N, K, h, w) maps -> ((N, K, 2) input-pixel coordinates, (N, K) maxima); a channel without
    a finite peak gives NaN coordinates (a miss: a diverged model scores 0, not a crash)."""
    if hasattr(heatmaps, "detach"):  # a torch tensor, perhaps on a GPU or requiring grad
        maps = heatmaps.detach().float().cpu().numpy()
    else:
        maps = np.asarray(heatmaps, dtype=np.float64)
    if maps.ndim != 4:
        raise ValueError(f"decode expects heatmaps of shape (N, K, h, w), got {maps.shape}")
    n, k, h, w = maps.shape
    flat = maps.reshape(n, k, h * w)
    index = flat.argmax(axis=2)
    maxvals = np.take_along_axis(flat, index[..., None], axis=2)[..., 0]
    no_peak = ~np.isfinite(flat.max(axis=2))  # max is NaN when any cell is NaN
    iy, ix = np.divmod(index, w)
    nn, kk = np.ogrid[:n, :k]
    with np.errstate(invalid="ignore"):  # inf - inf in a map without a finite peak (NaN later)
        dx = maps[nn, kk, iy, np.minimum(ix + 1, w - 1)] - maps[nn, kk, iy, np.maximum(ix - 1, 0)]
        dy = maps[nn, kk, np.minimum(iy + 1, h - 1), ix] - maps[nn, kk, np.maximum(iy - 1, 0), ix]
    # a quarter cell toward the higher neighbour (Newell et al.); a border cell has no outer one
    fx = ix + 0.25 * np.where((ix > 0) & (ix < w - 1), np.sign(dx), 0.0)
    fy = iy + 0.25 * np.where((iy > 0) & (iy < h - 1), np.sign(dy), 0.0)
    xs, ys = cell_centres(input_size, (h, w))
    stride_x, stride_y = xs[1] - xs[0] if w > 1 else 1.0, ys[1] - ys[0] if h > 1 else 1.0
    coords = np.stack([fx * stride_x + xs[0], fy * stride_y + ys[0]], axis=-1)
    coords[no_peak] = np.nan
    return coords, np.where(no_peak, np.nan, maxvals)
