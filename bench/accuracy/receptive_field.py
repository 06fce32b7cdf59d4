"""Empirical receptive field of a pose network (GCPM, Osokin 2019, Sec. 3.3, Figs. 6-8).

Following Zhou et al. (ICLR'15), an 11x11 window filled with random values slides over the input
image; each perturbed image goes through the network and the chosen keypoint's heatmap (last stage)
is compared with the heatmap of the clean image. Two measures of the change (``RFConfig.measure``):

- ``peak`` (default): the absolute change of the heatmap value at the clean prediction's arg-max.
  This is Zhou et al.'s discrepancy of one unit, here the unit that predicts the keypoint, so the
  map is that unit's empirical receptive field, meaningful for untrained networks too.
- ``l1``: the L1 norm of the difference over the keypoint's whole channel. For a trained network,
  whose channel is near zero away from the keypoint, it also counts windows that create a second
  peak; for an untrained one it is dominated by the local response at every window, so it is not
  a receptive field there.

A pixel's value in the map is the mean change of the windows that cover it. The paper renders this
map as green over the image, saturation proportional to the change.

One number per model and keypoint makes maps comparable in a table: ``area_90``, the smallest
fraction of window positions (tiles of the image) that holds 90 % of the total change (a local field
gives a small number, a global one a large number), and ``spread_px``, the change-weighted RMS
distance of the window centres from the keypoint's predicted location.

Untrained models are built after ``torch.manual_seed(seed)`` so that their maps (the
architecture's own reach) are reproducible, and their BatchNorm statistics are set from the image
first (:func:`calibrate_batchnorm`), without which their output hardly depends on the input at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

MEASURES = ("peak", "l1")


@dataclass(frozen=True)
class RFConfig:
    window: int = 11
    stride: int = 11  # = window: the windows tile the image, every pixel perturbed once
    batch_size: int = 16
    seed: int = 0
    mass: float = 0.9  # the share of the total change that ``area`` measures
    measure: str = "peak"  # "peak" or "l1", see the module docstring

    def __post_init__(self) -> None:
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {self.measure!r}")


@dataclass(frozen=True)
class RFResult:
    """One keypoint's map: the change at every window position, and where the keypoint is."""

    changes: np.ndarray  # (ny, nx) change per window position
    rows: tuple[int, ...]  # top offsets of the windows (ny)
    cols: tuple[int, ...]  # left offsets of the windows (nx)
    window: int
    image_hw: tuple[int, int]
    peak_xy: tuple[float, float]  # predicted keypoint in input pixels (x, y)

    def pixel_map(self) -> np.ndarray:
        """(H, W): mean change of the windows covering each pixel; 0 where none does."""
        total = np.zeros(self.image_hw)
        cover = np.zeros(self.image_hw)
        for i, y in enumerate(self.rows):
            for j, x in enumerate(self.cols):
                total[y : y + self.window, x : x + self.window] += self.changes[i, j]
                cover[y : y + self.window, x : x + self.window] += 1
        return np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)

    def window_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """(ny, nx) x and y of the window centres in input pixels."""
        half = (self.window - 1) / 2
        return np.meshgrid(np.array(self.cols) + half, np.array(self.rows) + half)


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


def count_batches(image_hw: tuple[int, int], cfg: RFConfig) -> int:
    """How many perturbed batches :func:`receptive_field_maps` runs on an image of this size."""
    rows = window_positions(image_hw[0], cfg.window, cfg.stride)
    cols = window_positions(image_hw[1], cfg.window, cfg.stride)
    return math.ceil(len(rows) * len(cols) / cfg.batch_size)


