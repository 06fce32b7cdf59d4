"""MPII Human Pose (Andriluka et al. 2014) in the mmpose JSON layout (docs/datasets.md): 1-based
coordinates made 0-based, ``joints_vis = 0`` unannotated (NaN); head size 0.6 x head-box diagonal
(``util_get_head_size.m``) from ``mpii_gt_{split}.mat`` or ``headboxes=``, else NaN. Also the
other ground-truth files: a gt_valid-style ``.mat`` read as it is (13 labelled joints of the real
file hold a 0 coordinate; the official code scores them), bearpaw's ``mpii_annotations.json(.gz)``
and the mmpose JSON by path.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.io import loadmat
from scipy.io.matlab import MatReadError

from .files import require_file
from .layouts import MPII_LAYOUT, KeypointLayout
from .metrics import mpii_head_size
from .sample import AnnotationError, Sample, SampleList


class MpiiReader(SampleList):
    """All persons of one MPII split; images are loaded lazily."""

    layout: KeypointLayout = MPII_LAYOUT

    def __init__(
        self, root: str | Path, split: str = "val", headboxes: str | Path | None = None
    ) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"MPII root {self.root} is not a directory")
        self.split = split
        self.json_path = self.path = self.root / "annotations" / f"mpii_{split}.json"
        require_file(self.json_path, "MPII annotation file")
        records = load_json_records(self.json_path)
        samples = [parse_mpii_record(r, i, self.json_path) for i, r in enumerate(records)]
        default_mat = self.root / "annotations" / f"mpii_gt_{split}.mat"  # a folder is named
        self.headbox_path = Path(headboxes) if headboxes is not None else default_mat
        if headboxes is None and not default_mat.exists():
            self.headbox_path = None
        self.samples = with_head_sizes(samples, self.headbox_path) if samples else samples


def load_json_records(path: Path) -> list:
    """The JSON list of ``path`` (gzip-compressed when it ends in ``.gz``)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        records = json.loads(raw)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(records, list):
        kind = type(records).__name__
        raise AnnotationError(f"{path}: expected a JSON list of records, got {kind}")
    return records


def parse_mpii_record(record: object, index: int, json_path: Path) -> Sample:
    """A person of ``root/annotations/*.json``; its image is in ``root/images``."""
    source = f"{json_path}:record {index}"
    keys = ("image", "center", "scale", "joints", "joints_vis")
    name = check_record(record, keys, source)["image"]
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"{source}: field 'image' must be a file name, got {name!r}")
    source = f"{source} ({name})"
    joints = numeric_field(record, "joints", (16, 2), source, finite=False)
    vis = numeric_field(record, "joints_vis", (16,), source)
    scale = float(numeric_field(record, "scale", (), source))
    if not set(np.unique(vis)) <= {0.0, 1.0}:
        raise AnnotationError(f"{source}: joints_vis must hold 0/1 values, got {vis.tolist()}")
    if scale <= 0:
        raise AnnotationError(f"{source}: scale must be positive, got {scale}")
    annotated = vis > 0
    if not np.isfinite(joints[annotated]).all():
        raise AnnotationError(f"{source}: an annotated joint has a NaN/inf coordinate")
    return Sample(
        id=f"{Path(name).stem}#{index}",
        image_path=json_path.parent.parent / "images" / name,
        keypoints=np.where(annotated[:, None], joints - 1.0, np.nan),  # 1-based -> 0-based
        visible=annotated,
        head_size=float("nan"),
        source=source,
        center=numeric_field(record, "center", (2,), source) - 1.0,
        scale=scale,
    )


def check_record(record: object, keys: tuple[str, ...], source: str) -> dict:
    """``record`` when it is an object with every field of ``keys``."""
    if not isinstance(record, dict):
        raise AnnotationError(f"{source}: expected an object, got {type(record).__name__}")
    missing = [key for key in keys if key not in record]
    if missing:
        raise AnnotationError(f"{source}: missing field(s) {', '.join(missing)}")
    return record


def numeric_field(
    record: dict, key: str, shape: tuple[int, ...], source: str, finite: bool = True
) -> np.ndarray:
    """``record[key]`` as a float64 array of ``shape`` (finite unless told otherwise)."""
    try:
        array = np.asarray(record[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise AnnotationError(f"{source}: field {key!r} is not numeric: {record[key]!r}") from None
    if array.shape != shape:
        raise AnnotationError(f"{source}: field {key!r} has shape {array.shape}, expected {shape}")
    if finite and not np.isfinite(array).all():
        raise AnnotationError(f"{source}: field {key!r} has a NaN/inf value")
    return array


def with_head_sizes(samples: list[Sample], headboxes: Path | None) -> list[Sample]:
    """``samples`` with the head sizes of the ``headboxes`` file (record by record), if any."""
    if headboxes is None:
        return samples
    sizes = read_head_sizes(headboxes, len(samples))
    return [replace(s, head_size=float(size)) for s, size in zip(samples, sizes)]


def read_head_sizes(path: Path, num_records: int) -> np.ndarray:
    """0.6 x head-box diagonal per record, from ``headboxes_src`` (2 x 2 x N) of a .mat file."""
    boxes = mat_array(load_mat(path, "MPII head box file"), "headboxes_src", path)
    if boxes.ndim != 3 or boxes.shape[:2] != (2, 2) or boxes.shape[2] != num_records:
        raise AnnotationError(
            f"{path}: headboxes_src has shape {boxes.shape}, expected "
            f"(2, 2, {num_records}) to match the JSON records"
        )
    sizes = mpii_head_size(np.moveaxis(boxes, 2, 0))
    bad = np.flatnonzero(~(sizes > 0))
    if bad.size:
        raise AnnotationError(
            f"{path}: head box of record {int(bad[0])} has zero or NaN size "
            f"({bad.size} such records)"
        )
    return sizes


def load_mat(path: Path, what: str = "MATLAB file") -> dict:
    """The arrays of a MATLAB (v4 to v7) file; a bad one raises naming ``path``."""
    require_file(path, what, "a .mat file")
    try:
        return loadmat(str(path))
    except (ValueError, TypeError, OSError, IndexError, NotImplementedError, MatReadError) as error:
        raise AnnotationError(f"{path}: not a readable MATLAB file ({error})") from None


def mat_array(content: dict, key: str, path: Path) -> np.ndarray:
    """The float64 array ``key`` of a loaded .mat file; its absence names the keys there."""
    if key not in content:
        keys = ", ".join(k for k in content if not k.startswith("__"))
        raise AnnotationError(f"{path}: no {key!r} array (keys: {keys})")
    return np.asarray(content[key], dtype=np.float64)


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
