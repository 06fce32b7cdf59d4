"""The files of one generated set (LIP: person crops, some cut off at the bottom; MPII: scenes with
1-based mmpose JSON and the head boxes of ``mpii_gt_val.mat``), written into ``config.out``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from scipy.io import savemat

from .. import figures
from ..atomic import atomic_write, write_bytes


@dataclass(frozen=True)
class SyntheticConfig:
    format: str
    out: Path
    num_images: int
    seed: int = 0
    val_fraction: float = 0.25
    min_size: int = 128
    max_size: int = 256
    occluder_prob: float = 0.3
    truncate_prob: float = 0.15  # LIP: crop so the lower joints fall outside (missing)


@dataclass
class Drawn:
    image: np.ndarray
    joints: np.ndarray  # (16, 2) 0-based pixels
    occluded: np.ndarray  # (16,) bool


Written = dict[str, list[tuple[str, Drawn]]]  # split -> (image name, what was drawn)


def write_jpeg(path: Path, image: np.ndarray) -> None:
    write_bytes(path, cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())


def draw_person(
    rng: np.random.Generator,
    size: tuple[int, int],
    person_height: float,
    centre: np.ndarray,
    occluder_prob: float,
    keep_inside: bool = False,
) -> Drawn:
    height, width = size
    image = figures.background(rng, height, width)
    joints = figures.place(figures.random_pose(rng), rng, person_height, centre)
    if keep_inside:  # shrink about the centre and shift: every joint 10 % of the height inside
        margin = 0.1 * person_height
        low, high = joints.min(axis=0), joints.max(axis=0)
        room = np.array([width, height]) - 1 - 2 * margin
        shrink = min(1.0, float(np.min(room / np.maximum(high - low, 1e-6))))
        mid = (low + high) / 2
        joints = mid + (joints - mid) * shrink
        low, high = joints.min(axis=0), joints.max(axis=0)
        limit = np.array([width, height]) - 1 - margin
        joints = joints + np.maximum(margin - low, 0) - np.maximum(high - limit, 0)
    figures.draw_figure(image, joints, rng)
    occluded = np.zeros(16, dtype=bool)
    if rng.random() < occluder_prob:
        occluded = figures.add_occluder(image, joints, rng)
    return Drawn(image, joints, occluded)


def num_val(config: SyntheticConfig) -> int:
    """Images of the ``val`` split: ``val_fraction`` of them, at least one."""
    return max(1, round(config.num_images * config.val_fraction))


def split_names(config: SyntheticConfig) -> list[str]:
    val = num_val(config)
    return ["train"] * (config.num_images - val) + ["val"] * val


def _size(rng: np.random.Generator, config: SyntheticConfig) -> tuple[int, int]:
    return tuple(int(v) for v in rng.integers(config.min_size, config.max_size + 1, size=2))


def lip_person(rng: np.random.Generator, config: SyntheticConfig) -> Drawn:
    """A person crop: the figure fills the image; sometimes the bottom is cut off."""
    height, width = _size(rng, config)
    person = rng.uniform(0.7, 0.92) * height
    centre = np.array([width / 2, height / 2]) + rng.uniform(-0.05, 0.05, size=2) * (width, height)
    truncated = rng.random() < config.truncate_prob
    if truncated:
        centre[1] += rng.uniform(0.15, 0.3) * height
    return draw_person(rng, (height, width), person, centre, config.occluder_prob, not truncated)


def lip_row(name: str, drawn: Drawn) -> str:
    height, width = drawn.image.shape[:2]
    fields = [name]
    for (x, y), occluded in zip(np.round(drawn.joints), drawn.occluded):
        inside = 0 <= x <= width - 1 and 0 <= y <= height - 1
        fields += [f"{int(x)}", f"{int(y)}", "1" if occluded else "0"] if inside else ["nan"] * 3
    return ",".join(fields)


def write_lip(config: SyntheticConfig) -> Written:
    written = _draw_all(config, lip_person, lambda index: f"{index}_{100000 + index}.jpg")
    for split, items in written.items():
        for name, drawn in items:
            write_jpeg(config.out / "TrainVal_images" / f"{split}_images" / name, drawn.image)
        text = "".join(lip_row(name, drawn) + "\n" for name, drawn in items)
        csv = config.out / "TrainVal_pose_annotations" / f"lip_{split}_set.csv"
        write_bytes(csv, text.encode())
    return written


def _draw_all(config: SyntheticConfig, person: Callable, name: Callable[[int], str]) -> Written:
    """Draw every image of the set from one seeded generator, in index order."""
    rng = np.random.default_rng(config.seed)
    written: Written = {"train": [], "val": []}
    for index, split in enumerate(split_names(config)):
        written[split].append((name(index), person(rng, config)))
    return written


def mpii_person(rng: np.random.Generator, config: SyntheticConfig) -> Drawn:
    """A scene image with the whole person somewhere inside."""
    height, width = _size(rng, config)
    person = rng.uniform(0.45, 0.7) * min(height, width)
    margin = person * 0.6
    centre = np.array(
        [
            rng.uniform(margin, width - margin) if width > 2 * margin else width / 2,
            rng.uniform(margin, height - margin) if height > 2 * margin else height / 2,
        ]
    )
    return draw_person(rng, (height, width), person, centre, config.occluder_prob, True)


def mpii_record(name: str, drawn: Drawn) -> tuple[dict, np.ndarray]:
    """The mmpose JSON record (1-based) and the 1-based head box [[x1, y1], [x2, y2]]."""
    joints = drawn.joints
    low, high = joints.min(axis=0), joints.max(axis=0)
    scale = 1.15 * (high[1] - low[1]) / 200.0
    centre = (low + high) / 2 - np.array([0.0, 15.0 * scale])  # readers move it down by 15 * scale
    head_mid = (joints[figures.HEAD_TOP] + joints[figures.NECK]) / 2
    half = 0.5 * np.linalg.norm(joints[figures.HEAD_TOP] - joints[figures.NECK])
    headbox = np.array([head_mid - half, head_mid + half]) + 1.0
    record = {
        "image": name,
        "center": (centre + 1.0).round(2).tolist(),
        "scale": round(float(scale), 4),
        "joints": (joints + 1.0).round(2).tolist(),
        "joints_vis": [1] * 16,
    }
    return record, headbox


def write_mpii(config: SyntheticConfig) -> Written:
    written = _draw_all(config, mpii_person, lambda index: f"{index:09d}.jpg")
    for split, items in written.items():
        for name, drawn in items:
            write_jpeg(config.out / "images" / name, drawn.image)
        records = [mpii_record(name, drawn)[0] for name, drawn in items]
        write_bytes(config.out / "annotations" / f"mpii_{split}.json", json.dumps(records).encode())
    records, boxes = zip(*(mpii_record(name, drawn) for name, drawn in written["val"]))
    joints = np.array([r["joints"] for r in records]).reshape(-1, 16, 2)
    content = {
        "headboxes_src": np.array(boxes).reshape(-1, 2, 2).transpose(1, 2, 0),
        "pos_gt_src": joints.transpose(1, 2, 0),
        "jnt_missing": np.zeros((16, len(records)), dtype=np.uint8),
    }
    mat = config.out / "annotations" / "mpii_gt_val.mat"
    atomic_write(mat, lambda handle: savemat(handle, content), binary=True)
    return written


WRITERS = {"lip": write_lip, "mpii": write_mpii}
