"""``eager``: plain PyTorch, the paper's protocol (fp32); bf16 / fp16 through torch autocast."""

from __future__ import annotations

import torch

from bench.measure.runtimes.base import Prepared, Runtime, autocast, torch_prepared


class Eager(Runtime):
    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        def forward(x: torch.Tensor) -> torch.Tensor:
            with autocast(example.device, precision):
                return model(x)[-1]

        forward(example)  # probe: an autocast dtype this device lacks raises here, not in timing
        return torch_prepared(forward, example, 0.0)


EAGER = Eager("eager")
