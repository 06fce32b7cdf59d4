"""PoseDataset: network-ready items whose targets decode back to the original annotations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from datasets import (
    AugmentConfig,
    LipReader,
    MpiiReader,
    PoseDataset,
    decode,
    normalize_image,
    to_original,
)
from datasets.layouts import flip_index
from tests.helpers import generated_root


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory):
    return generated_root(tmp_path_factory, "lip", num_images=6, seed=1)


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory):
    return generated_root(tmp_path_factory, "mpii", num_images=8, seed=2)


def _decoded_in_original(item: dict, input_size: int, num_keypoints: int = 16) -> np.ndarray:
    coords, _ = decode(item["heatmaps"][None, :num_keypoints], input_size)
    return to_original(coords[0], item["matrix"].numpy())


def test_item_contract_lip(lip_root):
    reader = LipReader(lip_root, "train")
    data = PoseDataset(reader, input_size=256, heatmap_size=32, sigma=7.0, background=True)
    item = data[0]
    assert item["image"].shape == (3, 256, 256) and item["image"].dtype == torch.float32
    assert item["heatmaps"].shape == (17, 32, 32) and item["keypoints"].shape == (16, 2)
    assert item["valid"].dtype == torch.bool and item["id"] == reader[0].id and item["index"] == 0
    assert -0.5 <= float(item["image"].min()) and float(item["image"].max()) < 0.5
    torch.testing.assert_close(item["heatmaps"][16], 1 - item["heatmaps"][:16].amax(dim=0))
    scale = 256 / max(reader[0].load_image().shape[:2])
    assert item["head_size"] == pytest.approx(reader[0].head_size * scale)


@pytest.mark.parametrize("augment", [None, AugmentConfig.paper("lip", "body")])
def test_targets_decode_back_to_original_annotations(lip_root, augment):
    reader = LipReader(lip_root, "train")
    data = PoseDataset(reader, 256, 32, sigma=7.0, background=True, augment=augment, seed=5)
    flips = 0
    for index in range(len(reader)):
        item, sample = data[index], reader[index]
        valid = item["valid"].numpy()
        if augment is None:  # the plain fit keeps every annotated joint on the input
            np.testing.assert_array_equal(valid, sample.valid)
        decoded = _decoded_in_original(item, 256)
        # Index through the flip: the item's joint j is the sample's joint perm[j].
        perm = flip_index(16, reader.layout.flip_pairs) if item["flipped"] else np.arange(16)
        half_cell = 4.0 / np.sqrt(abs(np.linalg.det(item["matrix"].numpy()[:2, :2])))
        error = np.abs(decoded[valid] - sample.keypoints[perm][valid])
        assert error.max() <= half_cell + 1e-6  # border cells can be off by half a cell
        flips += item["flipped"]
    assert augment is not None or flips == 0


def test_mpii_item_and_normalisation(mpii_root):
    reader = MpiiReader(mpii_root, "val")
    data = PoseDataset(reader, 256, 64, sigma=8.0, background=False)
    item = data[0]
    assert item["heatmaps"].shape == (16, 64, 64)
    decoded = _decoded_in_original(item, 256)
    stride_in_original = 4.0 / np.sqrt(np.linalg.det(item["matrix"].numpy()[:2, :2]))
    assert np.abs(decoded - reader[0].keypoints).max() <= stride_in_original / 2 + 1e-6
    image = reader[0].load_image()
    assert normalize_image(image)[:, 0, 0].tolist() == pytest.approx(
        ((image[0, 0] - 128.0) / 256).tolist()
    )


def test_seeded_epochs_are_reproducible_and_differ(lip_root):
    reader = LipReader(lip_root, "train")
    make = lambda: PoseDataset(
        reader, 128, 16, sigma=7.0, augment=AugmentConfig.paper("lip"), seed=3
    )
    a, b = make(), make()
    torch.testing.assert_close(a[1]["image"], b[1]["image"])
    b.set_epoch(1)
    assert not torch.equal(a[1]["image"], b[1]["image"])


def test_batches_through_a_dataloader(lip_root):
    data = PoseDataset(LipReader(lip_root, "train"), 128, 16, sigma=7.0)
    batch = next(iter(DataLoader(data, batch_size=3)))
    assert batch["image"].shape == (3, 3, 128, 128) and batch["matrix"].shape == (3, 3, 3)
    assert len(batch["id"]) == 3


def test_augmenting_without_flip_pairs_is_refused(lip_root):
    samples = list(LipReader(lip_root, "train"))
    with pytest.raises(ValueError, match="flip pairs"):
        PoseDataset(samples, 128, 16, augment=AugmentConfig())


@pytest.mark.parametrize("augment", [False, True])
def test_cpm_joint_map_targets_decode_back_in_the_data_order(mpii_root, augment):
    """Wei et al.'s CPM predicts 14 joints in its own order plus background: targets follow the
    model's channels, decoding returns the data's 16-joint order (pelvis, thorax: NaN)."""
    from datasets.layouts import CPM_JOINT_MAP, MPII_LAYOUT, joint_map_for

    reader = MpiiReader(mpii_root, "train")
    assert joint_map_for(14, reader.layout) is CPM_JOINT_MAP
    assert joint_map_for(16, reader.layout) is None
    with pytest.raises(KeyError, match="no joint map .* 15 joint maps; known: 16 .*, 14"):
        joint_map_for(15, reader.layout)
    data = PoseDataset(
        reader,
        input_size=256,
        heatmap_size=32,
        sigma=7.0,
        background=True,
        augment=AugmentConfig.paper("mpii") if augment else None,
        joint_map=CPM_JOINT_MAP,
    )
    names = [MPII_LAYOUT.joint_names[j] for j in CPM_JOINT_MAP.index]
    assert names[:3] == ["head_top", "upper_neck", "r_shoulder"] and names[-1] == "l_ankle"
    for pair in CPM_JOINT_MAP.flip_pairs:  # channel pairs are the layout's pairs, renumbered
        assert tuple(sorted(CPM_JOINT_MAP.index[c] for c in pair)) in {
            tuple(sorted(p)) for p in MPII_LAYOUT.flip_pairs
        }
    for index in range(3):
        item = data[index]
        assert item["heatmaps"].shape == (15, 32, 32)
        coords = data.decode(item["heatmaps"][None])
        assert coords.shape == (1, 16, 2) and np.isnan(coords[0, [6, 7]]).all()
        sample = reader[index]
        perm = flip_index(16, reader.layout.flip_pairs) if item["flipped"] else np.arange(16)
        back = to_original(coords[0], item["matrix"].numpy())
        mapped = list(CPM_JOINT_MAP.index)
        truth = sample.keypoints[perm][mapped]
        inside = item["valid"].numpy()[mapped]
        scale = np.sqrt(abs(np.linalg.det(item["matrix"].numpy()[:2, :2])))
        assert np.abs(back[mapped][inside] - truth[inside]).max() <= 8 / scale
