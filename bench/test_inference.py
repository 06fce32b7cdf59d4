"""Batch-1 inference benchmarks, one per registered model: ``pytest bench --benchmark-only``."""

from __future__ import annotations

from typing import Optional

import pytest
import torch

from architectures import list_models
from bench.complexity import count_flops, count_params
from bench.environment import WindowTotals, gpu_state, read_counters
from bench.latency import build_at_size, input_shape_of, synchronize
from bench.numerics import numerics_flags, timing_numerics


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
        synchronize(device)  # the timed call ends when the device is done, not when queued

    with torch.inference_mode(), timing_numerics("fp32", device):  # the latency timer's settings
        forward()  # warm-up: cudnn autotuning and allocator growth stay out of the samples
        _volatile_info(benchmark.extra_info, device, "before")
        counters = read_counters(device)
        benchmark(forward)
        window = WindowTotals()
        window.add(counters, read_counters(device), 0)
        benchmark.extra_info.update(numerics=numerics_flags(), timed_s=window.duration_s,
                                    throttled_pct=window.throttled_pct(),
                                    violation_pct=window.violation_pct())
        _volatile_info(benchmark.extra_info, device, "after")


def _volatile_info(extra_info: dict, device: torch.device, when: str) -> None:
    """The GPU's momentary state: in each benchmark's extra_info, never in machine_info."""
    if device.type == "cuda":
        state = gpu_state(device)
        extra_info.update({f"sm_clock_{when}_mhz": state.sm_clock_mhz,
                           f"temperature_{when}_c": state.temperature_c,
                           f"power_{when}_w": state.power_w,
                           f"throttle_reasons_{when}": ",".join(state.throttle_reasons)})
