"""cpm-original (Wei et al.'s 14 joints + background, in their order) trains and is scored on
16-joint LIP / MPII data through ``datasets.layouts.CPM_JOINT_MAP``."""

from __future__ import annotations

import math

import pytest
import torch

from architectures import create_model
from bench.accuracy.evaluation import evaluate_model
from bench.accuracy.training.data import pose_dataset
from bench.accuracy.training.loss import multi_stage_loss
from datasets import MpiiReader
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
