"""``compile``: torch.compile (inductor). Compile time is reported apart from latency.

The first calls compile; a recompile during timing would be a compile counted as a slow sample,
so the timed call runs with dynamo's ``error_on_recompile`` and such a row fails with the reason.
On a CPU, inductor needs a C++ compiler and took 28-48 s per zoo model on 2 cores.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn

from bench.measure.runtimes.base import (
    Prepared,
    as_numpy,
    autocast,
    quiet_cpp_extension,
    runs_only,
    torch_infer,
)

_WARM_CALLS = 3  # the first call compiles; the next ones must hit the cache


@dataclass(frozen=True)
class Compiled:
    name: str = "compile"
    gpu_only: bool = False
    mode: str | None = None  # torch.compile mode, e.g. "max-autotune"
    backend: str = "inductor"  # "eager" captures graphs without code generation (tests)

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32",)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        return runs_only(self.name, precision, ("fp32", "bf16", "fp16"))

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration=None,
    ) -> Prepared:
        import torch._dynamo

        quiet_cpp_extension()
        # One compiled callable per (model, precision): models of a family share a forward code
        # object, and each gets its own guarded cache entry there.
        compiled = torch.compile(model, mode=self.mode, backend=self.backend)
        started = time.perf_counter()
        with autocast(example.device, precision):
            for _ in range(_WARM_CALLS):
                compiled(example)
        compile_s = time.perf_counter() - started

        def forward(x: torch.Tensor) -> torch.Tensor:
            with (
                torch._dynamo.config.patch(error_on_recompile=True),
                autocast(example.device, precision),
            ):
                return compiled(x)[-1]

        return Prepared(
            lambda: forward(example), as_numpy, torch_infer(forward, example.device), compile_s
        )


COMPILED = Compiled()
