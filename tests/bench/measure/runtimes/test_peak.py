"""bench.measure.runtimes.peak: matmul peaks per precision, int8 through ONNX Runtime."""

from __future__ import annotations

import math

import pytest
import torch

from bench.measure.latency import TimingConfig
from bench.measure.runtimes import peak

CPU = torch.device("cpu")
ONE = TimingConfig(warmup=0, iters=1)


def test_the_matmul_peak_is_the_fastest_sample_not_the_median(monkeypatch):
    # One disturbed sample must not lower a peak: 2 * 64^3 FLOPs in the fastest 0.5 ms.
    monkeypatch.setattr(peak, "time_callable", lambda fn, device, config: [2.0, 0.5, 9.0])
    assert peak.matmul_peak(CPU, "fp32", 1, ONE, 64) == pytest.approx(2 * 64**3 / 0.5e-3 / 1e9)
    assert peak.matmul_peak(CPU, "int8", 1, ONE, 64) == pytest.approx(2 * 64**3 / 0.5e-3 / 1e9)


def test_the_int8_peak_times_onnxruntimes_integer_matmul(monkeypatch):
    results = []

    def fake_timer(fn, device, config):
        results.append(fn())
        return [1.0]

    monkeypatch.setattr(peak, "time_callable", fake_timer)
    peak.int8_samples(CPU, 1, ONE, 32)
    assert results[0][0].dtype.name == "int32" and results[0][0].shape == (32, 32)
    with pytest.raises(ValueError, match="measured on the CPU"):
        peak.int8_samples(torch.device("cuda"), 1, ONE, 32)


def test_peaks_are_measured_for_ready_keys_and_every_key_is_a_step(monkeypatch):
    def fake_peak(device, precision, threads, config):
        if precision == "fp16":
            raise RuntimeError("no fp16 matmul here")
        return 10.0

    monkeypatch.setattr(peak, "matmul_peak", fake_peak)
    keys = [(CPU, "fp32", 2), (CPU, "fp16", 2), (CPU, "int8", 1)]
    steps = []
    frame = peak.measure_peaks(keys, keys[:2], ONE, lambda *label: steps.append(label))
    assert len(steps) == 3 and list(frame.precision) == ["fp32", "fp16"]
    assert frame.peak_gflops_per_s.iloc[0] == 10.0 and math.isnan(frame.peak_gflops_per_s.iloc[1])
    assert frame.peak_reason.iloc[1] == "RuntimeError: no fp16 matmul here"
