"""Runtime by layer type with ``torch.profiler``, beside each type's share of the FLOPs.

The GCPM paper (Osokin 2019, Sec. 5.5) profiled hourglass networks and found that 1x1 convolutions
take most of the execution time despite their small share of the FLOPs. This module measures that
claim for any registered model.

Method: every leaf module whose type is known (convolutions by kernel / dilation / groups, norms,
activations, pooling, upsampling) is wrapped in a ``record_function`` range named after its type.
Each profiled op's self time (device time of its CUDA kernels on a GPU, CPU self time on a CPU)
goes to the nearest enclosing range; an op outside any range (``torch.cat``, ``+``,
``F.interpolate`` called functionally) is classified by the name of its outermost op. The shares
therefore add up to 100 % of the profiled op time. FLOPs use fvcore per-module counts (one
multiply-add = one FLOP, the paper's convention) mapped to the same classifier.
"""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterator, Optional, Sequence

import pandas as pd
import torch
from torch import nn
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile

LAYER_TYPES: tuple[str, ...] = (
    "1x1 conv", "3x3 conv", "dilated 3x3 conv", "depthwise conv", "other conv", "batch norm",
    "activation", "pooling", "upsampling", "concat/add", "other",
)
_RANGE_PREFIX = "layer_type::"

_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
_ACTIVATIONS = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Softplus,
    nn.Softmax, nn.LogSoftmax,
)
_UPSAMPLING = (nn.Upsample, nn.PixelShuffle)

# Op names (aten::… in the profiler, bare names in fvcore) are matched token-wise, a token being a
# "_"-separated word prefix, so "scatter" is not a concat and "addmm" (linear) is not an add.
# Checked in order; the first match wins.
_OP_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (layer_type, re.compile(r"(?:^|_)(?:" + alternatives + ")"))
    for layer_type, alternatives in (
        ("other conv", r"conv"),
        ("batch norm", r"batch_norm|group_norm|layer_norm|instance_norm"),
        ("upsampling", r"upsample|_upsample|interpolate|grid_sampler|pixel_shuffle"),
        ("pooling", r"pool|max_pool|avg_pool|adaptive_\w*pool"),
        ("activation", r"(?:relu|relu6|leaky_relu|prelu|elu|selu|celu|gelu|silu|mish|sigmoid"
                       r"|tanh|hardtanh|hardswish|hardsigmoid|softmax|log_softmax|clamp"
                       r"|clamp_min)(?:_|$)"),
        ("concat/add", r"(?:cat|concat|add|stack)(?:_|$)"),
    )
)


def classify_conv(conv: nn.modules.conv._ConvNd) -> str:
    """Layer type of a convolution from its kernel, dilation and groups."""
    if not isinstance(conv, nn.Conv2d):
        return "other conv"  # transposed and non-2-D convolutions are outside the paper's classes
    if conv.groups > 1 and conv.groups == conv.in_channels:
        return "depthwise conv"
    if conv.groups != 1:
        return "other conv"
    if conv.kernel_size == (1, 1):
        return "1x1 conv"
    if conv.kernel_size == (3, 3):
        return "3x3 conv" if conv.dilation == (1, 1) else "dilated 3x3 conv"
    return "other conv"


