"""Generated data CLI and the copy checker (``datasets.synthetic``, ``datasets.check``)."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import LipReader, MpiiReader, check, synthetic
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


def test_check_reports_counts_and_problems(tmp_path, capsys):
    written = synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=8, seed=2))
    assert (
        check.main(
            [
                "--dataset",
                "lip",
                "--root",
                str(tmp_path),
                "--split",
                "train",
                "--draw",
                "2",
                "--out",
                str(tmp_path / "overlays"),
            ]
        )
        == 0
    )
    output = capsys.readouterr().out
    assert (
        "samples: 6, images read: 6, problems: 0" in output
        and "R_Shoulder left of L_Shoulder: 100.0 %" in output
    )
    assert len(list((tmp_path / "overlays").glob("*.jpg"))) == 2
    (tmp_path / "TrainVal_images" / "train_images" / written["train"][0][0]).unlink()
    report = check.check_samples(LipReader(tmp_path, "train"))
    assert (
        report.images_checked == 5
        and len(report.problems) == 1
        and "does not exist" in report.problems[0]
    )
    assert check.main(["--dataset", "mpii", "--root", str(tmp_path / "none")]) == 2


def test_check_decodes_images_in_full(tmp_path, capsys):
    """A JPEG cut to 60 % (OpenCV decodes it with grey rows), an empty file and a record
    without any joint are problems; a joint outside the image is listed, not a problem."""
    written = synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=8, seed=2))
    images = tmp_path / "TrainVal_images" / "train_images"
    names = [name for name, _ in written["train"]]
    cut = images / names[0]
    cut.write_bytes(cut.read_bytes()[: int(cut.stat().st_size * 0.6)])
    (images / names[1]).write_bytes(b"")
    csv = tmp_path / "TrainVal_pose_annotations" / "lip_train_set.csv"
    rows = csv.read_text().splitlines()
    rows[2] = ",".join([rows[2].split(",")[0]] + ["nan"] * 48)
    rows[3] = ",".join([rows[3].split(",")[0], "-40", "5", "0"] + rows[3].split(",")[4:])
    csv.write_text("\n".join(rows) + "\n")
    assert check.main(["--dataset", "lip", "--root", str(tmp_path), "--split", "train"]) == 1
    out = capsys.readouterr().out
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 3
    assert any("truncated" in line and names[0] in line for line in problems)
    assert any("empty (0 bytes)" in line and names[1] in line for line in problems)
    assert any("no annotated joint" in line and "lip_train_set.csv:3" in line for line in problems)
    assert "joints outside their image (kept and scored, not a problem): 1" in out


def test_check_of_an_empty_annotation_file_is_a_problem(tmp_path, capsys):
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=4, seed=2))
    (tmp_path / "TrainVal_pose_annotations" / "lip_val_set.csv").write_text("")
    assert check.main(["--dataset", "lip", "--root", str(tmp_path), "--no-images"]) == 1
    assert "holds no records" in capsys.readouterr().out
