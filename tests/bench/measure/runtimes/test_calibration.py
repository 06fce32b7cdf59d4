"""bench.measure.runtimes.calibration: int8 calibration images and where they came from."""

from __future__ import annotations

import numpy as np
import pytest

from architectures.errors import InputFileError
from bench.measure.runtimes import calibration
from bench.measure.runtimes.calibration import Calibration
from tests.helpers import generated_root


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory):
    return generated_root(tmp_path_factory, "lip", 12, seed=3)


def test_with_a_root_the_training_split_is_read_at_the_input_size(lip_root):
    images, source = Calibration(lip_root, "lip", count=5).images((64, 48))
    assert images.shape == (5, 3, 64, 48) and images.dtype == np.float32
    assert source == "calibrated on 5 images of the lip training split"


def test_a_small_split_gives_what_it_has(lip_root):
    images, source = Calibration(lip_root, "lip", count=1000).images((64, 64))
    assert len(images) == 9 and source.startswith("calibrated on 9 images")  # 12 x 0.75


def test_without_a_root_images_are_generated_and_the_source_says_so():
    images, source = Calibration(None, "mpii", count=4).images((64, 64))
    assert images.shape == (4, 3, 64, 64) and np.isfinite(images).all()
    assert source == "calibrated on 4 generated mpii images (no data root)"


def test_generated_images_are_made_once_per_run_and_reused():
    first, _ = Calibration(None, "mpii", count=4).images((64, 64))
    again, _ = Calibration(None, "mpii", count=4).images((64, 64))
    assert calibration._generated_root("mpii", 4) == calibration._generated_root("mpii", 4)
    assert np.array_equal(first, again)


def test_a_training_split_without_persons_is_named_not_a_stacking_error(tmp_path):
    (tmp_path / "TrainVal_pose_annotations").mkdir()
    (tmp_path / "TrainVal_pose_annotations" / "lip_train_set.csv").write_text("")
    with pytest.raises(InputFileError, match="lip training split .*has no persons"):
        Calibration(tmp_path, "lip").images((64, 64))