def classify_module(module: nn.Module) -> Optional[str]:
    """Layer type of a leaf module, or ``None`` when its type says nothing (then ops decide)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return classify_conv(module)
    if isinstance(module, _NORMS):
        return "batch norm"
    if isinstance(module, _ACTIVATIONS):
        return "activation"
    if type(module).__module__ == "torch.nn.modules.pooling":
        return "pooling"
    if isinstance(module, _UPSAMPLING):
        return "upsampling"
    return None


def classify_op(op_name: str) -> str:
    """Layer type of an op (``aten::cat``, fvcore's ``upsample_bilinear2d``) by its name."""
    name = op_name.lower().split("::")[-1]
    for layer_type, pattern in _OP_RULES:
        if pattern.search(name):
            return layer_type
    return "other"


def leaf_types(model: nn.Module) -> dict[str, str]:
    """Qualified name -> layer type for every leaf module with a known type."""
    types = {}
    for name, module in model.named_modules():
        if next(module.children(), None) is None:
            layer_type = classify_module(module)
            if layer_type is not None:
                types[name] = layer_type
    return types


@contextlib.contextmanager
def annotate_leaves(model: nn.Module) -> Iterator[None]:
    """Wrap each classified leaf module's forward in a ``record_function`` range of its type."""
    open_ranges: list[record_function] = []

    def enter(layer_type: str) -> Callable:
        def hook(module: nn.Module, args: tuple) -> None:
            rf = record_function(_RANGE_PREFIX + layer_type)
            rf.__enter__()
            open_ranges.append(rf)
        return hook

    def leave(module: nn.Module, args: tuple, output: object) -> None:
        open_ranges.pop().__exit__(None, None, None)

    modules = dict(model.named_modules())
    handles = []
    for name, layer_type in leaf_types(model).items():
        handles.append(modules[name].register_forward_pre_hook(enter(layer_type)))
        handles.append(modules[name].register_forward_hook(leave))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def _self_time_us(event, on_cuda: bool) -> float:
    if on_cuda:
        value = getattr(event, "self_device_time_total", None)
        return float(value if value is not None else event.self_cuda_time_total)
    return float(event.self_cpu_time_total)


def _is_range(event) -> bool:
    return event.name.startswith(_RANGE_PREFIX)


def _event_type(event) -> str:
    """Type of the nearest enclosing layer range, else of the outermost op around ``event``."""
    outermost = event
    node = event.cpu_parent
    while node is not None:
        if _is_range(node):
            return node.name[len(_RANGE_PREFIX):]
        if not getattr(node, "is_user_annotation", False):
            outermost = node
        node = node.cpu_parent
    return classify_op(outermost.name)


def attribute_events(events: Sequence, on_cuda: bool) -> dict[str, float]:
    """Sum of op self times (µs) per layer type; ranges and other annotations are skipped."""
    totals: dict[str, float] = defaultdict(float)
    for event in events:
        if getattr(event, "device_type", None) != torch.autograd.DeviceType.CPU:
            continue  # GPU-side copies of annotations; kernels are reached through their CPU op
        if _is_range(event) or getattr(event, "is_user_annotation", False):
            continue
        totals[_event_type(event)] += _self_time_us(event, on_cuda)
    return dict(totals)


@dataclass(frozen=True)
class ProfileConfig:
    """Untimed warm-up forwards, then ``iters`` profiled forwards (times are per forward)."""

    warmup: int = 3
    iters: int = 10


def layer_times(model: nn.Module, x: torch.Tensor,
                config: ProfileConfig = ProfileConfig()) -> dict[str, float]:
    """Milliseconds per forward spent in each layer type (all of ``LAYER_TYPES``)."""
    on_cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.inference_mode():
        for _ in range(config.warmup):
            model(x)
        if on_cuda:
            torch.cuda.synchronize(x.device)
        with annotate_leaves(model), profile(activities=activities) as prof:
            for _ in range(config.iters):
                model(x)
            if on_cuda:
                torch.cuda.synchronize(x.device)
    totals = attribute_events(prof.events(), on_cuda)
    return {t: totals.get(t, 0.0) / 1000.0 / config.iters for t in LAYER_TYPES}


def flops_by_type(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """fvcore MACs per layer type; ops outside classified leaves are classified by op name."""
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    per_module = analysis.by_module_and_operator()
    leftover = dict(per_module[""])  # whole-model counts per op, minus what leaves claim below
    totals: dict[str, float] = defaultdict(float)
    for name, layer_type in leaf_types(model).items():
        for op, count in per_module.get(name, {}).items():
            totals[layer_type] += count
            leftover[op] = leftover.get(op, 0) - count
    for op, count in leftover.items():
        totals[classify_op(op)] += count
    return {t: float(totals.get(t, 0.0)) for t in LAYER_TYPES}


def _percent(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return {k: 100.0 * v / total if total > 0 else float("nan") for k, v in values.items()}


def layer_profile(model: nn.Module, x: torch.Tensor, name: str = "",
                  config: ProfileConfig = ProfileConfig()) -> pd.DataFrame:
    """One row per layer type: time per forward (ms), time share %, GMACs and FLOP share %."""
    model = model.eval()
    times = layer_times(model, x, config)
    if sum(times.values()) <= 0:
        raise RuntimeError(f"profiler recorded no op time for model {name or type(model).__name__}")
    with torch.inference_mode():
        macs = flops_by_type(model, x)
    time_pct, flop_pct = _percent(times), _percent(macs)
    return pd.DataFrame({
        "model": name or type(model).__name__, "device": str(x.device),
        "input": f"{x.shape[-2]}x{x.shape[-1]}", "layer_type": list(LAYER_TYPES),
        "time_ms": [times[t] for t in LAYER_TYPES],
        "time_share_pct": [time_pct[t] for t in LAYER_TYPES],
        "gmacs": [macs[t] / 1e9 for t in LAYER_TYPES],
        "flops_share_pct": [flop_pct[t] for t in LAYER_TYPES],
    })


def profile_models(names: Sequence[str], device: torch.device,
                   config: ProfileConfig = ProfileConfig(),
                   input_size: Optional[tuple[int, int]] = None,
                   on_step: Optional[Callable[[str], None]] = None) -> pd.DataFrame:
    """``layer_profile`` of registered models at their input size, stacked in one DataFrame."""
    from architectures import create_model

    from .latency import input_shape_of

    frames = []
    for name in names:
        model = create_model(name).eval().to(device)
        x = torch.randn(*input_shape_of(model, input_size), device=device)
        frames.append(layer_profile(model, x, name, config))
        if on_step is not None:
            on_step(name)
    return pd.concat(frames, ignore_index=True)
