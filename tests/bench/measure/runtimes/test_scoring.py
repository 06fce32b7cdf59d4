"""bench.measure.runtimes.scoring: the random-input check against eager fp32, each runtime row
scored on the validation split, the one-sided pass rule, and a broken int8 conversion kept as a
failed row."""

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
from bench.measure.runtimes.scoring import (
    PCKH_TOLERANCE,
    TOLERANCES,
    score_runtime_rows,
    validate,
    verdict,
)
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
    scored = score_runtime_rows(frame, {name: checkpoint}, {"lip": lip_root}, CPU).iloc[0]
    trained = load_model(name, checkpoint, CPU)
    expected = evaluate_model(trained, eval_dataset(trained.info, "lip", lip_root, "val"))
    assert scored.pckh == expected["PCKh"] and scored.delta_pckh == 0.0
    assert (scored.accuracy, scored.scored_on) == ("pass", "generated lip val, 4 persons at 64x64")


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
        [name],
        CPU,
        specs,
        ONE_ROUND,
        lambda *s: steps.append(s),
        "",
        {name: checkpoint},
        {"lip": lip_root},
    )
    rows = m.frame.set_index(["runtime", "precision"])
    assert len(rows) == 3
    assert rows.loc[("onnxruntime", "fp32"), "accuracy"] == "pass"
    broken = rows.loc[("onnxruntime", "int8")]
    assert broken.accuracy.startswith("FAILED: PCKh 0.00 < eager fp32 100.00 - 1")
    assert broken.delta_pckh == -100.0 and broken.median_ms > 0  # still timed and shown
    total = count_steps(specs, ONE_ROUND, [name], CPU, {name: checkpoint}, {"lip": lip_root}, "")
    assert len(steps) == total


def test_keypoint_agreement_counts_keypoints_within_one_cell():
    maps = np.zeros((1, 4, 16, 16))
    for k in range(4):
        maps[0, k, 4 + k, 4] = 1.0
    moved = maps.copy()
    moved[0, 0] = 0.0
    moved[0, 0, 4, 5] = 1.0  # one cell away: agrees
    moved[0, 1] = 0.0
    moved[0, 1, 5, 9] = 1.0  # five cells away: does not
    v = validate(maps, moved, "fp32")
    assert v.keypoint_agreement == 0.75
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


def test_a_wrong_shape_or_nan_output_fails():
    maps = np.random.default_rng(0).random((1, 2, 8, 8))
    assert validate(maps, maps[:, :1], "fp32").flag.startswith("FAILED: output shape")
    assert not validate(maps, np.full_like(maps, np.nan), "int8").passed


def test_every_precision_has_a_tolerance_and_int8_is_the_loosest():
    assert set(TOLERANCES) == {"fp32", "bf16", "fp16", "int8"}
    assert TOLERANCES["int8"].rel_diff == max(t.rel_diff for t in TOLERANCES.values())