def _perturbed_batches(
    image: torch.Tensor, grid: list[tuple[int, int]], cfg: RFConfig, fill_range: tuple[float, float]
) -> Iterator[tuple[int, torch.Tensor]]:
    """(count, batch): every batch has ``cfg.batch_size`` images, the last padded with clean
    copies, so that the clean reference goes through the same kernels as the perturbed images."""
    generator = torch.Generator().manual_seed(cfg.seed)
    low, high = fill_range
    for start in range(0, len(grid), cfg.batch_size):
        chunk = grid[start : start + cfg.batch_size]
        batch = image.unsqueeze(0).repeat(cfg.batch_size, 1, 1, 1)
        shape = (len(chunk), image.shape[0], cfg.window, cfg.window)
        noise = low + (high - low) * torch.rand(shape, generator=generator)
        for i, (y, x) in enumerate(chunk):
            batch[i, :, y : y + cfg.window, x : x + cfg.window] = noise[i]
        yield len(chunk), batch


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
def receptive_field_maps(
    model: nn.Module,
    image: torch.Tensor,
    keypoints: Sequence[int],
    cfg: RFConfig = RFConfig(),
    fill_range: tuple[float, float] = (0.0, 1.0),
    on_batch: Callable[[], None] | None = None,
) -> dict[int, RFResult]:
    """Slide the random window over ``image`` (C, H, W, normalised like the model's input).

    One sweep serves every keypoint: each perturbed image's heatmaps hold all channels.
    ``fill_range`` is the value range of the random window, i.e. the normalised range of pixels.
    ``on_batch()`` is called after each of the :func:`count_batches` batches (progress).
    """
    if image.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got shape {tuple(image.shape)}")
    model.eval()
    device = next(model.parameters()).device
    clean = image.unsqueeze(0).repeat(cfg.batch_size, 1, 1, 1)
    base = _last_stage(model, clean.to(device))[0]
    for k in keypoints:
        if not 0 <= k < base.shape[0]:
            raise ValueError(f"keypoint index {k} out of range for {base.shape[0]} heatmaps")
    hw = (image.shape[1], image.shape[2])
    rows = window_positions(hw[0], cfg.window, cfg.stride)
    cols = window_positions(hw[1], cfg.window, cfg.stride)
    grid = [(y, x) for y in rows for x in cols]
    found: dict[int, list[np.ndarray]] = {k: [] for k in keypoints}
    for count, batch in _perturbed_batches(image, grid, cfg, fill_range):
        heat = _last_stage(model, batch.to(device))[:count]
        for k in keypoints:
            found[k].append(_changes(heat[:, k], base[k], cfg.measure))
        if on_batch is not None:
            on_batch()
    return {
        k: RFResult(
            np.concatenate(found[k]).reshape(len(rows), len(cols)),
            tuple(rows),
            tuple(cols),
            cfg.window,
            hw,
            _peak_xy(base[k], hw),
        )
        for k in keypoints
    }


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, image: torch.Tensor) -> int:
    """Set every BatchNorm's running statistics from one train-mode pass over ``image``.

    An untrained network's BN layers hold running statistics (0, 1) that do not match its
    activations, so in eval mode the signal fades through the depth and the output hardly depends
    on the input (changes near float rounding). Statistics of the image itself are what a trained
    network's BN provides for its data; only the statistics change, no weight. Returns the number
    of BN layers set.
    """
    layers = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average: exactly this pass's statistics
    model.train()
    model(image.unsqueeze(0).to(next(model.parameters()).device))
    model.eval()
    return len(layers)


def area_fraction(changes: np.ndarray, mass: float = 0.9) -> float:
    """Smallest fraction of cells whose change adds up to ``mass`` of the total (0 if no change)."""
    values = np.sort(changes.ravel())[::-1]
    total = values.sum()
    if total <= 0:
        return 0.0
    needed = int(np.searchsorted(np.cumsum(values), mass * total) + 1)
    return min(needed, values.size) / values.size


def weighted_spread(
    changes: np.ndarray, xs: np.ndarray, ys: np.ndarray, centre_xy: tuple[float, float]
) -> float:
    """Change-weighted RMS distance of cells at (xs, ys) from ``centre_xy``; NaN if no change."""
    total = changes.sum()
    if total <= 0:
        return float("nan")
    dist2 = (xs - centre_xy[0]) ** 2 + (ys - centre_xy[1]) ** 2
    return float(np.sqrt((changes * dist2).sum() / total))


def summarize(result: RFResult, mass: float = 0.9) -> dict[str, float]:
    """``area_90``: fraction of window positions (the image tiled by the grid) holding 90 % of the
    change; ``spread_px``: change-weighted RMS distance of the window centres from the keypoint."""
    xs, ys = result.window_centres()
    spread = weighted_spread(result.changes, xs, ys, result.peak_xy)
    return {
        f"area_{round(mass * 100)}": area_fraction(result.changes, mass),
        "spread_px": spread,
        "spread_rel": spread / float(np.hypot(*result.image_hw)),
        "peak_x": result.peak_xy[0],
        "peak_y": result.peak_xy[1],
        "total_change": float(result.changes.sum()),
    }
