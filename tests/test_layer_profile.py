"""Runtime by layer type (bench.measure.layer_profile): classifier, attribution and FLOP shares."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.measure.layer_profile import (
    LAYER_TYPES,
    ProfileConfig,
    attribute_events,
    bytes_by_type,
    classify_module,
    classify_op,
    count_flops_by_type,
    flops_by_type,
    layer_profile,
    leaf_types,
)

CPU_EVENT = torch.autograd.DeviceType.CPU


@pytest.mark.parametrize(
    "conv, expected",
    [
        (nn.Conv2d(8, 16, 1), "1x1 conv"),
        (nn.Conv2d(8, 16, 3, padding=1), "3x3 conv"),
        (nn.Conv2d(8, 16, 3, stride=2, padding=1), "3x3 conv"),
        (nn.Conv2d(8, 16, 3, padding=2, dilation=2), "dilated 3x3 conv"),
        (nn.Conv2d(8, 8, 3, padding=1, groups=8), "depthwise conv"),
        (nn.Conv2d(8, 16, 3, padding=1, groups=8), "depthwise conv"),  # channel multiplier 2
        (nn.Conv2d(8, 16, 3, padding=1, groups=2), "other conv"),
        (nn.Conv2d(3, 64, 7, stride=2, padding=3), "other conv"),
        (nn.ConvTranspose2d(8, 8, 4, stride=2), "other conv"),
    ],
)
def test_conv_classifier(conv, expected):
    assert classify_module(conv) == expected


@pytest.mark.parametrize(
    "module, expected",
    [
        (nn.BatchNorm2d(4), "batch norm"),
        (nn.ReLU(inplace=True), "activation"),
        (nn.PReLU(), "activation"),
        (nn.MaxPool2d(2), "pooling"),
        (nn.AdaptiveAvgPool2d(1), "pooling"),
        (nn.Upsample(scale_factor=2), "upsampling"),
        (nn.Linear(2, 2), None),
        (nn.Identity(), None),
    ],
)
def test_module_classifier(module, expected):
    assert classify_module(module) == expected


@pytest.mark.parametrize(
    "op, expected",
    [
        ("aten::cat", "concat/add"),
        ("aten::add_", "concat/add"),
        ("aten::scatter", "other"),
        ("aten::addmm", "other"),
        ("aten::upsample_bilinear2d", "upsampling"),
        ("upsample_nearest2d", "upsampling"),
        ("aten::max_pool2d_with_indices", "pooling"),
        ("aten::relu_", "activation"),
        ("aten::mkldnn_convolution", "other conv"),
        ("batch_norm", "batch norm"),
        ("aten::copy_", "other"),
    ],
)
def test_op_classifier(op, expected):
    assert classify_op(op) == expected


class Zoo(nn.Module):
    """Every layer type once; cat, add and upsampling are functional (outside any leaf)."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(8, 8, 1)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1)
        self.dil = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.c7 = nn.Conv2d(8, 8, 7, padding=3)
        self.bn = nn.BatchNorm2d(8)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.act(self.bn(self.c1(x)))
        y = self.dw(self.dil(self.c3(y))) + y
        y = F.interpolate(self.pool(self.c7(y)), scale_factor=2.0, mode="nearest")
        return [torch.cat([y, x], dim=1)]


def test_zoo_profile_covers_every_type_and_adds_up_to_100():
    df = layer_profile(Zoo(), torch.randn(1, 8, 32, 32), "zoo", ProfileConfig(warmup=1, iters=2))
    assert list(df.layer_type) == list(LAYER_TYPES)
    assert df.time_share_pct.sum() == pytest.approx(100.0)
    assert df.flops_share_pct.sum() == pytest.approx(100.0)
    by_type = df.set_index("layer_type").time_ms
    for t in LAYER_TYPES[:-1]:  # "other" may or may not see bookkeeping ops
        assert by_type[t] > 0, t


def test_flops_of_hand_made_model():
    macs = flops_by_type(Zoo().eval(), torch.randn(1, 8, 32, 32))
    hw = 32 * 32
    assert macs["1x1 conv"] == 8 * 8 * hw
    assert macs["3x3 conv"] == macs["dilated 3x3 conv"] == 8 * 8 * 9 * hw
    assert macs["depthwise conv"] == 8 * 9 * hw
    assert macs["other conv"] == 8 * 8 * 49 * hw
    assert macs["upsampling"] > 0  # F.interpolate outside any module, classified by op name


def test_heavy_1x1_dominates_light_3x3_time():
    # 1.1 GMAC of 1x1 convolutions against 9.4 MMAC of 3x3 (115x), all with common channel
    # counts so that no slow fallback kernel turns the ordering around
    model = nn.Sequential(
        nn.Conv2d(16, 16, 3, padding=1), nn.Conv2d(16, 512, 1), nn.Conv2d(512, 512, 1)
    )
    df = layer_profile(model, torch.randn(1, 16, 64, 64), "heavy", ProfileConfig(1, 2))
    share = df.set_index("layer_type").time_share_pct
    assert share["1x1 conv"] > share["3x3 conv"]


