"""The first checks on a path a user names; CSV input that is not text is named by file and line."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from datasets import AnnotationError
from datasets.files import decode_fully, read_csv_rows, require_file


def test_a_file_passes_a_folder_and_a_missing_path_are_named(tmp_path) -> None:
    (tmp_path / "a.csv").write_text("x")
    assert require_file(tmp_path / "a.csv", "annotation file") == tmp_path / "a.csv"
    with pytest.raises(AnnotationError, match=f"annotation file {tmp_path} is a folder, not a"):
        require_file(tmp_path, "annotation file")
    with pytest.raises(FileNotFoundError, match="annotation file .*b.csv does not exist"):
        require_file(tmp_path / "b.csv", "annotation file")


def test_rows_keep_their_line_numbers_and_a_byte_order_mark_is_not_in_a_name(tmp_path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfa.jpg,1,2\n\n , \nb.jpg,3,4\n")  # as a spreadsheet saves it
    assert read_csv_rows(path) == [(1, ["a.jpg", "1", "2"]), (4, ["b.jpg", "3", "4"])]


@pytest.mark.parametrize(
    ("data", "line", "why"),
    [(b"a,1\nb,\xff\xfe\n", 2, "not UTF-8"), (b"a,1\nb,2\nc\0\n", 3, "a NUL byte")],
    ids=["latin", "nul"],
)
def test_binary_data_is_named_with_its_line(tmp_path, data: bytes, line: int, why: str) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    with pytest.raises(AnnotationError, match=f"{path}:{line}: not a text CSV file .*{why}"):
        read_csv_rows(path)


def test_a_folder_is_named(tmp_path) -> None:
    with pytest.raises(AnnotationError, match="is a folder, not a file"):
        read_csv_rows(tmp_path)


@pytest.fixture
def jpeg(tmp_path):
    path = tmp_path / "image.jpg"
    noise = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    cv2.imwrite(str(path), noise)
    return path


def test_truncated_jpeg_is_refused(tmp_path, jpeg) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(jpeg.read_bytes()[:2000])
    assert decode_fully(jpeg) == (60, 80)
    with pytest.raises(AnnotationError, match=f"cannot decode {cut} in full"):
        decode_fully(cut)


def test_empty_missing_and_not_an_image_name_the_file_and_the_source(tmp_path) -> None:
    empty, text = tmp_path / "empty.jpg", tmp_path / "text.jpg"
    empty.write_bytes(b"")
    text.write_text("not an image")
    with pytest.raises(AnnotationError, match="row 3: image file .*empty.jpg is empty"):
        decode_fully(empty, "row 3")
    with pytest.raises(AnnotationError, match="text.jpg is not an image"):
        decode_fully(text)
    with pytest.raises(FileNotFoundError, match="gone.jpg does not exist"):
        decode_fully(tmp_path / "gone.jpg")
