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

CLI: ``python -m bench.receptive_field --model NAME [--checkpoint PATH] --image PATH
[--keypoint NAME ...] --out DIR``; every argument is checked before a model runs, ``--out`` has no
default (the committed ``results/receptive_field`` is rewritten only when named), and the maps and
table are published as one set (:mod:`bench.report.publish`). Untrained models are built after
``torch.manual_seed(seed)`` so
their maps (the architecture's own reach) are reproducible, and their BatchNorm statistics are set
from the image first (:func:`calibrate_batchnorm`), without which their output hardly depends on
the input at all.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
from torch import nn

from architectures import list_models, model_info
from architectures.errors import (
    ArgumentParser,
    InputFileError,
    UsageError,
    UserError,
    check_range,
    error_boundary,
)
from bench.accuracy.training.checkpoint import CheckpointError
from bench.evaluate import load_model
from bench.measure.devices import resolve_device
from bench.report import publish as result_set
from bench.report.files import prepare_output, readable_file, write_bytes, write_csv, write_markdown
from datasets import AnnotationError, fit, get_layout, normalize_image
from datasets.images import decode_fully

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
) -> dict[int, RFResult]:
    """Slide the random window over ``image`` (C, H, W, normalised like the model's input).

    One sweep serves every keypoint: each perturbed image's heatmaps hold all channels.
    ``fill_range`` is the value range of the random window, i.e. the normalised range of pixels.
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


def receptive_field_map(
    model: nn.Module,
    image: torch.Tensor,
    keypoint: int,
    cfg: RFConfig = RFConfig(),
    fill_range: tuple[float, float] = (0.0, 1.0),
) -> RFResult:
    """:func:`receptive_field_maps` for one keypoint."""
    return receptive_field_maps(model, image, [keypoint], cfg, fill_range)[keypoint]


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
        centre = (round(peak_xy[0]), round(peak_xy[1]))
        cv2.circle(out, centre, 4, (255, 0, 0), thickness=-1)
    return out


def load_input(
    image_path: Path, input_size: tuple[int, int]
) -> tuple[torch.Tensor, np.ndarray, tuple]:
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


def keypoint_indices(dataset: str, names: Sequence[str]) -> dict[str, int]:

    layout = get_layout(dataset)
    return {name: layout.index(name) for name in names}


def _load(model_name: str, checkpoint: Path | None, device: torch.device, seed: int) -> nn.Module:

    if checkpoint is None:
        return load_model(model_name, None, device, seed=seed)
    try:
        return load_model(model_name, checkpoint, device, seed=seed)
    except UserError:
        raise
    except (ValueError, OSError) as exc:  # unreadable, foreign, or made for another model
        raise CheckpointError(f"--checkpoint {checkpoint}: {exc}") from exc


def measure_model(
    model_name: str,
    checkpoint: Path | None,
    image_path: Path,
    keypoints: Sequence[str],
    cfg: RFConfig,
    device: str | torch.device = "auto",
    out: Path | None = None,
    calibrate_bn: bool = True,
    overlays: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Receptive-field numbers of one model, one row per keypoint; PNG maps into ``out`` and/or
    ``overlays`` (file name -> RGB image, for the caller to publish).

    Without a checkpoint the seeded untrained model is measured, its BatchNorm statistics set
    from the image first (:func:`calibrate_batchnorm`) unless ``calibrate_bn`` is false.
    """

    dev = device if isinstance(device, torch.device) else resolve_device(device)
    model = _load(model_name, checkpoint, dev, cfg.seed)
    image, rgb, fill = load_input(image_path, model.info.input_size)
    indices = keypoint_indices(model.info.dataset, keypoints)
    if checkpoint is None and calibrate_bn:
        calibrate_batchnorm(model, image)
    results = receptive_field_maps(model, image, list(indices.values()), cfg, fill)
    rows = []
    for name, index in indices.items():
        result = results[index]
        overlay = render_overlay(rgb, result.pixel_map(), result.peak_xy)
        if out is not None:
            _write_png(out / f"{model_name}_{name}.png", overlay)
        if overlays is not None:
            overlays[f"{model_name}_{name}.png"] = overlay
        rows.append(
            {
                "model": model_name,
                "keypoint": name,
                "weights": str(checkpoint or "untrained"),
                "bn_calibrated": checkpoint is None and calibrate_bn,
                **summarize(result, cfg.mass),
            }
        )
    frame = pd.DataFrame(rows)
    for key, value in asdict(cfg).items():
        frame[key] = value
    frame["image"] = str(image_path)
    return frame


def _write_png(path: Path, rgb: np.ndarray) -> Path:

    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"cannot encode PNG for {path}")
    return write_bytes(path, encoded.tobytes())


def table_writers(frame: pd.DataFrame, name: str = "receptive_field") -> dict:
    """File name -> writer(path) for the CSV and Markdown table."""

    shown = frame[
        ["model", "keypoint", "weights", "bn_calibrated", "area_90", "spread_px", "spread_rel"]
        + ["peak_x", "peak_y"]
    ]
    notes = _TABLE_NOTE.format(**frame.iloc[0].to_dict())
    title = "Empirical receptive field (GCPM Sec. 3.3)"
    return {
        f"{name}.csv": lambda path: write_csv(frame, path),
        f"{name}.md": lambda path: write_markdown(shown, path, title=title, notes=notes),
    }


def write_table(frame: pd.DataFrame, out: Path, name: str = "receptive_field") -> None:
    out.mkdir(parents=True, exist_ok=True)
    for file_name, write in table_writers(frame, name).items():
        write(out / file_name)


