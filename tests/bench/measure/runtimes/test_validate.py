"""bench.measure.runtimes.validate: the random-input check against eager fp32."""

from __future__ import annotations

import numpy as np

from bench.measure.runtimes.validate import TOLERANCES, validate


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
