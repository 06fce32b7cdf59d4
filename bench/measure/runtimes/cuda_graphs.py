"""``cuda-graphs``: the eager network captured once into a CUDA graph, replayed per request.

The input is static (copied into the captured buffer), as replay requires; the timed call is one
replay, the output buffer is read outside the timing.
"""

from __future__ import annotations

import time

import torch

from bench.measure.runtimes.base import Prepared, Runtime, as_numpy, autocast, torch_infer

_WARM_CALLS = 3  # allocator and cudnn autotuning settle on a side stream before capture


class CudaGraphs(Runtime):
    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        if precision == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
            return f"bf16 is not supported on {torch.cuda.get_device_name(device)}"
        return super().unavailable_reason(device, precision)

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
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


CUDA_GRAPHS = CudaGraphs("cuda-graphs", default=("fp32", "fp16"), device_type="cuda")
