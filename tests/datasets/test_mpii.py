"""The MPII reader (mmpose JSON and the official head boxes): round trip and bad records."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from datasets import AnnotationError, MpiiReader, read_mpii_ground_truth
from datasets.synthetic import SyntheticConfig, generate


@pytest.fixture(scope="module")
def mpii_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpii")
    return root, generate(SyntheticConfig("mpii", root, num_images=8, seed=4))


def _copy(root: Path, tmp_path: Path) -> Path:
    shutil.copytree(root, tmp_path / "copy")
    return tmp_path / "copy"


def test_mpii_round_trip(mpii_data):
    root, written = mpii_data
    reader = MpiiReader(root, "val")
    assert len(reader) == len(written["val"]) and reader.headbox_path is not None
    for i, (sample, (name, drawn)) in enumerate(zip(reader, written["val"])):
        assert sample.id == f"{Path(name).stem}#{i}"
        np.testing.assert_allclose(sample.keypoints, drawn.joints, atol=0.006)  # 1-based -> 0-based
        head = np.linalg.norm(drawn.joints[9] - drawn.joints[8])
        assert sample.head_size == pytest.approx(0.6 * np.sqrt(2) * head, rel=1e-3)
        x0, y0, side, _ = sample.person_box(drawn.image.shape[:2])
        assert (drawn.joints >= (x0, y0)).all() and (drawn.joints <= (x0 + side, y0 + side)).all()
        assert sample.load_image().shape == drawn.image.shape
    train = MpiiReader(root, "train")
    assert len(train) == len(written["train"]) and np.isnan(train[0].head_size)


def _mpii_with(tmp_path: Path, root: Path, edit) -> Path:
    copy = _copy(root, tmp_path)
    path = copy / "annotations" / "mpii_val.json"
    records = json.loads(path.read_text())
    path.write_text(json.dumps(edit(records)))
    return copy


def _set(index: int, key: str, value):
    def edit(records):
        if value is None:
            del records[index][key]
        else:
            records[index][key] = value
        return records

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (_set(1, "joints", [[1, 2]] * 15), "record 1\\b.*'joints' has shape \\(15, 2\\)"),
        (_set(1, "joints_vis", [2] * 16), "record 1\\b.*joints_vis must hold 0/1"),
        (_set(1, "scale", 0), "record 1\\b.*scale must be positive"),
        (_set(1, "center", None), "record 1\\b.*missing field\\(s\\) center"),
        (_set(1, "center", ["a", "b"]), "record 1\\b.*'center' is not numeric"),
        (lambda records: {"not": "a list"}, "expected a JSON list"),
        (lambda records: records + [7], "record 2: expected an object"),
    ],
)
def test_mpii_bad_records_name_file_and_record(tmp_path, mpii_data, edit, message):
    copy = _mpii_with(tmp_path, mpii_data[0], edit)
    with pytest.raises(AnnotationError, match=message) as error:
        MpiiReader(copy, "val")
    assert "mpii_val.json" in str(error.value)


def test_mpii_nan_joint_and_headbox_mismatch(tmp_path, mpii_data):
    def nan_joint(records):
        records[0]["joints"][3] = [float("nan"), 5.0]
        return records

    with pytest.raises(AnnotationError, match="record 0\\b.*NaN"):
        MpiiReader(_mpii_with(tmp_path / "a", mpii_data[0], nan_joint), "val")
    copy = _mpii_with(tmp_path / "b", mpii_data[0], lambda records: records[:-1])
    with pytest.raises(AnnotationError, match="mpii_gt_val.mat.*expected \\(2, 2, 1\\)"):
        MpiiReader(copy, "val")


def test_mpii_unannotated_joint_is_missing(tmp_path, mpii_data):
    def hide(records):
        records[0]["joints_vis"][4] = 0
        records[0]["joints"][4] = [-1.0, -1.0]
        return records

    sample = MpiiReader(_mpii_with(tmp_path, mpii_data[0], hide), "val")[0]
    assert not sample.valid[4] and np.isnan(sample.keypoints[4]).all() and sample.valid.sum() == 15


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("mpii")
    generate(SyntheticConfig("mpii", root, num_images=8, seed=4))
    return root


def test_gt_valid_mat_and_mmpose_json_give_the_same_samples(mpii_root) -> None:
    mat = read_mpii_ground_truth(mpii_root / "annotations" / "mpii_gt_val.mat")
    reader = MpiiReader(mpii_root, "val")
    assert mat.kind == "gt_valid.mat" and len(mat) == len(reader)
    for from_mat, from_json in zip(mat, reader):
        np.testing.assert_allclose(from_mat.keypoints, from_json.keypoints)
        assert from_mat.head_size == pytest.approx(from_json.head_size)
        assert from_mat.image_path is None


def test_mmpose_json_by_path_takes_head_boxes_from_a_mat(mpii_root) -> None:
    annotations = mpii_root / "annotations"
    truth = read_mpii_ground_truth(annotations / "mpii_val.json", annotations / "mpii_gt_val.mat")
    assert truth.kind == "mmpose json" and all(s.head_size > 0 for s in truth)


def test_bearpaw_records_of_the_validation_split(tmp_path) -> None:
    record = {
        "img_paths": "a.jpg",
        "isValidation": 1.0,
        "joint_self": [[11.0, 21.0, 1.0]] * 15 + [[0.0, 0.0, 0.0]],
        "objpos": [50.0, 60.0],
        "scale_provided": 1.5,
    }
    path = tmp_path / "mpii_annotations.json"
    path.write_text(json.dumps([record, {**record, "isValidation": 0.0}]))
    truth = read_mpii_ground_truth(path)
    assert truth.kind == "bearpaw json" and len(truth) == 1
    assert truth[0].keypoints[0].tolist() == [10.0, 20.0] and not truth[0].valid[15]
    assert np.isnan(truth[0].head_size)


def test_a_mat_with_a_separate_head_box_file_and_an_unknown_type_are_refused(mpii_root) -> None:
    mat = mpii_root / "annotations" / "mpii_gt_val.mat"
    with pytest.raises(AnnotationError, match="carries its own head boxes"):
        read_mpii_ground_truth(mat, mat)
    with pytest.raises(AnnotationError, match="unknown ground-truth file type"):
        read_mpii_ground_truth(mpii_root / "images" / "000000006.jpg")
