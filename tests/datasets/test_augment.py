"""Augmentations keep keypoints on the same image content (draw a dot, augment, find the dot)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from datasets import LIP_LAYOUT, AugmentConfig, fit
from datasets import transforms as T
from datasets.augment import augment

INPUT = (96, 128)  # (height, width): non-square on purpose
PAIRS = LIP_LAYOUT.flip_pairs


def dot_image(height: int, width: int, point: np.ndarray) -> np.ndarray:
    """Black image with a soft white dot (Gaussian, sigma 2 px) centred on ``point``."""
    ys, xs = np.mgrid[0:height, 0:width]
    blob = np.exp(-((xs - point[0]) ** 2 + (ys - point[1]) ** 2) / (2 * 2.0**2))
    return np.repeat((255 * blob).astype(np.uint8)[..., None], 3, axis=2)


def find_dot(image: np.ndarray) -> np.ndarray:
    """Intensity centroid of the bright blob (pixel-centre coordinates)."""
    grey = image.max(axis=2).astype(np.float64)
    grey = np.clip(grey - 150, 0, None)  # ignore the padding colour (128) and the dark background
    ys, xs = np.mgrid[0 : grey.shape[0], 0 : grey.shape[1]]
    return np.array([(xs * grey).sum(), (ys * grey).sum()]) / grey.sum()


def keypoints_with(point: np.ndarray, joint: int = 0) -> np.ndarray:
    keypoints = np.full((16, 2), np.nan)
    keypoints[joint] = point
    return keypoints


GEOMETRY_ONLY = AugmentConfig(channel_permutation_prob=0.0, flip_prob=0.0)


@pytest.mark.parametrize("seed", range(6))
def test_geometry_keeps_dot_under_keypoint(seed):
    rng = np.random.default_rng(seed)
    height, width = (int(v) for v in rng.integers(60, 200, size=2))
    point = rng.uniform(0.3, 0.7, size=2) * (width, height)
    image = dot_image(height, width, point)
    box = (-0.5, -0.5, float(width), float(height))
    out = augment(
        image, keypoints_with(point), np.ones(16, bool), box, INPUT, GEOMETRY_ONLY, rng, PAIRS
    )
    assert out.image.shape == (*INPUT, 3)
    np.testing.assert_allclose(find_dot(out.image), out.keypoints[0], atol=0.75)
    assert np.isnan(out.keypoints[1:]).all()


@pytest.mark.parametrize("seed", range(4))
def test_flip_swaps_left_and_right(seed):
    rng = np.random.default_rng(seed)
    point = np.array([30.0, 40.0])  # R_Ankle (joint 0) on the image's left
    image = dot_image(80, 100, point)
    visible = np.zeros(16, bool)
    visible[0] = True
    config = dataclasses.replace(
        GEOMETRY_ONLY, flip_prob=1.0, max_rotation=0.0, scale_range=(1.0, 1.0)
    )
    out = augment(
        image, keypoints_with(point), visible, (-0.5, -0.5, 100.0, 80.0), INPUT, config, rng, PAIRS
    )
    assert out.flipped
    assert np.isnan(out.keypoints[0]).all() and visible[0] and out.visible[5] and not out.visible[0]
    found = find_dot(out.image)
    np.testing.assert_allclose(found, out.keypoints[5], atol=0.75)  # now the L_Ankle
    assert found[0] > INPUT[1] / 2  # and it moved to the right half


def test_fit_centres_biggest_side_on_fill_colour():
    image = np.full((50, 200, 3), 255, np.uint8)  # wide: width fits, height is padded
    out = fit(
        image,
        keypoints_with(np.array([0.0, 0.0])),
        np.ones(16, bool),
        (-0.5, -0.5, 200.0, 50.0),
        (128, 128),
    )
    assert out.image.shape == (128, 128, 3)
    assert (out.image[:40] == T.FILL).all() and (out.image[-40:] == T.FILL).all()
    assert (out.image[56:72] == 255).all()
    s = 128 / 200  # pixel (0, 0) centre: edge -0.5 maps to -0.5, the content is centred vertically
    np.testing.assert_allclose(out.keypoints[0], [0.5 * s - 0.5, 64 - 25 * s + 0.5 * s - 0.5])


@pytest.mark.parametrize("masking", ["body", "keypoints"])
def test_masking_rows_leave_keypoints_unchanged(masking):
    point = np.array([64.0, 48.0])
    image = dot_image(96, 128, point)
    base = dataclasses.replace(GEOMETRY_ONLY, max_rotation=0.0, scale_range=(1.0, 1.0))
    config = dataclasses.replace(
        base,
        body_masking_prob=1.0 * (masking == "body"),
        keypoint_masking_prob=1.0 * (masking == "keypoints"),
    )
    box = (-0.5, -0.5, 128.0, 96.0)

    def run(cfg):  # the same draws (seed 1) with and without masking
        visible = np.ones(16, bool)
        return augment(
            image, keypoints_with(point), visible, box, INPUT, cfg, np.random.default_rng(1), PAIRS
        )

    plain, masked = run(base), run(config)
    np.testing.assert_array_equal(plain.keypoints, masked.keypoints)
    changed = (plain.image != masked.image).any(axis=2)
    assert changed.any() and (masked.image[changed] == T.FILL).all()
    if masking == "keypoints":  # the only joint is the one covered
        assert (masked.image[48, 64] == T.FILL).all()


def test_same_seed_same_sample_and_paper_rows():
    image = np.random.default_rng(0).integers(0, 255, (70, 90, 3), dtype=np.uint8)
    kp = keypoints_with(np.array([40.0, 30.0]))
    config = AugmentConfig.paper("lip", "body")
    runs = [
        augment(
            image,
            kp,
            np.ones(16, bool),
            (-0.5, -0.5, 90.0, 70.0),
            INPUT,
            config,
            np.random.default_rng(7),
            PAIRS,
        )
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0].image, runs[1].image)
    np.testing.assert_array_equal(runs[0].matrix, runs[1].matrix)
    assert (
        AugmentConfig.paper("mpii").max_rotation == 30.0
        and AugmentConfig.paper().max_rotation == 40.0
    )
    assert AugmentConfig.paper("lip", "keypoints").keypoint_masking_prob > 0
    assert (
        AugmentConfig.paper().body_masking_prob == 0 == AugmentConfig.paper().keypoint_masking_prob
    )
    with pytest.raises(ValueError, match="masking"):
        AugmentConfig.paper("lip", "everything")


@pytest.mark.parametrize("seed", range(6))
def test_full_paper_pipeline_keeps_dot_under_its_joint(seed):
    rng = np.random.default_rng(100 + seed)
    point = np.array([40.0, 25.0])
    image = dot_image(70, 90, point)
    out = augment(
        image,
        keypoints_with(point),
        np.ones(16, bool),
        (-0.5, -0.5, 90.0, 70.0),
        INPUT,
        AugmentConfig.paper("lip"),
        rng,
        PAIRS,
    )
    np.testing.assert_allclose(
        find_dot(out.image), out.keypoints[5 if out.flipped else 0], atol=0.75
    )
