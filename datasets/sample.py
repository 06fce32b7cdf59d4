"""The sample every reader yields and the error for bad annotations: 0-based pixel-centre
coordinates, NaN for a missing joint; joints outside the image are real (MPII head tops) and kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from architectures.errors import InputFileError

# Joints this far outside the image border (pixels) are reported, not taken for rounding noise.
OUTSIDE_TOLERANCE = 1.0


class AnnotationError(InputFileError):
    """Bad input in a dataset file; the message names the file and the row / record."""


@dataclass(frozen=True, eq=False)
class Sample:
    """One annotated person. The image is read lazily by :meth:`load_image` (BGR uint8)."""

    id: str
    image_path: Path | None  # None where the source names no image (a gt_valid.mat record)
    keypoints: np.ndarray  # (K, 2) float64, NaN where missing
    visible: np.ndarray  # (K,) bool, the dataset's visibility flag
    head_size: float  # PCKh normaliser in original pixels; 0.0 where the protocol has none
    source: str  # "file:row" or "file:record N", for error messages
    center: np.ndarray | None = None  # MPII person centre (0-based pixels)
    scale: float | None = None  # MPII person scale: height / 200 px
    # Protocol's own exclusions on top of ``valid`` (None: every annotated joint is scored).
    scored_mask: np.ndarray | None = None

    @property
    def valid(self) -> np.ndarray:
        """(K,) bool: the joint is annotated (occluded joints included)."""
        return np.isfinite(self.keypoints).all(axis=1)

    @property
    def scored(self) -> np.ndarray:
        """(K,) bool: the joint counts in PCKh under the dataset's protocol."""
        return self.valid if self.scored_mask is None else self.valid & self.scored_mask

    def load_image(self) -> np.ndarray:
        """Read the image (BGR uint8); raises naming the file and the annotation row."""
        if self.image_path is None:
            raise FileNotFoundError(f"{self.source}: the annotation names no image file")
        if not self.image_path.is_file():
            raise FileNotFoundError(f"{self.source}: image file {self.image_path} does not exist")
        image = cv2.imread(str(self.image_path), cv2.IMREAD_COLOR)
        if image is None:
            raise AnnotationError(f"{self.source}: cannot decode image {self.image_path}")
        return image

    def outside_image(self, image_hw: tuple[int, int]) -> np.ndarray:
        """(K,) bool: annotated joints more than :data:`OUTSIDE_TOLERANCE` px outside the image."""
        high = np.array(image_hw[::-1]) - 0.5 + OUTSIDE_TOLERANCE  # (x, y)
        low = -0.5 - OUTSIDE_TOLERANCE
        with np.errstate(invalid="ignore"):
            out = ((self.keypoints < low) | (self.keypoints > high)).any(axis=1)
        return out & self.valid

    def person_box(self, image_hw: tuple[int, int], box_scale: float = 1.25) -> tuple[float, ...]:
        """(x_min, y_min, width, height), pixel edges: for MPII a square of side ``box_scale *
        scale * 200`` about the centre, 15 * scale lower (Newell, mmpose); else the whole image."""
        if self.center is None or self.scale is None:
            height, width = image_hw
            return (-0.5, -0.5, float(width), float(height))
        side = box_scale * self.scale * 200.0
        cx, cy = float(self.center[0]), float(self.center[1]) + 15.0 * self.scale
        return (cx - side / 2, cy - side / 2, side, side)


class SampleList(Sequence[Sample]):
    """An annotation file once read: a sequence of samples; readers fill ``self.samples``."""

    samples: list[Sample]

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):  # type: ignore[override]
        return self.samples[index]