def _event(name, parent=None, self_us=0.0, device_us=0.0, annotation=False):
    return SimpleNamespace(
        name=name,
        cpu_parent=parent,
        device_type=CPU_EVENT,
        self_cpu_time_total=self_us,
        self_device_time_total=device_us,
        is_user_annotation=annotation,
    )


def test_attribution_uses_nearest_range_then_outermost_op():
    rng = _event("layer_type::1x1 conv", annotation=True, self_us=500.0)  # hook overhead: skipped
    conv = _event("aten::conv2d", rng, 1.0, 0.0)
    kernel_op = _event("aten::cudnn_convolution", conv, 2.0, 30.0)
    cat = _event("aten::cat", None, 4.0, 5.0)
    cat_child = _event("aten::empty", cat, 8.0, 0.0)
    loose = _event("aten::copy_", None, 16.0, 7.0)
    events = [rng, conv, kernel_op, cat, cat_child, loose]
    assert attribute_events(events, on_cuda=False) == {
        "1x1 conv": 3.0,
        "concat/add": 12.0,
        "other": 16.0,
    }
    assert attribute_events(events, on_cuda=True) == {
        "1x1 conv": 30.0,
        "concat/add": 5.0,
        "other": 7.0,
    }


@pytest.mark.parametrize(
    "in_channels, out_channels",
    [(64, 128), (128, 256), (256, 256), (256, 512), (512, 256), (1024, 17)],
)
def test_real_sized_1x1_convs_count_as_1x1(in_channels, out_channels):
    # the hourglass residual and GCPM head widths: a rule that looked at channel counts would
    # misfile exactly the layers the paper's Sec. 5.5 claim is about
    assert classify_module(nn.Conv2d(in_channels, out_channels, 1)) == "1x1 conv"
    assert classify_module(nn.Conv2d(in_channels, out_channels, 3, padding=1)) == "3x3 conv"
    assert (
        classify_module(nn.Conv2d(in_channels, in_channels, 3, padding=1, groups=in_channels))
        == "depthwise conv"
    )


def test_every_1x1_conv_of_a_real_hourglass_is_filed_as_1x1():
    from architectures import create_model

    model = create_model("hourglass-2stack")
    types = leaf_types(model)
    convs = {name: m for name, m in model.named_modules() if isinstance(m, nn.Conv2d)}
    ones = [n for n, m in convs.items() if m.kernel_size == (1, 1) and m.groups == 1]
    assert len(ones) > 20 and any(convs[n].in_channels >= 256 for n in ones)
    assert all(types[n] == "1x1 conv" for n in ones)


def test_bytes_read_and_written_follow_tensor_shapes():
    model = nn.Sequential(nn.Conv2d(8, 16, 1, bias=False), nn.ReLU()).eval()
    moved = bytes_by_type(model, torch.randn(1, 8, 32, 32))
    hw = 32 * 32
    # conv: input and weight read, output written; ReLU: its input read, its output written
    assert moved["1x1 conv"] == ((8 * hw + 16 * 8) * 4, 16 * hw * 4)
    assert moved["activation"] == (16 * hw * 4, 16 * hw * 4)
    assert moved["3x3 conv"] == (0, 0)


def test_functional_ops_outside_modules_are_classified_by_name():
    moved = bytes_by_type(Zoo().eval(), torch.randn(1, 8, 32, 32))
    assert moved["concat/add"][1] > 0 and moved["upsampling"][1] > 0


def test_types_fvcore_does_not_count_are_marked():
    counts = count_flops_by_type(Zoo().eval(), torch.randn(1, 8, 32, 32))
    assert counts.counted("1x1 conv") == "yes"
    assert counts.counted("activation") == "no" and "relu" in str(counts.uncounted["activation"])
    assert counts.counted("pooling") == "no"
    assert counts.counted("concat/add") == "no"
    assert counts.counted("other") == "no ops"  # not "n/a": pandas reads that back as NaN


def test_profile_has_coverage_bytes_and_flop_marks():
    df = layer_profile(Zoo(), torch.randn(1, 8, 32, 32), "zoo", ProfileConfig(warmup=1, iters=3))
    assert df.latency_ms.nunique() == 1 and df.latency_ms.iloc[0] > 0
    profiled = df.time_ms.sum()
    assert df.coverage_pct.iloc[0] == pytest.approx(100 * profiled / df.latency_ms.iloc[0])
    rows = df.set_index("layer_type")
    assert rows.loc["activation", "flops_counted"] == "no"
    assert rows.loc["1x1 conv", "macs_per_byte"] == pytest.approx(
        rows.loc["1x1 conv", "gmacs"]
        * 1e9
        / (1e6 * (rows.loc["1x1 conv", "mb_read"] + rows.loc["1x1 conv", "mb_written"]))
    )


def test_profile_runs_with_the_timers_numerics(monkeypatch):
    import bench.measure.layer_profile as lp

    seen = []
    original = lp.timing_numerics

    def recording(mode, device):
        seen.append(mode)
        return original(mode, device)

    monkeypatch.setattr(lp, "timing_numerics", recording)
    lp.layer_times(nn.Conv2d(3, 3, 1), torch.randn(1, 3, 8, 8), ProfileConfig(1, 1))
    assert seen == ["fp32"]
