"""Fabricated runtimes measurements the report tests share: these pin the arithmetic and the
rendering, not a runtime."""

from __future__ import annotations

import math

import pandas as pd

from bench.measure.runtimes.timing import ALL_MODELS, QUICK, RuntimeMeasurements

ENV = {"device": "cpu", "cpu_model": "Test CPU", "torch": "2.x"}


def row(model: str, runtime: str, precision: str, threads: int, ms: float, **extra) -> dict:
    row = {
        "model": model,
        "runtime": runtime,
        "precision": precision,
        "threads": threads,
        "device": "cpu",
        "input": "64x64",
        "median_ms": ms,
        "p10_ms": ms,
        "p90_ms": ms,
        "cv": 0.0,
        "samples": 3,
        "prepare_s": 0.0,
        "max_abs_diff": 0.0,
        "rel_diff": 0.0,
        "keypoint_agreement": 1.0,
        "near_ties": 0.0,
        "validation": "ok",
        "reason": "",
    }
    return {**row, **extra}


def fabricated(*more: dict) -> RuntimeMeasurements:
    rows = [
        row("ref", "eager", "fp32", 2, 100.0),
        row("net", "eager", "fp32", 2, 50.0),
        row("ref", "openvino", "bf16", 2, 20.0),
        row("net", "openvino", "bf16", 2, 16.0),
        row("net", "openvino", "bf16", 1, 32.0),
        *more,
    ]
    peaks = pd.DataFrame(
        {
            "device": "cpu",
            "precision": ["fp32", "bf16", "bf16"],
            "threads": [2, 2, 1],
            "peak_gflops_per_s": [100.0, 800.0, 400.0],
        }
    )
    return RuntimeMeasurements(pd.DataFrame(rows), peaks, QUICK, realtime_model="net")


COUNTS = pd.DataFrame({"model": ["ref", "net"], "params_m": [1.0, 1.0], "gmacs": [2.0, 1.0]})
NAN = math.nan
# One of each mark: a noisy row, a long valid row, a failed conversion, a row that could not be
# timed, and a runtime not run at all (its reason row).
MARKED = (
    row("net", "onnxruntime", "fp32", 2, 40.0, cv=0.3, p10_ms=30.0, p90_ms=55.0),
    row("ref", "onnxruntime", "fp32", 2, 80.0, samples=100, max_abs_diff=6.7e-8),
    row("net", "broken", "fp32", 2, 45.0, validation="FAILED: keypoint agreement 0.25 < 0.9"),
    row("ref", "broken", "fp32", 2, NAN, samples=0, validation="", reason="prepare failed: X"),
    row(ALL_MODELS, "tensorrt", "fp16", 2, NAN, samples=0, validation="", reason="needs CUDA"),
)
