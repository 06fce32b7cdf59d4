"""Exact op signature of a forward: aten operators by type and the bytes they write, recorded
below autograd (``TorchDispatchMode``); catches FLOP-neutral changes (a copy, a ``cat``)."""

from __future__ import annotations

from collections import Counter

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket.__name__)
        self.calls[name] += 1
        self.bytes[name] += sum(
            t.numel() * t.element_size() for t in tree_leaves(out) if isinstance(t, torch.Tensor)
        )
        return out


def op_signature(model: nn.Module, x: torch.Tensor) -> dict[str, list[int]]:
    """``{op: [calls, bytes written]}`` of one inference forward, sorted by op name."""
    recorder = _Recorder()
    with torch.inference_mode(), recorder:
        model(x)
    return {op: [recorder.calls[op], recorder.bytes[op]] for op in sorted(recorder.calls)}


def signature_diff(base: dict[str, list[int]], cur: dict[str, list[int]]) -> list[str]:
    """Differences such as ``clone: calls 0 -> 1, bytes 0 -> 65536``."""
    diffs = []
    for op in sorted(set(base) | set(cur)):
        b, c = base.get(op, [0, 0]), cur.get(op, [0, 0])
        if list(b) != list(c):
            diffs.append(f"{op}: calls {b[0]} -> {c[0]}, bytes {b[1]} -> {c[1]}")
    return diffs
