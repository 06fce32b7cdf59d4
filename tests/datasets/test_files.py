"""The first check on a path a user names."""

from __future__ import annotations

import pytest

from datasets import AnnotationError
from datasets.files import require_file


def test_a_file_passes_a_folder_and_a_missing_path_are_named(tmp_path) -> None:
    (tmp_path / "a.csv").write_text("x")
    assert require_file(tmp_path / "a.csv", "annotation file") == tmp_path / "a.csv"
    with pytest.raises(AnnotationError, match=f"annotation file {tmp_path} is a folder, not a"):
        require_file(tmp_path, "annotation file")
    with pytest.raises(FileNotFoundError, match="annotation file .*b.csv does not exist"):
        require_file(tmp_path / "b.csv", "annotation file")
