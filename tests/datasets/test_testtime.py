"""Table 4 test-time protocol: scale averaging, flip back with left/right swap, background kept."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from datasets import predict_heatmaps


class PoolNet(nn.Module):
    """Stride-4 'network': channel c of the output is the pooled input channel c, two stages."""

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        maps = F.avg_pool2d(x, 4)
        return [maps * 0, maps]


def dot_batch() -> torch.Tensor:
    x = torch.zeros(1, 3, 64, 64)
    x[0, 0, 20:24, 8:12] = 1.0  # a "left" joint drawn in channel 0, left half of the image
    x[0, 2, 40:44, 48:52] = 1.0  # background channel 2 content, not in any flip pair
    return x


def test_single_scale_without_flip_is_the_last_stage():
    x = dot_batch()
    out = predict_heatmaps(PoolNet(), x, scales=(1.0,), flip=False)
    torch.testing.assert_close(out, F.avg_pool2d(x, 4))


def test_flip_maps_back_and_swaps_channels_but_keeps_background():
    x = dot_batch()
    plain = F.avg_pool2d(x, 4)
    out = predict_heatmaps(PoolNet(), x, scales=(1.0,), flip=True, flip_pairs=((0, 1),))
    # The mirrored pass sees the channel-0 dot, maps it back to the same place, but as channel 1.
    torch.testing.assert_close(out[:, 0], plain[:, 0] / 2)
    torch.testing.assert_close(out[:, 1], plain[:, 0] / 2)
    torch.testing.assert_close(out[:, 2], plain[:, 2])  # the background channel stays in place


def test_mirror_equivariant_model_is_unchanged_by_flip_averaging():
    class Symmetric(nn.Module):
        def forward(self, x):  # left map = right map mirrored: the flipped pass agrees exactly
            left = F.avg_pool2d(x[:, :1], 4)
            return [torch.cat([left, torch.flip(left, dims=[3])], dim=1)]

    x = torch.rand(2, 3, 64, 64)
    x = x + torch.flip(x, dims=[3])
    plain = predict_heatmaps(Symmetric(), x, scales=(1.0,), flip=False)
    both = predict_heatmaps(Symmetric(), x, scales=(1.0,), flip=True, flip_pairs=((0, 1),))
    torch.testing.assert_close(plain, both)


def test_scales_resize_back_to_the_unscaled_heatmap_size():
    x = torch.full((2, 3, 128, 128), 0.3)
    out = predict_heatmaps(PoolNet(), x, scales=(0.75, 1.0, 1.25), flip=True, flip_pairs=((0, 1),))
    assert out.shape == (2, 3, 32, 32)
    torch.testing.assert_close(out, torch.full_like(out, 0.3))
    # Without 1.0 among the scales the size still follows the unscaled input.
    assert predict_heatmaps(PoolNet(), x, scales=(0.5,), flip=False).shape == (2, 3, 32, 32)


def test_unscaled_pass_keeps_the_exact_input_size():
    seen = []

    class Recorder(PoolNet):
        def forward(self, x):
            seen.append(tuple(x.shape[-2:]))
            return super().forward(x)

    out = predict_heatmaps(Recorder(), torch.zeros(1, 3, 368, 368), scales=(0.75, 1.0), flip=False)
    assert seen == [(256, 256), (368, 368)] and out.shape == (1, 3, 92, 92)


def test_multi_scale_keeps_the_peak_in_place():
    x = torch.zeros(1, 3, 128, 128)
    x[0, 0, 60:68, 28:36] = 1.0
    out = predict_heatmaps(PoolNet(), x, scales=(0.75, 1.0, 1.25), flip=False)
    peak = divmod(int(out[0, 0].argmax()), 32)
    assert peak in {(15, 7), (16, 7), (15, 8), (16, 8)}  # the dot covers cells 15-16, 7-8


def test_bad_arguments():
    with pytest.raises(ValueError, match="NCHW"):
        predict_heatmaps(PoolNet(), torch.zeros(3, 64, 64))
    with pytest.raises(ValueError, match="flip_pairs"):
        predict_heatmaps(PoolNet(), dot_batch(), flip=True)
    with pytest.raises(ValueError, match="scale"):
        predict_heatmaps(PoolNet(), dot_batch(), scales=(), flip=False)
