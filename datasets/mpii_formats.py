"""The other MPII ground-truth files (table in docs/datasets.md): a gt_valid-style ``.mat`` read as
it is (13 labelled joints of the real file hold a 0 coordinate; the official code scores them),
bearpaw's ``mpii_annotations.json(.gz)`` and the mmpose JSON by path. Files are 1-based, samples
0-based.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .files import require_file
from .layouts import MPII_LAYOUT, KeypointLayout
from .mpii import (
    check_record,
    load_json_records,
    load_mat,
    mat_array,
    numeric_field,
    parse_mpii_record,
    read_head_sizes,
    with_head_sizes,
)
from .sample import AnnotationError, Sample, SampleList

# ``dataset_joints`` of gt_valid.mat, in MPII_LAYOUT order.
MAT_JOINT_NAMES = (
    *("rank", "rkne", "rhip", "lhip", "lkne", "lank", "pelv", "thor"),
    *("neck", "head", "rwri", "relb", "rsho", "lsho", "lelb", "lwri"),
)
BEARPAW_SPLITS = ("train", "val", "all")


class MpiiGroundTruth(SampleList):
    """Samples read from one ground-truth file (any layout above), with the file it came from."""

    layout: KeypointLayout = MPII_LAYOUT

    def __init__(self, path: Path, samples: list[Sample], kind: str) -> None:
        self.path, self.samples, self.kind = path, samples, kind


def read_mpii_ground_truth(
    path: str | Path, headboxes: str | Path | None = None, split: str = "val"
) -> MpiiGroundTruth:
    """Read a gt_valid-style ``.mat``, bearpaw's or the mmpose JSON; ``headboxes`` (a ``.mat``)
    gives head sizes to a JSON source, ``split`` picks bearpaw's records."""
    path = Path(path)
    require_file(path, "MPII ground-truth file")
    if path.suffix == ".mat":
        if headboxes is not None:
            raise AnnotationError(
                f"{path}: a .mat ground truth carries its own head boxes; "
                f"drop the separate head-box file {headboxes}"
            )
        return MpiiGroundTruth(path, read_gt_mat(path), "gt_valid.mat")
    if not path.name.lower().endswith((".json", ".json.gz")):
        raise AnnotationError(
            f"{path}: unknown ground-truth file type; expected a gt_valid-style .mat, the mmpose "
            f"or bearpaw .json / .json.gz, LIP's .csv, or a dataset root"
        )
    records = load_json_records(path)
    if records and isinstance(records[0], dict) and "joint_self" in records[0]:
        samples, kind = read_bearpaw_records(records, path, split), "bearpaw json"
    else:
        samples = [parse_mpii_record(r, i, path) for i, r in enumerate(records)]
        kind = "mmpose json"
    headboxes = Path(headboxes) if headboxes is not None else None
    return MpiiGroundTruth(path, with_head_sizes(samples, headboxes), kind)


def read_gt_mat(path: Path) -> list[Sample]:
    """Samples of a gt_valid.mat-layout file (see the module docstring)."""
    content = load_mat(path, "MPII ground-truth file")
    gt = mat_array(content, "pos_gt_src", path)
    if gt.ndim != 3 or gt.shape[:2] != (16, 2):
        raise AnnotationError(f"{path}: pos_gt_src has shape {gt.shape}, expected (16, 2, N)")
    count = gt.shape[2]
    missing = mat_array(content, "jnt_missing", path)
    if missing.shape != (16, count):
        raise AnnotationError(
            f"{path}: jnt_missing has shape {missing.shape}, "
            f"expected (16, {count}) to match pos_gt_src"
        )
    stored = np.asarray(content.get("dataset_joints", MAT_JOINT_NAMES)).ravel()
    names = tuple(str(np.asarray(n).ravel()[0]) for n in stored)
    if names != MAT_JOINT_NAMES:
        raise AnnotationError(
            f"{path}: dataset_joints is {' '.join(names)}; this reader expects "
            f"the MPII order {' '.join(MAT_JOINT_NAMES)}"
        )
    sizes = read_head_sizes(path, count)
    labelled = missing.T == 0
    keypoints = np.where(labelled[..., None], np.moveaxis(gt, 2, 0) - 1.0, np.nan)
    if not np.isfinite(keypoints[labelled]).all():
        n = int(np.argwhere(labelled & ~np.isfinite(keypoints).all(axis=2))[0, 0])
        raise AnnotationError(f"{path}: record {n} has a labelled joint with a NaN coordinate")
    return [
        Sample(
            id=f"{path.stem}#{n}",
            image_path=None,
            keypoints=keypoints[n],
            visible=labelled[n],
            head_size=float(sizes[n]),
            source=f"{path}:record {n}",
        )
        for n in range(count)
    ]


def read_bearpaw_records(records: list, path: Path, split: str = "val") -> list[Sample]:
    """Samples of bearpaw's ``mpii_annotations.json`` records of ``split`` (train / val / all)."""
    if split not in BEARPAW_SPLITS:
        raise AnnotationError(f"{path}: unknown split {split!r}; expected one of {BEARPAW_SPLITS}")
    samples = []
    for index, record in enumerate(records):
        source = f"{path}:record {index}"
        check_record(record, ("isValidation",), source)
        is_val = bool(numeric_field(record, "isValidation", (), source))
        if split == "all" or is_val == (split == "val"):
            samples.append(parse_bearpaw_record(record, index, path))
    return samples


def parse_bearpaw_record(record: dict, index: int, path: Path) -> Sample:
    source = f"{path}:record {index}"
    check_record(record, ("img_paths", "joint_self", "objpos", "scale_provided"), source)
    name = record["img_paths"]
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"{source}: field 'img_paths' must be a file name, got {name!r}")
    joints = numeric_field(record, "joint_self", (16, 3), source)
    scale = float(numeric_field(record, "scale_provided", (), source))
    if scale <= 0:
        raise AnnotationError(f"{source} ({name}): scale_provided must be positive, got {scale}")
    labelled = ~((joints[:, 0] == 0) & (joints[:, 1] == 0))  # unlabelled = [0, 0, 0]
    return Sample(
        id=f"{Path(name).stem}#{index}",
        image_path=path.parent / "images" / name,
        keypoints=np.where(labelled[:, None], joints[:, :2] - 1.0, np.nan),
        visible=labelled & (joints[:, 2] > 0),
        head_size=float("nan"),
        source=f"{source} ({name})",
        center=numeric_field(record, "objpos", (2,), source) - 1.0,
        scale=scale,
    )
