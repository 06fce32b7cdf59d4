"""PCKh of anyone's predictions by the official MPII (or LIP) rules or a named port's, for
``python -m bench.score`` (formats: docs/datasets.md). Files are checked before parsing."""

from __future__ import annotations

import gzip
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from architectures.errors import InputFileError, UsageError
from bench.accuracy.training.config import LABELLED_SPLITS, check_split
from datasets import AnnotationError, LipReader, MpiiReader
from datasets.conventions import CONVENTIONS, get_convention, table_row
from datasets.layouts import KeypointLayout
from datasets.lip import read_lip_csv
from datasets.mpii import BEARPAW_SPLITS, read_mpii_ground_truth
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
        """The documented ``--json`` object: dataset, convention, persons, persons left out,
        columns (NaN as null)."""
        columns = {k: (None if math.isnan(v) else v) for k, v in self.columns.items()}
        counts = {"persons": self.persons, "excluded": self.excluded}
        return {
            "dataset": self.dataset,
            "convention": self.convention,
            **counts,
            "columns": columns,
        }


class _LipCsv(SampleList):
    layout = LipReader.layout

    def __init__(self, path: Path) -> None:
        self.samples = read_lip_csv(path, path.parent)


def read_ground_truth(
    path: str | Path, headboxes: str | Path | None = None, split: str = "val"
) -> SampleList:
    """Ground truth from a file or a dataset root; ``.layout`` says MPII or LIP."""
    path = Path(path)
    bearpaw = path.name.lower().endswith((".json", ".json.gz"))
    check_split(f"--ground-truth {path}", split, BEARPAW_SPLITS if bearpaw else LABELLED_SPLITS)
    if path.is_dir():
        if (path / "TrainVal_pose_annotations").is_dir():
            return LipReader(path, split)
        return MpiiReader(path, split, headboxes=headboxes)
    if path.suffix.lower() == ".csv":
        if not path.is_file():
            raise FileNotFoundError(f"ground-truth file {path} does not exist")
        return _LipCsv(path)
    check_json_depth(path)
    return read_mpii_ground_truth(path, headboxes, split)


# Records > joints > coordinates need 4 levels; the bound leaves room for metadata.
MAX_JSON_DEPTH = 8
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')


