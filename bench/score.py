"""Score anyone's predictions by the official MPII (or LIP) PCKh rules, or a named port's.

``python -m bench.score PREDICTIONS --ground-truth GT [--one-based | --zero-based]
[--convention official|bearpaw|hrnet|mmpose] [--json]`` prints the paper's columns (Head, Sho.,
Elb., Wri., Hip, Knee, Ank., PCKh = the total) and, for MPII, the AUC over thresholds 0..0.5.

PREDICTIONS: .mat / .h5 / .npy / .npz / .json holding an (N, 16, 2) array in ground-truth order,
or LIP's prediction CSV (rows matched by image name). GT: MPII ``gt_valid.mat`` /
``detections_our_format.mat`` (self-contained), bearpaw's ``mpii_annotations.json(.gz)`` or the
mmpose JSON with ``--headboxes FILE.mat``, an MPII or LIP root, or LIP's ``lip_val_set.csv``.
Coordinates are stated, never guessed: ``--one-based`` (MATLAB files) or ``--zero-based`` is
required unless the predictions file says (``coordinate_base``; LIP's CSV is in LIP's pixels).
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from architectures.errors import ArgumentParser, UsageError, error_boundary
from datasets import AnnotationError, LipReader, MpiiReader
from datasets.conventions import CONVENTIONS, get_convention, table_row
from datasets.layouts import KeypointLayout
from datasets.lip import read_lip_csv
from datasets.mpii_formats import read_mpii_ground_truth
from datasets.prediction_files import PredictionFile, load_predictions
from datasets.sample import Sample, SampleList


@dataclass(frozen=True)
class Score:
    """One table row and what it was computed on."""

    dataset: str  # "mpii" or "lip"
    convention: str
    persons: int
    excluded: int  # persons without a head size (left out of PCKh)
    columns: dict[str, float]

    def as_json(self) -> dict:
        """The documented ``--json`` object: convention, persons, columns (NaN as null)."""
        columns = {k: (None if math.isnan(v) else v) for k, v in self.columns.items()}
        return {"convention": self.convention, "persons": self.persons, "columns": columns}


class _LipCsv(SampleList):
    layout = LipReader.layout

    def __init__(self, path: Path) -> None:
        self.samples = read_lip_csv(path, path.parent)


def read_ground_truth(
    path: str | Path, headboxes: str | Path | None = None, split: str = "val"
) -> SampleList:
    """Ground truth from a file or a dataset root; ``.layout`` says MPII or LIP."""
    path = Path(path)
    if path.is_dir():
        if (path / "TrainVal_pose_annotations").is_dir():
            return LipReader(path, split)
        return MpiiReader(path, split, headboxes=headboxes)
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise FileNotFoundError(f"ground-truth file {path} does not exist")
        return _LipCsv(path)
    return read_mpii_ground_truth(path, headboxes, split)


def score_predictions(
    predictions: str | Path,
    ground_truth: str | Path,
    base: int | None = None,
    convention: str = "official",
    headboxes: str | Path | None = None,
    split: str = "val",
    threshold: float = 0.5,
) -> Score:
    """Score a predictions file against a ground truth (see the module docstring).

    ``base`` is the predictions' pixel convention (0 or 1); None is accepted only when the file
    states it.
    """
    rules = get_convention(convention)
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold must be in (0, 1], got {threshold}")
    gt = read_ground_truth(ground_truth, headboxes, split)
    samples = list(gt)
    pred = aligned_predictions(load_predictions(predictions), samples, gt.layout, base)
    head = np.array([s.head_size for s in samples], dtype=np.float64)
    usable = np.isfinite(head) & (head > 0)
    if not usable.any():
        raise UsageError(
            f"ground truth {ground_truth} has no head sizes; pass --headboxes with a "
            f"gt_valid.mat / detections_our_format.mat of the same persons"
        )
    keypoints = np.stack([s.keypoints for s in samples])
    scored = np.stack([s.scored for s in samples])
    row = table_row(
        pred,
        keypoints,
        scored,
        head,
        gt.layout,
        rules,
        threshold,
        auc=gt.layout.head_size_rule == "headbox",
    )
    return Score(gt.layout.name, rules.name, len(samples), int((~usable).sum()), row)


def aligned_predictions(
    found: PredictionFile, samples: Sequence[Sample], layout: KeypointLayout, base: int | None
) -> np.ndarray:
    """(N, K, 2) predictions in the samples' order and 0-based pixels."""
    coords = _by_name(found, samples) if found.names is not None else found.coords
    expected = (len(samples), layout.num_keypoints, 2)
    if coords.shape != expected:
        raise AnnotationError(
            f"{found.path}: predictions have shape {coords.shape} but the "
            f"ground truth has {len(samples)} persons of "
            f"{layout.num_keypoints} joints: expected {expected}"
        )
    return coords - _base(found, base)


