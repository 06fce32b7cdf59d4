"""Typed training configuration; its defaults are the GCPM paper's recipe (Osokin 2019, Sec. 3.2).

Adam with initial learning rate 4e-5, divided by 10 twice on plateaus of the validation PCKh; MSE on
the heatmaps of every stage; the Sec. 3.2.2 augmentations with the Table 1 switches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

DATASETS = ("lip", "mpii", "synthetic")


@dataclass(frozen=True)
class AugmentSwitches:
    """The Sec. 3.2.2 augmentations; Table 1's rows toggle the two masking schemes."""

    enabled: bool = True
    body_masking: bool = False
    keypoint_masking: bool = False


@dataclass(frozen=True)
class ScheduleConfig:
    """ReduceLROnPlateau on validation PCKh, factor 0.1, at most ``max_reductions`` times."""

    factor: float = 0.1
    patience: int = 5
    max_reductions: int = 2
    threshold: float = 1e-3  # PCKh is a fraction: ignore changes below 0.1 point


@dataclass(frozen=True)
class TrainConfig:
    model: str
    dataset: str
    root: Path
    out: Path
    epochs: int = 100
    batch_size: int = 16
    lr: float = 4e-5
    workers: int = 2
    seed: int = 0
    device: str = "auto"
    input_size: Optional[tuple[int, int]] = None  # None: the model's registered input size
    train_split: str = "train"
    val_split: str = "val"
    max_val_samples: Optional[int] = None
    validate_every: int = 1  # epochs; the last epoch is always validated (the plateau counts these)
    synthetic_images: int = 400  # generated when --dataset synthetic finds no data at --root
    backbone_weights: Optional[Path] = None
    resume: Optional[Path] = None  # None: resume from out/last.pt when it exists
    auto_resume: bool = True
    augment: AugmentSwitches = field(default_factory=AugmentSwitches)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        for name in ("epochs", "batch_size", "validate_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.workers < 0:
            raise ValueError(f"workers must be >= 0, got {self.workers}")
