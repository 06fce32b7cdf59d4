"""``openvino`` on the CPU (docs/runtimes.md): fp32, the native low precision, NNCF int8."""

from __future__ import annotations

import contextlib
import io
import logging
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from bench.measure.runtimes.base import (
    Prepared,
    Runtime,
    as_numpy,
    export_onnx,
    missing_module,
    quiet_cpp_extension,
)
from bench.measure.runtimes.calibration import Calibration

_OV_TYPES = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
_INT8_TYPES = ("i8", "u8")


def native_precision() -> str:
    """The CPU's default OpenVINO inference precision as ours: fp32, bf16 or fp16."""
    import openvino

    hint = openvino.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    return {ov: ours for ours, ov in _OV_TYPES.items()}.get(hint.get_type_name(), "fp32")


@dataclass(frozen=True)
class OpenVino(Runtime):
    device_type: str = "cpu"
    module: str = "openvino"
    install: str = "pip install openvino"

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        if missing_module(self.module, self.install):
            return ("fp32", "bf16", "int8")  # every row says why it is missing
        native = native_precision()
        return ("fp32", "bf16" if native == "fp32" else native, "int8")

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        reason = super().unavailable_reason(device, precision)
        if reason or precision == "fp32":
            return reason
        if precision == "int8":
            return missing_module("nncf", "pip install nncf")
        if precision != native_precision():
            return (
                f"{precision} is not native on this CPU (OpenVINO's default inference "
                f"precision here is {native_precision()})"
            )
        return ""

    def prepare(self, model, example, precision, threads, calibration=None) -> Prepared:
        import openvino

        exported = export_onnx(model, example)
        started = time.perf_counter()
        core = openvino.Core()
        network, notes = core.read_model(str(exported.path)), ""
        if precision == "int8":
            network, notes = quantize(network, example, calibration or Calibration())
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        if precision != "int8":  # int8 keeps the float parts in OpenVINO's default precision
            config["INFERENCE_PRECISION_HINT"] = _OV_TYPES[precision]
        compiled = core.compile_model(network, "CPU", config)
        if precision == "int8":
            notes = f"{int8_kernels(compiled)}; {notes}"
        elif (ran := compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()) != (
            _OV_TYPES[precision]
        ):
            raise ValueError(f"OpenVINO compiled {ran} when {_OV_TYPES[precision]} was asked")
        request = compiled.create_infer_request()
        request.set_input_tensor(openvino.Tensor(as_numpy(example), shared_memory=True))

        def run():
            request.infer()  # bound input; the output stays in the request's tensor
            return request

        def infer(images: np.ndarray) -> np.ndarray:
            return as_numpy(compiled(as_numpy(images))[0])

        prepare_s = exported.export_s + time.perf_counter() - started
        return Prepared(
            run, lambda r: as_numpy(r.get_output_tensor(0).data), infer, prepare_s, notes
        )


def quantize(network, example: torch.Tensor, calibration: Calibration):
    """NNCF's int8 model of ``network`` (min-max ranges, fast bias correction), and the notes."""
    quiet_cpp_extension()
    import nncf

    nncf.set_log_level(logging.ERROR)
    images, source = calibration.images(tuple(example.shape[-2:]))
    data = nncf.Dataset(list(images[:, None]))  # batch-1 inputs, as the model was exported
    with contextlib.redirect_stdout(io.StringIO()):  # NNCF draws progress bars on stdout
        quantized = nncf.quantize(network, data, subset_size=len(images))
    return quantized, f"NNCF post-training quantization, {source}"


def int8_kernels(compiled) -> str:
    """How many convolutions of the compiled (runtime) model run in int8, from its runtime info."""
    infos = [op.get_rt_info() for op in compiled.get_runtime_model().get_ops()]
    precisions = Counter(
        info["runtimePrecision"].astype(str)
        for info in infos
        if info["layerType"].astype(str) == "Convolution"
    )
    int8 = sum(precisions[t] for t in _INT8_TYPES)
    others = ", ".join(f"{n} {t}" for t, n in precisions.items() if t not in _INT8_TYPES)
    return (
        f"openvino ran {int8} of {sum(precisions.values())} convolutions in int8 "
        f"(runtime precision{'; others: ' + others if others else ''})"
    )


OPENVINO = OpenVino("openvino", (*_OV_TYPES, "int8"))
