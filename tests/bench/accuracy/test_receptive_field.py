"""Empirical receptive field (GCPM Sec. 3.3): the measure separates local from global networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from bench.accuracy.receptive_field import (
    RFConfig,
    RFResult,
    area_fraction,
    calibrate_batchnorm,
    count_batches,
    receptive_field_maps,
    summarize,
    weighted_spread,
    window_positions,
)


def receptive_field_map(
    net: nn.Module, image: torch.Tensor, keypoint: int, cfg: RFConfig | None = None
) -> RFResult:
    return receptive_field_maps(net, image, [keypoint], cfg or RFConfig())[keypoint]


class _LocalNet(nn.Module):
    """Heatmaps at stride 4 from one 3x3 conv: a small, local field."""

    def __init__(self, global_context: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3, padding=1)
        self.global_context = global_context

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = nn.functional.avg_pool2d(self.conv(x), 4)
        if self.global_context:
            y = y + x.mean(dim=(1, 2, 3)).view(-1, 1, 1, 1)  # every pixel reaches every output
        return [y, y]


def _run(net: nn.Module, seed: int = 0) -> RFResult:
    torch.manual_seed(0)
    image = torch.rand(3, 48, 48)
    return receptive_field_map(net, image, keypoint=1, cfg=RFConfig(window=11, stride=4, seed=seed))


def test_window_positions_reach_the_border() -> None:
    assert window_positions(48, 11, 8) == [0, 8, 16, 24, 32, 37]
    assert window_positions(11, 11, 4) == [0]
    with pytest.raises(ValueError, match="larger than the image"):
        window_positions(8, 11, 4)


def test_area_fraction_hand_cases() -> None:
    one_hot = np.zeros((10, 10))
    one_hot[3, 3] = 5.0
    assert area_fraction(one_hot, 0.9) == pytest.approx(0.01)
    assert area_fraction(np.ones((10, 10)), 0.9) == pytest.approx(0.90)
    assert area_fraction(np.zeros((4, 4))) == 0.0


def test_weighted_spread_hand_case() -> None:
    change = np.zeros((5, 5))
    change[2, 4] = 1.0
    ys, xs = np.indices(change.shape)
    assert weighted_spread(change, xs, ys, (2.0, 2.0)) == pytest.approx(2.0)


def test_global_context_widens_the_field() -> None:
    torch.manual_seed(1)
    local_net = _LocalNet()
    torch.manual_seed(1)
    global_net = _LocalNet(global_context=True)
    local = summarize(_run(local_net))
    wide = summarize(_run(global_net))
    assert local["area_90"] < 0.5 * wide["area_90"]
    assert local["spread_px"] < wide["spread_px"]


def test_map_is_reproducible_and_seed_dependent() -> None:
    torch.manual_seed(2)
    net = _LocalNet(global_context=True)
    first, again, other = _run(net, 0), _run(net, 0), _run(net, 1)
    np.testing.assert_array_equal(first.changes, again.changes)
    assert not np.array_equal(first.changes, other.changes)


def test_bad_keypoint_and_shape_are_named() -> None:
    net = _LocalNet()
    with pytest.raises(ValueError, match="keypoint index 5"):
        receptive_field_map(net, torch.rand(3, 16, 16), keypoint=5)
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        receptive_field_map(net, torch.rand(1, 3, 16, 16), keypoint=0)


def test_pixel_map_tiles_the_image_when_stride_equals_window() -> None:
    torch.manual_seed(3)
    result = receptive_field_map(
        _LocalNet(True), torch.rand(3, 33, 33), 0, RFConfig(window=11, stride=11)
    )
    assert result.changes.shape == (3, 3)
    pixels = result.pixel_map()
    assert pixels[0, 0] == pytest.approx(result.changes[0, 0])
    assert pixels[32, 32] == pytest.approx(result.changes[2, 2])


def test_batchnorm_calibration_sets_the_image_statistics() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    image = torch.rand(3, 16, 16) * 5 + 2
    assert calibrate_batchnorm(net, image) == 1
    features = net[0](image.unsqueeze(0))
    expected = features.mean(dim=(0, 2, 3))
    assert torch.allclose(net[1].running_mean, expected, atol=1e-5)
    assert not net.training
    out = net(image.unsqueeze(0))
    assert out.mean().abs() < 1e-4  # normalised by the image's own statistics


def test_every_batch_is_counted_for_progress() -> None:
    cfg = RFConfig(window=11, stride=4, batch_size=5)
    calls = []
    image = torch.rand(3, 48, 48)
    receptive_field_maps(_LocalNet(), image, [0, 1], cfg, on_batch=lambda: calls.append(1))
    assert len(calls) == count_batches((48, 48), cfg) == 25  # 11 x 11 windows, 5 a batch
