"""``python -m datasets.check``: counts, problems (exit 1), and user errors in one line (exit 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from datasets import LipReader, check, synthetic

RANDOM = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mpii")
    synthetic.generate(synthetic.SyntheticConfig("mpii", root, num_images=8, seed=1))
    return root


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lip")
    synthetic.generate(synthetic.SyntheticConfig("lip", root, num_images=8, seed=1))
    return root


def _copy(root: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(root, tmp_path / "copy"))


def _exit_code(argv: list[str]) -> int:
    """The status ``main`` returns, or exits with (a user error)."""
    try:
        return check.main(argv)
    except SystemExit as stop:
        return stop.code


def _check(capsys, *argv: str) -> tuple[int, str]:
    code = _exit_code(["--no-images", *argv])
    return code, capsys.readouterr().err.strip()


def test_counts_problems_and_overlays(tmp_path, capsys):
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
    assert _exit_code(["--dataset", "mpii", "--root", str(tmp_path / "none")]) == 2


def test_images_are_decoded_in_full(tmp_path, capsys):
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


def test_an_empty_annotation_file_is_a_problem(tmp_path, capsys):
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=4, seed=2))
    (tmp_path / "TrainVal_pose_annotations" / "lip_val_set.csv").write_text("")
    assert check.main(["--dataset", "lip", "--root", str(tmp_path), "--no-images"]) == 1
    assert "holds no records" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content", [b"hi\n", RANDOM[:300], "truncated"], ids=["3-byte", "random", "truncated"]
)
def test_damaged_headbox_mat_is_named(tmp_path, capsys, mpii_root, content):
    root = _copy(mpii_root, tmp_path)
    mat = root / "annotations" / "mpii_gt_val.mat"
    mat.write_bytes(mat.read_bytes()[:300] if content == "truncated" else content)
    for extra in ((), ("--headboxes", str(mat))):
        code, err = _check(capsys, "--dataset", "mpii", "--root", str(root), *extra)
        assert code == 2 and "\n" not in err
        assert f"{mat}: not a readable MATLAB file" in err


def test_headboxes_that_are_not_a_mat_file(tmp_path, capsys, mpii_root):
    text = tmp_path / "help.txt"
    text.write_text("usage: python -m bench.tables [-h] [--models NAME ...] and more text\n")
    code, err = _check(
        capsys, "--dataset", "mpii", "--root", str(mpii_root), "--headboxes", str(text)
    )
    assert code == 2 and f"{text}: not a readable MATLAB file" in err


def test_binary_lip_csv_is_named_with_its_line(tmp_path, capsys, lip_root):
    root = _copy(lip_root, tmp_path)
    annotations = root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    annotations.write_bytes(annotations.read_bytes() + b"\xff\xfe binary tail\n")
    lines = annotations.read_bytes().count(b"\n")
    code, err = _check(capsys, "--dataset", "lip", "--root", str(root))
    assert code == 2 and f"{annotations}:{lines}: not a text" in err and "UTF-8" in err


def test_draw_needs_out_and_writes_nothing_into_the_cwd(tmp_path, capsys, lip_root, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        check.main(["--dataset", "lip", "--root", str(lip_root), "--draw", "2"])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and "\n" not in err and "--draw needs --out" in err
    assert not list(tmp_path.iterdir())


def test_draw_out_that_is_a_file(tmp_path, capsys, lip_root):
    out = tmp_path / "file.txt"
    out.write_text("x")
    code = _exit_code(
        ["--dataset", "lip", "--root", str(lip_root), "--draw", "1", "--out", str(out)]
    )
    assert code == 2 and f"--out {out}: exists and is not a folder" in capsys.readouterr().err


def test_empty_mpii_json_is_a_problem_like_an_empty_lip_csv(tmp_path, capsys, mpii_root, lip_root):
    root = _copy(mpii_root, tmp_path)
    (root / "annotations" / "mpii_val.json").write_text("[]")
    assert check.main(["--no-images", "--dataset", "mpii", "--root", str(root)]) == 1
    mpii_out = capsys.readouterr().out
    lip = Path(shutil.copytree(lip_root, tmp_path / "lip"))
    (lip / "TrainVal_pose_annotations" / "lip_val_set.csv").write_text("")
    assert check.main(["--no-images", "--dataset", "lip", "--root", str(lip)]) == 1
    lip_out = capsys.readouterr().out
    assert "PROBLEM" in mpii_out and "holds no records" in mpii_out
    assert "mpii_val.json" in mpii_out and "lip_val_set.csv" in lip_out


def test_mpii_without_head_boxes_cannot_be_scored_and_is_a_problem(tmp_path, capsys, mpii_root):
    root = _copy(mpii_root, tmp_path)
    (root / "annotations" / "mpii_gt_val.mat").unlink()
    code = _exit_code(["--no-images", "--dataset", "mpii", "--root", str(root)])
    problems = [line for line in capsys.readouterr().out.splitlines() if "PROBLEM" in line]
    assert code == 1 and len(problems) == 1 and "can be scored by PCKh" in problems[0]
    assert "--headboxes" in problems[0]


def test_a_file_of_which_no_record_can_be_scored_is_a_problem(tmp_path, capsys, lip_root):
    root = _copy(lip_root, tmp_path)
    csv = root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    rows = [r.split(",") for r in csv.read_text().splitlines()]
    for row in rows:  # every head (joint 9) missing: no head size, nothing PCKh can score
        row[28:31] = ["nan"] * 3
    csv.write_text("".join(",".join(row) + "\n" for row in rows))
    assert _exit_code(["--no-images", "--dataset", "lip", "--root", str(root)]) == 1
    out = capsys.readouterr().out
    assert "none of the 2 records can be scored by PCKh" in out
    assert (
        _exit_code(["--no-images", "--dataset", "lip", "--root", str(root), "--split", "train"])
        == 0
    )
