"""Runtime by layer type (bench.measure.layer_profile): the classifier, attribution of profiler
events (fake ones), FLOP and byte counts per type, the columns of a row from known measurements,
and the profiler's own log lines kept off stderr."""

from __future__ import annotations

import contextlib
import math
import os
from collections import Counter
from types import SimpleNamespace

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bench.measure import layer_profile as lp
from bench.measure.latency import TimingConfig
from bench.measure.layer_profile import (
    LAYER_TYPES,
    FlopCounts,
    ProfileConfig,
    attribute_events,
    bytes_by_type,
    classify_conv,
    classify_module,
    classify_op,
    count_flops_by_type,
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
    macs = count_flops_by_type(Zoo().eval(), torch.randn(1, 8, 32, 32)).macs
    hw = 32 * 32
    assert macs["1x1 conv"] == 8 * 8 * hw
    assert macs["3x3 conv"] == macs["dilated 3x3 conv"] == 8 * 8 * 9 * hw
    assert macs["depthwise conv"] == 8 * 9 * hw
    assert macs["other conv"] == 8 * 8 * 49 * hw
    assert macs["upsampling"] > 0  # F.interpolate outside any module, classified by op name


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
    assert df.latency_ms.nunique() == 1
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
    seen = []
    original = lp.timing_numerics

    def recording(mode, device):
        seen.append(mode)
        return original(mode, device)

    monkeypatch.setattr(lp, "timing_numerics", recording)
    lp.layer_times(nn.Conv2d(3, 3, 1), torch.randn(1, 3, 8, 8), ProfileConfig(1, 1))
    assert seen == ["fp32"]


def test_a_grouped_conv_is_depthwise_exactly_when_each_input_channel_is_its_own_group() -> None:
    assert classify_conv(nn.Conv2d(1, 8, 3)) == "3x3 conv"  # groups == in_channels == 1: dense
    assert classify_conv(nn.Conv2d(1, 8, 1)) == "1x1 conv"
    assert classify_conv(nn.Conv2d(2, 4, 3, groups=2)) == "depthwise conv"
    assert classify_conv(nn.Conv2d(4, 4, 3, groups=2)) == "other conv"


def _bare_event(name: str, parent=None, self_us: float = 0.0, **fields) -> SimpleNamespace:
    return SimpleNamespace(name=name, cpu_parent=parent, self_cpu_time_total=self_us, **fields)


def test_an_annotation_that_is_not_a_layer_range_is_neither_counted_nor_the_outermost_op() -> None:
    block = _bare_event("my_block", self_us=100.0, device_type=CPU_EVENT, is_user_annotation=True)
    cat = _bare_event("aten::cat", block, 1.0, device_type=CPU_EVENT, is_user_annotation=False)
    empty = _bare_event("aten::empty", cat, 2.0, device_type=CPU_EVENT, is_user_annotation=False)
    # 'my_block' would classify as "other"; the ops below it are a concatenation.
    assert attribute_events([block, cat, empty], on_cuda=False) == {"concat/add": 3.0}


def test_events_without_the_newer_profiler_fields() -> None:
    outer = _bare_event("aten::cat", None, 1.0, device_type=CPU_EVENT)  # no is_user_annotation
    inner = _bare_event("aten::empty", outer, 2.0, device_type=CPU_EVENT)
    no_device = _bare_event("aten::relu", None, 50.0, is_user_annotation=False)  # no device_type
    assert attribute_events([outer, inner, no_device], on_cuda=False) == {"concat/add": 3.0}


def test_device_side_events_are_skipped_without_stopping_the_scan() -> None:
    gpu = _bare_event(
        "layer_type::1x1 conv", device_type=torch.autograd.DeviceType.CUDA, is_user_annotation=True
    )
    cat = _bare_event("aten::cat", None, 4.0, device_type=CPU_EVENT, is_user_annotation=False)
    assert attribute_events([gpu, cat], on_cuda=False) == {"concat/add": 4.0}


# ------------------------------------------------- what a user sees: the rows and their columns


def _all_types(values: dict) -> dict:
    return {t: values.get(t, 0.0) for t in LAYER_TYPES}


def _fake_measurements(monkeypatch: pytest.MonkeyPatch, times: dict, latency_ms: float) -> list:
    """layer_profile's four measurements replaced by fixed figures; what they saw is logged."""
    seen: list = []
    macs = _all_types({"1x1 conv": 3e9, "3x3 conv": 1e9})
    uncounted = {t: Counter() for t in LAYER_TYPES}
    uncounted["activation"] = Counter({"aten::relu": 2, "aten::clamp_min": 1})
    uncounted["1x1 conv"] = Counter({"aten::add": 1})

    def fake_times(model, x, config):
        seen.append(("times", model.training, config))
        return _all_types(times)

    def fake_latency(model, x, config):
        seen.append(("latency", model.training, config))
        return latency_ms

    def fake_flops(model, x, analysis):
        seen.append(("flops", torch.is_inference_mode_enabled()))
        return FlopCounts(macs, uncounted)

    def fake_bytes(model, x):
        seen.append(("bytes", tuple(x.shape)))
        moved = {t: (0, 0) for t in LAYER_TYPES}
        moved.update({"1x1 conv": (3_000_000, 1_000_000), "activation": (2_000_000, 500_000)})
        return moved

    monkeypatch.setattr(lp, "layer_times", fake_times)
    monkeypatch.setattr(lp, "timed_latency_ms", fake_latency)
    monkeypatch.setattr(lp, "count_flops_by_type", fake_flops)
    monkeypatch.setattr(lp, "bytes_by_type", fake_bytes)
    return seen


def test_every_column_of_a_profile_row_from_known_measurements(monkeypatch) -> None:
    seen = _fake_measurements(monkeypatch, {"1x1 conv": 3.0, "activation": 1.0}, 8.0)
    model = nn.Conv2d(3, 3, 1).train()
    config = ProfileConfig(warmup=2, iters=5)
    df = lp.layer_profile(model, torch.zeros(1, 3, 4, 6), "", config)
    assert seen == [
        ("bytes", (1, 3, 4, 6)),  # first: its forward warms the kernels up for the profiler
        ("times", False, config),
        ("latency", False, config),
        ("flops", True),
    ]
    assert list(df.columns) == [
        "model", "device", "input", "layer_type", "time_ms", "time_share_pct", "gmacs",
        "flops_share_pct", "flops_counted", "flops_uncounted_ops", "mb_read", "mb_written",
        "macs_per_byte", "latency_ms", "coverage_pct",
    ]  # fmt: skip
    assert list(df.layer_type) == list(LAYER_TYPES) and len(df) == len(LAYER_TYPES)
    assert set(df.model) == {"Conv2d"} and set(df.device) == {"cpu"} and set(df.input) == {"4x6"}
    rows = df.set_index("layer_type")
    one, act, three = rows.loc["1x1 conv"], rows.loc["activation"], rows.loc["3x3 conv"]
    assert (one.time_ms, act.time_ms, three.time_ms) == (3.0, 1.0, 0.0)
    assert (one.time_share_pct, act.time_share_pct, three.time_share_pct) == (75.0, 25.0, 0.0)
    assert (one.gmacs, three.gmacs, act.gmacs) == (3.0, 1.0, 0.0)
    assert (one.flops_share_pct, three.flops_share_pct, act.flops_share_pct) == (75.0, 25.0, 0.0)
    assert (one.flops_counted, three.flops_counted) == ("partly", "yes")
    assert (act.flops_counted, rows.loc["pooling", "flops_counted"]) == ("no", "no ops")
    assert act.flops_uncounted_ops == "clamp_min x1, relu x2"
    assert (one.flops_uncounted_ops, three.flops_uncounted_ops) == ("add x1", "")
    assert (one.mb_read, one.mb_written, act.mb_read, act.mb_written) == (3.0, 1.0, 2.0, 0.5)
    assert (three.mb_read, three.mb_written) == (0.0, 0.0)
    assert one.macs_per_byte == 3e9 / 4e6 and act.macs_per_byte == 0.0
    assert math.isnan(three.macs_per_byte)  # no traffic: no intensity, not a division by zero
    assert set(df.latency_ms) == {8.0} and set(df.coverage_pct) == {50.0}


def test_a_latency_timed_already_is_the_divisor_and_nothing_more_is_timed(monkeypatch) -> None:
    seen = _fake_measurements(monkeypatch, {"1x1 conv": 3.0, "activation": 1.0}, 8.0)
    df = lp.layer_profile(nn.Conv2d(3, 3, 1), torch.zeros(1, 3, 4, 6), "", latency_ms=16.0)
    assert not [s for s in seen if s[0] == "latency"]
    assert set(df.latency_ms) == {16.0} and set(df.coverage_pct) == {25.0}


def test_coverage_of_a_latency_of_zero_is_nan_and_of_a_tiny_one_is_large(monkeypatch) -> None:
    _fake_measurements(monkeypatch, {"pooling": 0.5}, 0.0)
    df = lp.layer_profile(nn.Identity(), torch.zeros(1, 3, 2, 2), "zero")
    assert set(df.model) == {"zero"} and df.coverage_pct.isna().all()
    _fake_measurements(monkeypatch, {"pooling": 0.5}, 0.25)
    assert set(lp.layer_profile(nn.Identity(), torch.zeros(1, 3, 2, 2)).coverage_pct) == {200.0}


def test_a_profile_without_any_op_time_is_refused_by_model_name(monkeypatch) -> None:
    _fake_measurements(monkeypatch, {}, 8.0)
    with pytest.raises(RuntimeError, match="^profiler recorded no op time for model empty$"):
        lp.layer_profile(nn.Identity(), torch.zeros(1, 3, 2, 2), "empty")
    with pytest.raises(RuntimeError, match="for model Identity$"):
        lp.layer_profile(nn.Identity(), torch.zeros(1, 3, 2, 2))


def test_flop_marks_partly_yes_no_and_no_ops() -> None:
    counts = FlopCounts(
        _all_types({"1x1 conv": 1.0, "3x3 conv": 0.5}),
        {
            t: Counter({"aten::relu": 1} if t in ("1x1 conv", "pooling") else {})
            for t in LAYER_TYPES
        },
    )
    assert [counts.counted(t) for t in ("1x1 conv", "3x3 conv", "pooling", "other")] == [
        "partly",
        "yes",
        "no",
        "no ops",
    ]


def test_uncounted_ops_text_sorted_by_op_without_namespace() -> None:
    ops = Counter({"aten::relu_": 3, "aten::add": 1, "aten::max_pool2d": 2})
    assert lp._ops_text(ops) == "add x1, max_pool2d x2, relu_ x3"
    assert lp._ops_text(Counter()) == ""


class _Counting(nn.Module):
    """A 1x1 convolution and a ReLU as leaves; counts its forwards."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.act, self.calls = nn.Conv2d(2, 2, 1), nn.ReLU(), 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.act(self.conv(x))


def test_layer_times_are_ms_per_profiled_forward_after_unprofiled_warm_up(monkeypatch) -> None:
    seen = []

    def fake_attribute(events, on_cuda):
        names = [e.name for e in events]
        seen.append((names.count("layer_type::1x1 conv"), names.count("layer_type::activation")))
        seen.append(on_cuda)
        return {"1x1 conv": 3000.0, "pooling": 500.0}

    monkeypatch.setattr(lp, "attribute_events", fake_attribute)
    model = _Counting()
    times = lp.layer_times(model, torch.zeros(1, 2, 4, 4), ProfileConfig(warmup=2, iters=4))
    assert model.calls == 6 and seen == [(4, 4), False]  # only the 4 timed forwards profiled
    assert times == _all_types({"1x1 conv": 0.75, "pooling": 0.125})
    assert list(times) == list(LAYER_TYPES)


def test_coverage_divisor_is_the_median_of_at_least_three_timed_forwards(monkeypatch) -> None:
    seen = []

    def fake_time_callable(fn, device, config):
        fn()
        seen.append((device, config, torch.is_inference_mode_enabled()))
        return [5.0, 1.0, 2.0, 9.0, 3.0][: config.iters]

    modes = []
    real_numerics = lp.timing_numerics
    monkeypatch.setattr(lp, "time_callable", fake_time_callable)
    monkeypatch.setattr(lp, "timing_numerics", lambda m, d: modes.append(m) or real_numerics(m, d))
    model = _Counting()
    x = torch.zeros(1, 2, 4, 4)
    assert lp.timed_latency_ms(model, x, ProfileConfig(warmup=4, iters=1)) == 2.0
    assert lp.timed_latency_ms(model, x, ProfileConfig(warmup=0, iters=5)) == 3.0
    cpu = torch.device("cpu")
    assert seen == [(cpu, TimingConfig(4, 3), True), (cpu, TimingConfig(0, 5), True)]
    assert model.calls == 2 and modes == ["fp32", "fp32"]  # the timed callable runs the model


def test_leaf_types_name_classified_leaves_only() -> None:
    model = nn.Sequential(
        nn.Conv2d(2, 2, 1), nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), nn.Identity()
    )
    assert lp.leaf_types(model) == {"0": "1x1 conv", "1.0": "activation"}


def _hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def test_layer_hooks_are_removed_after_use_and_after_a_failing_forward() -> None:
    model = _Counting()
    lp.bytes_by_type(model, torch.zeros(1, 2, 4, 4))
    assert _hooks(model) == 0
    with pytest.raises(RuntimeError), lp.annotate_leaves(model):
        assert _hooks(model) == 4  # a pre- and a post-hook on each of the two leaves
        model(torch.zeros(1, 3, 4, 4))  # wrong channel count
    assert _hooks(model) == 0


def test_tensors_found_in_nested_arguments() -> None:
    a, b, c = torch.zeros(1), torch.zeros(2), torch.zeros(3)
    found = list(lp._tensors(((a, 2, [b, None]), {"out": c, "alpha": 1.0})))
    assert [t.numel() for t in found] == [1, 2, 3]
    assert list(lp._tensors("text")) == []


class _Functional(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat([x, x], 1), x.view(-1).clone()


def test_bytes_count_each_distinct_input_once_skip_views_and_use_the_element_size() -> None:
    x = torch.zeros(1, 2, 3, 4, dtype=torch.float64)  # 24 elements of 8 bytes
    moved = lp.bytes_by_type(_Functional(), x)
    assert moved["concat/add"] == (192, 384)  # x passed twice is read once; 2x written
    assert moved["other"] == (192, 192)  # the clone; the view before it moves nothing
    assert sum(r + w for r, w in moved.values()) == 192 + 384 + 192 + 192
    assert list(moved) == list(LAYER_TYPES)


def test_macs_of_several_leaves_of_a_type_add_up_and_no_op_is_listed_twice() -> None:
    model = nn.Sequential(nn.Conv2d(2, 4, 1), nn.ReLU(), nn.Conv2d(4, 2, 1), nn.ReLU())
    counts = lp.count_flops_by_type(model.eval(), torch.zeros(1, 2, 4, 4))
    assert counts.macs["1x1 conv"] == 2 * (2 * 4 * 16)
    assert counts.uncounted["activation"] == Counter({"aten::relu": 2})
    assert sum(counts.macs.values()) == counts.macs["1x1 conv"]


class _Sized(nn.Module):
    """A network built for an input size (as CPM is): profile_models must rebuild it."""

    def __init__(self, input_size: tuple[int, int] = (32, 32)) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)


def test_profile_models_builds_each_at_the_size_asked_and_stacks_the_rows(monkeypatch) -> None:
    from architectures import ModelInfo, register_model
    from tests.tiny_models import register_tiny

    register_model(ModelInfo("tiny-profile-sized", "test", "lip", (32, 32), 1, 3))(_Sized)
    names = [register_tiny("tiny-profile-a", (32, 32)), "tiny-profile-sized"]
    calls, steps = [], []

    def fake_profile(model, x, name, config, latency_ms, analysis):
        where = {x.device.type, next(model.parameters()).device.type}
        calls.append((name, tuple(x.shape), where, model.training, config, latency_ms))
        calls.append(tuple(model.info.input_size))
        return pd.DataFrame({"model": [name, name]})

    monkeypatch.setattr(lp, "layer_profile", fake_profile)
    config = ProfileConfig(1, 2)
    meta = torch.device("meta")  # a device other than the default one, without memory
    timed = {names[1]: 7.5}  # the other model has no latency yet: layer_profile times it
    df = lp.profile_models(names, meta, config, (16, 24), steps.append, timed)
    assert calls[0] == (names[0], (1, 3, 16, 24), {"meta"}, False, config, None)
    assert calls[1] == (16, 24)  # TinyPose runs at any size as built; its info says the size
    assert calls[2] == (names[1], (1, 3, 16, 24), {"meta"}, False, config, 7.5)
    assert calls[3] == (16, 24)  # rebuilt for the size asked
    assert steps == names and list(df.model) == [names[0]] * 2 + [names[1]] * 2
    assert list(df.index) == [0, 1, 2, 3]
    default = lp.profile_models(names[1:], torch.device("cpu"))
    assert calls[-2:] == [
        (names[1], (1, 3, 32, 32), {"cpu"}, False, ProfileConfig(), None),
        (32, 32),
    ]
    assert len(default) == 2


def test_profile_models_reads_a_traced_model_and_its_analysis_instead_of_building(
    monkeypatch,
) -> None:
    from architectures.registry import build_at_size
    from bench.measure.complexity import trace
    from tests.tiny_models import register_tiny

    name = register_tiny("tiny-profile-traced", (32, 32))
    done = trace(build_at_size(name).eval(), torch.randn(1, 3, 32, 32))
    seen = []
    monkeypatch.setattr(lp, "build_at_size", lambda *a: pytest.fail("rebuilt a traced model"))

    def fake_profile(model, x, name, config, latency_ms, analysis):
        seen.append((model, analysis))
        return pd.DataFrame({"model": [name]})

    monkeypatch.setattr(lp, "layer_profile", fake_profile)
    lp.profile_models([name], torch.device("cpu"), traced={name: done})
    assert seen == [(done.model, done.analysis)]
    macs = count_flops_by_type(done.model, torch.zeros(1, 3, 32, 32), done.analysis).macs
    assert macs == count_flops_by_type(done.model, torch.zeros(1, 3, 32, 32)).macs


class _LeafAndFunctionalRelu(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.act, self.unused = nn.Conv2d(2, 2, 1), nn.ReLU(), nn.Conv2d(2, 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.act(self.conv(x))).flatten(1)


def test_an_uncounted_op_inside_and_outside_leaves_adds_up_and_bookkeeping_is_dropped() -> None:
    counts = lp.count_flops_by_type(_LeafAndFunctionalRelu().eval(), torch.zeros(1, 2, 4, 4))
    assert counts.uncounted["activation"] == Counter({"aten::relu": 2})  # leaf's + functional
    assert counts.uncounted["other"] == Counter()  # flatten only reshapes: no FLOPs missing
    assert counts.counted("other") == "no ops" and counts.counted("activation") == "no"
    assert counts.macs == _all_types({"1x1 conv": 2 * 2 * 16})  # the unused 3x3 counts nothing


def test_profile_config_refuses_negative_warm_up_and_zero_forwards() -> None:
    assert ProfileConfig(0, 1) == ProfileConfig(warmup=0, iters=1)
    assert ProfileConfig() == ProfileConfig(3, 10)
    for warmup, iters in ((-1, 1), (0, 0)):
        with pytest.raises(ValueError, match=r"^ProfileConfig needs warmup >= 0 and iters >= 1"):
            ProfileConfig(warmup, iters)


def test_uncounted_op_names_without_a_namespace_are_kept_whole() -> None:
    assert lp._ops_text(Counter({"relu": 1, "prim::PythonOp": 2})) == "PythonOp x2, relu x1"


class _OutAndKeywords(nn.Module):
    """An out= op into a buffer, a keyword-only dtype, and two concatenations in a row."""

    def __init__(self) -> None:
        super().__init__()
        self.buf = torch.empty(1, 2, 3, 4, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        torch.add(x, x, out=self.buf)
        return self.buf, torch.ones(6, dtype=torch.float64), torch.cat([torch.cat([x, x]), x])


def test_bytes_of_out_tensors_are_written_not_read_and_keyword_arguments_reach_the_op() -> None:
    x = torch.zeros(1, 2, 3, 4, dtype=torch.float64)  # 192 bytes
    moved = lp.bytes_by_type(_OutAndKeywords(), x)
    # add: x read once, the buffer written; the cats: x, then 2x and x read, 2x and 3x written
    assert moved["concat/add"] == (192 + 192 + 3 * 192, 192 + 2 * 192 + 3 * 192)
    assert moved["other"] == (0, 6 * 8)  # float64 ones: the dtype keyword reached the op


def test_an_activation_fvcore_does_not_count_stays_with_its_leaf() -> None:
    model = nn.Sequential(nn.Conv2d(2, 2, 1), nn.Softplus())  # "softplus" is no activation name
    assert lp.classify_op("aten::softplus") == "other"
    counts = lp.count_flops_by_type(model.eval(), torch.zeros(1, 2, 4, 4))
    assert counts.uncounted["activation"] == Counter({"aten::softplus": 1})
    assert counts.uncounted["other"] == Counter()


def test_flop_counting_logs_no_fvcore_warnings(caplog) -> None:
    with caplog.at_level("WARNING"):
        lp.count_flops_by_type(_LeafAndFunctionalRelu().eval(), torch.zeros(1, 2, 4, 4))
    assert [r.getMessage() for r in caplog.records if r.name.startswith("fvcore")] == []


class _Traced(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.calls = nn.Conv2d(2, 2, 1), 0

    def forward(self, x: object) -> None:
        self.calls += 1


def test_layer_times_on_a_gpu_profile_cuda_kernels_and_sum_device_time(monkeypatch) -> None:
    seen = []

    @contextlib.contextmanager
    def fake_profile(activities):
        seen.append(list(activities))
        yield SimpleNamespace(events=lambda: ["event"])

    def fake_attribute(events, on_cuda):
        seen.append((events, on_cuda))
        return {"1x1 conv": 2000.0}

    monkeypatch.setattr(lp, "profile", fake_profile)
    monkeypatch.setattr(lp, "attribute_events", fake_attribute)
    monkeypatch.setattr(lp, "synchronize", lambda device: seen.append(device))
    gpu = torch.device("cuda", 1)
    model = _Traced()
    times = lp.layer_times(model, SimpleNamespace(device=gpu), ProfileConfig(warmup=1, iters=2))
    activities = [lp.ProfilerActivity.CPU, lp.ProfilerActivity.CUDA]
    assert seen == [gpu, activities, gpu, (["event"], True)] and model.calls == 3
    assert times["1x1 conv"] == 1.0
    lp.layer_times(model, SimpleNamespace(device=torch.device("cpu")), ProfileConfig(0, 1))
    assert seen[-3:] == [[lp.ProfilerActivity.CPU], torch.device("cpu"), (["event"], False)]


class _KeywordTensor(nn.Module):
    """searchsorted's ``sorter`` is a keyword-only tensor input (as SDPA's CPU ``attn_mask``)."""

    def __init__(self) -> None:
        super().__init__()
        self.seq = torch.arange(8, dtype=torch.float64).flip(0)  # 64 bytes
        self.sorter = torch.arange(7, -1, -1)  # int64: 64 bytes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.searchsorted(self.seq, x, sorter=self.sorter)


def test_a_keyword_only_tensor_input_is_read() -> None:
    x = torch.zeros(1, 2, 3, 4, dtype=torch.float64)  # 192 bytes
    assert lp.bytes_by_type(_KeywordTensor(), x)["other"] == (64 + 192 + 64, 24 * 8)


def test_the_profilers_own_log_lines_are_dropped_and_every_other_line_kept(capfd) -> None:
    capfd.readouterr()
    with lp._without_profiler_chatter():
        os.write(
            2, b"USDT:2026-01-01 12:00:00 7283:7283 SyncActivityProfilerHandler.cpp:39] start\n"
        )
        os.write(2, b"ERROR:2026-01-01 12:00:00 1:1 DeviceProperties.cpp:56] gpuGetDeviceCount\n")
        os.write(2, b"ERROR: our own message\n")
    assert capfd.readouterr().err == "ERROR: our own message\n"


def test_an_error_inside_the_filter_still_reaches_the_caller_and_stderr(capfd) -> None:
    capfd.readouterr()
    with pytest.raises(RuntimeError, match="boom"), lp._without_profiler_chatter():
        os.write(2, b"said before failing\n")
        raise RuntimeError("boom")
    assert capfd.readouterr().err == "said before failing\n"


def test_a_cpu_layer_profile_prints_nothing_of_the_profiler(capfd) -> None:
    capfd.readouterr()
    lp.layer_times(nn.Conv2d(3, 3, 1), torch.zeros(1, 3, 8, 8), ProfileConfig(0, 1))
    assert capfd.readouterr().err == ""
