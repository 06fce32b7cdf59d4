"""``onnxruntime`` (CPU execution provider) and its CUDA / TensorRT providers on a GPU.

One adapter class; the provider is an argument. On a GPU the input and output are bound on the
device (I/O binding), so the timed call holds no host-device copy, as in the eager GPU rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from bench.measure.runtimes.base import (
    Prepared,
    as_numpy,
    missing_module,
    needs_cuda,
    register_runtime,
)
from bench.measure.runtimes.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx

_INSTALL = {
    "CPUExecutionProvider": "pip install onnxruntime",
    "CUDAExecutionProvider": "pip install 'gcpm-bench[gpu]' (onnxruntime-gpu)",
    "TensorrtExecutionProvider": "pip install 'gcpm-bench[gpu]' (onnxruntime-gpu)",
}


@dataclass(frozen=True)
class OnnxRuntime:
    name: str
    provider: str
    gpu_only: bool
    low_precision: tuple[str, ...] = ()

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32", *self.low_precision)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        if precision not in self.precisions(device):
            return f"{self.name} runs {', '.join(self.precisions(device))} only"
        where = (
            needs_cuda(device)
            if self.gpu_only
            else (
                "" if device.type == "cpu" else f"runs on the CPU (this run's device is {device})"
            )
        )
        if where:
            return where
        missing = missing_module("onnxruntime", _INSTALL[self.provider])
        if missing:
            return missing
        import onnxruntime

        if self.provider not in onnxruntime.get_available_providers():
            return (
                f"{self.provider} is not in this onnxruntime {onnxruntime.__version__} "
                f"({_INSTALL[self.provider]})"
            )
        return ""

    def _session(self, onnx: str, device: torch.device, precision: str, threads: int):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        index = device.index or 0
        provider_options = {"device_id": index} if self.gpu_only else {}
        if self.provider == "TensorrtExecutionProvider":
            provider_options["trt_fp16_enable"] = precision == "fp16"
        providers = [(self.provider, provider_options)]
        if self.gpu_only:  # nodes a provider cannot take fall back to CUDA, never silently CPU
            providers.append(("CUDAExecutionProvider", {"device_id": index}))
        return onnxruntime.InferenceSession(onnx, options, providers=providers)

    def prepare(
        self, model: nn.Module, example: torch.Tensor, precision: str, threads: int
    ) -> Prepared:
        exported = export_onnx(model, example)
        started = time.perf_counter()
        session = self._session(str(exported.path), example.device, precision, threads)
        x = np.ascontiguousarray(example.detach().cpu().numpy())
        if not self.gpu_only:
            prepare_s = exported.export_s + time.perf_counter() - started
            return Prepared(
                lambda: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0], as_numpy, prepare_s
            )
        import onnxruntime

        index = example.device.index or 0
        binding = session.io_binding()
        x_device = onnxruntime.OrtValue.ortvalue_from_numpy(x, "cuda", index)
        binding.bind_ortvalue_input(INPUT_NAME, x_device)
        binding.bind_output(OUTPUT_NAME, "cuda", index)

        def run():
            session.run_with_iobinding(binding)
            binding.synchronize_outputs()
            return binding

        prepare_s = exported.export_s + time.perf_counter() - started
        return Prepared(run, lambda b: as_numpy(b.copy_outputs_to_cpu()[0]), prepare_s)


register_runtime(OnnxRuntime("onnxruntime", "CPUExecutionProvider", gpu_only=False))
register_runtime(OnnxRuntime("onnxruntime-cuda", "CUDAExecutionProvider", gpu_only=True))
register_runtime(
    OnnxRuntime(
        "onnxruntime-tensorrt", "TensorrtExecutionProvider", gpu_only=True, low_precision=("fp16",)
    )
)
