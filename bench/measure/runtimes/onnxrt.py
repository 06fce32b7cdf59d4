"""``onnxruntime`` (CPU execution provider) and its CUDA / TensorRT providers on a GPU.

One adapter class; the provider is an argument. On a GPU the input and output are bound on the
device (I/O binding), so the timed call holds no host-device copy, as in the eager GPU rows.

int8 on the CPU: static post-training quantization in the QDQ format
(``onnxruntime.quantization.quantize_static``: int8 per-channel weights, uint8 activations,
min-max calibration). ONNX Runtime fuses each QuantizeLinear / DequantizeLinear pair around a
convolution into an int8 kernel (``QLinearConv``) when it optimises the graph; the optimised
graph is saved and read back, so the row says how many convolutions really ran in int8.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.measure.runtimes.base import (
    Prepared,
    as_input,
    as_numpy,
    cpu_only,
    missing_module,
    needs_cuda,
    runs_only,
)
from bench.measure.runtimes.calibration import Calibration
from bench.measure.runtimes.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx

_INSTALL = {
    "CPUExecutionProvider": "pip install onnxruntime",
    "CUDAExecutionProvider": "pip install 'gcpm-bench[gpu]' (onnxruntime-gpu)",
    "TensorrtExecutionProvider": "pip install 'gcpm-bench[gpu]' (onnxruntime-gpu)",
}
_QUIET = 3  # ONNX Runtime log severity: errors only (its warnings list every unplaced node)
INT8_CONV_OPS = ("QLinearConv", "ConvInteger")


@dataclass(frozen=True)
class OnnxRuntime:
    name: str
    provider: str
    gpu_only: bool
    low_precision: tuple[str, ...] = ()

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        return ("fp32", *self.low_precision)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        reason = (
            runs_only(self.name, precision, self.precisions(device))
            or (needs_cuda(device) if self.gpu_only else cpu_only(device))
            or missing_module("onnxruntime", _INSTALL[self.provider])
        )
        if reason:
            return reason
        import onnxruntime

        if self.provider not in onnxruntime.get_available_providers():
            return (
                f"{self.provider} is not in this onnxruntime {onnxruntime.__version__} "
                f"({_INSTALL[self.provider]})"
            )
        return ""

    def _session(self, onnx: Path, device: torch.device, precision: str, threads: int):
        import onnxruntime

        onnxruntime.set_default_logger_severity(_QUIET)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = _QUIET
        if precision == "int8":  # the graph as optimised, to count the int8 kernels in it
            options.optimized_model_filepath = str(onnx.with_suffix(".optimized.onnx"))
        index = device.index or 0
        provider_options = {"device_id": index} if self.gpu_only else {}
        if self.provider == "TensorrtExecutionProvider":
            provider_options["trt_fp16_enable"] = precision == "fp16"
        providers = [(self.provider, provider_options)]
        if self.gpu_only:  # nodes a provider cannot take fall back to CUDA, never silently CPU
            providers.append(("CUDAExecutionProvider", {"device_id": index}))
        return onnxruntime.InferenceSession(str(onnx), options, providers=providers)

    def prepare(
        self,
        model: nn.Module,
        example: torch.Tensor,
        precision: str,
        threads: int,
        calibration: Calibration | None = None,
    ) -> Prepared:
        exported = export_onnx(model, example)
        started = time.perf_counter()
        path, notes = exported.path, ""
        if precision == "int8":
            path, notes = quantize(path, example, calibration or Calibration())
        session = self._session(path, example.device, precision, threads)
        if precision == "int8":
            notes = f"{int8_kernels(path.with_suffix('.optimized.onnx'))}; {notes}"
        x = as_input(example)

        def infer(images: np.ndarray) -> np.ndarray:
            return as_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: as_input(images)})[0])

        if not self.gpu_only:
            prepare_s = exported.export_s + time.perf_counter() - started
            return Prepared(
                lambda: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0],
                as_numpy,
                infer,
                prepare_s,
                notes,
            )
        run = _bound_run(session, x, example.device.index or 0)
        prepare_s = exported.export_s + time.perf_counter() - started
        return Prepared(run, lambda b: as_numpy(b.copy_outputs_to_cpu()[0]), infer, prepare_s)


def _bound_run(session, x: np.ndarray, index: int):
    """The timed call on a GPU: input and output stay bound on the device."""
    import onnxruntime

    binding = session.io_binding()
    x_device = onnxruntime.OrtValue.ortvalue_from_numpy(x, "cuda", index)
    binding.bind_ortvalue_input(INPUT_NAME, x_device)
    binding.bind_output(OUTPUT_NAME, "cuda", index)

    def run():
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        return binding

    return run


def quantize(onnx: Path, example: torch.Tensor, calibration: Calibration) -> tuple[Path, str]:
    """The exported file quantized to int8 QDQ beside it, and where its calibration came from."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images, source = calibration.images(tuple(example.shape[-2:]))
    prepared = onnx.with_name("model.pre.onnx")  # shapes inferred, graph optimised (as advised)
    quant_pre_process(str(onnx), str(prepared))

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._batches = iter(images[:, None])  # batch-1 inputs, as the file was exported

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._batches, None)
            return None if batch is None else {INPUT_NAME: batch}

    out = onnx.with_name("model.int8.onnx")
    quantize_static(
        prepared,
        out,
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
    )
    return out, source


def int8_kernels(optimized: Path) -> str:
    """How many convolutions of ONNX Runtime's optimised graph are int8 kernels."""
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(optimized)).graph.node)
    int8 = sum(ops[op] for op in INT8_CONV_OPS)
    total = int8 + ops["Conv"] + ops["FusedConv"]
    return f"onnxruntime ran {int8} of {total} convolutions as int8 kernels (QLinearConv)"


CPU = OnnxRuntime("onnxruntime", "CPUExecutionProvider", gpu_only=False, low_precision=("int8",))
CUDA = OnnxRuntime("onnxruntime-cuda", "CUDAExecutionProvider", gpu_only=True)
TENSORRT = OnnxRuntime(
    "onnxruntime-tensorrt", "TensorrtExecutionProvider", gpu_only=True, low_precision=("fp16",)
)
