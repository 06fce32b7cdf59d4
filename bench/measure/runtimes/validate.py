"""The random-input check of a converted network against eager fp32 (outside the timing).

Per row: the largest heatmap difference (also relative to the largest eager value), the share of
keypoints decoded (``datasets.heatmaps.decode``) within one heatmap cell of eager's, and the share
of the others that are near-ties in eager's own map (an untrained network's flat heatmaps let
rounding move the arg-max between near-equal cells). Tolerances are looser for bf16 (8-bit
mantissa) and int8, whose calibrated ranges a random input misses; the scored rows
(:mod:`bench.measure.runtimes.scoring`) measure int8 accuracy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from datasets.heatmaps import decode


@dataclass(frozen=True)
class Tolerance:
    rel_diff: float  # max |converted - eager| / max |eager|; also the near-tie margin
    agreement: float  # share of keypoints within one cell or near-ties


TOLERANCES = {
    "fp32": Tolerance(1e-3, 0.99),
    "bf16": Tolerance(0.1, 0.9),
    "fp16": Tolerance(0.02, 0.9),
    "int8": Tolerance(0.5, 0.5),
}


@dataclass(frozen=True)
class Validation:
    max_abs_diff: float
    rel_diff: float
    keypoint_agreement: float
    near_ties: float  # share of keypoints outside one cell whose location is a near-tie
    passed: bool
    flag: str  # empty when passed, else which figure missed its tolerance

    @classmethod
    def missing(cls, why: str) -> Validation:
        return cls(math.nan, math.nan, math.nan, math.nan, False, why)


def _agreeing_and_ties(
    reference: np.ndarray, converted: np.ndarray, margin: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per (image, keypoint): within one cell; else a near-tie in the reference map."""
    size = reference.shape[-2:]  # decode in heatmap cells: one cell = 1.0
    ref_xy, ref_max = decode(reference, size)
    out_xy, _ = decode(converted, size)
    close = np.abs(ref_xy - out_xy).max(axis=-1) <= 1.0
    n, k, h, w = reference.shape
    found = np.isfinite(out_xy).all(axis=-1)  # a NaN output has no location: neither
    xy = np.rint(np.nan_to_num(out_xy)).astype(int)
    col, row = np.clip(xy[..., 0], 0, w - 1), np.clip(xy[..., 1], 0, h - 1)
    nn, kk = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    tie = ~close & found & (reference[nn, kk, row, col] >= ref_max - margin)
    return close, tie


def validate(reference: np.ndarray, converted: np.ndarray, precision: str) -> Validation:
    """Compare final heatmaps (N, K, h, w) of a converted network with eager fp32's."""
    if converted.shape != reference.shape:
        return Validation.missing(
            f"FAILED: output shape {converted.shape} != eager {reference.shape}"
        )
    tol = TOLERANCES[precision]
    diff = float(np.max(np.abs(converted.astype(np.float64) - reference)))
    scale = float(np.max(np.abs(reference))) or 1.0
    close, tie = _agreeing_and_ties(reference, converted, tol.rel_diff * scale)
    rel, agree, ties = diff / scale, float(np.mean(close)), float(np.mean(tie))
    failed = []
    if not rel <= tol.rel_diff:  # NaN fails too
        failed.append(f"max diff {rel:.2g} of the heatmap range > {tol.rel_diff:g}")
    if not agree + ties >= tol.agreement:
        failed.append(f"keypoint agreement {agree:.2f} + near-ties {ties:.2f} < {tol.agreement:g}")
    flag = "FAILED: " + "; ".join(failed) if failed else ""
    return Validation(diff, rel, agree, ties, not failed, flag)
