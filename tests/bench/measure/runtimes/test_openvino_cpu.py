"""bench.measure.runtimes.openvino_cpu: OpenVINO fp32, native low precision, NNCF int8."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.measure.runtimes.calibration import Calibration
from bench.measure.runtimes.openvino_cpu import OPENVINO, native_precision
from bench.measure.runtimes.scoring import validate
from tests.tiny_models import TinyPose

ROOT = Path(__file__).resolve().parents[4]
CPU = torch.device("cpu")


def _model_and_input():
    torch.manual_seed(0)
    model, x = TinyPose().eval(), torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        return model, x, model(x)[-1].numpy()


def _run(model, x, precision, calibration=None):
    with torch.inference_mode():
        prepared = OPENVINO.prepare(model, x, precision, 1, calibration)
        return prepared, prepared.heatmaps(prepared.run())


def test_fp32_matches_eager_fp32():
    model, x, reference = _model_and_input()
    prepared, out = _run(model, x, "fp32")
    v = validate(reference, out, "fp32")
    assert v.passed and v.max_abs_diff <= 1e-4
    assert np.allclose(prepared.infer(x.numpy()), out)


def test_native_low_precision_is_close_but_not_identical():
    native = native_precision()
    if native == "fp32":
        pytest.skip("this CPU has no native low precision in OpenVINO")
    model, x, reference = _model_and_input()
    v = validate(reference, _run(model, x, native)[1], native)
    assert v.passed and 0 < v.max_abs_diff  # it really ran in low precision


def test_a_low_precision_this_cpu_lacks_is_a_reason_row():
    missing = {"fp32": "bf16", "bf16": "fp16", "fp16": "bf16"}[native_precision()]
    assert "is not native on this CPU" in OPENVINO.unavailable_reason(CPU, missing)
    assert "runs on the CPU" not in OPENVINO.unavailable_reason(CPU, "int8")
    assert "openvino runs on the CPU" in OPENVINO.unavailable_reason(torch.device("cuda"), "fp32")


def test_int8_reads_back_the_convolutions_that_ran_in_int8():
    model, x, reference = _model_and_input()
    prepared, out = _run(model, x, "int8", Calibration(count=8))
    assert "openvino ran 5 of 5 convolutions in int8" in prepared.notes
    assert "NNCF post-training quantization, calibrated on 8 generated lip images" in prepared.notes
    assert 0 < np.abs(out - reference).max()


def test_a_missing_openvino_is_the_reason_of_every_row(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    assert OPENVINO.precisions(CPU) == ("fp32", "bf16", "int8")
    assert OPENVINO.unavailable_reason(CPU, "int8").startswith("openvino is not installed")


@pytest.mark.slow
def test_an_int8_conversion_prints_nothing():
    code = (
        "import torch; from tests.tiny_models import TinyPose;"
        "from bench.measure.runtimes.openvino_cpu import OPENVINO;"
        "from bench.measure.runtimes.calibration import Calibration;"
        "OPENVINO.prepare(TinyPose().eval(), torch.randn(1, 3, 64, 64), 'int8', 1,"
        " Calibration(count=4))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""
