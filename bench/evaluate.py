"""PCKh evaluation of a (trained or untrained) model in the paper's table columns (Osokin 2019).

Protocols: single scale, or Table 4's heatmaps averaged over input scales 0.75 / 1.0 / 1.25 and the
flipped image (``datasets.predict_heatmaps``). Predictions are decoded (arg-max with the
quarter-pixel shift), mapped back to original image pixels and scored there against the reader's
ground truth with the dataset's own PCKh protocol (LIP: head-neck size; MPII: 0.6 x head-box
diagonal, plus AUC over thresholds 0..0.5). Columns: Head, Sho., Elb., Wri., Hip, Knee, Ank.,
PCKh (pooled over 14 joints).

``python -m bench.evaluate --model NAME [--checkpoint PATH] --dataset {lip,mpii,synthetic}
--root DIR [--flip --scales 0.75 1.0 1.25] [--out DIR]`` prints the row and writes
``<out>/eval_<model>.csv/.md``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader

from bench.cli import user_errors_exit

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
    from datasets import decode, predict_heatmaps, to_original

    layout = dataset.layout
    was_training = model.training
    model.eval()
    preds, indices = [], []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers)
    for batch in loader:
        maps = predict_heatmaps(
            model, batch["image"].to(device), scales=scales, flip=flip, flip_pairs=layout.flip_pairs
        )
        coords, _ = decode(maps[:, : layout.num_keypoints], dataset.input_size)
        for coord, matrix in zip(coords, batch["matrix"].numpy()):
            preds.append(to_original(coord, matrix))
        indices.extend(int(i) for i in batch["index"])
    model.train(was_training)
    samples = [dataset.source[i] for i in indices]
    return Predictions(
        np.stack(preds),
        np.stack([s.keypoints for s in samples]),
        np.stack([s.valid for s in samples]),
        np.array([s.head_size for s in samples]),
    )


def score(predictions: Predictions, layout) -> dict[str, float]:
    """The paper's columns in %; ``AUC`` too for MPII (the official total-PCKh curve area)."""
    from datasets import paper_columns, pckh, pckh_auc

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


def load_model(
    model_name: str,
    checkpoint: Optional[Path],
    device: torch.device,
    input_size: Optional[tuple[int, int]] = None,
    seed: int = 0,
) -> nn.Module:
    """A registered model with the weights of ``checkpoint``; without one, seeded random weights."""
    from bench.training.checkpoint import load_checkpoint, model_state_from
    from bench.training.data import build_model_plain

    torch.manual_seed(seed)  # an untrained model's PCKh is reproducible
    model = build_model_plain(model_name, input_size)
    if checkpoint is not None:
        state = model_state_from(load_checkpoint(checkpoint), checkpoint)
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(
                f"checkpoint {checkpoint} does not fit model {model_name!r}: {exc}"
            ) from exc
    return model.to(device).eval()


def evaluate_checkpoint(
    model_name: str,
    checkpoint: Optional[str | Path],
    dataset: str,
    root: str | Path,
    split: str = "val",
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: str = "auto",
    input_size: Optional[tuple[int, int]] = None,
    batch_size: int = 16,
    max_samples: Optional[int] = None,
    workers: int = 0,
) -> dict[str, Any]:
    """One table row: identification columns, then Head .. Ank., PCKh (and AUC for MPII), in %.

    ``checkpoint=None`` scores the untrained model (seeded weights). ``dataset`` is ``lip``,
    ``mpii`` or ``synthetic`` (generated data in the model's layout, read from ``root``).
    """
    from bench.training.data import eval_dataset
    from bench.training.distributed import DistEnv, resolve_device

    dev = resolve_device(device, DistEnv())
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    model = load_model(model_name, ckpt_path, dev, input_size)
    data = eval_dataset(model.info, dataset, Path(root), split, max_samples)
    row: dict[str, Any] = {
        "model": model_name,
        "checkpoint": str(ckpt_path) if ckpt_path else "untrained",
        "dataset": dataset,
        "split": split,
        "protocol": protocol_name(scales, flip),
    }
    row.update(evaluate_model(model, data, scales, flip, dev, batch_size, workers))
    return row


def write_row(row: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """``eval_<model>.csv`` and ``.md`` in ``out``, each written atomically."""
    from bench.io import write_csv, write_markdown

    frame = pd.DataFrame([row])
    stem = out / f"eval_{row['model']}"
    note = (
        "PCKh@0.5 in %, measured by bench.evaluate in this run; Head = mean(neck, head top), "
        "PCKh pooled over 14 joints (pelvis and thorax/spine excluded)."
    )
    return (
        write_csv(frame, stem.with_suffix(".csv")),
        write_markdown(frame, stem.with_suffix(".md"), title=f"PCKh of {row['model']}", notes=note),
    )


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="training checkpoint or state_dict; omitted: untrained (seeded) weights",
    )
    parser.add_argument("--dataset", required=True, choices=("lip", "mpii", "synthetic"))
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0],
        help=f"input scales to average; the paper's: {' '.join(map(str, PAPER_SCALES))}",
    )
    parser.add_argument("--flip", action="store_true", help="also average the flipped image")
    parser.add_argument("--input-size", type=int, nargs=2, default=None, metavar=("H", "W"))
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--max-samples", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("results"))
    args = parser.parse_args(argv)
    with user_errors_exit(parser):
        row = _evaluate_from_args(args)
    print(pd.DataFrame([row]).to_markdown(index=False, floatfmt=".2f"))
    for path in write_row(row, args.out):
        print(f"wrote {path}")


def _evaluate_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return evaluate_checkpoint(
        args.model,
        args.checkpoint,
        args.dataset,
        args.root,
        args.split,
        tuple(args.scales),
        args.flip,
        args.device,
        tuple(args.input_size) if args.input_size else None,
        args.batch_size,
        args.max_samples,
        args.workers,
    )


if __name__ == "__main__":
    main()
