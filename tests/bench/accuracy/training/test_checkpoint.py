"""Checkpoints load with weights_only=True: a crafted pickle runs nothing, and every refusal or
damaged file is one line naming the file."""

from __future__ import annotations

import argparse
import pickle
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.checkpoint import CheckpointError
from tests.tiny_models import TinyPose


class _CreatesFile:
    """Unpickling this calls ``open(marker, "w")``: code from the file, creating a file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _crafted(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "code-ran"
    path = tmp_path / "published.pt"
    torch.save({"model": TinyPose().state_dict(), "extra": _CreatesFile(marker)}, path)
    return path, marker


def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    path, marker = _crafted(tmp_path)
    with pytest.raises(CheckpointError, match=r"published.pt refused: loading it needs .*open"):
        ckpt.load_checkpoint(path)
    assert not marker.exists()
    # the control: full unpickling does run the file's code, so the test above can fail
    ckpt.load_checkpoint(path, trust=True)
    assert marker.exists()


def test_crafted_raw_pickle_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "code-ran"
    path = tmp_path / "raw.pt"
    path.write_bytes(pickle.dumps(_CreatesFile(marker), protocol=2))
    with pytest.raises(CheckpointError, match="raw.pt"):
        ckpt.load_checkpoint(path)
    assert not marker.exists()


def test_rng_state_round_trips_through_a_weights_only_file(tmp_path: Path) -> None:
    random.seed(1), np.random.seed(2), torch.manual_seed(3)
    np.random.standard_normal()  # leave a cached gaussian in numpy's state
    torch.save({"rng": ckpt.capture_rng_state()}, tmp_path / "rng.pt")
    expected = (random.random(), np.random.standard_normal(), torch.rand(1).item())
    ckpt.restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True)["rng"])
    assert (random.random(), np.random.standard_normal(), torch.rand(1).item()) == expected


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "the file is empty"),
        (b"not a checkpoint at all", "not a PyTorch checkpoint"),
        (None, "damaged or not a PyTorch file"),  # a real checkpoint cut in half
    ],
)
def test_damaged_files_are_named(tmp_path: Path, content: bytes | None, says: str) -> None:
    path = tmp_path / "bad.pt"
    if content is None:
        torch.save({"model": TinyPose().state_dict()}, path)
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=f"bad.pt: {says}"):
        ckpt.load_checkpoint(path)


def test_foreign_file_with_other_objects_names_what_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "foreign.pth"
    torch.save({"state_dict": TinyPose().state_dict(), "args": argparse.Namespace(lr=1)}, path)
    with pytest.raises(CheckpointError, match="needs argparse.Namespace"):
        ckpt.load_checkpoint(path)
