"""PCKh of a model on a ``datasets.PoseDataset``, in the paper's table columns (Osokin 2019).

Protocols: single scale, or Table 4's heatmaps averaged over input scales 0.75 / 1.0 / 1.25 and the
flipped image (``datasets.predict_heatmaps``). Predictions are decoded (arg-max with the
quarter-pixel shift), mapped back to original image pixels and scored there against the reader's
ground truth with the dataset's own PCKh protocol (LIP: head-neck size; MPII: 0.6 x head-box
diagonal, plus AUC over thresholds 0..0.5). Training validates with these functions and
``bench.evaluate`` prints them; both sit on top of this module, which imports neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from datasets import paper_columns, pckh, pckh_auc, predict_heatmaps, to_original

PAPER_SCALES = (0.75, 1.0, 1.25)


@dataclass(frozen=True)
class Predictions:
    """Per person, in original pixels: predicted, true (N, K, 2), valid (N, K), head size (N,)."""

    pred: np.ndarray
    gt: np.ndarray
    valid: np.ndarray
    head_size: np.ndarray


def protocol_name(scales: Sequence[float], flip: bool) -> str:
    scale_text = (
        "single scale"
        if tuple(scales) == (1.0,)
        else "scales " + "/".join(f"{s:g}" for s in scales)
    )
    return f"{scale_text}{' + flip' if flip else ''}"


@torch.inference_mode()
def collect_predictions(
    model: nn.Module,
    dataset,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
    workers: int = 0,
) -> Predictions:
    """Run ``model`` on a ``datasets.PoseDataset`` (no augmentation); decode in original pixels."""
    was_training = model.training
    model.eval()
    preds, indices = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    for batch in loader:
        maps = predict_heatmaps(
            model,
            batch["image"].to(device),
            scales=scales,
            flip=flip,
            flip_pairs=dataset.channel_flip_pairs,
        )
        coords = dataset.decode(maps)  # the data's joint order, whatever the model's channels
        for coord, matrix in zip(coords, batch["matrix"].numpy()):
            preds.append(to_original(coord, matrix))
        indices.extend(int(i) for i in batch["index"])
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


def evaluate_model(
    model: nn.Module,
    dataset,
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: torch.device | str = "cpu",
    batch_size: int = 16,
    workers: int = 0,
) -> dict[str, float]:
    """Columns of :func:`score` for ``model`` on a ``PoseDataset``."""
    predictions = collect_predictions(model, dataset, scales, flip, device, batch_size, workers)
    return score(predictions, dataset.layout)
