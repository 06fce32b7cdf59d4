"""Batch-1 inference benchmarks, one per registered model: ``pytest bench --benchmark-only``."""

from __future__ import annotations

from typing import Optional

import pytest
import torch

from architectures import list_models
from bench.complexity import count_flops, count_params
from bench.latency import build_at_size, cudnn_benchmark, input_shape_of


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@pytest.mark.parametrize("name", list_models(), ids=str)
def test_inference(benchmark, name: str, device: torch.device,
                   bench_size: Optional[tuple[int, int]]) -> None:
    model = build_at_size(name, bench_size).eval().to(device)
    shape = input_shape_of(model, bench_size)
    x = torch.randn(shape, device=device)  # created once, outside the timed function
    benchmark.group = f"batch-1 fp32 inference, {device.type}, {shape[2]}x{shape[3]}"
    benchmark.extra_info.update(
        model=name, device=str(device), input=f"{shape[2]}x{shape[3]}",
        reduced_input=bool(bench_size), threads=torch.get_num_threads(),
        params_m=round(count_params(model) / 1e6, 3),
        gflops_1mac_1flop=round(count_flops(model, shape).gflops, 3),
    )

    def forward() -> None:
        model(x)
        _synchronize(device)  # the timed call ends when the device is done, not when queued

    with torch.inference_mode(), cudnn_benchmark(device):
        forward()  # warm-up: cudnn autotuning and allocator growth stay out of the samples
        benchmark(forward)
