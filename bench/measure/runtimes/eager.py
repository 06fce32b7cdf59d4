"""``eager``: plain PyTorch, the paper's protocol (fp32); bf16 / fp16 through torch autocast."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench.measure.runtimes.base import Prepared, as_numpy, autocast, register_runtime


@dataclass(frozen=True)
class Eager:
    name: str = "eager"
    gpu_only: bool = False

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32",)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        return ""  # an unsupported autocast dtype fails in prepare's probe, with its message

    def prepare(
        self, model: nn.Module, example: torch.Tensor, precision: str, threads: int
    ) -> Prepared:
        def run() -> torch.Tensor:
            with autocast(example.device, precision):
                return model(example)[-1]

        run()  # probe: an unsupported autocast dtype raises here, not in the timed loop
        return Prepared(run, as_numpy, 0.0)


register_runtime(Eager())
