"""The LIP reader: round trip on generated data, and bad input naming file and row."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from datasets import AnnotationError, LipReader, MpiiReader
from datasets.synthetic import SyntheticConfig, generate


@pytest.fixture(scope="module")
def lip_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("lip")
    return root, generate(
        SyntheticConfig("lip", root, num_images=12, seed=3, occluder_prob=0.6, truncate_prob=0.5)
    )


def _copy(root: Path, tmp_path: Path) -> Path:
    shutil.copytree(root, tmp_path / "copy")
    return tmp_path / "copy"


@pytest.mark.parametrize("split", ["train", "val"])
def test_lip_round_trip(lip_data, split):
    root, written = lip_data
    reader = LipReader(root, split)
    assert [s.id for s in reader] == [Path(name).stem for name, _ in written[split]]
    for sample, (_, drawn) in zip(reader, written[split]):
        h, w = drawn.image.shape[:2]
        pixels = np.round(drawn.joints)  # LIP stores integer pixels; joints cut off are nan
        inside = (pixels >= 0).all(1) & (pixels[:, 0] <= w - 1) & (pixels[:, 1] <= h - 1)
        np.testing.assert_array_equal(sample.valid, inside)
        np.testing.assert_allclose(sample.keypoints[inside], pixels[inside])
        np.testing.assert_array_equal(sample.visible, inside & ~drawn.occluded)
        assert sample.load_image().shape == drawn.image.shape


def test_lip_flags_and_head_size(lip_data):
    root, _ = lip_data
    samples = list(LipReader(root, "train")) + list(LipReader(root, "val"))
    assert any((s.valid & ~s.visible).any() for s in samples), "occluded joints must be read"
    assert any((~s.valid).any() for s in samples), "missing (nan) joints must be read"
    for s in samples:
        expected = np.linalg.norm(s.keypoints[9] - s.keypoints[8])
        assert s.head_size == (expected if np.isfinite(expected) else 0.0)


def test_lip_image_content_at_keypoints(lip_data):
    """A copy read right puts each visible joint on the dark joint disc of the drawn figure."""
    root, _ = lip_data
    hits = total = 0
    for sample in LipReader(root, "val"):
        image = sample.load_image()
        for j in np.flatnonzero(sample.visible):
            if j == 9:  # the head top sits on the head outline, not on a joint disc
                continue
            x, y = sample.keypoints[j].astype(int)
            hits += image[y, x].max() < 90
            total += 1
    assert hits >= 0.8 * total


def test_missing_root_and_files(tmp_path, lip_data):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        LipReader(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="lip_val_set.csv"):
        LipReader(tmp_path)
    with pytest.raises(FileNotFoundError, match="mpii_val.json"):
        MpiiReader(tmp_path)
    with pytest.raises(ValueError, match="test"):
        LipReader(lip_data[0], "test")


def _lip_with_row(tmp_path: Path, root: Path, row: str) -> Path:
    copy = _copy(root, tmp_path)
    csv = copy / "TrainVal_pose_annotations" / "lip_val_set.csv"
    lines = csv.read_text().splitlines()
    lines[1] = row
    csv.write_text("\n".join(lines) + "\n")
    return csv


GOOD = "a.jpg," + ",".join(["10,20,0"] * 16)


@pytest.mark.parametrize(
    "row, message",
    [
        ("a.jpg,1,2,0", "expected 49 fields"),
        (GOOD.replace("10,20,0", "10,abc,0", 1), "'abc' is not a number"),
        (GOOD.replace("10,20,0", "nan,20,0", 1), "joint 0 .*expected all nan"),
        (GOOD.replace("10,20,0", "10,20,2", 1), "v in"),
        (GOOD.replace("10,20,0", "10,inf,0", 1), "infinite"),
        ("," + GOOD[6:], "empty image name"),
    ],
)
def test_lip_bad_rows_name_file_and_row(tmp_path, lip_data, row, message):
    csv = _lip_with_row(tmp_path, lip_data[0], row)
    with pytest.raises(AnnotationError, match=message) as error:
        LipReader(csv.parents[1], "val")
    assert f"{csv}:2" in str(error.value)


def test_lip_missing_image_and_joint_outside_the_image(tmp_path, lip_data):
    root, written = lip_data
    copy = _copy(root, tmp_path)
    name = written["val"][0][0]
    (copy / "TrainVal_images" / "val_images" / name).unlink()
    csv = copy / "TrainVal_pose_annotations" / "lip_val_set.csv"
    with pytest.raises(FileNotFoundError, match=f"{csv}:1.*{name}"):
        LipReader(copy, "val")[0].load_image()
    lines = csv.read_text().splitlines()
    lines[1] = ",".join([lines[1].split(",")[0], "5000", "10", "0"] + lines[1].split(",")[4:])
    lines[2] = ",".join([lines[2].split(",")[0], "-3", "10", "0"] + lines[2].split(",")[4:])
    csv.write_text("\n".join(lines) + "\n")
    reader = LipReader(copy, "val")
    outside, negative = reader[1], reader[2]  # real data has both: read, kept, reported
    image = outside.load_image()
    assert outside.outside_image(image.shape[:2]).tolist() == [True] + [False] * 15
    assert outside.valid[0] and outside.scored[0]
    assert negative.valid[0] and not negative.scored[0]  # calc_pckh skips x < 0 or y < 0
    assert negative.outside_image(negative.load_image().shape[:2])[0]


def test_lip_csv_saved_with_a_byte_order_mark(tmp_path, lip_data):
    root = _copy(lip_data[0], tmp_path)
    annotations = root / "TrainVal_pose_annotations" / "lip_val_set.csv"
    annotations.write_bytes(b"\xef\xbb\xbf" + annotations.read_bytes())  # as Excel saves it
    assert LipReader(root, "val")[0].image_path.is_file()
