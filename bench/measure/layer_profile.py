"""Runtime by layer type with ``torch.profiler`` beside FLOPs and bytes moved (GCPM, Sec. 5.5:
1x1 convolutions dominate an hourglass's time). Attribution and columns: docs/gpu.md."""

from __future__ import annotations

import contextlib
import math
import os
import re
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd
import torch
from torch import nn
from torch.autograd.profiler import record_function
from torch.profiler import ProfilerActivity, profile
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from architectures.registry import build_at_size, input_shape
from bench.measure.complexity import Traced, flop_analysis
from bench.measure.latency import TimingConfig, synchronize, time_callable
from bench.measure.numerics import timing_numerics

if TYPE_CHECKING:
    from fvcore.nn import FlopCountAnalysis

LAYER_TYPES: tuple[str, ...] = (
    "1x1 conv", "3x3 conv", "dilated 3x3 conv", "depthwise conv", "other conv", "batch norm",
    "activation", "pooling", "upsampling", "concat/add", "other",
)  # fmt: skip
_RANGE_PREFIX = "layer_type::"

_NORMS = (nn.modules.batchnorm._NormBase, nn.GroupNorm, nn.LayerNorm, nn.LocalResponseNorm)
_UPSAMPLING = (nn.Upsample, nn.PixelShuffle)

# Op names (aten::… in the profiler, bare in fvcore) are matched by "_"-separated word prefixes,
# so "scatter" is not a concat nor "addmm" an add; the first match wins.
_ACTIVATION_OPS = (
    "relu|relu6|leaky_relu|prelu|elu|selu|celu|gelu|silu|mish|sigmoid|tanh|hardtanh|hardswish"
    "|hardsigmoid|softmax|log_softmax|clamp|clamp_min"
)
_OP_RULES: tuple[tuple[str, re.Pattern], ...] = tuple(
    (layer_type, re.compile(r"(?:^|_)(?:" + alternatives + ")"))
    for layer_type, alternatives in (
        ("other conv", "conv"),
        ("batch norm", "batch_norm|group_norm|layer_norm|instance_norm"),
        ("upsampling", "upsample|_upsample|interpolate|grid_sampler|pixel_shuffle"),
        ("pooling", r"pool|max_pool|avg_pool|adaptive_\w*pool"),
        ("activation", f"(?:{_ACTIVATION_OPS})(?:_|$)"),
        ("concat/add", "(?:cat|concat|add|stack)(?:_|$)"),
    )
)


def classify_conv(conv: nn.modules.conv._ConvNd) -> str:
    if not isinstance(conv, nn.Conv2d) or conv.groups not in (1, conv.in_channels):
        return "other conv"  # transposed, non-2-D and grouped ones are outside the paper's classes
    if conv.groups > 1:
        return "depthwise conv"
    if conv.kernel_size == (3, 3):
        return "3x3 conv" if conv.dilation == (1, 1) else "dilated 3x3 conv"
    return "1x1 conv" if conv.kernel_size == (1, 1) else "other conv"


