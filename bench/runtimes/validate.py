"""Validation of a converted network against eager fp32 on the same input (outside the timing).

Two figures per row: the largest absolute difference of the final heatmaps, and the share of
keypoints whose decoded location (``datasets.heatmaps.decode``, the project's arg-max plus
quarter-cell shift) lies within one heatmap cell of the eager fp32 one along x and y. A row passes
when both are within its precision's tolerance; a failing row stays in the table, flagged.

The difference is judged relative to the largest eager heatmap value, so the tolerance does not
depend on the scale of an untrained network's outputs. bf16 keeps 8 bits of mantissa (relative
step 2^-8 = 0.4 %), and errors add up over tens of layers, hence its looser tolerance. The
agreement tolerance in low precision is loose too: an untrained network's heatmaps are nearly
flat, so a rounding difference moves their arg-max between near-equal cells (bf16 OpenVINO rows of
the untrained zoo agreed on 59-69 % of the keypoints while their heatmaps differed by 0.5-1.4 % of
the range). A broken conversion (wrong weights, permuted channels) misses both by far.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from datasets.heatmaps import decode


@dataclass(frozen=True)
class Tolerance:
    rel_diff: float  # max |converted - eager| / max |eager|
    agreement: float  # share of keypoints within one cell


TOLERANCES = {"fp32": Tolerance(1e-3, 0.99), "bf16": Tolerance(0.1, 0.5),
              "fp16": Tolerance(0.02, 0.7)}


@dataclass(frozen=True)
class Validation:
    max_abs_diff: float
    rel_diff: float
    keypoint_agreement: float
    passed: bool
    flag: str  # empty when passed, else which figure missed its tolerance

    @classmethod
    def missing(cls, why: str) -> Validation:
        return cls(math.nan, math.nan, math.nan, False, why)


def keypoint_agreement(reference: np.ndarray, converted: np.ndarray) -> float:
    """Share of (image, keypoint) pairs whose decoded cells are at most one cell apart."""
    size = reference.shape[-2:]  # decode in heatmap cells: one cell = 1.0
    ref_xy, _ = decode(reference, size)
    out_xy, _ = decode(converted, size)
    return float(np.mean(np.abs(ref_xy - out_xy).max(axis=-1) <= 1.0))


def validate(reference: np.ndarray, converted: np.ndarray, precision: str) -> Validation:
    """Compare final heatmaps (N, K, h, w) of a converted network with eager fp32's."""
    if converted.shape != reference.shape:
        return Validation.missing(f"FAILED: output shape {converted.shape} != eager "
                                  f"{reference.shape}")
    diff = float(np.max(np.abs(converted.astype(np.float64) - reference)))
    scale = float(np.max(np.abs(reference))) or 1.0
    rel, agree = diff / scale, keypoint_agreement(reference, converted)
    tol = TOLERANCES[precision]
    failed = []
    if not rel <= tol.rel_diff:  # NaN fails too
        failed.append(f"max diff {rel:.2g} of the heatmap range > {tol.rel_diff:g}")
    if not agree >= tol.agreement:
        failed.append(f"keypoint agreement {agree:.2f} < {tol.agreement:g}")
    flag = "FAILED: " + "; ".join(failed) if failed else ""
    return Validation(diff, rel, agree, not failed, flag)
