"""bench.measure.runtimes.base: helpers every adapter shares, and the ONNX export (one per model
and shape, quietly)."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import onnx
import torch

from bench.measure.runtimes.base import (
    INPUT_NAME,
    OUTPUT_NAME,
    FinalHeatmaps,
    Runtime,
    as_numpy,
    autocast,
    export_onnx,
    first_line,
    missing_module,
    torch_infer,
)
from tests.tiny_models import TinyPose


def test_first_line_keeps_the_type_and_only_the_first_line():
    assert first_line(RuntimeError("engine lost\nsecond line")) == "RuntimeError: engine lost"
    assert first_line(ValueError()) == "ValueError"


def test_a_missing_module_names_the_package_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    assert missing_module("openvino", "pip install openvino").startswith(
        "openvino is not installed (pip install openvino)"
    )
    assert missing_module("numpy", "pip install numpy") == ""


def test_a_runtime_says_which_precisions_devices_and_library_it_needs(monkeypatch):
    cpu, x = torch.device("cpu"), Runtime("x", runs=("fp32", "fp16"), device_type="cuda")
    assert x.unavailable_reason(cpu, "int8") == "x runs fp32, fp16 only"
    assert x.unavailable_reason(cpu, "fp32") == "x needs a CUDA device (this run's device is cpu)"
    monkeypatch.setitem(sys.modules, "lib", None)
    needs_lib = Runtime("y", module="lib", install="pip install lib")
    assert needs_lib.unavailable_reason(cpu, "bf16").startswith("lib is not installed")


def test_final_heatmaps_is_the_last_stage_and_infer_takes_arrays():
    model = TinyPose().eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        last = model(x)[-1]
        assert torch.equal(FinalHeatmaps(model)(x), last)
        out = torch_infer(lambda t: model(t)[-1], torch.device("cpu"))(x.numpy())
    assert np.array_equal(out, last.numpy())
    assert as_numpy(x).dtype == np.float32 and as_numpy(x).flags.c_contiguous
    assert as_numpy(last.to(torch.bfloat16)).dtype == np.float32


def test_autocast_changes_nothing_in_fp32_and_casts_in_bf16():
    a = torch.randn(4, 4)
    with autocast(torch.device("cpu"), "fp32"):
        assert (a @ a).dtype == torch.float32
    with autocast(torch.device("cpu"), "bf16"):
        assert (a @ a).dtype == torch.bfloat16


class _Traced(TinyPose):
    """A forward with a Python branch on a tensor's value: the tracer warns about it."""

    def forward(self, x):
        if x.shape[-1] > int(torch.tensor(1)):
            return super().forward(x)
        return super().forward(x * 2)


def test_export_is_kept_for_the_same_model_and_shape_and_redone_for_another():
    model = TinyPose().eval()
    first = export_onnx(model, torch.randn(1, 3, 64, 64))
    assert export_onnx(model, torch.randn(1, 3, 64, 64)) is first
    assert export_onnx(model, torch.randn(1, 3, 128, 128)) is not first
    graph = onnx.load(str(export_onnx(model, torch.randn(1, 3, 64, 64)).path)).graph
    assert [i.name for i in graph.input] == [INPUT_NAME]
    assert [o.name for o in graph.output] == [OUTPUT_NAME]


def test_the_exporters_warnings_do_not_reach_the_user():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export_onnx(_Traced().eval(), torch.randn(1, 3, 64, 64))
    assert [w.category.__name__ for w in caught] == []
