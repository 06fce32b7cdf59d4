"""``eager``: plain PyTorch, the paper's protocol (fp32); bf16 / fp16 through torch autocast."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from bench.measure.runtimes.base import Prepared, as_numpy, autocast, runs_only, torch_infer


@dataclass(frozen=True)
class Eager:
    name: str = "eager"
    gpu_only: bool = False

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32",)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        # An autocast dtype this device lacks fails in prepare's probe, with its message.
        return runs_only(self.name, precision, ("fp32", "bf16", "fp16"))

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration=None,
    ) -> Prepared:
        def forward(x: torch.Tensor) -> torch.Tensor:
            with autocast(example.device, precision):
                return model(x)[-1]

        forward(example)  # probe: an unsupported autocast dtype raises here, not while timing
        return Prepared(
            lambda: forward(example), as_numpy, torch_infer(forward, example.device), 0.0
        )


EAGER = Eager()
