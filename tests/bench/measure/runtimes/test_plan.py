"""bench.measure.runtimes.plan: presets, the (runtime, precision) pairs and the jobs."""

from __future__ import annotations

import torch

from bench.measure.runtimes.plan import FULL, QUICK, Job, peak_keys, plan, scored_jobs, selected

CPU = torch.device("cpu")


def test_default_quick_run_leaves_compile_and_int8_out_with_a_reason_but_naming_runs_them():
    pairs, skipped = selected((), CPU, QUICK)
    for left_out in (("compile", "fp32"), ("openvino", "int8"), ("onnxruntime", "int8")):
        assert left_out in skipped and left_out not in pairs
    assert "--runtimes onnxruntime:int8" in skipped[("onnxruntime", "int8")]
    assert ("eager", "fp32") in pairs and ("onnxruntime", "fp32") in pairs
    pairs, skipped = selected(("compile", "openvino:int8"), CPU, QUICK)
    assert pairs == [("compile", "fp32"), ("openvino", "int8")] and not skipped


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
