"""Training configuration; its defaults are the GCPM recipe (Osokin 2019, Sec. 3.2)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from architectures.errors import UsageError, check_range

DATASETS = ("lip", "mpii", "synthetic")
LABELLED_SPLITS = ("train", "val")  # LIP's and MPII's test labels are not public

# Fields that may change when a run continues (a data set may move, a run may be extended).
RESUMABLE_CHANGES = frozenset(
    ("out", "root", "epochs", "resume", "auto_resume", "trust_checkpoint")  # files, length
    + ("workers", "device", "progress")  # speed and display
)
# Command-line spelling of the fields whose option is not simply ``--<field-with-dashes>``.
_OPTIONS = {
    "augment.enabled": "augmentation (--no-augment)",
    "schedule.threshold": "plateau threshold (code default)",
    "schedule.factor": "lr factor (code default)",
    "schedule.max_reductions": "lr reductions (code default)",
    "val_split": "validation split",
}


@dataclass(frozen=True)
class AugmentSwitches:
    """The Sec. 3.2.2 augmentations; Table 1's rows toggle the two masking schemes."""

    enabled: bool = True
    body_masking: bool = False
    keypoint_masking: bool = False

    def __post_init__(self) -> None:
        if self.body_masking and self.keypoint_masking:
            raise UsageError("Table 1 has no row with both body and keypoint masking; choose one")


@dataclass(frozen=True)
class ScheduleConfig:
    """ReduceLROnPlateau on validation PCKh, factor 0.1, at most ``max_reductions`` times."""

    factor: float = 0.1
    patience: int = 5
    max_reductions: int = 2
    # In the units of the validation PCKh the scheduler reads: percent. A gain of less than 0.1
    # point is a plateau (the GCPM code's 1e-2 was on a fraction, i.e. 1 point).
    threshold: float = 0.1

    def __post_init__(self) -> None:
        check_range("--patience", self.patience, 0)


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
    input_size: tuple[int, int] | None = None  # None: the model's registered input size
    val_split: str = "val"
    max_val_samples: int | None = None
    validate_every: int = 1  # epochs; the last epoch is always validated (the plateau counts these)
    synthetic_images: int = 400  # generated when --dataset synthetic finds no data at --root
    backbone_weights: Path | None = None
    resume: Path | None = None  # None: resume from out/last.pt when it exists
    auto_resume: bool = True  # False (--restart): start afresh even if out/last.pt exists
    trust_checkpoint: bool = False  # unpickle --resume / last.pt fully (only for trusted files)
    augment: AugmentSwitches = field(default_factory=AugmentSwitches)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    progress: bool = True

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise UsageError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        for name in ("epochs", "batch_size", "validate_every", "synthetic_images"):
            check_range(_option(name), getattr(self, name), 1)
        check_range("--max-val-samples", self.max_val_samples, 1)
        check_range("--workers", self.workers, 0)
        check_range("--seed", self.seed, 0, 2**32 - 1)  # numpy's seed range
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"--lr must be a finite number > 0, got {self.lr}")
        if self.input_size is not None and (len(self.input_size) != 2 or min(self.input_size) < 1):
            raise UsageError(f"--input-size must be two positive integers, got {self.input_size}")


def _option(name: str) -> str:
    return _OPTIONS.get(name, "--" + name.rsplit(".", 1)[-1].replace("_", "-"))


def config_record(cfg: TrainConfig) -> dict[str, Any]:
    """The config as plain values that ``torch.load(weights_only=True)`` reads back."""
    return json.loads(json.dumps(asdict(cfg), default=str))


def _flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def config_changes(saved: dict[str, Any], cfg: TrainConfig) -> list[str]:
    """``--lr 0.001 (saved: 4e-05)`` per changed field; a field ``saved`` lacks had its default."""
    plain = TrainConfig(model=cfg.model, dataset=cfg.dataset, root=cfg.root, out=cfg.out)
    now, before = _flatten(config_record(cfg)), _flatten(saved)
    defaults = _flatten(config_record(plain))
    changes = []
    for name, value in now.items():
        if name.split(".")[0] in RESUMABLE_CHANGES:
            continue
        old = before.get(name, defaults[name])
        if old != value:
            changes.append(f"{_option(name)} {_show(value)} (saved: {_show(old)})")
    return changes


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def check_split(source: str, split: str, known: tuple[str, ...] = LABELLED_SPLITS) -> None:
    """Only splits with ground truth can be scored or trained on; ``source`` names the data."""
    if split not in known:
        reason = "has no public labels" if split == "test" else "is not a split of this suite"
        raise UsageError(
            f"--split {split}: the {split!r} split {reason}; {source} has {', '.join(known)}"
        )
