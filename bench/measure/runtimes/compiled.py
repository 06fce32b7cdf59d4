"""``compile``: torch.compile (inductor); compile time is reported apart from latency.

A recompile while timing would be a compile counted as a slow sample, so the timed call runs with
dynamo's ``error_on_recompile`` and such a row fails with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from bench.measure.runtimes.base import (
    Prepared,
    Runtime,
    autocast,
    quiet_cpp_extension,
    torch_prepared,
)

_WARM_CALLS = 3  # the first call compiles; the next ones must hit the cache


@dataclass(frozen=True)
class Compiled(Runtime):
    name: str = "compile"
    backend: str = "inductor"  # "eager" captures graphs without code generation (tests)

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        import torch._dynamo

        quiet_cpp_extension()
        # One compiled callable per (model, precision): models of a family share a forward code
        # object, and each gets its own guarded cache entry there.
        compiled = torch.compile(model, backend=self.backend)
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

        return torch_prepared(forward, example, compile_s)


COMPILED = Compiled()
