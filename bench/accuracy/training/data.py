"""Data of a training or evaluation run; ``--dataset synthetic`` is generated (in the model's
dataset layout) into an empty or absent ``--root``."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

from architectures import ModelInfo
from architectures.errors import InputFileError
from bench.accuracy.training.config import TrainConfig
from datasets import AugmentConfig, PoseDataset, open_reader
from datasets.layouts import joint_map_for
from datasets.sample import SampleList
from datasets.synthetic import SyntheticConfig, generate


def data_format(dataset: str, info: ModelInfo) -> str:
    """The annotation layout to read: LIP or MPII (synthetic data follows the model's)."""
    if dataset == "synthetic":
        return info.dataset
    if dataset != info.dataset:
        warnings.warn(f"{info.name} is registered for {info.dataset}, used here on {dataset}")
    return dataset


def ensure_synthetic(root: Path, fmt: str, num_images: int, seed: int) -> None:
    """Generate data into an empty ``root``; one that holds other files is refused."""
    marker = root / ("TrainVal_pose_annotations" if fmt == "lip" else "annotations")
    if marker.is_dir():
        return
    if root.exists() and not root.is_dir():
        raise InputFileError(f"--root {root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()):
        raise InputFileError(
            f"--root {root}: not empty and holds no generated {fmt} dataset ({marker.name}/ "
            f"missing); give an empty or new folder for --dataset synthetic"
        )
    print(f"generating {num_images} synthetic {fmt} images in {root}")
    generate(SyntheticConfig(format=fmt, out=root, num_images=num_images, seed=seed))


def prepare_data(cfg: TrainConfig, info: ModelInfo) -> None:
    """Generate synthetic data if asked and missing; call on one rank, then synchronise."""
    if cfg.dataset == "synthetic":
        ensure_synthetic(Path(cfg.root), info.dataset, cfg.synthetic_images, cfg.seed)


def open_split(dataset: str, root: Path, info: ModelInfo, split: str) -> SampleList:
    """The reader of one split; a missing root or annotation file is named with ``--root``."""
    fmt = data_format(dataset, info)
    if dataset == "synthetic":
        ensure_synthetic(Path(root), fmt, 400, 0)  # bench.train generates first, with its options
    try:
        return open_reader(fmt, root, split)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise InputFileError(f"--root {root}: {exc}") from None


def pose_dataset(source, info: ModelInfo, augment=None, seed: int = 0) -> PoseDataset:
    """Targets in the model's facts; the heatmaps' sigma is PoseDataset's, the GCPM code's 7 px."""
    return PoseDataset(
        source,
        input_size=info.input_size,
        heatmap_size=info.heatmap_size,
        background=info.has_background,
        augment=augment,
        seed=seed,
        joint_map=joint_map_for(info.num_keypoints, source.layout),  # cpm-original: 14 joints
    )


def build_datasets(cfg: TrainConfig, info: ModelInfo) -> tuple[PoseDataset, PoseDataset]:
    """(train, val) ``PoseDataset``s; validation is the plain fit, no augmentation."""
    prepare_data(cfg, info)
    augment = None
    if cfg.augment.enabled:
        switches = cfg.augment
        masking = "body" if switches.body_masking else "none"
        masking = "keypoints" if switches.keypoint_masking else masking
        augment = AugmentConfig.paper(data_format(cfg.dataset, info), masking)
    train = pose_dataset(open_split(cfg.dataset, cfg.root, info, "train"), info, augment, cfg.seed)
    val = eval_dataset(info, cfg.dataset, cfg.root, cfg.val_split, cfg.max_val_samples)
    return train, val


def eval_dataset(
    info: ModelInfo, dataset: str, root: Path, split: str = "val", max_samples: int | None = None
) -> PoseDataset:
    """The evaluation ``PoseDataset`` (plain fit) of one split, optionally its first samples."""
    source = open_split(dataset, root, info, split)
    if len(source) == 0:
        raise InputFileError(f"--root {root}: the {dataset} {split!r} split has no persons")
    if max_samples is not None:  # a shallow copy keeps the reader's layout
        source = copy.copy(source)
        source.samples = source.samples[:max_samples]
    return pose_dataset(source, info)
