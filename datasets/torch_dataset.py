"""Torch ``Dataset`` over reader samples: pre-processing, augmentation and heatmap targets. An item
holds ``image`` float32 (3, H, W) **BGR, (pixel - 128) / 256** (models hold no normalisation),
``heatmaps`` (K [+1], h, w) in a ``joint_map``'s channel order if given, ``keypoints`` (K, 2) and
``head_size`` in input pixels, ``valid`` (annotated, inside the input), ``visible``, ``matrix``
(original -> input; :func:`to_original`), ``flipped``, ``index``, ``id``. Randomness is
``default_rng((seed, epoch, index))``, independent of workers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .augment import AugmentConfig, augment, fit
from .heatmaps import Size, _hw, decode, encode
from .layouts import JointMap, KeypointLayout
from .sample import Sample
from .transforms import apply_matrix, matrix_scale


def normalize_image(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 BGR -> float32 (3, H, W) ``(pixel - 128) / 256``, the suite's convention."""
    # transposed in numpy: torch's strided CPU copy of the permuted view is ~10x slower
    chw = np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32)
    return torch.from_numpy((chw - 128.0) / 256.0)


def to_original(keypoints: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) input-pixel coordinates back to original-image pixels."""
    return apply_matrix(np.asarray(keypoints, dtype=np.float64), np.linalg.inv(matrix))


class PoseDataset(Dataset):
    """Samples -> network-ready dicts (see the module docstring)."""

    def __init__(
        self,
        source: Sequence[Sample],
        input_size: Size,
        heatmap_size: Size,
        sigma: float = 7.0,
        background: bool = True,
        augment: AugmentConfig | None = None,
        seed: int = 0,
        joint_map: JointMap | None = None,
    ) -> None:
        self.layout: KeypointLayout | None = getattr(source, "layout", None)
        if augment is not None and self.layout is None:
            raise ValueError("augmentation flips need flip pairs: give a reader (its .layout)")
        if sigma <= 0:
            raise ValueError(f"sigma must be positive (input pixels), got {sigma}")
        self.source, self.augment, self.seed, self.epoch = source, augment, seed, 0
        self.input_size, self.heatmap_size = _hw(input_size), _hw(heatmap_size)
        self.sigma, self.background, self.joint_map = sigma, background, joint_map

    def __len__(self) -> int:
        return len(self.source)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> dict:
        sample = self.source[index]
        image = sample.load_image()
        box = sample.person_box(image.shape[:2])
        args = (image, sample.keypoints, sample.visible, box, self.input_size)
        if self.augment is None:
            out = fit(*args)
        else:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            out = augment(*args, self.augment, rng, self.layout.flip_pairs)
        high = np.array(self.input_size[::-1]) - 0.5  # (x, y) of the last pixel edge
        with np.errstate(invalid="ignore"):  # NaN compares False: a missing joint is not inside
            valid = ((out.keypoints >= -0.5) & (out.keypoints <= high)).all(axis=1)
        points = out.keypoints if self.joint_map is None else self.joint_map.to_model(out.keypoints)
        present = np.isfinite(points).all(axis=1)
        targets = encode(
            points, present, self.input_size, self.heatmap_size, self.sigma, self.background
        )
        return {
            "image": normalize_image(out.image),
            "heatmaps": torch.from_numpy(targets),
            "keypoints": torch.from_numpy(out.keypoints.astype(np.float32)),
            "valid": torch.from_numpy(valid),
            "visible": torch.from_numpy(out.visible.copy()),
            "head_size": float(sample.head_size * matrix_scale(out.matrix)),
            "matrix": torch.from_numpy(out.matrix),
            "flipped": out.flipped,
            "index": index,
            "id": sample.id,
        }

    @property
    def channel_flip_pairs(self) -> tuple[tuple[int, int], ...]:
        """Left/right pairs of the heatmap channels (for the flipped test-time pass)."""
        return self.layout.flip_pairs if self.joint_map is None else self.joint_map.flip_pairs

    def decode(self, heatmaps: torch.Tensor | np.ndarray) -> np.ndarray:
        """(N, C, h, w) heatmaps -> (N, K, 2) input-pixel coordinates in the data's joint order."""
        num = len(self.source[0].keypoints) if self.layout is None else self.layout.num_keypoints
        if self.joint_map is None:
            return decode(heatmaps[:, :num], self.input_size)[0]
        coords, _ = decode(heatmaps[:, : len(self.joint_map.index)], self.input_size)
        return self.joint_map.to_data(coords, num)
