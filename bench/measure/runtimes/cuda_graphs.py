"""``cuda-graphs``: the eager network captured once into a CUDA graph, replayed per request.

The input is static (copied into the captured buffer once), as CUDA graph replay requires; the
timed call is one replay, the output buffer is read outside the timing.
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
    needs_cuda,
    runs_only,
    torch_infer,
)

_WARM_CALLS = 3  # allocator and cudnn autotuning settle on a side stream before capture


@dataclass(frozen=True)
class CudaGraphs:
    name: str = "cuda-graphs"
    gpu_only: bool = True

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32", "fp16")

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return f"bf16 is not supported on {torch.cuda.get_device_name(device)}"
        return runs_only(self.name, precision, ("fp32", "bf16", "fp16")) or needs_cuda(device)

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration=None,
    ) -> Prepared:
        started = time.perf_counter()
        static_x = example.clone()
        side = torch.cuda.Stream(example.device)
        side.wait_stream(torch.cuda.current_stream(example.device))
        with torch.cuda.stream(side), autocast(example.device, precision):
            for _ in range(_WARM_CALLS):
                model(static_x)
        torch.cuda.current_stream(example.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), autocast(example.device, precision, cache=False):
            static_out = model(static_x)[-1]
        torch.cuda.synchronize(example.device)
        prepare_s = time.perf_counter() - started

        def run() -> torch.Tensor:
            graph.replay()
            return static_out

        def forward(x: torch.Tensor) -> torch.Tensor:
            static_x.copy_(x)
            return run().clone()

        return Prepared(run, as_numpy, torch_infer(forward, example.device), prepare_s)


CUDA_GRAPHS = CudaGraphs()
