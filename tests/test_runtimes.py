"""bench.measure.runtimes: adapters, validation against eager fp32, reason rows (the table, its
views and notes: test_runtimes_report.py).

Tiny models only; torch.compile is exercised with its "eager" backend (graph capture and
recompile guards without inductor's C++ build, which takes minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

import numpy as np
import onnx
import onnxruntime
import pandas as pd
import pytest
import torch

from bench.measure.latency import TimingConfig
from bench.measure.runtimes import base, get_runtime, peak
from bench.measure.runtimes.compiled import Compiled
from bench.measure.runtimes.onnx_export import INPUT_NAME, OUTPUT_NAME, export_onnx
from bench.measure.runtimes.timing import (
    ALL_MODELS,
    QUICK,
    RuntimePreset,
    for_tables,
    measure_runtimes,
    runtime_spec,
    selected,
)
from bench.measure.runtimes.validate import keypoint_agreement, validate
from bench.report.runtimes.table import efficiency
from tests.tiny_models import TinyPose, register_tiny

CPU = torch.device("cpu")
FAST = RuntimePreset(
    TimingConfig(warmup=0, iters=2),
    rounds=2,
    peak=TimingConfig(warmup=0, iters=1),
    description="test preset",
)


def _model_and_input() -> tuple[torch.nn.Module, torch.Tensor, np.ndarray]:
    torch.manual_seed(0)
    model = TinyPose().eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.inference_mode():
        reference = model(x)[-1].numpy()
    return model, x, reference


def _prepare_and_run(runtime: str, precision: str, model, x) -> np.ndarray:
    reason = get_runtime(runtime).unavailable_reason(CPU, precision)
    if reason:
        pytest.skip(reason)
    with torch.inference_mode():
        prepared = get_runtime(runtime).prepare(model, x, precision, 1)
        return prepared.heatmaps(prepared.run())


@pytest.mark.parametrize(
    ("runtime", "precision", "max_diff"),
    [("eager", "fp32", 0.0), ("onnxruntime", "fp32", 1e-4), ("openvino", "fp32", 1e-4)],
)
def test_cpu_runtime_matches_eager_fp32(runtime, precision, max_diff):
    model, x, reference = _model_and_input()
    out = _prepare_and_run(runtime, precision, model, x)
    v = validate(reference, out, precision)
    assert out.shape == reference.shape == (1, 17, 8, 8)
    assert v.passed and v.flag == ""
    assert v.max_abs_diff <= max_diff and v.keypoint_agreement == 1.0


def test_openvino_native_low_precision_is_close_but_not_identical():
    from bench.measure.runtimes.openvino_cpu import native_precision

    native = native_precision()
    if native == "fp32":
        pytest.skip("this CPU has no native low precision in OpenVINO")
    model, x, reference = _model_and_input()
    v = validate(reference, _prepare_and_run("openvino", native, model, x), native)
    assert v.passed
    assert 0 < v.max_abs_diff  # it really ran in low precision, not silently fp32


def test_compile_adapter_runs_and_a_recompile_while_timing_is_an_error():
    model, x, reference = _model_and_input()
    with torch.inference_mode():
        prepared = Compiled(backend="eager").prepare(model, x, "fp32", 1)
        out = prepared.heatmaps(prepared.run())
        assert validate(reference, out, "fp32").passed and prepared.prepare_s > 0
        model.train()  # changes what the compiled graph was guarded on: forces a recompile
        with pytest.raises(Exception, match="(?i)recompil"):
            prepared.run()


def test_gpu_only_runtimes_give_a_reason_on_the_cpu():
    for name in ("cuda-graphs", "tensorrt", "onnxruntime-cuda", "onnxruntime-tensorrt"):
        assert "CUDA" in get_runtime(name).unavailable_reason(CPU, "fp32"), name


@pytest.mark.parametrize("module", ["openvino", "onnxruntime"])
def test_missing_runtime_gives_its_reason_row(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    reason = get_runtime(module).unavailable_reason(CPU, "fp32")
    assert reason.startswith(f"{module} is not installed (pip install")
    name = register_tiny("tiny-runtimes")
    m = measure_runtimes([name], CPU, [f"{module}:fp32", "eager"], FAST, realtime_model="")
    rows = m.frame.set_index("runtime")
    assert rows.loc[module, "model"] == ALL_MODELS and rows.loc[module, "reason"] == reason
    assert math.isnan(rows.loc[module, "median_ms"])
    assert rows.loc["eager", "median_ms"] > 0 and rows.loc["eager", "validation"] == "ok"


@dataclass(frozen=True)
class FakeRuntime:
    """A CPU fp32 runtime adapter of the tests; each subclass gives its own ``prepare``."""

    name: str = "fake"
    gpu_only: bool = False

    def precisions(self, device):
        return ("fp32",)

    def unavailable_reason(self, device, precision):
        return ""


@pytest.fixture
def measure_with(monkeypatch):
    """``measure_with(runtime, *specs)``: ``runtime`` registered beside the real ones, the tiny
    model measured in it and in ``specs`` (FAST preset, no cpu_realtime rows)."""

    def measure(runtime: FakeRuntime, *specs: str) -> pd.DataFrame:
        monkeypatch.setitem(base._RUNTIMES, runtime.name, runtime)
        name = register_tiny("tiny-runtimes")
        return measure_runtimes([name], CPU, [runtime.name, *specs], FAST, realtime_model="").frame

    return measure


@dataclass(frozen=True)
class BrokenOnnx(FakeRuntime):
    """ONNX Runtime on an export whose first convolution weight was negated: a bad conversion."""

    name: str = "broken-onnx"

    def prepare(self, model, example, precision, threads):
        graph = onnx.load(str(export_onnx(model, example).path))
        first = graph.graph.initializer[0]
        array = onnx.numpy_helper.to_array(first)
        first.CopyFrom(onnx.numpy_helper.from_array(-array, first.name))
        session = onnxruntime.InferenceSession(
            graph.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        x = example.numpy()
        return base.Prepared(
            lambda: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0], base.as_numpy, 0.0
        )


def test_broken_conversion_is_flagged_and_kept(measure_with):
    rows = measure_with(BrokenOnnx(), "onnxruntime").set_index("runtime")
    assert rows.loc["broken-onnx", "validation"].startswith("FAILED")
    assert rows.loc["broken-onnx", "median_ms"] > 0  # still timed and shown, never dropped
    assert rows.loc["onnxruntime", "validation"] == "ok"
    assert rows.loc["broken-onnx", "rel_diff"] > 100 * rows.loc["onnxruntime", "rel_diff"]


@dataclass(frozen=True)
class FailsLater(FakeRuntime):
    name: str = "fails-later"

    def prepare(self, model, example, precision, threads):
        calls = []

        def run():
            calls.append(1)
            if len(calls) > 1:
                raise RuntimeError("engine lost\nsecond line")
            return model(example)[-1]

        return base.Prepared(run, base.as_numpy, 0.0)


def test_failures_become_reasons_not_crashes(measure_with):
    row = measure_with(FailsLater()).iloc[0]
    assert row.reason == "failed while timing: RuntimeError: engine lost"
    assert math.isnan(row.median_ms) and row.samples == 0


def test_keypoint_agreement_counts_keypoints_within_one_cell():
    maps = np.zeros((1, 4, 16, 16))
    for k in range(4):
        maps[0, k, 4 + k, 4] = 1.0
    moved = maps.copy()
    moved[0, 0] = 0.0
    moved[0, 0, 4, 5] = 1.0  # one cell away: agrees
    moved[0, 1] = 0.0
    moved[0, 1, 5, 9] = 1.0  # five cells away: does not
    assert keypoint_agreement(maps, moved) == 0.75
    v = validate(maps, moved, "fp32")
    assert not v.passed and "keypoint agreement 0.75" in v.flag and v.max_abs_diff == 1.0


def test_a_moved_arg_max_on_a_near_flat_map_is_a_near_tie_not_a_failure():
    maps = np.full((1, 2, 8, 8), 0.5)
    maps[0, :, 1, 1] = 1.0  # keypoint 0: sharp peak; keypoint 1: two near-equal cells
    maps[0, 1, 6, 6] = 0.99
    converted = maps.copy()
    converted[0, 1, 6, 6] = 1.01  # low-precision rounding picks the other cell
    v = validate(maps, converted, "bf16")
    assert (v.keypoint_agreement, v.near_ties, v.passed) == (0.5, 0.5, True)
    converted[0, 0, 1, 1], converted[0, 0, 6, 1] = 0.5, 1.0  # the sharp peak moved: no tie
    v = validate(maps, converted, "bf16")
    assert not v.passed and "keypoint agreement 0.00 + near-ties 0.50 < 0.9" in v.flag


def test_efficiency_counts_two_flops_per_multiply_add():
    rate, share = efficiency(gmacs=10.0, median_ms=100.0, peak_gflops_per_s=400.0)
    assert rate == pytest.approx(200.0) and share == pytest.approx(0.5)


def test_default_quick_run_leaves_compile_out_with_a_reason_but_naming_it_runs_it():
    pairs, skipped = selected((), CPU, QUICK)
    assert ("compile", "fp32") in skipped and ("compile", "fp32") not in pairs
    assert ("eager", "fp32") in pairs and ("onnxruntime", "fp32") in pairs
    pairs, skipped = selected(("compile",), CPU, QUICK)
    assert pairs == [("compile", "fp32")] and not skipped
    assert for_tables(("none",), "auto", ["x"], CPU) is None


def test_runtime_specs_are_checked_with_the_known_names():
    assert runtime_spec("openvino:bf16") == "openvino:bf16"
    with pytest.raises(argparse.ArgumentTypeError, match="known runtimes: .*onnxruntime"):
        runtime_spec("onnx-runtime")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown precision 'int8'"):
        runtime_spec("openvino:int8")


def test_the_matmul_peak_is_the_fastest_sample_not_the_median(monkeypatch):
    # One disturbed sample must not lower a peak: 2 * 64^3 FLOPs in the fastest 0.5 ms.
    monkeypatch.setattr(peak, "time_callable", lambda fn, device, config: [2.0, 0.5, 9.0])
    rate = peak.matmul_peak(torch.device("cpu"), "fp32", 1, size=64)
    assert rate == pytest.approx(2 * 64**3 / 0.5e-3 / 1e9)
