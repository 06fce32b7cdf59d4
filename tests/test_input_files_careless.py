"""Damaged and misplaced input files given to the training and receptive-field commands: each is a
user error (exit 2, one line naming the file), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from architectures.errors import InputFileError
from bench import receptive_field
from bench.accuracy.training.data import ensure_synthetic
from datasets import LipReader, synthetic


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lip")
    synthetic.generate(synthetic.SyntheticConfig("lip", root, num_images=8, seed=1))
    return root


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


def test_receptive_field_refuses_a_truncated_jpeg(tmp_path, capsys, lip_root):
    image = next((lip_root / "TrainVal_images" / "val_images").iterdir())
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(image.read_bytes()[:2000])
    argv = ["--model", "gcpm-ushaped-2stage", "--image", str(cut), "--keypoint", "R_Hip"]
    with pytest.raises(SystemExit) as stop:
        receptive_field.main([*argv, "--stride", "64", "--out", str(tmp_path / "rf")])
    err = capsys.readouterr().err.strip()
    assert stop.value.code == 2 and "\n" not in err
    assert f"--image: cannot decode {cut} in full" in err
    assert not (tmp_path / "rf" / "receptive_field.csv").exists()
