"""LIP single-person pose CSV (Gong et al. 2017; docs/datasets.md): ``name.jpg, x1,y1,v1, ...``,
``nan`` when missing, **v = 1 means occluded**. Head size ||head - neck|| (``calc_pckh``), 0.0 if
either is missing; a joint with a negative coordinate is kept but, as in ``calc_pckh``, not scored.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from architectures.errors import UsageError

from .files import read_csv_rows, require_file
from .layouts import LIP_LAYOUT, KeypointLayout
from .metrics import lip_head_size
from .sample import AnnotationError, Sample, SampleList

SPLITS = ("train", "val")


class LipReader(SampleList):
    """All annotated persons of one LIP split, parsed eagerly, images loaded lazily."""

    layout: KeypointLayout = LIP_LAYOUT

    def __init__(self, root: str | Path, split: str = "val") -> None:
        if split not in SPLITS:
            raise UsageError(f"unknown LIP split {split!r}; expected one of {SPLITS}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"LIP root {self.root} is not a directory")
        self.split = split
        self.csv_path = self.path = self.root / "TrainVal_pose_annotations" / f"lip_{split}_set.csv"
        self.image_dir = self.root / "TrainVal_images" / f"{split}_images"
        require_file(self.csv_path, "LIP annotation file")
        self.samples = read_lip_csv(self.csv_path, self.image_dir)


def read_lip_csv(csv_path: Path, image_dir: Path) -> list[Sample]:
    rows = read_csv_rows(csv_path, "LIP annotation CSV")
    return [parse_lip_row(row, f"{csv_path}:{number}", image_dir) for number, row in rows]


def parse_lip_row(row: list[str], source: str, image_dir: Path) -> Sample:
    num, layout = LIP_LAYOUT.num_keypoints, LIP_LAYOUT
    if len(row) != 1 + 3 * num:
        raise AnnotationError(
            f"{source}: expected {1 + 3 * num} fields "
            f"(name + x,y,v for {num} joints), got {len(row)}"
        )
    name = row[0].strip()
    if not name:
        raise AnnotationError(f"{source}: empty image name")
    keypoints = np.full((num, 2), np.nan)
    visible = np.zeros(num, dtype=bool)
    for joint in range(num):
        x, y, v = (_number(field, source, joint) for field in row[1 + 3 * joint : 4 + 3 * joint])
        if math.isnan(x) and math.isnan(y) and math.isnan(v):
            continue
        if math.isnan(x) or math.isnan(y) or v not in (0.0, 1.0):
            raise AnnotationError(
                f"{source}: joint {joint} ({layout.joint_names[joint]}) has "
                f"x={x}, y={y}, v={v}; expected all nan or numbers with v in {{0, 1}}"
            )
        keypoints[joint] = (x, y)
        visible[joint] = v == 0.0  # v = 1 marks an occluded joint
    with np.errstate(invalid="ignore"):
        scored = (keypoints >= 0).all(axis=1)  # calc_pckh skips a joint with x < 0 or y < 0
    return Sample(
        id=Path(name).stem,
        image_path=image_dir / name,
        keypoints=keypoints,
        visible=visible,
        head_size=lip_head_size(keypoints, layout),
        source=source,
        scored_mask=scored,
    )


def _number(field: str, source: str, joint: int) -> float:
    try:
        value = float(field.strip())
    except ValueError:
        message = f"{source}: joint {joint}: {field.strip()!r} is not a number or nan"
        raise AnnotationError(message) from None
    if math.isinf(value):
        raise AnnotationError(f"{source}: joint {joint}: infinite value {field.strip()!r}")
    return value
