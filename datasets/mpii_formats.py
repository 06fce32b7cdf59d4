"""The other MPII ground-truth files users have, read into the same :class:`Sample` as
:class:`datasets.MpiiReader` (docs/datasets.md has the table):

* ``gt_valid.mat`` (``pos_gt_src``, ``jnt_missing``, ``headboxes_src``; no image names), read as
  it is: 13 labelled joints of the real file hold a 0 coordinate, and the official code scores them;
* bearpaw's ``mpii_annotations.json(.gz)`` (``joint_self``, unlabelled ``[0, 0, 0]``, no head box);
* the mmpose / HRNet JSON by file path.

Every source stores MATLAB 1-based pixels; samples are 0-based.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from .files import require_file
from .layouts import MPII_LAYOUT, KeypointLayout
from .mpii import load_json_records, load_mat, parse_mpii_record, read_head_sizes
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
        image_dir = path.parent.parent / "images"
        samples = [
            parse_mpii_record(r, i, path, image_dir, float("nan")) for i, r in enumerate(records)
        ]
        kind = "mmpose json"
    if headboxes is not None:
        sizes = read_head_sizes(Path(headboxes), len(samples))
        samples = [replace(s, head_size=float(size)) for s, size in zip(samples, sizes)]
    return MpiiGroundTruth(path, samples, kind)


def read_gt_mat(path: Path) -> list[Sample]:
    """Samples of a gt_valid.mat-layout file (see the module docstring)."""
    content = load_mat(path, "MPII ground-truth file")
    gt = _mat_array(content, "pos_gt_src", path, 3)
    if gt.shape[:2] != (16, 2):
        raise AnnotationError(f"{path}: pos_gt_src has shape {gt.shape}, expected (16, 2, N)")
    count = gt.shape[2]
    missing = _mat_array(content, "jnt_missing", path, 2)
    if missing.shape != (16, count):
        raise AnnotationError(
            f"{path}: jnt_missing has shape {missing.shape}, "
            f"expected (16, {count}) to match pos_gt_src"
        )
    _check_joint_names(content, path)
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
        if not isinstance(record, dict):
            raise AnnotationError(f"{source}: expected an object, got {type(record).__name__}")
        is_val = bool(_field(record, "isValidation", (), source))
        if split == "all" or is_val == (split == "val"):
            samples.append(parse_bearpaw_record(record, index, path))
    return samples


def parse_bearpaw_record(record: dict, index: int, path: Path) -> Sample:
    source = f"{path}:record {index}"
    name = record.get("img_paths")
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"{source}: field 'img_paths' must be a file name, got {name!r}")
    joints = _field(record, "joint_self", (16, 3), source)
    centre = _field(record, "objpos", (2,), source)
    scale = float(_field(record, "scale_provided", (), source))
    if scale <= 0:
        raise AnnotationError(f"{source} ({name}): scale_provided must be positive, got {scale}")
    labelled = ~((joints[:, 0] == 0) & (joints[:, 1] == 0))  # unlabelled = [0, 0, 0]
    keypoints = np.where(labelled[:, None], joints[:, :2] - 1.0, np.nan)
    return Sample(
        id=f"{Path(name).stem}#{index}",
        image_path=path.parent / "images" / name,
        keypoints=keypoints,
        visible=labelled & (joints[:, 2] > 0),
        head_size=float("nan"),
        source=f"{source} ({name})",
        center=centre - 1.0,
        scale=scale,
    )


def _field(record: dict, key: str, shape: tuple[int, ...], source: str) -> np.ndarray:
    if key not in record:
        raise AnnotationError(f"{source}: missing field {key!r}")
    try:
        value = np.asarray(record[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise AnnotationError(f"{source}: field {key!r} is not numeric") from None
    if value.shape != shape or not np.isfinite(value).all():
        raise AnnotationError(
            f"{source}: field {key!r} has shape {value.shape} or a NaN/inf "
            f"value; expected finite numbers of shape {shape}"
        )
    return value


def _mat_array(content: dict, key: str, path: Path, ndim: int) -> np.ndarray:
    if key not in content:
        keys = ", ".join(k for k in content if not k.startswith("__"))
        raise AnnotationError(f"{path}: no {key!r} array (keys: {keys})")
    array = np.asarray(content[key], dtype=np.float64)
    if array.ndim != ndim:
        raise AnnotationError(f"{path}: {key} has shape {array.shape}, expected {ndim} dimensions")
    return array


def _check_joint_names(content: dict, path: Path) -> None:
    if "dataset_joints" not in content:
        return
    names = tuple(
        str(np.asarray(n).ravel()[0]) for n in np.asarray(content["dataset_joints"]).ravel()
    )
    if names != MAT_JOINT_NAMES:
        raise AnnotationError(
            f"{path}: dataset_joints is {' '.join(names)}; this reader expects "
            f"the MPII order {' '.join(MAT_JOINT_NAMES)}"
        )
