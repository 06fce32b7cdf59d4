"""The package: names load on first use (no torch for a light module), readers by dataset name,
and ``import datasets`` resolving to another package (Hugging Face's) stops in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from datasets import LipReader, MpiiReader, open_reader
from datasets.synthetic import SyntheticConfig, generate
from tests.helpers import fresh_python

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("module", "absent"),
    [
        ("datasets.atomic", ("torch", "numpy", "pandas")),
        ("datasets.metrics", ("torch", "pandas")),
        ("datasets.heatmaps", ("torch", "pandas")),
        ("datasets", ("torch", "numpy", "pandas")),
    ],
)
def test_a_light_module_does_not_import_what_it_does_not_need(tmp_path, module, absent) -> None:
    code = f"import sys, {module}; print(sorted(m for m in {absent!r} if m in sys.modules))"
    run = fresh_python(tmp_path, [REPO], "-c", code)
    assert run.returncode == 0 and run.stdout.strip() == "[]", run.stderr


def test_open_reader_by_dataset_name(tmp_path) -> None:
    for fmt, reader in (("lip", LipReader), ("mpii", MpiiReader)):
        generate(SyntheticConfig(fmt, tmp_path / fmt, num_images=2))
        assert isinstance(open_reader(fmt, tmp_path / fmt), reader)
    with pytest.raises(KeyError, match="coco"):
        open_reader("coco", tmp_path)