_TABLE_NOTE = """Measured by `python -m bench.receptive_field` in this run: a {window}x{window}
window of uniform random pixels slides over `{image}` with stride {stride}; change measure
`{measure}` (see the module docstring), seed {seed}. `area_90`: fraction of window positions holding
90 % of the total change; `spread_px`: change-weighted RMS distance (input pixels) of the window
centres from the keypoint's predicted location (`peak_x`, `peak_y`); `spread_rel` divides it by the
input diagonal. `bn_calibrated`: an untrained model's BatchNorm statistics were set from the image
(`calibrate_batchnorm`)."""


def _parser() -> argparse.ArgumentParser:

    parser = ArgumentParser(
        prog="python -m bench.receptive_field", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, nargs="+", help="one or more registered models")
    parser.add_argument("--checkpoint", type=Path, default=None, help="weights (one model only)")
    parser.add_argument("--image", required=True, type=Path)
    parser.add_argument(
        "--keypoint",
        nargs="+",
        default=["R_Hip"],
        help="joint names of the model's layout (LIP: R_Hip, L_Elbow, ...)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="folder for the maps and table (the committed ones: results/receptive_field)",
    )
    parser.add_argument("--window", type=int, default=RFConfig.window)
    parser.add_argument("--stride", type=int, default=RFConfig.stride)
    parser.add_argument("--batch-size", type=int, default=RFConfig.batch_size)
    parser.add_argument("--measure", choices=MEASURES, default=RFConfig.measure)
    parser.add_argument(
        "--seed", type=int, default=0, help="weights of untrained models and the noise"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    parser.add_argument(
        "--no-bn-calibration",
        action="store_true",
        help="untrained models: keep BatchNorm's initial statistics (see calibrate_batchnorm)",
    )
    return parser


def check_args(args: argparse.Namespace) -> torch.device:
    """Every check before a model runs: numbers, models, keypoints, image, checkpoint, device,
    output folder (created and probed). Raises the :mod:`architectures.errors` types."""

    if args.checkpoint is not None and len(args.model) > 1:
        raise UsageError("--checkpoint applies to a single --model")
    for option in ("window", "stride", "batch_size"):
        check_range(f"--{option.replace('_', '-')}", getattr(args, option), low=1)
    check_range("--seed", args.seed, 0, 2**63 - 1)  # torch's generator takes a 64-bit seed
    unknown = [name for name in args.model if name not in list_models()]
    if unknown:
        raise UsageError(
            f"--model: unknown model(s) {', '.join(map(repr, unknown))}; "
            f"known models: {', '.join(list_models())}"
        )
    for name in args.model:
        info = model_info(name)
        joints = get_layout(info.dataset).joint_names
        missing = [k for k in args.keypoint if k not in joints]
        if missing:
            raise UsageError(
                f"--keypoint {' '.join(missing)}: not a joint of {name} "
                f"({info.dataset}); joints: {', '.join(joints)}"
            )
        if args.window > min(info.input_size):
            raise UsageError(
                f"--window {args.window} is larger than the input of {name} "
                f"({info.input_size[0]}x{info.input_size[1]})"
            )
    readable_file(args.image, f"--image {args.image}")
    try:  # in full: OpenCV decodes a truncated JPEG (grey rows) without a word
        decode_fully(args.image, "--image")
    except AnnotationError as error:
        raise InputFileError(str(error)) from None
    if args.checkpoint is not None:
        readable_file(args.checkpoint, f"--checkpoint {args.checkpoint}")
    device = resolve_device(args.device)
    result_set.check_owner(args.out, PRODUCER, OUTPUT_NAMES)  # before creating it
    prepare_output(args.out, "--out")
    return device


# The set's tool, and the names it always writes (the maps' names depend on model and keypoint).
PRODUCER = "bench.receptive_field"
OUTPUT_NAMES = ("receptive_field.csv", "receptive_field.md")


def run(args: argparse.Namespace) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Check, measure every model, publish maps and table into ``args.out`` as one set."""

    device = check_args(args)
    result_set.recover(args.out)
    cfg = RFConfig(
        window=args.window,
        stride=args.stride,
        batch_size=args.batch_size,
        seed=args.seed,
        measure=args.measure,
    )
    overlays: dict[str, np.ndarray] = {}
    frames = [
        measure_model(
            name,
            args.checkpoint,
            args.image,
            args.keypoint,
            cfg,
            device,
            calibrate_bn=not args.no_bn_calibration,
            overlays=overlays,
        )
        for name in args.model
    ]
    table = pd.concat(frames, ignore_index=True)
    writers = {
        name: (lambda path, rgb=rgb: _write_png(path, rgb)) for name, rgb in overlays.items()
    }
    writers.update(table_writers(table))
    written = result_set.publish(
        args.out,
        writers,
        owned=OUTPUT_NAMES,
        producer=PRODUCER,
    )
    return table, written


def main(argv: list[str] | None = None) -> int:

    parser = _parser()
    args = parser.parse_args(argv)
    # claim: a run that fails removes the --out folder it created, if it left it empty.
    with error_boundary(parser), result_set.claim(args.out, PRODUCER, OUTPUT_NAMES):
        table, written = run(args)
    print(
        table[["model", "keypoint", "area_90", "spread_px", "spread_rel"]].to_markdown(index=False)
    )
    print(
        f"wrote {len(written)} files (maps, receptive_field.csv/.md, manifest.json) to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