def check_json_depth(path: Path, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse a ``.json`` / ``.json.gz`` nested deeper than ``limit`` before parsing it."""
    name = path.name.lower()
    if not name.endswith((".json", ".json.gz")) or not path.is_file():
        return
    try:
        data = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    except (OSError, EOFError) as error:
        raise InputFileError(f"{path}: not a readable gzip file ({error})") from None
    brackets = np.frombuffer(_JSON_STRING.sub(b"", data), dtype=np.uint8)
    step = np.isin(brackets, (ord("["), ord("{"))).astype(np.int64)
    step -= np.isin(brackets, (ord("]"), ord("}")))
    depth = int(np.cumsum(step).max(initial=0))
    if depth > limit:
        raise InputFileError(
            f"{path}: JSON nested {depth} levels deep; the prediction and ground-truth formats "
            f"need at most {limit}"
        )


def check_npy_size(path: Path) -> None:
    """Refuse a ``.npy`` whose header claims more data than the file holds, before loading."""
    if path.suffix.lower() != ".npy" or not path.is_file():
        return
    fmt = np.lib.format
    try:
        with open(path, "rb") as handle:
            version = fmt.read_magic(handle)
            read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            shape, _, dtype = read(handle)
            offset = handle.tell()
    except (ValueError, OSError) as error:
        raise InputFileError(f"{path}: not a readable .npy array ({error})") from None
    claimed = math.prod(shape) * dtype.itemsize
    held = path.stat().st_size - offset
    if not dtype.hasobject and claimed > held:
        raise InputFileError(
            f"{path}: the .npy header claims an array of shape {shape} ({claimed} bytes) but the "
            f"file holds {held} bytes of data; the file is damaged or not an array"
        )


def score_predictions(
    predictions: str | Path,
    ground_truth: str | Path,
    base: int | None = None,
    convention: str = "official",
    headboxes: str | Path | None = None,
    split: str = "val",
    threshold: float = 0.5,
) -> Score:
    """``base``: the predictions' pixel convention (0 or 1), None only when the file states it."""
    rules = get_convention(convention)
    gt = read_ground_truth(ground_truth, headboxes, split)
    samples = list(gt)
    check_json_depth(Path(predictions))
    check_npy_size(Path(predictions))
    found = load_predictions(predictions)
    if found.names is not None and gt.layout.name != "lip":
        raise UsageError(
            f"{predictions} is a LIP prediction CSV but --ground-truth {ground_truth} is "
            f"{gt.layout.name.upper()} ground truth; score it against a LIP root or "
            f"lip_val_set.csv"
        )
    pred = aligned_predictions(found, samples, gt.layout, base)
    head = np.array([s.head_size for s in samples], dtype=np.float64)
    usable = np.isfinite(head) & (head > 0)
    if not usable.any():
        raise UsageError(
            f"ground truth {ground_truth} has no head sizes; pass --headboxes with a "
            f"gt_valid.mat / detections_our_format.mat of the same persons"
        )
    keypoints = np.stack([s.keypoints for s in samples])
    scored = np.stack([s.scored for s in samples])
    auc = gt.layout.head_size_rule == "headbox"
    row = table_row(pred, keypoints, scored, head, gt.layout, rules, threshold, auc=auc)
    return Score(gt.layout.name, rules.name, len(samples), int((~usable).sum()), row)


def aligned_predictions(
    found: PredictionFile, samples: Sequence[Sample], layout: KeypointLayout, base: int | None
) -> np.ndarray:
    """(N, K, 2) predictions in the samples' order and 0-based pixels."""
    coords = _by_name(found, samples) if found.names is not None else found.coords
    expected = (len(samples), layout.num_keypoints, 2)
    if coords.shape != expected:
        raise AnnotationError(
            f"{found.path}: predictions have shape {coords.shape} but the ground truth has "
            f"{len(samples)} persons of {layout.num_keypoints} joints: expected {expected}"
        )
    return coords - _base(found, base)


def _base(found: PredictionFile, base: int | None) -> int:
    if found.base is None and base is None:
        raise UsageError(
            f"{found.path} does not say whether its pixel coordinates are 0- or 1-based: pass "
            "--one-based (MATLAB files, e.g. the MPII .mat predictions) or --zero-based"
        )
    if found.base is not None and base is not None and found.base != base:
        given = "--one-based" if base else "--zero-based"
        raise UsageError(
            f"{found.path} states {found.base}-based coordinates but {given} was given"
        )
    return found.base if found.base is not None else int(base)


def _by_name(found: PredictionFile, samples: Sequence[Sample]) -> np.ndarray:
    rows = {name: i for i, name in enumerate(found.names)}
    names = [s.image_path.name if s.image_path is not None else s.id for s in samples]
    missing = [n for n in names if n not in rows]
    if missing:
        what = f"no row for {len(missing)} ground-truth image(s), e.g. {missing[0]}"
        raise AnnotationError(f"{found.path}: {what}")
    if len(rows) != len(found.names):
        twice = next(n for i, n in enumerate(found.names) if rows[n] != i)
        raise AnnotationError(f"{found.path}: image {twice} has more than one row")
    extra = len(rows) - len(set(names))
    if extra:
        raise AnnotationError(f"{found.path}: {extra} row(s) name images the ground truth has not")
    return found.coords[[rows[n] for n in names]]


def format_score(score: Score, predictions: Path) -> str:
    lines = [
        f"{score.dataset.upper()} PCKh of {predictions}",
        f"convention {CONVENTIONS[score.convention].describe(score.dataset)}",
        f"persons: {score.persons} ({score.excluded} without a head size, left out)",
        pd.DataFrame([score.columns]).to_markdown(index=False, floatfmt=".2f"),
    ]
    if score.dataset == "mpii":
        lines.append("AUC: area under the total PCKh curve at thresholds 0:0.01:0.5, in %")
    return "\n".join(lines)
