"""PCKh of a model in the paper's table columns (Osokin 2019), single scale or Table 4's scales +
flip, scored in original image pixels (docs/accuracy.md)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from architectures.errors import InputFileError
from bench.accuracy.training.data import eval_dataset
from bench.accuracy.training.model import load_model
from bench.measure.devices import resolve_device
from bench.report import publish
from bench.report.files import write_bytes, write_csv, write_markdown
from datasets import PoseDataset, paper_columns, pckh, pckh_auc, predict_heatmaps, to_original


@dataclass(frozen=True)
class Predictions:
    """Per person, in original pixels: predicted, true (N, K, 2), valid (N, K), head size (N,)."""

    pred: np.ndarray
    gt: np.ndarray
    valid: np.ndarray
    head_size: np.ndarray


def protocol_name(scales: Sequence[float], flip: bool) -> str:
    text = "scales " + "/".join(f"{s:g}" for s in scales) if tuple(scales) != (1.0,) else ""
    return (text or "single scale") + (" + flip" if flip else "")


@torch.inference_mode()
def collect_predictions(
    model: nn.Module,
    dataset,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
    workers: int = 0,
    on_batch: Callable[[], None] | None = None,
) -> Predictions:
    """Run ``model`` on a ``PoseDataset``; ``on_batch()`` after each batch."""
    was_training = model.training
    model.eval()
    preds, indices = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    for batch in loader:
        images, pairs = batch["image"].to(device), dataset.channel_flip_pairs
        maps = predict_heatmaps(model, images, scales=scales, flip=flip, flip_pairs=pairs)
        coords = dataset.decode(maps)  # the data's joint order, whatever the model's channels
        for coord, matrix in zip(coords, batch["matrix"].numpy()):
            preds.append(to_original(coord, matrix))
        indices.extend(int(i) for i in batch["index"])
        if on_batch is not None:
            on_batch()
    model.train(was_training)
    samples = [dataset.source[i] for i in indices]
    return Predictions(
        np.stack(preds),
        np.stack([s.keypoints for s in samples]),
        np.stack([s.scored for s in samples]),  # LIP's protocol skips x < 0 or y < 0
        np.array([s.head_size for s in samples]),
    )


def score(predictions: Predictions, layout) -> dict[str, float]:
    """The paper's columns in %; ``AUC`` too for MPII (the official total-PCKh curve area)."""
    p = predictions
    result = pckh(p.pred, p.gt, p.valid, p.head_size)
    row: dict[str, float] = dict(paper_columns(result, layout))
    if layout.head_size_rule == "headbox":
        row["AUC"] = pckh_auc(p.pred, p.gt, p.valid, p.head_size, layout)
    row["persons"] = len(p.head_size)
    row["excluded"] = result.excluded
    return row


def evaluate_model(model: nn.Module, dataset, **options: Any) -> dict[str, float]:
    """:func:`score` of :func:`collect_predictions` (its options)."""
    return score(collect_predictions(model, dataset, **options), dataset.layout)


def check_scorable(data: PoseDataset, dataset: str, split: str, root: Path) -> None:
    """Refuse, before the model runs, data whose PCKh would be 0 or NaN everywhere."""
    samples = list(data.source)
    missing = [s.image_path for s in samples if s.image_path is None or not s.image_path.is_file()]
    if missing:
        raise InputFileError(
            f"--root {root}: image file {missing[0]} does not exist ({len(missing)} of "
            f"{len(samples)} images of the {dataset} {split!r} split are missing)"
        )
    if not any(s.valid.any() for s in samples):
        raise InputFileError(
            f"--root {root}: no person of the {dataset} {split!r} split has an annotated joint "
            f"(every joint is missing or NaN); check the annotation file"
        )
    heads = np.array([s.head_size for s in samples], dtype=np.float64)
    if not (np.isfinite(heads) & (heads > 0)).any():
        reason = "check the annotation file"
        if data.layout.head_size_rule == "headbox" and split == "train":
            reason = (
                "MPII's train split has no head boxes (only its val persons have): use --split val"
            )
        raise InputFileError(
            f"--root {root}: no person of the {dataset} {split!r} split has a head size, which "
            f"PCKh divides by; {reason}"
        )


def evaluate_checkpoint(
    model_name: str,
    checkpoint: Path | None,
    dataset: str,
    root: Path,
    split: str = "val",
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: str | torch.device = "auto",
    input_size: tuple[int, int] | None = None,
    batch_size: int = 16,
    max_samples: int | None = None,
    workers: int = 0,
    trust_checkpoint: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """One table row in %; ``checkpoint`` None: seeded weights; ``input_size`` None: the
    checkpoint's; ``on_start(batches)`` before the batches, ``on_batch()`` after each."""
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    model = load_model(model_name, checkpoint, dev, input_size, trust=trust_checkpoint)
    data = eval_dataset(model.info, dataset, Path(root), split, max_samples)
    check_scorable(data, dataset, split, Path(root))
    if on_start is not None:
        on_start(math.ceil(len(data) / batch_size))
    predictions = collect_predictions(model, data, scales, flip, dev, batch_size, workers, on_batch)
    weights = str(checkpoint) if checkpoint is not None else "untrained"
    row = {"model": model_name, "checkpoint": weights, "dataset": dataset, "split": split}
    return {**row, "protocol": protocol_name(scales, flip), **score(predictions, data.layout)}


_NOTE = (
    "PCKh@0.5 in %, measured by bench.evaluate in this run; Head = mean(neck, head top), "
    "PCKh pooled over 14 joints (pelvis and thorax/spine excluded)."
)


def row_writers(row: dict[str, Any]) -> dict[str, Callable[[Path], Path]]:
    """File name -> writer(path) for ``eval_<model>.csv`` and ``.md``."""
    frame, name = pd.DataFrame([row]), row["model"]
    return {
        f"eval_{name}.csv": lambda path: write_csv(frame, path),
        f"eval_{name}.md": lambda path: write_markdown(frame, path, f"PCKh of {name}", notes=_NOTE),
    }


def publish_row(row: dict[str, Any], out: Path, producer: str) -> tuple[dict[str, Path], list[str]]:
    """Publish ``row`` beside other models' earlier rows; returns (written, replaced names)."""
    writers = row_writers(row)
    mine = set(writers)
    previous = publish.read_manifest(out) if out.is_dir() else None
    earlier = list(previous["files"]) if previous else []
    for name in earlier:
        if name not in writers and (out / name).is_file():
            writers[name] = lambda path, old=out / name: write_bytes(path, old.read_bytes())
    # bench.evaluate names the replaced model itself: rows of other models stay
    written = publish.publish(out, writers, tuple(writers), producer, say=lambda line: None)
    return written, [name for name in earlier if name in mine]
