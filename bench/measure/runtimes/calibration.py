"""Calibration images of the int8 rows: the training split of a data root, else generated
``datasets.synthetic`` images, fitted to the network's input as for evaluation."""

from __future__ import annotations

import atexit
import functools
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from architectures.errors import InputFileError
from datasets import PoseDataset, open_reader
from datasets.synthetic import SyntheticConfig, generate

_GENERATED_VAL_FRACTION = 0.25


@functools.cache
def _generated_root(dataset: str, count: int) -> Path:
    """``count`` generated training images, made once per process and removed when it ends."""
    root = Path(tempfile.mkdtemp(prefix="gcpm-bench-calibration-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    total = math.ceil(count / (1 - _GENERATED_VAL_FRACTION))
    generate(SyntheticConfig(dataset, root, total, val_fraction=_GENERATED_VAL_FRACTION))
    return root


@dataclass(frozen=True)
class Calibration:
    """Images from ``root`` (a ``dataset`` layout: lip or mpii), else generated."""

    root: Path | None = None
    dataset: str = "lip"
    count: int = 300  # NNCF's default subset size; ONNX Runtime's calibration uses the same

    def images(self, size: tuple[int, int]) -> tuple[np.ndarray, str]:
        """(N, 3, H, W) float32 inputs at ``size`` = (H, W), and the line saying where from."""
        root = self.root or _generated_root(self.dataset, self.count)
        reader = open_reader(self.dataset, root, "train")
        data = PoseDataset(reader, input_size=size, heatmap_size=(size[0] // 4, size[1] // 4))
        if not (n := min(self.count, len(data))):
            raise InputFileError(f"the {self.dataset} training split of {root} has no persons")
        images = np.stack([data[i]["image"].numpy() for i in range(n)]).astype(np.float32)
        if self.root is None:  # no data root of this model's dataset was given
            return images, f"calibrated on {n} generated {self.dataset} images (no data root)"
        return images, f"calibrated on {n} images of the {self.dataset} training split"
