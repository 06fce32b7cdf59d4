"""bench.measure.runtimes.timing: presets, jobs, prepare, check, time in rounds; the tables'
entry and its progress total. Tiny models and fake runtimes only."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import onnx
import onnxruntime
import pandas as pd
import pytest
import torch

from bench.measure import runtimes
from bench.measure.latency import TimingConfig
from bench.measure.runtimes import base, get_runtime, timing
from bench.measure.runtimes.base import INPUT_NAME, OUTPUT_NAME, export_onnx
from bench.measure.runtimes.timing import (
    ALL_MODELS,
    FULL,
    QUICK,
    Job,
    RuntimePreset,
    count_steps,
    for_tables,
    measure_runtimes,
    peak_keys,
    plan,
    scored_jobs,
    selected,
    timed_models,
)
from tests.tiny_models import TinyPose, register_test_model, register_tiny

CPU = torch.device("cpu")
FAST = RuntimePreset(
    TimingConfig(warmup=0, iters=2),
    rounds=2,
    peak=TimingConfig(warmup=0, iters=1),
    description="test preset",
)


@dataclass(frozen=True)
class FakeRuntime:
    """A CPU fp32 runtime adapter of the tests: eager PyTorch under another name."""

    name: str = "fake"
    gpu_only: bool = False

    def precisions(self, device):
        return ("fp32",)

    def unavailable_reason(self, device, precision):
        return ""

    def prepare(self, model, example, precision, threads, calibration=None):
        return get_runtime("eager").prepare(model, example, precision, threads)


@dataclass(frozen=True)
class CpuOnly(FakeRuntime):
    name: str = "cpu-only"

    def unavailable_reason(self, device, precision):
        return "" if device.type == "cpu" else "runs on the CPU"


@dataclass(frozen=True)
class FailsToPrepare(FakeRuntime):
    name: str = "fails-to-prepare"

    def prepare(self, model, example, precision, threads, calibration=None):
        raise RuntimeError("no converter")


@dataclass(frozen=True)
class FailsLater(FakeRuntime):
    name: str = "fails-later"

    def prepare(self, model, example, precision, threads, calibration=None):
        calls = []

        def run():
            calls.append(1)
            if len(calls) > 1:
                raise RuntimeError("engine lost\nsecond line")
            return model(example)[-1]

        return base.Prepared(run, base.as_numpy, base.as_numpy, 0.0)


@dataclass(frozen=True)
class BrokenOnnx(FakeRuntime):
    """ONNX Runtime on an export whose first convolution weight was negated: a bad conversion."""

    name: str = "broken-onnx"

    def prepare(self, model, example, precision, threads, calibration=None):
        graph = onnx.load(str(export_onnx(model, example).path))
        first = graph.graph.initializer[0]
        array = onnx.numpy_helper.to_array(first)
        first.CopyFrom(onnx.numpy_helper.from_array(-array, first.name))
        session = onnxruntime.InferenceSession(
            graph.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        x = example.numpy()
        return base.Prepared(
            lambda: session.run([OUTPUT_NAME], {INPUT_NAME: x})[0],
            base.as_numpy,
            lambda images: session.run([OUTPUT_NAME], {INPUT_NAME: images})[0],
            0.0,
        )


@pytest.fixture
def fakes(monkeypatch):
    """Register fake runtimes beside the real ones for one test."""

    def register(*adapters: FakeRuntime) -> None:
        for adapter in adapters:
            monkeypatch.setitem(runtimes.RUNTIMES, adapter.name, adapter)

    return register


def _measure(*specs: str, names=None, realtime_model: str = "") -> pd.DataFrame:
    names = names or [register_tiny("tiny-runtimes")]
    return measure_runtimes(names, CPU, list(specs), FAST, realtime_model=realtime_model).frame


def test_broken_conversion_is_flagged_and_kept(fakes):
    fakes(BrokenOnnx())
    rows = _measure("broken-onnx", "onnxruntime:fp32").set_index("runtime")
    assert rows.loc["broken-onnx", "validation"].startswith("FAILED")
    assert rows.loc["broken-onnx", "median_ms"] > 0  # still timed and shown, never dropped
    assert rows.loc["onnxruntime", "validation"] == "ok"
    assert rows.loc["broken-onnx", "rel_diff"] > 100 * rows.loc["onnxruntime", "rel_diff"]


def test_failures_become_reasons_not_crashes(fakes):
    fakes(FailsLater(), FailsToPrepare())
    rows = _measure("fails-later", "fails-to-prepare").set_index("runtime")
    later = rows.loc["fails-later"]
    assert later.reason == "failed while timing: RuntimeError: engine lost"
    assert math.isnan(later.median_ms) and later.samples == 0
    assert rows.loc["fails-to-prepare", "reason"] == "prepare failed: RuntimeError: no converter"


@pytest.mark.parametrize("module", ["openvino", "onnxruntime"])
def test_missing_runtime_gives_its_reason_row(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # import now raises ImportError
    rows = _measure(f"{module}:fp32", "eager").set_index("runtime")
    assert rows.loc[module, "model"] == ALL_MODELS
    assert rows.loc[module, "reason"].startswith(f"{module} is not installed (pip install")
    assert math.isnan(rows.loc[module, "median_ms"])
    assert rows.loc["eager", "median_ms"] > 0 and rows.loc["eager", "validation"] == "ok"


def test_none_measures_nothing_and_counts_no_step():
    assert for_tables(("none",), FAST, ["x"], CPU) is None
    assert count_steps(("none",), FAST, ["x"], CPU) == 0


@pytest.mark.parametrize(
    "specs",
    [
        ("fake",),
        ("fake", "fails-to-prepare", "fails-later"),
        ("fake", "cpu-only", "tensorrt", "none"),
    ],
)
def test_count_steps_is_exactly_the_number_of_on_step_calls(fakes, specs):
    fakes(FakeRuntime(), CpuOnly(), FailsToPrepare(), FailsLater())
    names = [register_tiny("tiny-a"), register_tiny("tiny-rt")]
    steps = []
    m = for_tables(specs, FAST, names, CPU, on_step=lambda *label: steps.append(label))
    assert m is not None and len(steps) == count_steps(specs, FAST, names, CPU)
    assert len(steps) > len(m.frame)  # preparing, peaks and every round counted


def test_the_realtime_model_adds_its_one_thread_rows_to_the_count(fakes, monkeypatch):
    fakes(FakeRuntime())
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)
    names = [register_tiny("tiny-rt")]
    steps = []
    m = measure_runtimes(names, CPU, ["fake"], FAST, lambda *s: steps.append(s), "tiny-rt")
    assert sorted(m.frame.threads) == [1, 2]
    count = count_steps(["fake"], FAST, names, CPU, realtime_model="tiny-rt")
    assert count == len(steps) == 2 * (1 + FAST.rounds) + 2


def test_default_quick_run_leaves_compile_and_int8_out_with_a_reason_but_naming_runs_them():
    pairs, skipped = selected((), CPU, QUICK)
    for left_out in (("compile", "fp32"), ("openvino", "int8"), ("onnxruntime", "int8")):
        assert left_out in skipped and left_out not in pairs
    assert "--runtimes onnxruntime:int8" in skipped[("onnxruntime", "int8")]
    assert ("eager", "fp32") in pairs and ("onnxruntime", "fp32") in pairs
    pairs, skipped = selected(("compile", "openvino:int8"), CPU, QUICK)
    assert pairs == [("compile", "fp32"), ("openvino", "int8")] and not skipped


def test_a_default_quick_run_times_the_real_time_models_the_users_and_the_scored_ones():
    own = ["hourglass-8stack", "cpm-original", "fpd-4stack", "gcpm-ushaped-2stage", "gcpm-ushaped"]
    names = [*own, register_tiny("tiny-users-model")]  # registered outside architectures
    kept, left_out = timed_models(names, (), QUICK, scored=["gcpm-ushaped"])
    assert kept == ["fpd-4stack", "gcpm-ushaped-2stage", "gcpm-ushaped", "tiny-users-model"]
    assert left_out == ["hourglass-8stack", "cpm-original"]
    assert timed_models(names, ("eager",), QUICK) == (names, [])  # runtimes named: every model
    assert timed_models(names, (), FULL) == (names, [])


def test_models_a_default_run_leaves_out_are_recorded_and_not_counted(monkeypatch):
    monkeypatch.setattr(runtimes, "RUNTIMES", {"fake": FakeRuntime()})
    names = [register_tiny("tiny-kept"), register_tiny("tiny-left-out")]
    monkeypatch.setattr(timing, "list_models", lambda module=None: names)  # both "built in"
    preset = RuntimePreset(FAST.timing, FAST.rounds, FAST.peak, models=("tiny-kept",))
    steps = []
    m = measure_runtimes(names, CPU, [], preset, lambda *s: steps.append(s), realtime_model="")
    assert set(m.frame.model) == {"tiny-kept"} and m.left_out_models == ("tiny-left-out",)
    assert len(steps) == count_steps([], preset, names, CPU, realtime_model="")


def test_the_full_preset_runs_int8():
    pairs, skipped = selected((), CPU, FULL)
    assert ("openvino", "int8") in pairs and ("onnxruntime", "int8") in pairs and not skipped


def test_the_realtime_model_also_runs_at_one_thread_on_the_cpu():
    jobs, unavailable = plan(["a", "rt"], CPU, [("eager", "fp32"), ("tensorrt", "fp32")], 4, "rt")
    assert [(j.model, j.threads) for j in jobs] == [("a", 4), ("rt", 4), ("rt", 1)]
    assert "CUDA" in unavailable[("tensorrt", "fp32")]


def test_one_peak_per_key_and_one_score_per_model_runtime_precision_device():
    jobs = [
        Job("a", "eager", "fp32", 4, CPU),
        Job("a", "eager", "fp32", 1, CPU),
        Job("b", "openvino", "int8", 4, CPU),
    ]
    assert peak_keys(jobs) == [(CPU, "fp32", 4), (CPU, "fp32", 1), (CPU, "int8", 4)]
    assert scored_jobs(jobs, ["a"]) == [jobs[0]]


def test_each_model_calibrates_on_its_own_datasets_root(fakes, monkeypatch, tmp_path):
    # --data-root may hold one dataset only: a model of another dataset (the reference)
    # calibrates on generated images of its own instead of failing to read the root
    roots = {}

    @dataclass(frozen=True)
    class Calibrated(FakeRuntime):
        name: str = "calibrated"

        def prepare(self, model, example, precision, threads, calibration=None):
            roots[model.info.name] = calibration.root
            return super().prepare(model, example, precision, threads)

    fakes(Calibrated())
    monkeypatch.setattr(timing, "score_runtime_rows", lambda frame, *args, **kwargs: frame)
    trained = register_tiny("tiny-trained")
    other = register_test_model("tiny-other-dataset", TinyPose, dataset="mpii")
    checkpoints, data_roots = {trained: tmp_path / "best.pt"}, {"lip": tmp_path}
    measure_runtimes([other, trained], CPU, ["calibrated"], FAST, None, "", checkpoints, data_roots)
    assert roots == {trained: tmp_path, other: None}
