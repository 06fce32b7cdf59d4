"""bench.measure.runtimes.scoring: each runtime row scored on the validation split, the
one-sided pass rule, and a broken int8 conversion kept as a failed row."""

from __future__ import annotations

import math

import numpy as np
import onnx
import pandas as pd
import pytest
import torch

from bench.accuracy.evaluation import evaluate_model
from bench.accuracy.training.data import eval_dataset
from bench.accuracy.training.model import load_model
from bench.measure.latency import TimingConfig
from bench.measure.runtimes import onnxrt, scoring
from bench.measure.runtimes.scoring import PCKH_TOLERANCE, score_runtime_rows, verdict
from bench.measure.runtimes.timing import RuntimePreset, count_steps, measure_runtimes
from tests.helpers import generated_root
from tests.tiny_models import TinyPose, register_tiny

CPU = torch.device("cpu")
ONE_ROUND = RuntimePreset(TimingConfig(warmup=0, iters=1), rounds=1, peak=TimingConfig(0, 1))


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory):
    return generated_root(tmp_path_factory, "lip", 16, seed=1)


@pytest.fixture
def checkpoint(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.pt"
    torch.save(TinyPose().state_dict(), path)
    return path


def test_the_pass_rule_is_one_sided_with_a_tolerance_per_precision():
    assert verdict(80.0, 80.5, "int8") == "pass"  # within 1.0 point
    assert verdict(95.0, 80.0, "fp32") == "pass"  # better never fails
    assert verdict(79.0, 80.0, "fp16").startswith("FAILED: PCKh 79.00 < eager fp32 80.00 - 0.5")
    assert verdict(math.nan, 80.0, "fp32").startswith("FAILED")
    assert PCKH_TOLERANCE["fp32"] < PCKH_TOLERANCE["bf16"] < PCKH_TOLERANCE["int8"]


def test_the_eager_score_is_bench_evaluates_score(lip_root, checkpoint):
    name = register_tiny("tiny-scored")
    row = {"model": name, "runtime": "eager", "precision": "fp32", "device": "cpu", "reason": ""}
    frame = pd.DataFrame([row])
    scored = score_runtime_rows(frame, {name: checkpoint}, lip_root, CPU).iloc[0]
    trained = load_model(name, checkpoint, CPU)
    expected = evaluate_model(trained, eval_dataset(trained.info, "lip", lip_root, "val"))
    assert scored.pckh == expected["PCKh"] and scored.delta_pckh == 0.0
    assert (scored.accuracy, scored.scored_on) == ("pass", "lip val, 4 persons")


def _nan_scales(real_quantize):
    """A quantizer that writes garbage: every quantization scale of its int8 file is NaN."""

    def quantize(path, example, calibration):
        out, source = real_quantize(path, example, calibration)
        model = onnx.load(str(out))
        for init in model.graph.initializer:
            if init.name.endswith("_scale"):
                array = onnx.numpy_helper.to_array(init)
                init.CopyFrom(onnx.numpy_helper.from_array(np.full_like(array, np.nan), init.name))
        onnx.save(model, str(out))
        return out, source

    return quantize


def _found_share(predictions, layout) -> dict:
    """A stand-in for the PCKh protocol: the share of joints the network located at all (a
    random tiny network's real PCKh is near 0 for every runtime, which would hide a failure)."""
    return {"PCKh": 100.0 * float(np.isfinite(predictions.pred).all(axis=-1).mean())}


def test_a_broken_int8_conversion_is_a_failed_row_not_a_missing_one(
    lip_root, checkpoint, monkeypatch
):
    monkeypatch.setattr(onnxrt, "quantize", _nan_scales(onnxrt.quantize))
    monkeypatch.setattr(scoring, "score", _found_share)
    name = register_tiny("tiny-scored")
    specs = ["eager", "onnxruntime:fp32", "onnxruntime:int8"]
    steps = []
    m = measure_runtimes(
        [name], CPU, specs, ONE_ROUND, lambda *s: steps.append(s), "", {name: checkpoint}, lip_root
    )
    rows = m.frame.set_index(["runtime", "precision"])
    assert len(rows) == 3
    assert rows.loc[("onnxruntime", "fp32"), "accuracy"] == "pass"
    broken = rows.loc[("onnxruntime", "int8")]
    assert broken.accuracy.startswith("FAILED: PCKh 0.00 < eager fp32 100.00 - 1")
    assert broken.delta_pckh == -100.0 and broken.median_ms > 0  # still timed and shown
    total = count_steps(specs, ONE_ROUND, [name], CPU, {name: checkpoint}, lip_root, "")
    assert len(steps) == total
