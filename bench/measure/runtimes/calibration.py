"""Calibration images of the int8 rows (post-training static quantization).

Static int8 quantization fixes each activation's scale from the value ranges the network sees
on representative inputs. With a data root, those are the first images of its training split
(never the validation split the rows are scored on); without one, images of
``datasets.synthetic`` generated in a temporary folder, which a row's notes then say. Images
are fitted to the network's input exactly as for evaluation (``datasets.PoseDataset`` without
augmentation).
"""

from __future__ import annotations

import atexit
import functools
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datasets import PoseDataset, open_reader
from datasets.synthetic import SyntheticConfig, generate

_GENERATED_VAL_FRACTION = 0.25


@functools.cache
def _generated_root(dataset: str, count: int) -> Path:
    """Generated data with ``count`` training images, made once per run (every int8 row of a
    run calibrates on the same images) and removed when the process ends."""
    root = Path(tempfile.mkdtemp(prefix="gcpm-bench-calibration-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    total = math.ceil(count / (1 - _GENERATED_VAL_FRACTION))
    generate(SyntheticConfig(dataset, root, total, val_fraction=_GENERATED_VAL_FRACTION))
    return root


CALIBRATION_IMAGES = 300  # NNCF's default subset size; ONNX Runtime's calibration uses the same


@dataclass(frozen=True)
class Calibration:
    """Where the images come from: ``root`` (a ``dataset`` layout: lip or mpii), else generated."""

    root: Path | None = None
    dataset: str = "lip"
    count: int = CALIBRATION_IMAGES

    def describe(self, found: int) -> str:
        if self.root is None:
            return f"calibrated on {found} generated {self.dataset} images (no data root given)"
        return f"calibrated on {found} images of the {self.dataset} training split"

    def images(self, size: tuple[int, int]) -> tuple[np.ndarray, str]:
        """(N, 3, H, W) float32 inputs at ``size`` = (H, W), and the line saying where from."""
        return self._read(self.root or _generated_root(self.dataset, self.count), size)

    def _read(self, root: Path, size: tuple[int, int]) -> tuple[np.ndarray, str]:
        reader = open_reader(self.dataset, root, "train")
        data = PoseDataset(reader, input_size=size, heatmap_size=(size[0] // 4, size[1] // 4))
        count = min(self.count, len(data))
        images = np.stack([data[i]["image"].numpy() for i in range(count)]).astype(np.float32)
        return images, self.describe(count)
