"""Receptive-field table rows and green overlays (GCPM Figs. 6-8) as writers of one set."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn

from architectures.errors import UsageError
from architectures.registry import model_info
from bench.accuracy import receptive_field as rf
from bench.report.files import write_bytes, write_csv, write_markdown
from datasets import fit, get_layout, normalize_image

Writer = Callable[[Path], Path]


def check_models(names: Sequence[str], keypoints: Sequence[str], window: int) -> None:
    """Every model has the keypoints (in its layout) and an input the window fits in."""
    for name in names:
        info = model_info(name)
        joints = get_layout(info.dataset).joint_names
        missing = [k for k in keypoints if k not in joints]
        if missing:
            raise UsageError(
                f"--keypoint {' '.join(missing)}: not a joint of {name} ({info.dataset}); "
                f"joints: {', '.join(joints)}"
            )
        if window > min(info.input_size):
            height, width = info.input_size
            raise UsageError(
                f"--window {window} is larger than the input of {name} ({height}x{width})"
            )


def render_overlay(
    image_rgb: np.ndarray, change_map: np.ndarray, peak_xy: tuple[float, float] | None = None
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
        cv2.circle(out, (round(peak_xy[0]), round(peak_xy[1])), 4, (255, 0, 0), thickness=-1)
    return out


def load_input(
    image_path: Path, input_size: tuple[int, int]
) -> tuple[torch.Tensor, np.ndarray, tuple[float, float]]:
    """Image fitted to the input as in evaluation: (normalised tensor, RGB uint8, noise range)."""
    bgr = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read image {image_path}")
    height, width = bgr.shape[:2]
    fitted = fit(
        bgr, np.zeros((0, 2)), np.zeros(0, dtype=bool), (-0.5, -0.5, width, height), input_size
    ).image
    extremes = normalize_image(np.array([[[0, 0, 0], [255, 255, 255]]], dtype=np.uint8))
    fill = (float(extremes.min()), float(extremes.max()))
    return normalize_image(fitted), cv2.cvtColor(fitted, cv2.COLOR_BGR2RGB), fill


def measure_model(
    model: nn.Module,
    checkpoint: Path | None,
    image_path: Path,
    keypoints: Sequence[str],
    cfg: rf.RFConfig,
    calibrate_bn: bool = True,
    on_batch: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame, dict[str, Writer]]:
    """A row and an overlay writer (``<model>_<keypoint>.png``) per keypoint."""
    name = model.info.name
    image, rgb, fill = load_input(image_path, model.info.input_size)
    layout = get_layout(model.info.dataset)
    indices = {k: layout.index(k) for k in keypoints}
    calibrated = checkpoint is None and calibrate_bn
    if calibrated:
        rf.calibrate_batchnorm(model, image)
    results = rf.receptive_field_maps(model, image, list(indices.values()), cfg, fill, on_batch)
    rows, overlays = [], {}
    for keypoint, index in indices.items():
        result = results[index]
        overlay = render_overlay(rgb, result.pixel_map(), result.peak_xy)
        overlays[f"{name}_{keypoint}.png"] = lambda path, rgb=overlay: write_png(path, rgb)
        weights = str(checkpoint or "untrained")
        row = {"model": name, "keypoint": keypoint, "weights": weights, "bn_calibrated": calibrated}
        rows.append({**row, **rf.summarize(result, cfg.mass)})
    frame = pd.DataFrame(rows).assign(**asdict(cfg), image=str(image_path))
    return frame, overlays


def write_png(path: Path, rgb: np.ndarray) -> Path:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"cannot encode PNG for {path}")
    return write_bytes(path, encoded.tobytes())


SHOWN = ["model", "keypoint", "weights", "bn_calibrated", "area_90", "spread_px", "spread_rel"]


def table_writers(frame: pd.DataFrame, name: str = "receptive_field") -> dict[str, Writer]:
    """File name -> writer(path) for the CSV (every column) and Markdown table."""
    shown = frame[[*SHOWN, "peak_x", "peak_y"]]
    notes = _TABLE_NOTE.format(**frame.iloc[0].to_dict())
    title = "Empirical receptive field (GCPM Sec. 3.3)"
    return {
        f"{name}.csv": lambda path: write_csv(frame, path),
        f"{name}.md": lambda path: write_markdown(shown, path, title=title, notes=notes),
    }


_TABLE_NOTE = """Measured by `python -m bench.receptive_field` in this run: a {window}x{window}
window of uniform random pixels slides over `{image}` with stride {stride}; change measure
`{measure}`, seed {seed}. `area_90`: fraction of window positions holding 90 % of the change;
`spread_px`: change-weighted RMS distance (input pixels) of the window centres from the predicted
keypoint (`peak_x`, `peak_y`), `spread_rel` over the input diagonal. `bn_calibrated`: an untrained
model's BatchNorm statistics were set from the image (`calibrate_batchnorm`)."""
