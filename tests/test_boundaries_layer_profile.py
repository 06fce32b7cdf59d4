"""bench.layer_profile at its boundaries (mutation run, issue 14): what counts as depthwise,
profiler events of older torch versions (no ``self_device_time_total``, no
``is_user_annotation``, no ``device_type``), annotations that are not layer ranges, events
after a device-side one, and shares of a total below 1."""

from __future__ import annotations

import math
from types import SimpleNamespace

import torch
from torch import nn

from bench.layer_profile import _percent, attribute_events, classify_conv

CPU = torch.autograd.DeviceType.CPU


def test_a_grouped_conv_is_depthwise_exactly_when_each_input_channel_is_its_own_group() -> None:
    assert classify_conv(nn.Conv2d(1, 8, 3)) == "3x3 conv"  # groups == in_channels == 1: dense
    assert classify_conv(nn.Conv2d(1, 8, 1)) == "1x1 conv"
    assert classify_conv(nn.Conv2d(2, 4, 3, groups=2)) == "depthwise conv"
    assert classify_conv(nn.Conv2d(4, 4, 3, groups=2)) == "other conv"


def _event(name: str, parent=None, self_us: float = 0.0, **fields) -> SimpleNamespace:
    return SimpleNamespace(name=name, cpu_parent=parent, self_cpu_time_total=self_us, **fields)


def test_cuda_self_time_of_a_torch_without_self_device_time_total() -> None:
    op = _event("aten::cat", device_type=CPU, is_user_annotation=False, self_cuda_time_total=6.0)
    assert attribute_events([op], on_cuda=True) == {"concat/add": 6.0}


def test_an_annotation_that_is_not_a_layer_range_is_neither_counted_nor_the_outermost_op() -> None:
    block = _event("my_block", self_us=100.0, device_type=CPU, is_user_annotation=True)
    cat = _event("aten::cat", block, 1.0, device_type=CPU, is_user_annotation=False)
    empty = _event("aten::empty", cat, 2.0, device_type=CPU, is_user_annotation=False)
    # 'my_block' would classify as "other"; the ops below it are a concatenation.
    assert attribute_events([block, cat, empty], on_cuda=False) == {"concat/add": 3.0}


def test_events_without_the_newer_profiler_fields() -> None:
    outer = _event("aten::cat", None, 1.0, device_type=CPU)  # no is_user_annotation
    inner = _event("aten::empty", outer, 2.0, device_type=CPU)
    no_device = _event("aten::relu", None, 50.0, is_user_annotation=False)  # no device_type
    assert attribute_events([outer, inner, no_device], on_cuda=False) == {"concat/add": 3.0}


def test_device_side_events_are_skipped_without_stopping_the_scan() -> None:
    gpu = _event(
        "layer_type::1x1 conv", device_type=torch.autograd.DeviceType.CUDA, is_user_annotation=True
    )
    cat = _event("aten::cat", None, 4.0, device_type=CPU, is_user_annotation=False)
    assert attribute_events([gpu, cat], on_cuda=False) == {"concat/add": 4.0}


def test_shares_of_a_total_below_one_and_of_nothing() -> None:
    assert _percent({"a": 0.25, "b": 0.5}) == {"a": 100 / 3, "b": 200 / 3}
    nothing = _percent({"a": 0.0, "b": 0.0})
    assert all(math.isnan(v) for v in nothing.values())
