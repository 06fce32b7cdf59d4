"""bench.measure.runtimes.base: helpers every adapter shares."""

from __future__ import annotations

import sys

import numpy as np
import torch

from bench.measure.runtimes.base import (
    FinalHeatmaps,
    Runtime,
    as_input,
    as_numpy,
    autocast,
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
    assert as_input(x).dtype == np.float32 and as_input(x).flags.c_contiguous
    assert as_numpy(last.to(torch.bfloat16)).dtype == np.float32


def test_autocast_changes_nothing_in_fp32_and_casts_in_bf16():
    a = torch.randn(4, 4)
    with autocast(torch.device("cpu"), "fp32"):
        assert (a @ a).dtype == torch.float32
    with autocast(torch.device("cpu"), "bf16"):
        assert (a @ a).dtype == torch.bfloat16
