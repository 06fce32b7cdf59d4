"""Flags that change numerics or kernel choice (bench.measure.numerics): strict fp32 and tf32,
cudnn autotuning, and their restoration."""

from __future__ import annotations

import torch

from bench.measure.numerics import (
    cudnn_benchmark,
    flags_during_timing,
    numerics_flags,
    precision,
    tf32_unsupported,
    timing_numerics,
)

CPU = torch.device("cpu")


def test_precision_restores_every_backend_exactly():
    matmul = torch.backends.cuda.matmul
    if hasattr(matmul, "fp32_precision"):  # torch >= 2.9: start from the untouched "none"
        matmul.fp32_precision = "none"
        torch.backends.mkldnn.matmul.fp32_precision = "none"
    before = numerics_flags()
    for mode in ("tf32", "fp32", "bf16"):
        with precision(mode):
            assert numerics_flags()["tf32_conv"] is (mode == "tf32")
        assert numerics_flags() == before


def test_cudnn_autotuning_is_on_for_cuda_only_and_restored() -> None:
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = False
    try:
        with cudnn_benchmark(torch.device("cuda", 0)):
            assert torch.backends.cudnn.benchmark is True
        with cudnn_benchmark(CPU):
            assert torch.backends.cudnn.benchmark is False
        assert torch.backends.cudnn.benchmark is False
    finally:
        torch.backends.cudnn.benchmark = before


def test_timing_numerics_set_the_modes_tf32_policy() -> None:
    with timing_numerics("tf32", CPU):
        assert numerics_flags()["tf32_conv"] is True
    with timing_numerics("fp32", CPU):
        assert numerics_flags()["tf32_conv"] is False
        assert numerics_flags()["float32_matmul_precision"] == "highest"


def test_flags_during_timing_name_both_policies() -> None:
    flags = flags_during_timing(CPU)
    assert set(flags) == {"strict modes", "tf32"}
    assert flags["strict modes"]["tf32_matmul"] is False and flags["tf32"]["tf32_matmul"] is True


def test_tf32_needs_a_cuda_device_of_capability_8(monkeypatch) -> None:
    assert "not on cpu" in tf32_unsupported(CPU)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (7, 5))
    assert tf32_unsupported(torch.device("cuda", 0)) == (
        "tf32 needs compute capability >= 8.0; cuda:0 has 7.5"
    )
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device: (9, 0))
    assert tf32_unsupported(torch.device("cuda", 0)) == ""
