"""``openvino``: OpenVINO on the CPU, fp32 and the CPU's native low precision as separate rows.

OpenVINO's default inference precision on a CPU with AMX / avx512_bf16 is bf16 (its
``INFERENCE_PRECISION_HINT``), so fp32 is asked for explicitly; the low-precision row is
whatever OpenVINO picks by default on this CPU (bf16 on AMX). After compiling, the precision the
compiled model reports is checked, so a row never claims a precision it did not run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from bench.measure.runtimes.base import Prepared, as_numpy, missing_module, register_runtime
from bench.measure.runtimes.onnx_export import export_onnx

_OV_TYPES = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
_INSTALL = "pip install openvino"


def native_precision() -> str:
    """The CPU's default OpenVINO inference precision as ours: fp32, bf16 or fp16."""
    import openvino

    hint = openvino.Core().get_property("CPU", "INFERENCE_PRECISION_HINT")
    by_type = {ov: ours for ours, ov in _OV_TYPES.items()}
    return by_type.get(hint.get_type_name(), "fp32")


@dataclass(frozen=True)
class OpenVino:
    name: str = "openvino"
    gpu_only: bool = False

    def precisions(self, device: torch.device) -> tuple[str, ...]:
        if missing_module("openvino", _INSTALL):
            return ("fp32", "bf16")  # both rows say why they are missing
        native = native_precision()
        return ("fp32", "bf16" if native == "fp32" else native)

    def unavailable_reason(self, device: torch.device, precision: str) -> str:
        if device.type != "cpu":
            return f"this adapter runs OpenVINO on the CPU (this run's device is {device})"
        missing = missing_module("openvino", _INSTALL)
        if missing:
            return missing
        native = native_precision()
        if precision not in ("fp32", native):
            return (
                f"{precision} is not native on this CPU (OpenVINO's default inference "
                f"precision here is {native})"
            )
        return ""

    def prepare(
        self, model: nn.Module, example: torch.Tensor, precision: str, threads: int
    ) -> Prepared:
        import openvino

        exported = export_onnx(model, example)
        started = time.perf_counter()
        core = openvino.Core()
        compiled = core.compile_model(
            core.read_model(str(exported.path)),
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": _OV_TYPES[precision],
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": "LATENCY",
            },
        )
        ran = compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()
        if ran != _OV_TYPES[precision]:
            raise ValueError(f"OpenVINO compiled {ran} when {_OV_TYPES[precision]} was asked for")
        request = compiled.create_infer_request()
        x = np.ascontiguousarray(example.detach().cpu().numpy())
        request.set_input_tensor(openvino.Tensor(x, shared_memory=True))

        def run():
            request.infer()  # bound input; the output stays in the request's tensor
            return request

        prepare_s = exported.export_s + time.perf_counter() - started
        return Prepared(run, lambda r: as_numpy(r.get_output_tensor(0).data), prepare_s)


register_runtime(OpenVino())
