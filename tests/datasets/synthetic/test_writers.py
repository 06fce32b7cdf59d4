"""The drawn people and the files of one set in the official LIP and MPII layouts."""

from __future__ import annotations

import numpy as np

from datasets import synthetic
from datasets.synthetic.writers import SyntheticConfig, lip_row, split_names


def test_generated_figures_have_left_right_structure(tmp_path):
    """Figures face the camera: the right hip and shoulder sit on the image's left."""
    written = synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path, num_images=30, seed=5))
    joints = np.array([drawn.joints for split in written.values() for _, drawn in split])
    assert (joints[:, 12, 0] < joints[:, 13, 0]).all() and (joints[:, 2, 0] < joints[:, 3, 0]).all()
    assert joints[:, 10].std(axis=0).min() > 5  # wrists vary: the poses are not all alike


def test_a_joint_cut_off_by_the_crop_is_nan_in_the_lip_row():
    drawn = synthetic.Drawn(
        np.zeros((10, 20, 3), np.uint8), np.full((16, 2), 5.0), np.zeros(16, bool)
    )
    drawn.joints[0] = (25.0, 5.0)  # right of the 20 px wide crop
    drawn.occluded[1] = True
    fields = lip_row("a.jpg", drawn).split(",")
    assert fields[:7] == ["a.jpg", "nan", "nan", "nan", "5", "5", "1"] and len(fields) == 49


def test_a_quarter_of_the_images_and_at_least_one_go_to_val():
    assert split_names(SyntheticConfig("lip", None, 8)).count("val") == 2
    assert split_names(SyntheticConfig("lip", None, 2)) == ["train", "val"]
