"""Generated data CLI and the copy checker (``datasets.synthetic``, ``datasets.check``)."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import LipReader, MpiiReader, synthetic
from datasets.synthetic.__main__ import main as synthetic_main


def test_cli_writes_official_layouts_reproducibly(tmp_path, capsys):
    for run in ("a", "b"):
        synthetic_main(
            ["--format", "lip", "--out", str(tmp_path / run), "--num-images", "5", "--seed", "9"]
        )
    csv = "TrainVal_pose_annotations/lip_train_set.csv"
    assert (tmp_path / "a" / csv).read_text() == (tmp_path / "b" / csv).read_text()
    assert (
        len(LipReader(tmp_path / "a", "train")) == 4 and len(LipReader(tmp_path / "a", "val")) == 1
    )
    synthetic_main(["--format", "mpii", "--out", str(tmp_path / "m"), "--num-images", "4"])
    assert (tmp_path / "m" / "annotations" / "mpii_gt_val.mat").is_file()
    assert len(MpiiReader(tmp_path / "m", "train")) == 3
    assert "wrote 4 mpii images" in capsys.readouterr().out


def test_generated_figures_have_left_right_structure(tmp_path):
    """Figures face the camera: the right hip and shoulder sit on the image's left."""
    written = synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path, num_images=30, seed=5))
    joints = np.array([drawn.joints for split in written.values() for _, drawn in split])
    assert (joints[:, 12, 0] < joints[:, 13, 0]).all() and (joints[:, 2, 0] < joints[:, 3, 0]).all()
    assert joints[:, 10].std(axis=0).min() > 5  # wrists vary: the poses are not all alike


def test_generate_rejects_bad_config(tmp_path):
    with pytest.raises(ValueError, match="coco"):
        synthetic.generate(synthetic.SyntheticConfig("coco", tmp_path, 3))
    with pytest.raises(ValueError, match="num_images"):
        synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 0))
    for fraction in (-0.5, 2.0):
        with pytest.raises(ValueError, match="val_fraction must be between 0 and 1"):
            synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 3, val_fraction=fraction))
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, 3, seed=-1))
    assert not list(tmp_path.iterdir())  # refused before anything is written
