"""Model and data set-up of a training run, on top of ``architectures`` and ``datasets``.

``--dataset synthetic`` means the generated data of ``python -m datasets.synthetic`` in the layout
of the model's own dataset (LIP or MPII); when ``--root`` holds no annotations yet, it is generated
there first. Heatmap targets follow the model's facts: its input and heatmap size, and a background
map when the model predicts one (GCPM's 17th channel).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from architectures import ModelInfo, create_model
from bench.training.backbone import load_backbone_weights
from bench.training.config import TrainConfig

SIGMA = 7.0  # Gaussian sigma in input pixels, the GCPM code's value (datasets.PoseDataset default)


def model_overrides(input_size: tuple[int, int] | None) -> dict[str, Any]:
    return {} if input_size is None else {"input_size": tuple(input_size)}


def build_model_plain(name: str, input_size: tuple[int, int] | None = None) -> nn.Module:
    return create_model(name, **model_overrides(input_size))


def build_model(cfg: TrainConfig, log: bool = True) -> nn.Module:
    model = build_model_plain(cfg.model, cfg.input_size)
    if cfg.backbone_weights is not None:
        report = load_backbone_weights(model, Path(cfg.backbone_weights))
        if log:
            print(report.summary())
    return model


def data_format(dataset: str, info: ModelInfo) -> str:
    """The annotation layout to read: LIP or MPII (synthetic data follows the model's)."""
    if dataset != "synthetic":
        if dataset != info.dataset:
            warnings.warn(f"{info.name} is registered for {info.dataset}, used here on {dataset}")
        return dataset
    return info.dataset


def ensure_synthetic(root: Path, fmt: str, num_images: int, seed: int) -> None:
    """Generate data into ``root`` unless it already holds annotations of ``fmt``."""
    marker = root / ("TrainVal_pose_annotations" if fmt == "lip" else "annotations")
    if marker.is_dir():
        return
    from datasets.synthetic import SyntheticConfig, generate

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
    from datasets import open_reader

    fmt = data_format(dataset, info)
    if dataset == "synthetic":
        ensure_synthetic(Path(root), fmt, synthetic_images, seed)
    return open_reader(fmt, root, split)


def pose_dataset(source, info: ModelInfo, augment=None, seed: int = 0):
    from datasets import PoseDataset

    return PoseDataset(
        source,
        input_size=info.input_size,
        heatmap_size=info.heatmap_size,
        sigma=SIGMA,
        background=info.has_background,
        augment=augment,
        seed=seed,
    )


def augment_config(cfg: TrainConfig, info: ModelInfo):
    from datasets import AugmentConfig

    if not cfg.augment.enabled:
        return None
    if cfg.augment.body_masking and cfg.augment.keypoint_masking:
        raise ValueError("Table 1 has no row with both body and keypoint masking; choose one")
    masking = (
        "body"
        if cfg.augment.body_masking
        else "keypoints"
        if cfg.augment.keypoint_masking
        else "none"
    )
    return AugmentConfig.paper(data_format(cfg.dataset, info), masking)


def build_datasets(cfg: TrainConfig, info: ModelInfo):
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
):
    """The evaluation ``PoseDataset`` (plain fit) of one split, optionally its first samples."""
    source = source if source is not None else open_split(dataset, root, info, split)
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


def validate_pckh(model: nn.Module, val_set, cfg: TrainConfig, device: torch.device) -> float:
    """Single-scale PCKh (%, the paper's total column) of ``model`` on ``val_set``."""
    from bench.evaluate import evaluate_model

    return evaluate_model(
        model, val_set, device=device, batch_size=cfg.batch_size, workers=cfg.workers
    )["PCKh"]