def _base(found: PredictionFile, base: int | None) -> int:
    if found.base is None and base is None:
        raise UsageError(
            f"{found.path} does not say whether its pixel coordinates are 0- or "
            f"1-based: pass --one-based (MATLAB files, e.g. the MPII .mat "
            f"predictions) or --zero-based"
        )
    if found.base is not None and base is not None and found.base != base:
        raise UsageError(
            f"{found.path} states {found.base}-based coordinates but "
            f"{'--one-based' if base else '--zero-based'} was given"
        )
    return found.base if found.base is not None else int(base)


def _by_name(found: PredictionFile, samples: Sequence[Sample]) -> np.ndarray:
    rows = {name: i for i, name in enumerate(found.names)}
    names = [s.image_path.name if s.image_path is not None else s.id for s in samples]
    missing = [n for n in names if n not in rows]
    if missing or len(rows) != len(found.names):
        twice = next((n for i, n in enumerate(found.names) if rows[n] != i), None)
        what = (
            f"no row for {len(missing)} ground-truth image(s), e.g. {missing[0]}"
            if missing
            else f"image {twice} has more than one row"
        )
        raise AnnotationError(f"{found.path}: {what}")
    extra = len(rows) - len(set(names))
    if extra:
        raise AnnotationError(f"{found.path}: {extra} row(s) name images the ground truth has not")
    return found.coords[[rows[n] for n in names]]


def format_score(score: Score, predictions: Path) -> str:
    rules = CONVENTIONS[score.convention]
    frame = pd.DataFrame([score.columns])
    lines = [
        f"{score.dataset.upper()} PCKh of {predictions}",
        f"convention {rules.describe(score.dataset)}",
        f"persons: {score.persons} ({score.excluded} without a head size, left out)",
        frame.to_markdown(index=False, floatfmt=".2f"),
    ]
    if score.dataset == "mpii":
        lines.append("AUC: area under the total PCKh curve at thresholds 0:0.01:0.5, in %")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m bench.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("predictions", type=Path, help="predictions file (N, 16, 2)")
    parser.add_argument(
        "--ground-truth",
        required=True,
        type=Path,
        help="gt_valid.mat / detections_our_format.mat, mpii_annotations.json(.gz),"
        " mmpose JSON, an MPII or LIP root, or lip_val_set.csv",
    )
    parser.add_argument(
        "--headboxes",
        type=Path,
        default=None,
        help="head boxes (.mat with headboxes_src) for a JSON ground truth",
    )
    parser.add_argument("--split", default="val", help="split of a root or bearpaw JSON")
    base = parser.add_mutually_exclusive_group()
    base.add_argument(
        "--one-based",
        dest="base",
        action="store_const",
        const=1,
        help="prediction pixels are MATLAB 1-based",
    )
    base.add_argument(
        "--zero-based",
        dest="base",
        action="store_const",
        const=0,
        help="prediction pixels are 0-based (pixel centre of the top-left = 0)",
    )
    parser.add_argument(
        "--convention",
        default="official",
        choices=tuple(CONVENTIONS),
        help="official (default); or the table of bearpaw, HRNet or mmpose",
    )
    parser.add_argument("--threshold", type=float, default=0.5, help="PCKh threshold")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_boundary(parser):
        score = score_predictions(
            args.predictions,
            args.ground_truth,
            args.base,
            args.convention,
            args.headboxes,
            args.split,
            args.threshold,
        )
    print(json.dumps(score.as_json()) if args.json else format_score(score, args.predictions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
