"""The other MPII ground-truth layouts read into the same samples as the mmpose JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from datasets import AnnotationError, MpiiReader, read_mpii_ground_truth
from datasets.synthetic import SyntheticConfig, generate


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
