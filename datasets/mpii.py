"""Reader for MPII Human Pose (Andriluka et al. 2014) in the mmpose JSON layout (docs/datasets.md).

``root/annotations/mpii_{split}.json`` holds MATLAB 1-based coordinates (made 0-based here);
``joints_vis = 0`` marks an unannotated joint (NaN). Head size = 0.6 x the head-box diagonal
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
        image_dir = self.root / "images"
        samples = [
            parse_mpii_record(record, i, self.json_path, image_dir, float("nan"))
            for i, record in enumerate(records)
        ]
        default_mat = self.root / "annotations" / f"mpii_gt_{split}.mat"
        self.headbox_path = Path(headboxes) if headboxes is not None else default_mat
        if headboxes is None and not default_mat.exists():  # a folder there is named
            self.headbox_path = None
        if self.headbox_path is not None and samples:  # no records: nothing to give a size
            sizes = read_head_sizes(self.headbox_path, len(samples))
            samples = [replace(s, head_size=float(size)) for s, size in zip(samples, sizes)]
        self.samples = samples


def load_json_records(path: Path) -> list:
    """The JSON list of ``path`` (gzip-compressed when it ends in ``.gz``)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        records = json.loads(raw)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise AnnotationError(f"{path}: not a readable JSON file ({error})") from None
    if not isinstance(records, list):
        raise AnnotationError(
            f"{path}: expected a JSON list of records, got {type(records).__name__}"
        )
    return records


def parse_mpii_record(
    record: object,
    index: int,
    json_path: Path,
    image_dir: Path,
    head_size: float,
    layout: KeypointLayout = MPII_LAYOUT,
) -> Sample:
    name = _check_record(record, f"{json_path}:record {index}")
    source = f"{json_path}:record {index} ({name})"
    num = layout.num_keypoints
    joints = _array(record["joints"], (num, 2), "joints", source)
    vis = _array(record["joints_vis"], (num,), "joints_vis", source)
    center = _array(record["center"], (2,), "center", source)
    scale = float(_array(record["scale"], (), "scale", source))
    if not set(np.unique(vis)) <= {0.0, 1.0}:
        raise AnnotationError(f"{source}: joints_vis must hold 0/1 values, got {vis.tolist()}")
    if scale <= 0:
        raise AnnotationError(f"{source}: scale must be positive, got {scale}")
    annotated = vis > 0
    if not np.isfinite(joints[annotated]).all():
        raise AnnotationError(f"{source}: an annotated joint has a NaN/inf coordinate")
    keypoints = np.where(annotated[:, None], joints - 1.0, np.nan)  # MATLAB 1-based -> 0-based
    return Sample(
        id=f"{Path(name).stem}#{index}",
        image_path=image_dir / name,
        keypoints=keypoints,
        visible=annotated,
        head_size=head_size,
        source=source,
        center=center - 1.0,
        scale=scale,
    )


def _check_record(record: object, source: str) -> str:
    """The record is an object with every field; returns its image name."""
    if not isinstance(record, dict):
        raise AnnotationError(f"{source}: expected an object, got {type(record).__name__}")
    missing = [k for k in ("image", "center", "scale", "joints", "joints_vis") if k not in record]
    if missing:
        raise AnnotationError(f"{source}: missing field(s) {', '.join(missing)}")
    name = record["image"]
    if not isinstance(name, str) or not name:
        raise AnnotationError(f"{source}: field 'image' must be a file name, got {name!r}")
    return name


def _array(value: object, shape: tuple[int, ...], field: str, source: str) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AnnotationError(f"{source}: field {field!r} is not numeric: {value!r}") from None
    if array.shape != shape:
        raise AnnotationError(
            f"{source}: field {field!r} has shape {array.shape}, expected {shape}"
        )
    if not np.isfinite(array).all() and field != "joints":
        raise AnnotationError(f"{source}: field {field!r} has a NaN/inf value")
    return array


def read_head_sizes(path: Path, num_records: int) -> np.ndarray:
    """0.6 x head-box diagonal per record, from ``headboxes_src`` (2 x 2 x N) of a .mat file."""
    content = load_mat(path, "MPII head box file")
    if "headboxes_src" not in content:
        raise AnnotationError(
            f"{path}: no 'headboxes_src' array (keys: "
            f"{', '.join(k for k in content if not k.startswith('__'))})"
        )
    boxes = np.asarray(content["headboxes_src"], dtype=np.float64)
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
