"""Turning a ``--device`` string into a torch device (bench.measure.devices), and what the
benchmark suite says when the device asked for is missing."""

from __future__ import annotations

import pytest
import torch

from architectures.errors import DeviceError
from bench.measure.devices import resolve_device


@pytest.mark.parametrize("spec", ["meta", "garbage", "", "tpu:7", "cuda:99"])
def test_devices_that_cannot_run_are_refused_by_name(spec) -> None:
    with pytest.raises(DeviceError, match=f"--device {spec!r}"):
        resolve_device(spec)


def test_auto_and_cpu_resolve() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_the_option_named_in_the_error_is_the_callers() -> None:
    with pytest.raises(DeviceError, match="^--bench-device 'meta': cannot time"):
        resolve_device("meta", option="--bench-device")


def test_a_bare_cuda_takes_the_local_rank(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda", local_rank=1) == torch.device("cuda", 1)
    assert resolve_device("cuda:0", local_rank=1) == torch.device("cuda", 0)
    assert resolve_device("cpu", local_rank=1) == torch.device("cpu")
    with pytest.raises(DeviceError, match="has 2 cuda device"):
        resolve_device("cuda", local_rank=2)


def test_a_missing_cuda_is_named_with_the_torch_version(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(DeviceError, match="CUDA is not available on this machine"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


@pytest.mark.slow
def test_bench_suite_on_a_missing_gpu_ends_in_one_line():
    import subprocess
    import sys

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench",
            "--benchmark-only",
            "--bench-device",
            "cuda",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 4  # pytest's usage error
    assert len(lines) == 1 and lines[0].startswith("ERROR: --bench-device 'cuda'")
    assert "CUDA is not available" in lines[0]
