"""PCKh evaluation of a (trained or untrained) model in the paper's table columns (Osokin 2019).

Protocols: single scale, or Table 4's heatmaps averaged over input scales 0.75 / 1.0 / 1.25 and the
flipped image; scoring in original image pixels with each dataset's own PCKh protocol (see
:mod:`bench.accuracy.training.evaluation`). Columns: Head, Sho., Elb., Wri., Hip, Knee, Ank., PCKh
(pooled over 14 joints), and AUC for MPII.

``python -m bench.evaluate --model NAME [--checkpoint PATH] --dataset {lip,mpii,synthetic}
--root DIR [--flip --scales 0.75 1.0 1.25] [--out DIR]`` prints the row and, with ``--out``, writes
``<out>/eval_<model>.csv/.md``. Checkpoints are read without unpickling arbitrary objects
(``--trust-checkpoint`` allows it for a file from a trusted source); a checkpoint written by
``bench.train`` must be for ``--model`` and is evaluated at the input size it was trained at.
Every argument, the device, the data root and ``--out`` are checked before the model runs; a
problem ends the command with one line and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from architectures.errors import (
    ArgumentParser,
    InputFileError,
    UsageError,
    check_range,
    error_boundary,
)
from bench.accuracy.training.data import check_split, eval_dataset
from bench.accuracy.training.evaluation import (
    PAPER_SCALES,
    Predictions,
    collect_predictions,
    evaluate_model,
    protocol_name,
    score,
)
from bench.accuracy.training.model import load_model
from bench.measure.devices import resolve_device
from bench.report.files import prepare_output, write_csv, write_markdown

__all__ = [
    "PAPER_SCALES",
    "Predictions",
    "collect_predictions",
    "evaluate_checkpoint",
    "evaluate_model",
    "load_model",
    "main",
    "protocol_name",
    "score",
    "write_row",
]

DATASETS = ("lip", "mpii", "synthetic")


def check_request(
    dataset: str,
    root: str | Path,
    split: str,
    scales: Sequence[float],
    batch_size: int,
    workers: int,
    max_samples: int | None,
) -> None:
    """Raise a user error naming the option that is wrong; cheap, so it runs before anything."""
    if dataset not in DATASETS:
        raise UsageError(f"--dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
    if dataset != "synthetic" and not Path(root).is_dir():
        raise InputFileError(f"--root {root}: no such folder")
    check_split(dataset, split)
    bad = [s for s in scales if not (math.isfinite(s) and 0 < s <= 4)]
    if not scales or bad:
        raise UsageError(f"--scales must be numbers in (0, 4], got {' '.join(map(str, scales))}")
    check_range("--batch-size", batch_size, 1)
    check_range("--workers", workers, 0)
    check_range("--max-samples", max_samples, 1)


def evaluate_checkpoint(
    model_name: str,
    checkpoint: str | Path | None,
    dataset: str,
    root: str | Path,
    split: str = "val",
    scales: Sequence[float] = (1.0,),
    flip: bool = False,
    device: str = "auto",
    input_size: tuple[int, int] | None = None,
    batch_size: int = 16,
    max_samples: int | None = None,
    workers: int = 0,
    trust_checkpoint: bool = False,
) -> dict[str, Any]:
    """One table row: identification columns, then Head .. Ank., PCKh (and AUC for MPII), in %.

    ``checkpoint=None`` scores the untrained model (seeded weights). ``dataset`` is ``lip``,
    ``mpii`` or ``synthetic`` (generated data in the model's layout, read from ``root``).
    ``input_size`` None: the size the checkpoint was trained at (else the registered size).
    """
    check_request(dataset, root, split, scales, batch_size, workers, max_samples)
    dev = resolve_device(device)
    ckpt_path = Path(checkpoint) if checkpoint is not None else None
    model = load_model(model_name, ckpt_path, dev, input_size, trust=trust_checkpoint)
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


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m bench.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="registered model name")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="training checkpoint or state_dict; omitted: untrained (seeded) weights",
    )
    parser.add_argument(
        "--trust-checkpoint",
        action="store_true",
        help="load --checkpoint with full unpickling, which can run code stored in the file: "
        "only for a file from a source you trust",
    )
    parser.add_argument("--dataset", required=True, choices=DATASETS)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--split", default="val", help="train or val (test labels are not public)")
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[1.0],
        help=f"input scales to average; the paper's: {' '.join(map(str, PAPER_SCALES))}",
    )
    parser.add_argument("--flip", action="store_true", help="also average the flipped image")
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        default=None,
        metavar=("H", "W"),
        help="default: the checkpoint's training size, else the model's registered size",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--max-samples", type=int, default=None)
    parser.add_argument("--device", default="auto")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="write eval_<model>.csv/.md here (default: print only)",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_boundary(parser):
        check_request(
            args.dataset,
            args.root,
            args.split,
            args.scales,
            args.batch_size,
            args.workers,
            args.max_samples,
        )
        if args.out is not None:
            prepare_output(args.out)  # an unwritable --out is found before the model runs
        row = evaluate_checkpoint(
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
            args.trust_checkpoint,
        )
        print(pd.DataFrame([row]).to_markdown(index=False, floatfmt=".2f"))
        for path in write_row(row, args.out) if args.out is not None else ():
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
