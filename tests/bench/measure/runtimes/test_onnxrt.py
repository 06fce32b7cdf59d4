"""bench.measure.runtimes.onnxrt: ONNX Runtime fp32 and static int8 (QDQ)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.measure.runtimes.calibration import Calibration
from bench.measure.runtimes.onnxrt import CPU, CUDA, TENSORRT
from bench.measure.runtimes.scoring import validate
from tests.tiny_models import TinyPose

ROOT = Path(__file__).resolve().parents[4]
DEVICE = torch.device("cpu")


def _model_and_input():
    torch.manual_seed(0)
    model, x = TinyPose().eval(), torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        return model, x, model(x)[-1].numpy()


def test_fp32_matches_eager_and_infers_other_inputs():
    model, x, reference = _model_and_input()
    with torch.inference_mode():
        prepared = CPU.prepare(model, x, "fp32", 1)
        out = prepared.heatmaps(prepared.run())
        y = torch.randn(1, 3, 64, 64)
        assert np.allclose(prepared.infer(y.numpy()), model(y)[-1].numpy(), atol=1e-4)
    v = validate(reference, out, "fp32")
    assert v.passed and v.max_abs_diff <= 1e-4 and prepared.notes == ""


def test_int8_runs_int8_convolutions_and_says_so(tmp_path):
    model, x, reference = _model_and_input()
    with torch.inference_mode():
        prepared = CPU.prepare(model, x, "int8", 1, Calibration(count=8))
        out = prepared.heatmaps(prepared.run())
    assert "onnxruntime ran 5 of 5 convolutions as int8 kernels" in prepared.notes
    assert "calibrated on 8 generated lip images (no data root)" in prepared.notes
    assert 0 < np.abs(out - reference).max()  # quantized, not the float graph


def test_gpu_providers_need_cuda_and_int8_is_cpu_only():
    assert "needs a CUDA device" in CUDA.unavailable_reason(DEVICE, "fp32")
    assert "needs a CUDA device" in TENSORRT.unavailable_reason(DEVICE, "fp16")
    assert CUDA.unavailable_reason(DEVICE, "int8") == "onnxruntime-cuda runs fp32 only"
    assert CPU.unavailable_reason(DEVICE, "int8") == ""


def test_a_missing_onnxruntime_is_the_reason(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert CPU.unavailable_reason(DEVICE, "fp32").startswith(
        "onnxruntime is not installed (pip install onnxruntime)"
    )


@pytest.mark.slow
def test_an_int8_conversion_prints_nothing():
    code = (
        "import torch; from tests.tiny_models import TinyPose;"
        "from bench.measure.runtimes.onnxrt import CPU;"
        "from bench.measure.runtimes.calibration import Calibration;"
        "CPU.prepare(TinyPose().eval(), torch.randn(1, 3, 64, 64), 'int8', 1, Calibration(count=4))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""
