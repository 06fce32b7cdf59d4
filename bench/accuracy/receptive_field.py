"""Empirical receptive field (GCPM, Osokin 2019, Sec. 3.3, Figs. 6-8; Zhou et al., ICLR'15): the
change of a keypoint's last-stage heatmap as a random window slides over the image. Measures
``peak`` (the clean arg-max unit) and ``l1`` (the whole channel) are in docs/accuracy.md."""

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
        total, cover = np.zeros(self.image_hw), np.zeros(self.image_hw)
        for i, y in enumerate(self.rows):
            for j, x in enumerate(self.cols):
                total[y : y + self.window, x : x + self.window] += self.changes[i, j]
                cover[y : y + self.window, x : x + self.window] += 1
        return np.divide(total, cover, out=np.zeros_like(total), where=cover > 0)


def window_positions(size: int, window: int, stride: int) -> list[int]:
    """Top-left offsets along one axis; the last window is flush with the border."""
    if window > size or stride < 1:
        raise ValueError(f"window {window} is larger than the image side {size} or stride < 1")
    starts = list(range(0, size - window + 1, stride))
    return starts if starts[-1] == size - window else [*starts, size - window]


def count_batches(image_hw: tuple[int, int], cfg: RFConfig) -> int:
    """How many perturbed batches :func:`receptive_field_maps` runs on an image of this size."""
    rows = window_positions(image_hw[0], cfg.window, cfg.stride)
    cols = window_positions(image_hw[1], cfg.window, cfg.stride)
    return math.ceil(len(rows) * len(cols) / cfg.batch_size)


def _perturbed_batches(
    image: torch.Tensor, grid: list, cfg: RFConfig, fill_range: tuple[float, float]
) -> Iterator[tuple[int, torch.Tensor]]:
    """(count, batch), padded with clean copies: the reference runs through the same kernels."""
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
    """Slide the window over ``image`` (C, H, W, normalised), filled from ``fill_range``; one
    sweep serves every keypoint; ``on_batch()`` after each of :func:`count_batches` batches."""
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
    shape = (len(rows), len(cols))
    changes = {k: np.concatenate(found[k]).reshape(shape) for k in keypoints}
    return {
        k: RFResult(changes[k], tuple(rows), tuple(cols), cfg.window, hw, _peak_xy(base[k], hw))
        for k in keypoints
    }


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, image: torch.Tensor) -> int:
    """BatchNorm statistics from one pass over ``image`` (untrained (0, 1) ones fade the signal);
    returns how many layers were set."""
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


def weighted_spread(changes: np.ndarray, xs: np.ndarray, ys: np.ndarray, centre_xy) -> float:
    """Change-weighted RMS distance of cells at (xs, ys) from ``centre_xy``; NaN if no change."""
    total = changes.sum()
    if total <= 0:
        return float("nan")
    dist2 = (xs - centre_xy[0]) ** 2 + (ys - centre_xy[1]) ** 2
    return float(np.sqrt((changes * dist2).sum() / total))


def summarize(result: RFResult, mass: float = 0.9) -> dict[str, float]:
    """The table's columns (``area_90``, ``spread_px`` ...; see the table note)."""
    half = (result.window - 1) / 2  # the window centres in input pixels
    xs, ys = np.meshgrid(np.array(result.cols) + half, np.array(result.rows) + half)
    spread = weighted_spread(result.changes, xs, ys, result.peak_xy)
    return {
        f"area_{round(mass * 100)}": area_fraction(result.changes, mass),
        "spread_px": spread,
        "spread_rel": spread / float(np.hypot(*result.image_hw)),
        "peak_x": result.peak_xy[0],
        "peak_y": result.peak_xy[1],
        "total_change": float(result.changes.sum()),
    }
