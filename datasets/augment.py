"""Training augmentation of Osokin 2019, Sec. 3.2.2 (Table 1 rows): the box fit, one warp for
scale, rotation and flip, then channel permutation and masking on the input-sized image (the 30 %
limit is of the input). Randomness comes only from ``rng``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import transforms as T
from .layouts import flip_index


@dataclass(frozen=True)
class AugmentConfig:
    """The paper's LIP baseline row of Table 1 by default (its text, where the released code
    differs: scale [0.8, 1.5) with p 0.5, masking before the warp)."""

    scale_range: tuple[float, float] = (0.75, 1.25)
    max_rotation: float = 40.0  # degrees; 30 for MPII
    flip_prob: float = 0.5
    channel_permutation_prob: float = 0.5
    body_masking_prob: float = 0.0  # 0.5 for the paper's "+ body masking" row
    body_mask_max_side: float = 0.3  # of the input size
    keypoint_masking_prob: float = 0.0  # 0.5 for the "+ keypoints masking" row
    keypoints_masked: tuple[int, int] = (1, 3)  # how many joints one masking covers, inclusive
    keypoint_patch: float = 0.1  # patch side, fraction of the input width
    fill: int = T.FILL

    @classmethod
    def paper(cls, dataset: str = "lip", masking: str = "none") -> AugmentConfig:
        """Table 1 rows: ``masking`` in {"none", "body", "keypoints"}; MPII rotates +-30."""
        if masking not in ("none", "body", "keypoints"):
            raise ValueError(f"masking must be 'none', 'body' or 'keypoints', got {masking!r}")
        if dataset not in ("lip", "mpii"):
            raise ValueError(f"dataset must be 'lip' or 'mpii', got {dataset!r}")
        return cls(
            max_rotation=30.0 if dataset == "mpii" else 40.0,
            body_masking_prob=0.5 if masking == "body" else 0.0,
            keypoint_masking_prob=0.5 if masking == "keypoints" else 0.0,
        )


@dataclass
class Augmented:
    """An input-sized image with its keypoints; ``matrix`` maps original -> input pixels."""

    image: np.ndarray
    keypoints: np.ndarray
    visible: np.ndarray
    matrix: np.ndarray
    flipped: bool


def augment(
    image: np.ndarray,
    keypoints: np.ndarray,
    visible: np.ndarray,
    box: tuple[float, ...],
    input_size: tuple[int, int],
    config: AugmentConfig,
    rng: np.random.Generator,
    flip_pairs: tuple[tuple[int, int], ...],
) -> Augmented:
    """Fit ``box`` of the image to the input and apply the random augmentation of ``config``."""
    scale = rng.uniform(*config.scale_range)
    degrees = rng.uniform(-config.max_rotation, config.max_rotation)
    matrix = T.scale_rotate_matrix(scale, degrees, input_size)  # about the input centre
    flipped = bool(rng.random() < config.flip_prob)
    if flipped:  # x -> W - 1 - x about the input's centre line
        matrix = np.array([[-1.0, 0, input_size[1] - 1.0], [0, 1, 0], [0, 0, 1]]) @ matrix
    matrix = matrix @ T.fit_matrix(box, input_size)
    out, points = T.warp(image, keypoints, matrix, input_size, config.fill)
    if flipped:  # the left joints are now the right ones
        swap = flip_index(len(points), flip_pairs)
        points, visible = points[swap], visible[swap]
    if rng.random() < config.channel_permutation_prob:
        out = T.permute_channels(out, rng)
    if rng.random() < config.body_masking_prob:
        out, _ = T.body_mask(out, rng, config.body_mask_max_side, config.fill)
    present = np.flatnonzero(np.isfinite(points).all(axis=1))
    if rng.random() < config.keypoint_masking_prob and present.size:
        low, high = config.keypoints_masked
        count = min(present.size, int(rng.integers(low, high + 1)))
        chosen = rng.choice(present, size=count, replace=False)
        patch = max(1, round(config.keypoint_patch * out.shape[1]))
        out = T.keypoint_mask(out, points, chosen, patch, config.fill)
    return Augmented(out, points, visible, matrix, flipped)


def fit(
    image: np.ndarray,
    keypoints: np.ndarray,
    visible: np.ndarray,
    box: tuple[float, ...],
    input_size: tuple[int, int],
) -> Augmented:
    """Evaluation pre-processing: the fit only, no randomness."""
    matrix = T.fit_matrix(box, input_size)
    out, points = T.warp(image, keypoints, matrix, input_size)
    return Augmented(out, points, visible.copy(), matrix, False)