def classify_module(module: nn.Module) -> str | None:
    """Layer type of a leaf module, or ``None`` when its type says nothing (then ops decide)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        return classify_conv(module)
    if isinstance(module, _NORMS):
        return "batch norm"
    where = type(module).__module__  # every torch activation and pooling layer lives in one file
    if where in ("torch.nn.modules.activation", "torch.nn.modules.pooling"):
        return where.rsplit(".", 1)[-1]
    return "upsampling" if isinstance(module, _UPSAMPLING) else None


def classify_op(op_name: str) -> str:
    """Layer type of an op (``aten::cat``, fvcore's ``upsample_bilinear2d``) by its name."""
    name = op_name.lower().split("::")[-1]
    for layer_type, pattern in _OP_RULES:
        if pattern.search(name):
            return layer_type
    return "other"


def leaf_types(model: nn.Module) -> dict[str, str]:
    leaves = ((n, m) for n, m in model.named_modules() if next(m.children(), None) is None)
    return {name: t for name, m in leaves if (t := classify_module(m)) is not None}


@contextlib.contextmanager
def _leaf_hooks(model: nn.Module, enter: Callable[[str], None], leave: Callable) -> Iterator[None]:
    """``enter(layer_type)`` before and ``leave()`` after each classified leaf's forward."""

    def post_hook(module: nn.Module, args: tuple, output: object) -> None:
        leave()  # a hook that returns something would replace the module's output

    with contextlib.ExitStack() as hooks:  # a handle removes its hook on exit
        for name, layer_type in leaf_types(model).items():
            module = model.get_submodule(name)  # enter returns None: a result replaces the input
            hooks.enter_context(
                module.register_forward_pre_hook(lambda m, a, t=layer_type: enter(t))
            )
            hooks.enter_context(module.register_forward_hook(post_hook))
        yield


@contextlib.contextmanager
def annotate_leaves(model: nn.Module) -> Iterator[None]:
    """Wrap each classified leaf module's forward in a ``record_function`` range of its type."""
    ranges: list[record_function] = []

    def enter(layer_type: str) -> None:
        ranges.append(record_function(_RANGE_PREFIX + layer_type).__enter__())

    with _leaf_hooks(model, enter, lambda: ranges.pop().__exit__(None, None, None)):
        yield


def _tensors(value: object) -> list[torch.Tensor]:
    return [leaf for leaf in tree_leaves(value) if isinstance(leaf, torch.Tensor)]


def _nbytes(tensors: Iterable[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


class _ByteCounter(TorchDispatchMode):
    """Bytes of every op's distinct input and output tensors, per layer type (views skipped)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.read: Counter[str] = Counter()
        self.written: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if not func.is_view:
            layer_type = self.stack[-1] if self.stack else classify_op(func._schema.name)
            outs = {a.name for a in func._schema.arguments if a.is_out}  # written, not read
            given = {k: v for k, v in kwargs.items() if k not in outs}
            self.read[layer_type] += _nbytes({id(t): t for t in _tensors((args, given))}.values())
            self.written[layer_type] += _nbytes(_tensors(out))
        return out


def bytes_by_type(model: nn.Module, x: torch.Tensor) -> dict[str, tuple[int, int]]:
    """(bytes read, bytes written) per layer type in one forward, from tensor shapes."""
    counter = _ByteCounter()
    hooks = _leaf_hooks(model, counter.stack.append, counter.stack.pop)
    with torch.inference_mode(), hooks, counter:
        model(x)
    return {t: (counter.read[t], counter.written[t]) for t in LAYER_TYPES}


def _event_type(event) -> str:
    """Type of the nearest enclosing layer range, else of the outermost op around ``event``."""
    outermost = event
    node = event.cpu_parent
    while node is not None:
        if node.name.startswith(_RANGE_PREFIX):
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
        if event.name.startswith(_RANGE_PREFIX) or getattr(event, "is_user_annotation", False):
            continue
        time_us = event.self_device_time_total if on_cuda else event.self_cpu_time_total
        totals[_event_type(event)] += float(time_us)
    return dict(totals)


@dataclass(frozen=True)
class ProfileConfig:
    warmup: int = 3
    iters: int = 10

    __post_init__ = TimingConfig.__post_init__


# Kineto, the profiler's C++ library, logs straight to file descriptor 2 (past ``sys.stderr``):
# "USDT:2026-01-01 12:00:00 7283:7283 SyncActivityProfilerHandler.cpp:39] profiler_start".
_PROFILER_LOG_LINE = re.compile(rb"^[A-Z]+:\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \d+:\d+ \w+\.cpp:\d+\] ")


@contextlib.contextmanager
def _without_profiler_chatter() -> Iterator[None]:
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines = sink.read().splitlines(keepends=True)
            os.write(2, b"".join(line for line in lines if not _PROFILER_LOG_LINE.match(line)))


def layer_times(model: nn.Module, x: torch.Tensor, config: ProfileConfig) -> dict[str, float]:
    """Ms per forward in each of ``LAYER_TYPES``, with the timer's fp32 settings, after warm-up."""
    on_cuda = x.device.type == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    with torch.inference_mode(), timing_numerics("fp32", x.device):
        for _ in range(config.warmup):
            model(x)
        synchronize(x.device)
        quiet, annotated = _without_profiler_chatter(), annotate_leaves(model)
        with quiet, annotated, profile(activities=activities) as prof:
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
class FlopCounts:  # fvcore MACs per layer type, and the ops of each type it counted nothing for
    macs: dict[str, float]
    uncounted: dict[str, Counter]

    def counted(self, layer_type: str) -> str:
        """``yes`` / ``partly`` / ``no``: fvcore counts all / some / none of the type's ops."""
        if self.macs[layer_type] > 0:
            return "partly" if self.uncounted[layer_type] else "yes"
        return "no" if self.uncounted[layer_type] else "no ops"


def _split_by_type(per_scope: Callable[[str], Counter], leaves: dict[str, str]) -> dict:
    """Per-op counts split by layer type: a classified leaf's to its type, the rest by op name."""
    by_type: dict[str, Counter] = {t: Counter() for t in LAYER_TYPES}
    rest = Counter(per_scope(""))
    for name, layer_type in leaves.items():
        ops = Counter(per_scope(name))
        by_type[layer_type] += ops
        rest -= ops
    for op, n in rest.items():
        by_type[classify_op(op)][op] += n
    return by_type


def count_flops_by_type(
    model: nn.Module, x: torch.Tensor, analysis: FlopCountAnalysis | None = None
) -> FlopCounts:
    """``analysis``: fvcore's of ``model(x)`` with every op kept, made already (else made here)."""
    if analysis is None:
        analysis = flop_analysis(model, x, every_op=True)
    leaves = leaf_types(model)
    macs = _split_by_type(analysis.by_operator, leaves)
    uncounted = _split_by_type(analysis.unsupported_ops, leaves)
    for ops in uncounted.values():
        for op in [op for op in ops if _BOOKKEEPING.match(op.split("::")[-1])]:
            del ops[op]
    return FlopCounts({t: float(sum(macs[t].values())) for t in LAYER_TYPES}, uncounted)


def _ops_text(ops: Counter) -> str:
    return ", ".join(f"{op.split('::')[-1]} x{n}" for op, n in sorted(ops.items()))


def layer_profile(
    model: nn.Module,
    x: torch.Tensor,
    name: str = "",
    config: ProfileConfig = ProfileConfig(),
    latency_ms: float | None = None,
    analysis: FlopCountAnalysis | None = None,
) -> pd.DataFrame:
    """One row per layer type: time per forward (ms) and share, FLOPs, bytes and coverage;
    ``latency_ms``: the model's latency timed already (coverage's divisor), else timed here;
    ``analysis``: fvcore's of ``model(x)``, every op kept, made already (else made here)."""
    model = model.eval()
    label = name or type(model).__name__
    moved = bytes_by_type(model, x)  # first: a whole forward, it warms the kernels up too
    times = layer_times(model, x, config)
    if sum(times.values()) <= 0:
        raise RuntimeError(f"profiler recorded no op time for model {label}")
    latency = timed_latency_ms(model, x, config) if latency_ms is None else latency_ms
    with torch.inference_mode():
        flops = count_flops_by_type(model, x, analysis)
    shape = f"{x.shape[-2]}x{x.shape[-1]}"
    rows = pd.DataFrame(
        {"model": label, "device": str(x.device), "input": shape, "layer_type": LAYER_TYPES},
        index=LAYER_TYPES,
    )
    rows["time_ms"] = pd.Series(times)
    rows["time_share_pct"] = 100.0 * rows.time_ms / rows.time_ms.sum()
    macs = pd.Series(flops.macs)
    rows["gmacs"] = macs / 1e9
    rows["flops_share_pct"] = 100.0 * macs / macs.sum()  # no MACs at all: 0 / 0, NaN
    rows["flops_counted"] = [flops.counted(t) for t in LAYER_TYPES]
    rows["flops_uncounted_ops"] = [_ops_text(flops.uncounted[t]) for t in LAYER_TYPES]
    read, written = (pd.Series({t: moved[t][i] for t in LAYER_TYPES}) for i in (0, 1))
    rows["mb_read"], rows["mb_written"] = read / 1e6, written / 1e6
    rows["macs_per_byte"] = (macs / (read + written)).where(read + written > 0)
    rows["latency_ms"] = latency
    rows["coverage_pct"] = 100.0 * sum(times.values()) / latency if latency > 0 else math.nan
    return rows.reset_index(drop=True)


def profile_models(
    names: Sequence[str],
    device: torch.device,
    config: ProfileConfig = ProfileConfig(),
    input_size: tuple[int, int] | None = None,
    on_step: Callable[[str], None] = lambda name: None,
    latencies: Mapping[str, float] | None = None,
    traced: Mapping[str, Traced] | None = None,
) -> pd.DataFrame:
    """``layer_profile`` of registered models (at ``input_size`` or their own), stacked;
    ``latencies``: model -> fp32 median ms timed already in this run (the rest are timed);
    ``traced``: model -> its build on ``device`` at that size and fvcore's analysis (else both
    made here)."""
    frames = []
    for name in names:
        done = (traced or {}).get(name)
        model = done.model if done else build_at_size(name, input_size).eval().to(device)
        x = torch.randn(*input_shape(model.info, input_size), device=device)
        latency, analysis = (latencies or {}).get(name), done.analysis if done else None
        frames.append(layer_profile(model, x, name, config, latency, analysis))
        on_step(name)
    return pd.concat(frames, ignore_index=True)
