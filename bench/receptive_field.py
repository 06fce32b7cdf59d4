"""Empirical receptive field of a pose network (GCPM, Osokin 2019, Sec. 3.3, Figs. 6-8).

Following Zhou et al. (ICLR'15), an 11x11 window filled with random values slides over the input
image; each perturbed image goes through the network and the chosen keypoint's heatmap (last stage)
is compared with the heatmap of the clean image. Two measures of the change (``RFConfig.measure``):

- ``peak`` (default): the absolute change of the heatmap value at the clean prediction's arg-max.
  This is Zhou et al.'s discrepancy of one unit, here the unit that predicts the keypoint, so the map
  is that unit's empirical receptive field, meaningful for untrained networks too.
- ``l1``: the L1 norm of the difference over the keypoint's whole channel. For a trained network,
  whose channel is near zero away from the keypoint, it also counts windows that create a second
  peak; for an untrained one it is dominated by the local response at every window, so it is not
  a receptive field there.

A pixel's value in the map is the mean change of the windows that cover it. The paper renders this
map as green over the image, saturation proportional to the change.

One number per model and keypoint makes maps comparable in a table:
``area_90``, the smallest fraction of the image's pixels that holds 90 % of the total change (a local
field gives a small number, a global one a large number), and ``spread_px``, the change-weighted
RMS distance of those pixels from the keypoint's predicted location.

CLI: ``python -m bench.receptive_field --model NAME [--checkpoint PATH] --image PATH
[--keypoint NAME ...] [--out DIR]``; untrained models are built after ``torch.manual_seed(seed)`` so
their maps (the architecture's own reach) are reproducible.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import torch
from torch import nn


MEASURES = ("peak", "l1")


@dataclass(frozen=True)
class RFConfig:
    window: int = 11
    stride: int = 8
    batch_size: int = 16
    seed: int = 0
    mass: float = 0.9  # the share of the total change that ``area`` measures
    measure: str = "peak"  # "peak" or "l1", see the module docstring

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {self.measure!r}")


@dataclass(frozen=True)
class RFResult:
    change_map: np.ndarray  # (H, W) float64, mean change of the windows covering each pixel
    peak_xy: tuple[float, float]  # predicted keypoint in input pixels (x, y)
    base_heatmap: np.ndarray  # (h, w) the keypoint's clean heatmap


def window_positions(size: int, window: int, stride: int) -> list[int]:
    """Top-left offsets along one axis; the last window is flush with the border."""
    if window > size:
        raise ValueError(f"window {window} is larger than the image side {size}")
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    starts = list(range(0, size - window + 1, stride))
    if starts[-1] != size - window:
        starts.append(size - window)
    return starts


def _perturbed_batches(
    image: torch.Tensor, cfg: RFConfig, fill_range: tuple[float, float]
) -> Iterator[tuple[list[tuple[int, int]], torch.Tensor]]:
    _, height, width = image.shape
    generator = torch.Generator().manual_seed(cfg.seed)
    grid = [(y, x) for y in window_positions(height, cfg.window, cfg.stride)
            for x in window_positions(width, cfg.window, cfg.stride)]
    low, high = fill_range
    for start in range(0, len(grid), cfg.batch_size):
        chunk = grid[start:start + cfg.batch_size]
        batch = image.unsqueeze(0).repeat(len(chunk), 1, 1, 1)
        noise = torch.rand((len(chunk), image.shape[0], cfg.window, cfg.window), generator=generator)
        noise = low + (high - low) * noise
        for i, (y, x) in enumerate(chunk):
            batch[i, :, y:y + cfg.window, x:x + cfg.window] = noise[i]
        yield chunk, batch


def _last_stage(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
    outputs = model(batch)
    if isinstance(outputs, torch.Tensor) or len(outputs) == 0:
        raise ValueError("model must return a non-empty list of heatmaps (forward contract)")
    return outputs[-1].float()


def _argmax_rc(heatmap: torch.Tensor) -> tuple[int, int]:
    return divmod(int(torch.argmax(heatmap)), heatmap.shape[1])


def _peak_xy(heatmap: torch.Tensor, input_hw: tuple[int, int]) -> tuple[float, float]:
    """Arg-max of one channel, mapped to the centre of its cell in input pixels."""
    h, w = heatmap.shape
    row, col = _argmax_rc(heatmap)
    return ((col + 0.5) * input_hw[1] / w - 0.5, (row + 0.5) * input_hw[0] / h - 0.5)


def _changes(heat: torch.Tensor, base: torch.Tensor, measure: str) -> np.ndarray:
    """Change of each perturbed heatmap (B, h, w) against the clean one (h, w)."""
    if measure == "peak":
        row, col = _argmax_rc(base)
        return (heat[:, row, col] - base[row, col]).abs().cpu().numpy()
    return (heat - base).abs().sum(dim=(1, 2)).cpu().numpy()


@torch.inference_mode()
def receptive_field_map(
    model: nn.Module,
    image: torch.Tensor,
    keypoint: int,
    cfg: RFConfig = RFConfig(),
    fill_range: tuple[float, float] = (0.0, 1.0),
) -> RFResult:
    """Slide the random window over ``image`` (C, H, W, already normalised like the model's input).

    ``fill_range`` is the value range of the random window, i.e. the normalised range of pixels.
    """
    if image.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {tuple(image.shape)}")
    model.eval()
    device = next(model.parameters()).device
    base = _last_stage(model, image.unsqueeze(0).to(device))[0]
    if not 0 <= keypoint < base.shape[0]:
        raise ValueError(f"keypoint index {keypoint} out of range for {base.shape[0]} heatmaps")
    base_k = base[keypoint]
    total = np.zeros(image.shape[1:], dtype=np.float64)
    cover = np.zeros(image.shape[1:], dtype=np.float64)
    for positions, batch in _perturbed_batches(image, cfg, fill_range):
        heat = _last_stage(model, batch.to(device))[:, keypoint]
        changes = _changes(heat, base_k, cfg.measure)
        for (y, x), change in zip(positions, changes):
            total[y:y + cfg.window, x:x + cfg.window] += change
            cover[y:y + cfg.window, x:x + cfg.window] += 1
    change_map = np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)
    peak = _peak_xy(base_k, (image.shape[1], image.shape[2]))
    return RFResult(change_map, peak, base_k.cpu().numpy())


def area_fraction(change_map: np.ndarray, mass: float = 0.9) -> float:
    """Smallest fraction of pixels whose change adds up to ``mass`` of the total (0 if no change)."""
    values = np.sort(change_map.ravel())[::-1]
    total = values.sum()
    if total <= 0:
        return 0.0
    needed = int(np.searchsorted(np.cumsum(values), mass * total) + 1)
    return min(needed, values.size) / values.size


def weighted_spread(change_map: np.ndarray, centre_xy: tuple[float, float]) -> float:
    """Change-weighted RMS distance (pixels) from ``centre_xy``; NaN if nothing changed."""
    total = change_map.sum()
    if total <= 0:
        return float("nan")
    ys, xs = np.indices(change_map.shape)
    dist2 = (xs - centre_xy[0]) ** 2 + (ys - centre_xy[1]) ** 2
    return float(np.sqrt((change_map * dist2).sum() / total))


def summarize(result: RFResult, mass: float = 0.9) -> dict[str, float]:
    height, width = result.change_map.shape
    spread = weighted_spread(result.change_map, result.peak_xy)
    return {
        f"area_{round(mass * 100)}": area_fraction(result.change_map, mass),
        "spread_px": spread,
        "spread_rel": spread / float(np.hypot(height, width)),
        "peak_x": result.peak_xy[0],
        "peak_y": result.peak_xy[1],
        "total_change": float(result.change_map.sum()),
    }


def render_overlay(
    image_rgb: np.ndarray, change_map: np.ndarray, peak_xy: Optional[tuple[float, float]] = None
) -> np.ndarray:
    """RGB uint8 image with the map in green, saturation proportional to the change (Figs. 6-8)."""
    if image_rgb.shape[:2] != change_map.shape:
        raise ValueError(f"image {image_rgb.shape[:2]} and map {change_map.shape} sizes differ")
    peak = change_map.max()
    alpha = (change_map / peak if peak > 0 else change_map)[..., None] * 0.85
    green = np.array([0, 255, 0], dtype=np.float64)
    # the image is dimmed to grey so that the green reads as the map, not as image content
    grey = image_rgb.astype(np.float64).mean(axis=2, keepdims=True).repeat(3, axis=2) * 0.7
    out = (grey * (1 - alpha) + green * alpha).clip(0, 255).astype(np.uint8)
    if peak_xy is not None:
        import cv2

        centre = (int(round(peak_xy[0])), int(round(peak_xy[1])))
        cv2.circle(out, centre, 4, (255, 0, 0), thickness=-1)
    return out
