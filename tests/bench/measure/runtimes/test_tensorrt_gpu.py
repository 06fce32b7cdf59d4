"""bench.measure.runtimes.tensorrt_gpu: Torch-TensorRT (GPU only, optional)."""

from __future__ import annotations

import torch

from bench.measure.runtimes.tensorrt_gpu import TENSORRT


def test_on_the_cpu_it_says_it_needs_cuda_and_which_precisions_it_builds():
    cpu = torch.device("cpu")
    assert "needs a CUDA device" in TENSORRT.unavailable_reason(cpu, "fp32")
    assert TENSORRT.unavailable_reason(cpu, "int8") == "tensorrt runs fp32, fp16 only"
