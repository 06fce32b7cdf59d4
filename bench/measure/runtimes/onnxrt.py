"""``onnxruntime`` on the CPU (fp32, static QDQ int8) and its CUDA / TensorRT providers on a GPU
(docs/runtimes.md)."""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench.measure.runtimes.base import (
    INPUT_NAME,
    OUTPUT_NAME,
    Prepared,
    Runtime,
    as_numpy,
    export_onnx,
)
from bench.measure.runtimes.calibration import Calibration

_QUIET = 3  # ONNX Runtime log severity: errors only (its warnings list every unplaced node)
INT8_CONV_OPS = ("QLinearConv", "ConvInteger")


@dataclass(frozen=True)
class OnnxRuntime(Runtime):
    provider: str = "CPUExecutionProvider"
    module: str = "onnxruntime"

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        reason = super().unavailable_reason(device, precision)
        if reason:
            return reason
        import onnxruntime

        if self.provider not in onnxruntime.get_available_providers():
            return (
                f"{self.provider} is not in onnxruntime {onnxruntime.__version__} ({self.install})"
            )
        return ""

    def _session(self, onnx: Path, device: torch.device, precision: str, threads: int):
        import onnxruntime

        onnxruntime.set_default_logger_severity(_QUIET)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.log_severity_level = _QUIET
        if precision == "int8":  # the graph as optimised, to count the int8 kernels in it
            options.optimized_model_filepath = str(onnx.with_suffix(".optimized.onnx"))
        gpu = {"device_id": device.index or 0} if device.type == "cuda" else {}
        providers = [(self.provider, dict(gpu))]
        if self.provider == "TensorrtExecutionProvider":
            providers[0][1]["trt_fp16_enable"] = precision == "fp16"
        if gpu:  # nodes a provider cannot take fall back to CUDA, never silently to the CPU
            providers.append(("CUDAExecutionProvider", gpu))
        return onnxruntime.InferenceSession(str(onnx), options, providers=providers)

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        exported = export_onnx(model, example)
        started = time.perf_counter()
        path, notes = exported.path, ""
        if precision == "int8":
            path, source = quantize(path, example, calibration or Calibration())
        session = self._session(path, example.device, precision, threads)
        if precision == "int8":
            notes = f"{int8_kernels(path.with_suffix('.optimized.onnx'))}; {source}"
        x = as_numpy(example)

        def infer(images: np.ndarray) -> np.ndarray:
            return as_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: as_numpy(images)})[0])

        if example.device.type == "cuda":
            run, heatmaps = _bound_run(session, x, example.device.index or 0)
        else:
            run, heatmaps = lambda: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0], as_numpy
        prepare_s = exported.export_s + time.perf_counter() - started
        return Prepared(run, heatmaps, infer, prepare_s, notes)


def _bound_run(session, x: np.ndarray, index: int):
    """The timed call on a GPU, input and output bound on the device, and its heatmaps reader."""
    import onnxruntime

    binding = session.io_binding()
    x_device = onnxruntime.OrtValue.ortvalue_from_numpy(x, "cuda", index)
    binding.bind_ortvalue_input(INPUT_NAME, x_device)
    binding.bind_output(OUTPUT_NAME, "cuda", index)

    def run():
        session.run_with_iobinding(binding)
        binding.synchronize_outputs()
        return binding

    return run, lambda b: as_numpy(b.copy_outputs_to_cpu()[0])


def quantize(onnx: Path, example: torch.Tensor, calibration: Calibration) -> tuple[Path, str]:
    """The exported file as static int8 QDQ beside it (int8 per-channel weights, uint8
    activations, min-max calibration), and where its calibration images came from."""
    from onnxruntime import quantization as ortq
    from onnxruntime.quantization.shape_inference import quant_pre_process

    images, source = calibration.images(tuple(example.shape[-2:]))
    prepared = onnx.with_name("model.pre.onnx")  # shapes inferred, graph optimised (as advised)
    quant_pre_process(str(onnx), str(prepared))

    class Reader(ortq.CalibrationDataReader):
        batches = iter({INPUT_NAME: image} for image in images[:, None])  # batch-1, as exported

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    out = onnx.with_name("model.int8.onnx")
    types = {"activation_type": ortq.QuantType.QUInt8, "weight_type": ortq.QuantType.QInt8}
    root = logging.getLogger()  # ORT logs per-tensor axis notes for 1-D weights as root warnings
    level, root.level = root.level, logging.ERROR
    try:
        ortq.quantize_static(
            prepared, out, Reader(), ortq.QuantFormat.QDQ, per_channel=True, **types
        )
    finally:
        root.setLevel(level)
    return out, source


def int8_kernels(optimized: Path) -> str:
    """How many convolutions of ONNX Runtime's optimised graph are int8 kernels."""
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(optimized)).graph.node)
    int8 = sum(ops[op] for op in INT8_CONV_OPS)
    total = int8 + ops["Conv"] + ops["FusedConv"]
    return f"onnxruntime ran {int8} of {total} convolutions as int8 kernels (QLinearConv)"


def _onnxruntime(name: str, runs: tuple[str, ...], provider: str, install: str) -> OnnxRuntime:
    device_type = "cpu" if provider == "CPUExecutionProvider" else "cuda"
    return OnnxRuntime(name, runs, runs, device_type, install=install, provider=provider)


_GPU = "pip install 'gcpm-bench[gpu]' (onnxruntime-gpu)"
CPU = _onnxruntime(
    "onnxruntime", ("fp32", "int8"), "CPUExecutionProvider", "pip install onnxruntime"
)
CUDA = _onnxruntime("onnxruntime-cuda", ("fp32",), "CUDAExecutionProvider", _GPU)
TENSORRT = _onnxruntime("onnxruntime-tensorrt", ("fp32", "fp16"), "TensorrtExecutionProvider", _GPU)
