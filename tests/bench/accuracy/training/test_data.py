"""cpm-original (Wei et al.'s 14 joints + background, in their order) trains and is scored on
16-joint LIP / MPII data through ``datasets.layouts.CPM_JOINT_MAP``."""

from __future__ import annotations

import math

import pytest
import torch

from architectures import create_model
from architectures.errors import InputFileError
from bench.accuracy.evaluation import evaluate_model
from bench.accuracy.training.data import ensure_synthetic, pose_dataset
from bench.accuracy.training.loop import multi_stage_loss
from datasets import LipReader, MpiiReader
from tests.helpers import generated_root


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory):
    return generated_root(tmp_path_factory, "mpii", num_images=4, seed=5)


def test_cpm_original_trains_and_evaluates_on_16_joint_data(mpii_root, torch_single_thread):
    torch.manual_seed(0)
    model = create_model("cpm-original", input_size=(64, 64))
    info = model.info
    assert (info.num_keypoints, info.num_heatmaps) == (14, 15)
    data = pose_dataset(MpiiReader(mpii_root, "train"), info)
    batch = torch.utils.data.default_collate([data[0], data[1]])
    assert batch["heatmaps"].shape == (2, 15, 8, 8)
    loss = multi_stage_loss(model(batch["image"]), batch["heatmaps"])
    loss.backward()
    assert math.isfinite(loss.item())
    row = evaluate_model(
        model,
        pose_dataset(MpiiReader(mpii_root, "val"), info),
        flip=True,
        scales=(1.0,),
        batch_size=1,
    )
    assert row["persons"] == 1 and 0.0 <= row["PCKh"] <= 100.0


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
