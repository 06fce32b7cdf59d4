"""The sample every reader yields: annotated and scored joints, joints outside the image, the box
the network sees."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from datasets.sample import Sample


def _sample(**fields) -> Sample:
    keypoints = np.zeros((16, 2)) + 10.0
    keypoints[3] = np.nan
    defaults = {
        "id": "a#0",
        "image_path": None,
        "keypoints": keypoints,
        "visible": np.ones(16, bool),
        "head_size": 5.0,
        "source": "a.csv:1",
    }
    return Sample(**{**defaults, **fields})


def test_a_missing_joint_is_not_valid_and_a_protocol_mask_narrows_the_scored_ones() -> None:
    mask = np.ones(16, bool)
    mask[0] = False
    sample = _sample(scored_mask=mask)
    assert not sample.valid[3] and sample.valid.sum() == 15
    assert not sample.scored[0] and sample.scored.sum() == 14


def test_joints_beyond_the_border_tolerance_are_reported() -> None:
    keypoints = np.full((16, 2), 5.0)
    keypoints[0] = (20.4, 5.0)  # within 1 px of the 20 px wide image's edge at 19.5
    keypoints[1] = (21.6, 5.0)
    keypoints[2] = (np.nan, np.nan)
    outside = _sample(keypoints=keypoints).outside_image((10, 20))
    assert outside.tolist() == [False, True] + [False] * 14


def test_person_box_is_the_whole_crop_without_a_centre_and_the_scaled_square_with_one() -> None:
    assert _sample().person_box((30, 40)) == (-0.5, -0.5, 40.0, 30.0)
    box = _sample(center=np.array([100.0, 100.0]), scale=1.0).person_box((300, 300))
    assert box == pytest.approx((-25.0, -10.0, 250.0, 250.0))  # centre moved down 15 x scale


def test_an_image_the_record_names_but_that_is_gone_is_named_with_the_record(tmp_path) -> None:
    sample = _sample(image_path=Path(tmp_path / "gone.jpg"))
    with pytest.raises(FileNotFoundError, match="a.csv:1: image file .*gone.jpg does not exist"):
        sample.load_image()
