"""Prediction files of every layout the scorer takes; a damaged one is named, never a traceback."""

from __future__ import annotations

import numpy as np
import pytest

from datasets import AnnotationError
from datasets.prediction_files import load_predictions

RANDOM = np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes()


def test_an_array_stored_column_major_is_turned_back(tmp_path) -> None:
    coords = np.arange(3 * 16 * 2, dtype=float).reshape(3, 16, 2)
    np.save(tmp_path / "rows.npy", coords)
    np.save(tmp_path / "columns.npy", coords.transpose(2, 1, 0))  # (2, K, N), as Torch7 writes
    for name in ("rows.npy", "columns.npy"):
        np.testing.assert_array_equal(load_predictions(tmp_path / name).coords, coords)


def test_lip_csv_rows_keep_their_image_names(tmp_path) -> None:
    path = tmp_path / "pred.csv"
    path.write_text("a.jpg" + ",1,2" * 16 + "\n" + "b.jpg" + ",3,4,1" * 16 + "\n")
    loaded = load_predictions(path)
    assert loaded.names == ("a.jpg", "b.jpg") and loaded.base == 0
    assert loaded.coords.shape == (2, 16, 2) and loaded.coords[1, 0].tolist() == [3.0, 4.0]


def test_binary_csv_is_named_with_its_line(tmp_path) -> None:
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(RANDOM[:300])
    with pytest.raises(AnnotationError, match=f"{garbage}:\\d+: not a text"):
        load_predictions(garbage)


def test_duplicate_prediction_row_names_the_image_and_lines(tmp_path) -> None:
    row = "a.jpg" + ",1" * 32
    predictions = tmp_path / "dupe.csv"
    predictions.write_text(f"{row}\n{row}\n")
    with pytest.raises(
        AnnotationError, match="dupe.csv:2: image a.jpg already has a row at line 1"
    ):
        load_predictions(predictions)


def test_random_bytes_npy_is_not_called_pickled(tmp_path) -> None:
    path = tmp_path / "preds.npy"
    path.write_bytes(RANDOM[:300])
    with pytest.raises(AnnotationError, match="not a .npy file") as raised:
        load_predictions(path)
    assert "pickle" not in str(raised.value)
    path = tmp_path / "preds.npz"
    path.write_bytes(RANDOM[:300])
    with pytest.raises(AnnotationError, match="not a .npz \\(zip\\) file"):
        load_predictions(path)


@pytest.mark.parametrize(
    ("name", "match"), [("p.txt", "unknown prediction file type"), ("e.npy", "empty")]
)
def test_unknown_suffix_and_empty_file_are_named(tmp_path, name: str, match: str) -> None:
    (tmp_path / name).write_bytes(b"" if name == "e.npy" else b"1 2 3")
    with pytest.raises(AnnotationError, match=match):
        load_predictions(tmp_path / name)
