"""Generated data CLI and the copy checker (``datasets.synthetic``, ``datasets.check``)."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import LipReader, MpiiReader
from datasets import check, synthetic


def test_cli_writes_official_layouts_reproducibly(tmp_path, capsys):
    for run in ("a", "b"):
        synthetic.main(["--format", "lip", "--out", str(tmp_path / run), "--num-images", "5", "--seed", "9"])
    csv = "TrainVal_pose_annotations/lip_train_set.csv"
    assert (tmp_path / "a" / csv).read_text() == (tmp_path / "b" / csv).read_text()
    assert len(LipReader(tmp_path / "a", "train")) == 4 and len(LipReader(tmp_path / "a", "val")) == 1
    synthetic.main(["--format", "mpii", "--out", str(tmp_path / "m"), "--num-images", "4"])
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


def test_check_reports_counts_and_problems(tmp_path, capsys):
    written = synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=8, seed=2))
    assert check.main(["--dataset", "lip", "--root", str(tmp_path), "--split", "train",
                       "--draw", "2", "--out", str(tmp_path / "overlays")]) == 0
    output = capsys.readouterr().out
    assert "samples: 6, images read: 6, problems: 0" in output and "R_Shoulder left of L_Shoulder: 100.0 %" in output
    assert len(list((tmp_path / "overlays").glob("*.jpg"))) == 2
    (tmp_path / "TrainVal_images" / "train_images" / written["train"][0][0]).unlink()
    report = check.check_samples(LipReader(tmp_path, "train"))
    assert report.images_checked == 5 and len(report.problems) == 1 and "does not exist" in report.problems[0]
    assert check.main(["--dataset", "mpii", "--root", str(tmp_path / "none")]) == 2
