"""Runtime by layer type with ``torch.profiler``, beside each type's share of the FLOPs.

The GCPM paper (Osokin 2019, Sec. 5.5) profiled hourglass networks and found that 1x1 convolutions
take most of the execution time despite their small share of the FLOPs. This module measures that
claim for any registered model.

Method: every leaf module whose type is known (convolutions by kernel / dilation / groups, norms,
activations, pooling, upsampling) is wrapped in a ``record_function`` range named after its type.
Each profiled op's self time (device time of its CUDA kernels on a GPU, CPU self time on a CPU) goes
to the nearest enclosing range; an op outside any range (``torch.cat``, ``+``, ``F.interpolate``
called functionally) is classified by the name of its outermost op. The shares therefore add up to
100 % of the profiled op time. The profile runs with the latency timer's settings (strict fp32,
cudnn autotuning on CUDA, :mod:`bench.measure.numerics`), so the profiled kernels are the timed
ones.

Beside the times, per layer type:
- ``coverage_pct``: profiled op time over the latency timed right before the profile, with the
  same settings and no profiler. On a GPU at batch 1, what is missing is launch gaps and host
  overhead between kernels, a share no per-layer figure shows.
- FLOPs: fvcore per-module counts (one multiply-add = one FLOP, the paper's convention) mapped to
  the same classifier. fvcore counts no FLOPs for several ops (ReLU, add, cat, max pooling);
  ``flops_counted`` says for each type whether its FLOP share holds all, part or none of its ops.
- Bytes read and written: from the shapes and dtypes of every op's input and output tensors
  (views excluded), attributed like the time. A lower bound on memory traffic (each tensor read
  once per op); with the MACs it gives each type's arithmetic intensity, so memory-bound layers
  show as such (the quantitative test of the paper's Sec. 5.5).
"""

from __future__ import annotations

import contextlib
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
from torch import nn
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode

from architectures.registry import build_at_size, input_shape
from bench.measure.latency import (
    TimingConfig,
    synchronize,
    time_callable,
)
from bench.measure.numerics import timing_numerics

LAYER_TYPES: tuple[str, ...] = (
    "1x1 conv",
    "3x3 conv",
    "dilated 3x3 conv",
    "depthwise conv",
    "other conv",
    "batch norm",
    "activation",
    "pooling",
    "upsampling",
    "concat/add",
    "other",
)
_RANGE_PREFIX = "layer_type::"

