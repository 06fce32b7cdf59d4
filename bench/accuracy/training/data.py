"""Data set-up of a training or evaluation run, on top of ``datasets``.

``--dataset synthetic`` means the generated data of ``python -m datasets.synthetic`` in the layout
of the model's own dataset (LIP or MPII); when ``--root`` is empty or absent, it is generated
there first (a root holding other files is refused). Heatmap targets follow the model's facts:
its input and heatmap size, and a background map when the model predicts one (GCPM's 17th
channel).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from architectures import ModelInfo
from architectures.errors import InputFileError
from bench.accuracy.training.config import TrainConfig
from datasets import AugmentConfig, PoseDataset, open_reader
from datasets.layouts import joint_map_for
from datasets.synthetic import SyntheticConfig, generate

SIGMA = 7.0  # Gaussian sigma in input pixels, the GCPM code's value (datasets.PoseDataset default)


def data_format(dataset: str, info: ModelInfo) -> str:
    """The annotation layout to read: LIP or MPII (synthetic data follows the model's)."""
    if dataset != "synthetic":
        if dataset != info.dataset:
            warnings.warn(f"{info.name} is registered for {info.dataset}, used here on {dataset}")
        return dataset
    return info.dataset


def ensure_synthetic(root: Path, fmt: str, num_images: int, seed: int) -> None:
    """Generate data into ``root`` unless it already holds annotations of ``fmt``; a root that
    holds anything else is refused (the generator would write among someone's files)."""
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
        ensure_synthetic(
            Path(cfg.root), data_format(cfg.dataset, info), cfg.synthetic_images, cfg.seed
        )


def open_split(
    dataset: str,
    root: Path,
    info: ModelInfo,
    split: str,
    synthetic_images: int = 400,
    seed: int = 0,
):
    """The reader of one split; a missing root or annotation file is named with ``--root``."""
    fmt = data_format(dataset, info)
    if dataset == "synthetic":
        ensure_synthetic(Path(root), fmt, synthetic_images, seed)
    try:
        return open_reader(fmt, root, split)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise InputFileError(f"--root {root}: {exc}") from None


def pose_dataset(source, info: ModelInfo, augment=None, seed: int = 0) -> PoseDataset:
    return PoseDataset(
        source,
        input_size=info.input_size,
        heatmap_size=info.heatmap_size,
        sigma=SIGMA,
        background=info.has_background,
        augment=augment,
        seed=seed,
        joint_map=joint_map_for(info.num_keypoints, source.layout),  # cpm-original: 14 joints
    )


def augment_config(cfg: TrainConfig, info: ModelInfo) -> AugmentConfig | None:
    if not cfg.augment.enabled:
        return None
    masking = (
        "body"
        if cfg.augment.body_masking
        else "keypoints"
        if cfg.augment.keypoint_masking
        else "none"
    )
    return AugmentConfig.paper(data_format(cfg.dataset, info), masking)


def build_datasets(cfg: TrainConfig, info: ModelInfo) -> tuple[PoseDataset, PoseDataset]:
    """(train, val) ``PoseDataset``s; validation is the plain fit, no augmentation."""

    def split(name: str):
        return open_split(cfg.dataset, cfg.root, info, name, cfg.synthetic_images, cfg.seed)

    train = pose_dataset(split(cfg.train_split), info, augment_config(cfg, info), cfg.seed)
    return train, eval_dataset(
        info, cfg.dataset, cfg.root, cfg.val_split, cfg.max_val_samples, source=split(cfg.val_split)
    )


def eval_dataset(
    info: ModelInfo,
    dataset: str,
    root: Path,
    split: str = "val",
    max_samples: int | None = None,
    source=None,
) -> PoseDataset:
    """The evaluation ``PoseDataset`` (plain fit) of one split, optionally its first samples."""
    source = source if source is not None else open_split(dataset, root, info, split)
    if len(source) == 0:
        raise InputFileError(f"--root {root}: the {dataset} {split!r} split has no persons")
    if max_samples is not None:
        source = _Head(source, max_samples)
    return pose_dataset(source, info)


class _Head:
    """The first ``n`` samples of a reader, keeping its ``layout``."""

    def __init__(self, source, n: int) -> None:
        self.source, self.n, self.layout = source, min(n, len(source)), source.layout

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int):
        if not 0 <= index < self.n:
            raise IndexError(index)
        return self.source[index]


def split_batch(batch: dict, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and heatmap targets of a collated ``PoseDataset`` batch, on ``device``."""
    return batch["image"].to(device, non_blocking=True), batch["heatmaps"].to(
        device, non_blocking=True
    )
