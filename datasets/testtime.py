"""Test-time protocol of Osokin 2019, Table 4: heatmaps averaged over input scales and a flip, each
resized (bilinear) to the unscaled input's heatmap size; the flipped pass swaps channel pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .layouts import flip_index

SIZE_DIVISOR = 64  # a scaled input is a multiple of this (the hourglass halves it 6 times)


@torch.no_grad()
def predict_heatmaps(
    model: nn.Module,
    images: torch.Tensor,
    scales: Sequence[float] = (0.75, 1.0, 1.25),
    flip: bool = True,
    flip_pairs: Sequence[tuple[int, int]] = (),
) -> torch.Tensor:
    """Mean heatmaps (N, C, h, w) at the unscaled input's heatmap size; the model in ``eval()``."""
    if images.ndim != 4:
        raise ValueError(f"images must be a float NCHW batch, got shape {tuple(images.shape)}")
    if not scales:
        raise ValueError("scales must name at least one input scale")
    if flip and not flip_pairs:
        raise ValueError("flip=True needs flip_pairs (left/right channel pairs) to swap channels")
    height, width = images.shape[-2:]
    total, base = None, None
    for scale in scales:
        size, step = (height, width), SIZE_DIVISOR
        if scale != 1.0:  # scale 1 keeps the size as it is (CPM's 368 is no multiple of 64)
            size = tuple(max(step, round(s * scale / step) * step) for s in size)
        x = images
        if size != (height, width):
            x = F.interpolate(images, size=size, mode="bilinear", align_corners=False)
        for mirrored in (False, True) if flip else (False,):
            maps = model(torch.flip(x, dims=[3]) if mirrored else x)[-1]
            if mirrored:
                maps = torch.flip(maps, dims=[3])[:, flip_index(maps.shape[1], flip_pairs)]
            if base is None:  # the heatmap size the unscaled input would give
                base = tuple(
                    round(n * m / s) for n, m, s in zip((height, width), maps.shape[2:], size)
                )
            if tuple(maps.shape[-2:]) != base:
                maps = F.interpolate(maps, size=base, mode="bilinear", align_corners=False)
            total = maps if total is None else total + maps
    return total / (len(scales) * (2 if flip else 1))
