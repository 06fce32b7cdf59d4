"""The small transforms the augmentations are made of: matrices, warps, masks, channel order."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from datasets import transforms as T


def test_channel_permutation_keeps_geometry_and_permutes():
    rng = np.random.default_rng(0)
    image = np.zeros((10, 10, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 10, 20, 30
    seen = {tuple(T.permute_channels(image, rng)[3, 3]) for _ in range(30)}
    assert len(seen) > 1 and all(sorted(c) == [10, 20, 30] for c in seen)


@pytest.mark.parametrize("seed", range(5))
def test_body_mask_is_a_bounded_quadrangle_near_the_centre(seed):
    rng = np.random.default_rng(seed)
    image = np.zeros((100, 150, 3), np.uint8)
    out, corners = T.body_mask(image, rng, max_side=0.3)
    masked = (out == T.FILL).all(axis=2)
    ys, xs = np.nonzero(masked)
    assert masked.any() and (out[~masked] == 0).all()
    assert xs.max() - xs.min() <= 0.3 * 150 + 1 and ys.max() - ys.min() <= 0.3 * 100 + 1
    centre = corners.mean(axis=0)
    assert (
        150 / 3 - 23 <= centre[0] <= 2 * 150 / 3 + 23 and 100 / 3 - 16 <= centre[1] <= 200 / 3 + 16
    )


def test_keypoint_mask_covers_chosen_joints_only():
    image = np.zeros((64, 64, 3), np.uint8)
    keypoints = np.array([[10.0, 10.0], [50.0, 50.0], [np.nan, np.nan]])
    out = T.keypoint_mask(image, keypoints, np.array([0, 2]), patch=6)
    assert (out[7:14, 7:14] == T.FILL).all() and (out[50, 50] == 0).all()
    assert (out == T.FILL).all(axis=2).sum() == 7 * 7


def test_rotation_direction_and_scale_about_centre():
    matrix = T.scale_rotate_matrix(2.0, 90.0, (101, 101))
    # The centre is fixed; a point right of centre goes up (counter-clockwise on screen),
    # twice as far.
    np.testing.assert_allclose(
        T.apply_matrix(np.array([[50.0, 50.0], [60.0, 50.0]]), matrix),
        [[50.0, 50.0], [50.0, 30.0]],
        atol=1e-9,
    )
    assert T.matrix_scale(matrix) == pytest.approx(2.0)
    image = cv2.circle(np.zeros((101, 101, 3), np.uint8), (60, 50), 2, (255, 255, 255), -1)
    out, _ = T.warp(image, np.zeros((0, 2)), matrix, (101, 101))
    ys, xs = np.nonzero(out[..., 0] > 128)
    np.testing.assert_allclose([xs.mean(), ys.mean()], [50.0, 30.0], atol=0.5)
