"""The shared blocks: conv-norm-act, depthwise separable, Newell's pre-activation bottleneck."""

from __future__ import annotations

import torch
from torch import nn

from architectures.layers import PreActBottleneck, conv_norm_act, depthwise_separable


def test_conv_norm_act_keeps_the_size_at_stride_one_and_halves_it_at_two() -> None:
    x = torch.randn(1, 4, 9, 10)
    assert conv_norm_act(4, 6, 3)(x).shape == (1, 6, 9, 10)
    assert conv_norm_act(4, 6, 3, stride=2)(x).shape == (1, 6, 5, 5)
    assert conv_norm_act(4, 6, 3, dilation=2)(x).shape == (1, 6, 9, 10)


def test_norm_and_activation_can_be_left_out_or_swapped() -> None:
    bare = {type(m) for m in conv_norm_act(4, 6, 1, norm=None, act=None).modules()}
    assert nn.BatchNorm2d not in bare and nn.ReLU not in bare
    swapped = {type(m) for m in depthwise_separable(4, 6, act=nn.SiLU).modules()}
    assert nn.SiLU in swapped and nn.ReLU not in swapped


def test_depthwise_separable_has_one_filter_per_input_channel() -> None:
    block = depthwise_separable(4, 6)
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].groups == 4 and convs[-1].kernel_size == (1, 1)
    assert block(torch.randn(1, 4, 8, 8)).shape == (1, 6, 8, 8)


def test_bottleneck_builds_a_skip_convolution_only_where_the_widths_differ() -> None:
    assert isinstance(PreActBottleneck(8, 8).skip, nn.Identity)
    assert isinstance(PreActBottleneck(8, 16).skip, nn.Conv2d)
    assert PreActBottleneck(8, 16)(torch.randn(1, 8, 5, 5)).shape == (1, 16, 5, 5)
