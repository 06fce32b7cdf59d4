"""The device's matmul peak per precision, measured in the same run as the latencies.

A large square matmul (2048^3 by default) timed with the harness's timer; the fastest sample
counts, as for any peak (a median let one disturbed sample pull the 2-thread fp32 peak down by a
third and the efficiency column past 100 % for eager fp32). Its FLOP rate counts
two FLOPs per multiply-add (the usual convention for peaks), unlike the paper's GFLOPs columns
(one multiply-add = one FLOP); efficiency compares like with like (``table.py``).
"""

from __future__ import annotations

import torch

from bench.measure.latency import TimingConfig, time_callable
from bench.measure.numerics import timing_numerics
from bench.measure.runtimes.base import TORCH_DTYPES

PEAK_SIZE = 2048
PEAK_TIMING = TimingConfig(warmup=2, iters=5)


def matmul_peak(
    device: torch.device,
    precision: str,
    threads: int,
    config: TimingConfig = PEAK_TIMING,
    size: int = PEAK_SIZE,
) -> float:
    """GFLOP/s (2 FLOPs per multiply-add) of a ``size``^3 matmul; the fastest sample counts."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        dtype = TORCH_DTYPES[precision]
        a = torch.randn(size, size, device=device).to(dtype)
        b = torch.randn(size, size, device=device).to(dtype)
        with torch.inference_mode(), timing_numerics("fp32", device):  # fp32 = no TF32
            samples = time_callable(lambda: torch.mm(a, b), device, config)
    finally:
        torch.set_num_threads(previous)
    fastest_s = min(samples) / 1e3
    return 2 * size**3 / fastest_s / 1e9
