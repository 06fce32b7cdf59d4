"""Damaged, misplaced and binary input files, as a careless user gives them (REPORT-P findings 4, 5,
6, 7, 9, 13, 14): each is a user error (exit 2, one line naming the file), never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from architectures.errors import InputFileError
from bench import score as score_cli
from bench.accuracy.training.data import ensure_synthetic
from datasets import AnnotationError, LipReader, MpiiReader, check, synthetic
from datasets.images import decode_fully
from datasets.prediction_files import load_predictions

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


def _check(capsys, *argv: str) -> tuple[int, str]:
    code = check.main(["--no-images", *argv])
    return code, capsys.readouterr().err.strip()


def _score(capsys, *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as stop:
        score_cli.main(list(argv))
    return stop.value.code, capsys.readouterr().err.strip()


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


def test_binary_prediction_and_ground_truth_csv(tmp_path, capsys, lip_root):
    gt = lip_root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(RANDOM[:300])
    code, err = _score(capsys, str(garbage), "--ground-truth", str(gt))
    assert code == 2 and "\n" not in err and f"{garbage}:" in err and "not a text" in err
    code, err = _score(capsys, str(gt), "--ground-truth", str(garbage))
    assert code == 2 and f"{garbage}:" in err and "not a text" in err


def test_duplicate_prediction_row_names_the_image_and_lines(tmp_path, capsys, lip_root):
    gt = lip_root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    name = gt.read_text().splitlines()[0].split(",")[0]
    row = name + ",1" * 32
    predictions = tmp_path / "dupe.csv"
    predictions.write_text(f"{row}\n{row}\n")
    code, err = _score(capsys, str(predictions), "--ground-truth", str(gt))
    assert code == 2 and f"{predictions}:2: image {name} already has a row at line 1" in err


def test_random_bytes_npy_is_not_called_pickled(tmp_path):
    path = tmp_path / "preds.npy"
    path.write_bytes(RANDOM[:300])
    with pytest.raises(AnnotationError, match="not a .npy file") as raised:
        load_predictions(path)
    assert "pickle" not in str(raised.value)
    path = tmp_path / "preds.npz"
    path.write_bytes(RANDOM[:300])
    with pytest.raises(AnnotationError, match="not a .npz \\(zip\\) file"):
        load_predictions(path)


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
    code = check.main(
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


def test_annotation_file_that_is_a_folder(tmp_path, mpii_root, lip_root):
    lip = Path(shutil.copytree(lip_root, tmp_path / "lip"))
    csv = lip / "TrainVal_pose_annotations" / "lip_val_set.csv"
    csv.unlink()
    csv.mkdir()
    with pytest.raises(AnnotationError, match="is a folder"):
        LipReader(lip, "val")
    mpii = Path(shutil.copytree(mpii_root, tmp_path / "mpii"))
    mat = mpii / "annotations" / "mpii_gt_val.mat"
    mat.unlink()
    mat.mkdir()
    with pytest.raises(AnnotationError, match=f"{mat} is a folder"):
        MpiiReader(mpii, "val")
    (mpii / "annotations" / "mpii_val.json").rename(tmp_path / "moved.json")
    (mpii / "annotations" / "mpii_val.json").mkdir()
    with pytest.raises(AnnotationError, match="mpii_val.json is a folder"):
        MpiiReader(mpii, "val")


def test_synthetic_refuses_a_root_holding_other_files(tmp_path):
    root = tmp_path / "mine"
    root.mkdir()
    (root / "notes.txt").write_text("keep")
    with pytest.raises(InputFileError, match=f"--root {root}: not empty"):
        ensure_synthetic(root, "lip", 4, 0)
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    fresh = tmp_path / "fresh"
    ensure_synthetic(fresh, "lip", 4, 0)  # an absent or empty root is generated into
    ensure_synthetic(fresh, "lip", 4, 0)  # and a generated one is used as it is
    assert len(LipReader(fresh, "val")) == 1


def test_regenerating_fewer_images_leaves_no_stale_ones(tmp_path):
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=16))
    keep = tmp_path / "TrainVal_images" / "val_images" / "user_added.jpg"
    keep.write_bytes(b"not the generator's")
    synthetic.generate(synthetic.SyntheticConfig("lip", tmp_path, num_images=4))
    images = tmp_path / "TrainVal_images"
    train = {p.name for p in (images / "train_images").iterdir()}
    val = {p.name for p in (images / "val_images").iterdir()} - {keep.name}
    assert not train & val and len(train) + len(val) == 4 and keep.is_file()
    synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path / "m", num_images=9))
    synthetic.generate(synthetic.SyntheticConfig("mpii", tmp_path / "m", num_images=3))
    assert len(list((tmp_path / "m" / "images").iterdir())) == 3


def test_truncated_jpeg_is_refused(tmp_path, lip_root):
    image = next((lip_root / "TrainVal_images" / "val_images").iterdir())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(image.read_bytes()[:2000])
    assert decode_fully(image)[0] > 0
    with pytest.raises(AnnotationError, match=f"cannot decode {cut} in full"):
        decode_fully(cut)


def test_lip_csv_saved_with_a_byte_order_mark(tmp_path, lip_root):
    root = _copy(lip_root, tmp_path)
    annotations = root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    annotations.write_bytes(b"\xef\xbb\xbf" + annotations.read_bytes())  # as Excel saves it
    assert LipReader(root, "val")[0].image_path.is_file()
