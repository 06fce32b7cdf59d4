"""The stick figures of the generated data: front-facing, scaled and placed as asked."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import figures


@pytest.mark.parametrize("seed", range(5))
def test_a_placed_figure_faces_the_camera_at_the_asked_height_and_centre(seed: int) -> None:
    rng = np.random.default_rng(seed)
    joints = figures.place(figures.random_pose(rng), rng, 100.0, np.array([60.0, 70.0]))
    assert joints.shape == (16, 2)
    assert joints[12, 0] < joints[13, 0] and joints[2, 0] < joints[3, 0]  # right on the left
    low, high = joints.min(axis=0), joints.max(axis=0)
    assert high[1] - low[1] == pytest.approx(100.0)
    np.testing.assert_allclose((low + high) / 2, (60.0, 70.0))


def test_an_occluder_reports_the_joints_it_covers() -> None:
    rng = np.random.default_rng(0)
    image = np.zeros((120, 120, 3), np.uint8)
    joints = figures.place(figures.random_pose(rng), rng, 90.0, np.array([60.0, 60.0]))
    covered = figures.add_occluder(image, joints, rng)
    assert covered.shape == (16,) and covered.any() and image.any()
