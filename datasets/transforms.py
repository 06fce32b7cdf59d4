"""Transforms on (image, keypoints), as in Osokin 2019, Sec. 3.2.2: geometry is one 3x3 affine
matrix (original pixel centres -> input), applied once to both; its inverse maps predictions back.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

FILL = 128  # the fixed padding / masking colour of the GCPM code


def fit_matrix(box: tuple[float, ...], input_size: tuple[int, int]) -> np.ndarray:
    """Fit ``box`` (x_min, y_min, width, height; pixel edges) into the input, centred."""
    x0, y0, bw, bh = box
    in_h, in_w = input_size
    s = min(in_w / bw, in_h / bh)
    # Edge coordinates map linearly; the -0.5 turns edges back into pixel centres.
    tx = (in_w - s * bw) / 2 - s * x0 - 0.5
    ty = (in_h - s * bh) / 2 - s * y0 - 0.5
    return np.array([[s, 0.0, tx], [0.0, s, ty], [0.0, 0.0, 1.0]])


def scale_rotate_matrix(scale: float, degrees: float, input_size: tuple[int, int]) -> np.ndarray:
    """Zoom by ``scale`` and rotate counter-clockwise by ``degrees`` about the input centre."""
    cx, cy = (input_size[1] - 1) / 2, (input_size[0] - 1) / 2
    top = cv2.getRotationMatrix2D((cx, cy), degrees, scale)
    return np.vstack([top, [0.0, 0.0, 1.0]])


def apply_matrix(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Map (..., 2) points through a 3x3 affine matrix; NaN stays NaN."""
    return points @ matrix[:2, :2].T + matrix[:2, 2]


def matrix_scale(matrix: np.ndarray) -> float:
    """Isotropic length factor of an affine matrix (sqrt of |det|), e.g. for head sizes."""
    return math.sqrt(abs(np.linalg.det(matrix[:2, :2])))


def warp(
    image: np.ndarray,
    keypoints: np.ndarray,
    matrix: np.ndarray,
    input_size: tuple[int, int],
    fill: int = FILL,
) -> tuple[np.ndarray, np.ndarray]:
    """Warp image and keypoints with one matrix to an input of (height, width)."""
    size, border = (input_size[1], input_size[0]), (fill, fill, fill)
    out = cv2.warpAffine(
        image, matrix[:2], size, borderMode=cv2.BORDER_CONSTANT, borderValue=border
    )
    return out, apply_matrix(keypoints, matrix)


def permute_channels(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.ascontiguousarray(image[..., rng.permutation(image.shape[2])])


def body_mask(
    image: np.ndarray, rng: np.random.Generator, max_side: float = 0.3, fill: int = FILL
) -> tuple[np.ndarray, np.ndarray]:
    """GCPM body masking: a quadrangle around a centre in the middle third, each corner in its own
    quadrant at most ``max_side / 2`` of the input away; returns (image, corners)."""
    h, w = image.shape[:2]
    centre = np.array([w, h]) * (1 + rng.random(2)) / 3
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]])
    corners = centre + signs * rng.random((4, 2)) * np.array([w, h]) * max_side / 2
    out = image.copy()
    cv2.fillConvexPoly(out, np.round(corners).astype(np.int32), (fill, fill, fill))
    return out, corners


def keypoint_mask(
    image: np.ndarray, keypoints: np.ndarray, joints: np.ndarray, patch: int, fill: int = FILL
) -> np.ndarray:
    """Cover the chosen ``joints`` with square fixed-colour patches of side ``patch`` pixels
    (keypoint masking of Ke et al. 2018, with a fixed colour instead of background patches)."""
    out = image.copy()
    half = patch / 2
    for x, y in keypoints[joints]:
        if np.isfinite(x) and np.isfinite(y):
            p0 = (int(np.rint(x - half)), int(np.rint(y - half)))
            p1 = (int(np.rint(x + half)), int(np.rint(y + half)))
            cv2.rectangle(out, p0, p1, (fill, fill, fill), thickness=-1)
    return out
