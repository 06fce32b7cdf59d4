"""CSV rows of a text file; binary or mis-encoded input is named by file and line."""

from __future__ import annotations

import pytest

from datasets import AnnotationError
from datasets.text_files import read_csv_rows


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