_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
_ACTIVATIONS = (
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.SELU,
    nn.CELU,
    nn.GELU,
    nn.SiLU,
    nn.Mish,
    nn.Sigmoid,
    nn.Tanh,
    nn.Hardswish,
    nn.Hardsigmoid,
    nn.Hardtanh,
    nn.Softplus,
    nn.Softmax,
    nn.LogSoftmax,
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
        (
            "activation",
            (
                r"(?:relu|relu6|leaky_relu|prelu|elu|selu|celu|gelu|silu|mish|sigmoid"
                r"|tanh|hardtanh|hardswish|hardsigmoid|softmax|log_softmax|clamp"
                r"|clamp_min)(?:_|$)"
            ),
        ),
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


def classify_module(module: nn.Module) -> str | None:
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
def _leaf_hooks(
    model: nn.Module, enter: Callable[[str], None], leave: Callable[[], None]
) -> Iterator[None]:
    """Call ``enter(layer_type)`` before and ``leave()`` after each classified leaf's forward."""

    def pre_hook(layer_type: str) -> Callable:
        def hook(module: nn.Module, args: tuple) -> None:
            enter(layer_type)

        return hook

    def post_hook(module: nn.Module, args: tuple, output: object) -> None:
        leave()  # a hook that returns something would replace the module's output

    modules = dict(model.named_modules())
    handles = []
    for name, layer_type in leaf_types(model).items():
        handles.append(modules[name].register_forward_pre_hook(pre_hook(layer_type)))
        handles.append(modules[name].register_forward_hook(post_hook))
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def annotate_leaves(model: nn.Module) -> Iterator[None]:
    """Wrap each classified leaf module's forward in a ``record_function`` range of its type."""
    open_ranges: list[record_function] = []

    def enter(layer_type: str) -> None:
        rf = record_function(_RANGE_PREFIX + layer_type)
        rf.__enter__()
        open_ranges.append(rf)

    def leave() -> None:
        open_ranges.pop().__exit__(None, None, None)

    with _leaf_hooks(model, enter, leave):
        yield


def _tensors(value: object) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


class _ByteCounter(TorchDispatchMode):
    """Bytes of every op's distinct input and output tensors, per layer type (views skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.read: dict[str, int] = defaultdict(int)
        self.written: dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if not getattr(func, "is_view", False):
            schema = getattr(func, "_schema", None)
            layer_type = (
                self.stack[-1]
                if self.stack
                else classify_op(schema.name if schema is not None else str(func))
            )
            # an out= tensor is written, not read (its bytes come back in ``out``)
            outs = {a.name for a in schema.arguments if a.is_out} if schema is not None else ()
            given = {k: v for k, v in (kwargs or {}).items() if k not in outs}
            inputs = {id(t): t for t in _tensors((args, given))}
            self.read[layer_type] += sum(t.numel() * t.element_size() for t in inputs.values())
            self.written[layer_type] += sum(t.numel() * t.element_size() for t in _tensors(out))
        return out


def bytes_by_type(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, int]]:
    """(bytes read, bytes written) per layer type in one forward, from tensor shapes."""
    counter = _ByteCounter()
    hooks = _leaf_hooks(model, counter.stack.append, counter.stack.pop)
    with torch.inference_mode(), hooks, counter:
        model(x)
    return {t: (counter.read.get(t, 0), counter.written.get(t, 0)) for t in LAYER_TYPES}


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
            return node.name[len(_RANGE_PREFIX) :]
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

    def __post_init__(self) -> None:
        # iters = 0 divided the profiled time by zero; a negative warm-up was silently none
        if self.warmup < 0 or self.iters < 1:
            raise ValueError(f"ProfileConfig needs warmup >= 0 and iters >= 1, got {self}")


def layer_times(
    model: nn.Module, x: torch.Tensor, config: ProfileConfig = ProfileConfig()
) -> dict[str, float]:
    """Milliseconds per forward spent in each layer type (all of ``LAYER_TYPES``).

    Runs with the latency timer's settings for ``fp32`` (strict fp32, cudnn autotuning on
    CUDA); the warm-up forwards take the autotuning out of the profile.
    """
    on_cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.inference_mode(), timing_numerics("fp32", x.device):
        for _ in range(config.warmup):
            model(x)
        synchronize(x.device)
        with annotate_leaves(model), profile(activities=activities) as prof:
            for _ in range(config.iters):
                model(x)
            synchronize(x.device)
    totals = attribute_events(prof.events(), on_cuda)
    return {t: totals.get(t, 0.0) / 1000.0 / config.iters for t in LAYER_TYPES}


def timed_latency_ms(model: nn.Module, x: torch.Tensor, config: ProfileConfig) -> float:
    """Median latency (ms) with the timer's fp32 settings and no profiler: coverage's divisor."""
    timing = TimingConfig(warmup=config.warmup, iters=max(config.iters, 3))
    with torch.inference_mode(), timing_numerics("fp32", x.device):
        return statistics.median(time_callable(lambda: model(x), x.device, timing))


# Ops that only move or describe tensors; fvcore counts none and no FLOP share is missing.
_BOOKKEEPING = re.compile(
    r"^(size|Int|ScalarImplicit|view|reshape|contiguous|detach|flatten|"
    r"expand|unsqueeze|squeeze|permute|transpose|t|select|slice|to|"
    r"numel|dropout|zeros|ones|empty|full|arange|clone|copy_)$"
)


@dataclass(frozen=True)
class FlopCounts:
    """fvcore MACs per layer type, and the ops of each type it ran but counted nothing for."""

    macs: dict[str, float]
    uncounted: dict[str, Counter]

    def counted(self, layer_type: str) -> str:
        """``yes`` / ``partly`` / ``no``: fvcore counts all / some / none of the type's ops;
        ``no ops`` where the type has none."""
        has_macs, has_uncounted = self.macs[layer_type] > 0, bool(self.uncounted[layer_type])
        if has_macs:
            return "partly" if has_uncounted else "yes"
        return "no" if has_uncounted else "no ops"


def count_flops_by_type(model: nn.Module, x: torch.Tensor) -> FlopCounts:
    """fvcore MACs per layer type; ops outside classified leaves are classified by op name."""
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model, x)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    if isinstance(getattr(analysis, "_ignored_ops", None), set):
        analysis._ignored_ops.clear()  # fvcore skips cat, relu, add... silently: list them too
    per_module = analysis.by_module_and_operator()
    leftover = dict(per_module[""])  # whole-model counts per op, minus what leaves claim below
    left_uncounted = Counter(analysis.unsupported_ops(""))
    totals: dict[str, float] = defaultdict(float)
    uncounted: dict[str, Counter] = {t: Counter() for t in LAYER_TYPES}
    for name, layer_type in leaf_types(model).items():
        for op, count in per_module.get(name, {}).items():
            totals[layer_type] += count
            leftover[op] = leftover.get(op, 0) - count
        ops = Counter(analysis.unsupported_ops(name))
        uncounted[layer_type] += ops
        left_uncounted -= ops
    for op, count in leftover.items():
        totals[classify_op(op)] += count
    for op, n in left_uncounted.items():
        uncounted[classify_op(op)][op] += n
    for ops in uncounted.values():
        for op in [op for op in ops if _BOOKKEEPING.match(op.split("::")[-1])]:
            del ops[op]
    return FlopCounts({t: float(totals.get(t, 0.0)) for t in LAYER_TYPES}, uncounted)


def flops_by_type(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """fvcore MACs per layer type (see :func:`count_flops_by_type`)."""
    return count_flops_by_type(model, x).macs


def _percent(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return {k: 100.0 * v / total if total > 0 else float("nan") for k, v in values.items()}


def _ops_text(ops: Counter) -> str:
    return ", ".join(f"{op.split('::')[-1]} x{n}" for op, n in sorted(ops.items()))


def layer_profile(
    model: nn.Module, x: torch.Tensor, name: str = "", config: ProfileConfig = ProfileConfig()
) -> pd.DataFrame:
    """One row per layer type: time per forward (ms) and share, FLOPs, bytes and coverage."""
    model = model.eval()
    label = name or type(model).__name__
    times = layer_times(model, x, config)
    if sum(times.values()) <= 0:
        raise RuntimeError(f"profiler recorded no op time for model {label}")
    latency = timed_latency_ms(model, x, config)
    with torch.inference_mode():
        flops = count_flops_by_type(model, x)
    moved = bytes_by_type(model, x)
    macs = flops.macs
    time_pct, flop_pct = _percent(times), _percent(macs)
    traffic = {t: moved[t][0] + moved[t][1] for t in LAYER_TYPES}
    return pd.DataFrame(
        {
            "model": label,
            "device": str(x.device),
            "input": f"{x.shape[-2]}x{x.shape[-1]}",
            "layer_type": list(LAYER_TYPES),
            "time_ms": [times[t] for t in LAYER_TYPES],
            "time_share_pct": [time_pct[t] for t in LAYER_TYPES],
            "gmacs": [macs[t] / 1e9 for t in LAYER_TYPES],
            "flops_share_pct": [flop_pct[t] for t in LAYER_TYPES],
            "flops_counted": [flops.counted(t) for t in LAYER_TYPES],
            "flops_uncounted_ops": [_ops_text(flops.uncounted[t]) for t in LAYER_TYPES],
            "mb_read": [moved[t][0] / 1e6 for t in LAYER_TYPES],
            "mb_written": [moved[t][1] / 1e6 for t in LAYER_TYPES],
            "macs_per_byte": [
                macs[t] / traffic[t] if traffic[t] else float("nan") for t in LAYER_TYPES
            ],
            "latency_ms": latency,
            "coverage_pct": 100.0 * sum(times.values()) / latency if latency > 0 else float("nan"),
        }
    )


def profile_models(
    names: Sequence[str],
    device: torch.device,
    config: ProfileConfig = ProfileConfig(),
    input_size: tuple[int, int] | None = None,
    on_step: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """``layer_profile`` of registered models (at ``input_size`` or their own), stacked."""
    frames = []
    for name in names:
        model = build_at_size(name, input_size).eval().to(device)
        x = torch.randn(*input_shape(model.info, input_size), device=device)
        frames.append(layer_profile(model, x, name, config))
        if on_step is not None:
            on_step(name)
    return pd.concat(frames, ignore_index=True)
