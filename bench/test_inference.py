"""Batch-1 inference benchmarks, one per registered model, in the ``--bench-runtime`` adapter
(prepared before the timed function; what it ran goes into ``extra_info["runtime_notes"]``)."""

from __future__ import annotations

import pytest
import torch

from architectures import list_models
from architectures.registry import build_at_size, input_shape
from bench.measure.complexity import count_flops, count_params
from bench.measure.environment import WindowTotals, gpu_state, read_counters
from bench.measure.latency import synchronize
from bench.measure.numerics import numerics_flags, timing_numerics
from bench.measure.runtimes import get_runtime
from bench.measure.runtimes.base import first_line


@pytest.mark.parametrize("name", list_models(), ids=str)
def test_inference(
    benchmark,
    name: str,
    device: torch.device,
    bench_size: tuple[int, int] | None,
    bench_runtime: tuple[str, str],
) -> None:
    runtime, precision = bench_runtime
    reason = get_runtime(runtime).unavailable_reason(device, precision)
    if reason:
        pytest.skip(f"{runtime} {precision}: {reason}")
    model = build_at_size(name, bench_size).eval().to(device)
    shape = input_shape(model.info, bench_size)
    x = torch.randn(shape, device=device)  # created once, outside the timed function
    size = f"{shape[2]}x{shape[3]}"
    benchmark.group = f"batch-1 {runtime} {precision} inference, {device.type}, {size}"
    info = benchmark.extra_info
    info.update(model=name, device=str(device), input=size, reduced_input=bool(bench_size))
    info.update(threads=torch.get_num_threads(), runtime=runtime, precision=precision)
    info["params_m"] = round(count_params(model) / 1e6, 3)
    info["gflops_1mac_1flop"] = round(count_flops(model, shape).gflops, 3)

    with torch.inference_mode(), timing_numerics("fp32", device):  # the latency timer's settings
        try:
            prepared = get_runtime(runtime).prepare(model, x, precision, torch.get_num_threads())
        except Exception as exc:  # noqa: BLE001 - an export / compile error is this case's reason
            pytest.skip(f"{runtime} {precision} prepare failed: {first_line(exc)}")
        info.update(prepare_s=prepared.prepare_s, runtime_notes=prepared.notes)

        def forward() -> None:
            prepared.run()
            synchronize(device)  # the timed call ends when the device is done, not when queued

        forward()  # warm-up: cudnn autotuning and allocator growth stay out of the samples
        _volatile_info(info, device, "before")
        counters = read_counters(device)
        benchmark(forward)
        window = WindowTotals()
        window.add(counters, read_counters(device), 0)
        info.update(numerics=numerics_flags(), timed_s=window.duration_s)
        info.update(throttled_pct=window.throttled_pct(), violation_pct=window.violation_pct())
        _volatile_info(info, device, "after")


def _volatile_info(extra_info: dict, device: torch.device, when: str) -> None:
    """The GPU's momentary state: in each benchmark's extra_info, never in machine_info."""
    if device.type == "cuda":
        state = gpu_state(device)
        extra_info[f"throttle_reasons_{when}"] = ",".join(state.throttle_reasons)
        for name, unit in (("sm_clock", "mhz"), ("temperature", "c"), ("power", "w")):
            extra_info[f"{name}_{when}_{unit}"] = getattr(state, f"{name}_{unit}")
