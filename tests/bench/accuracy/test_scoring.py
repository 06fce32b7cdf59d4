"""Scoring prediction files: the checks made before a file is parsed, and which ground truth a
prediction file may be scored against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from architectures.errors import InputFileError, UsageError
from bench.accuracy.scoring import (
    MAX_JSON_DEPTH,
    check_json_depth,
    check_npy_size,
    read_ground_truth,
)


def test_json_as_deep_as_the_formats_passes_and_deeper_is_refused(tmp_path: Path) -> None:
    fine = tmp_path / "fine.json"
    fine.write_text('{"preds": [[[1, 2]]], "note": "[[[[[[[[[[ in a string"}')
    check_json_depth(fine)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1))
    with pytest.raises(InputFileError, match=f"nested {MAX_JSON_DEPTH + 1} levels deep"):
        check_json_depth(deep)


def test_gzipped_json_is_measured_too(tmp_path: Path) -> None:
    import gzip

    deep = tmp_path / "mpii_annotations.json.gz"
    deep.write_bytes(gzip.compress(b"[" * 50 + b"]" * 50))
    with pytest.raises(InputFileError, match="nested 50 levels"):
        check_json_depth(deep)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(InputFileError, match="not a readable gzip file"):
        check_json_depth(broken)


def test_npy_size_is_checked_against_the_header(tmp_path: Path) -> None:
    good = tmp_path / "good.npy"
    np.save(good, np.zeros((3, 16, 2)))
    check_npy_size(good)
    cut = tmp_path / "cut.npy"
    cut.write_bytes(good.read_bytes()[:-8])
    with pytest.raises(InputFileError, match=r"shape \(3, 16, 2\) \(768 bytes\).* 760 bytes"):
        check_npy_size(cut)
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"\x93NUMPY\x01\x00garbage")
    with pytest.raises(InputFileError, match="not a readable .npy array"):
        check_npy_size(garbage)


@pytest.mark.parametrize(
    ("name", "split", "says"),
    [
        ("root", "test", "no public labels"),
        ("root", "all", "has train, val"),
        ("mpii_annotations.json", "dev", "has train, val, all"),
    ],
)
def test_splits_a_ground_truth_has_no_labels_for_are_refused(tmp_path, name, split, says):
    path = tmp_path / name
    path.mkdir() if name == "root" else path.write_text("[]")
    with pytest.raises(UsageError, match=says):
        read_ground_truth(path, split=split)
