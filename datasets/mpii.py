"""MPII Human Pose (Andriluka et al. 2014) in the mmpose JSON layout (docs/datasets.md): 1-based
coordinates made 0-based, ``joints_vis = 0`` unannotated (NaN); head size 0.6 x head-box diagonal
(``util_get_head_size.m``) from ``mpii_gt_{split}.mat`` or ``headboxes=``, else NaN.
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
