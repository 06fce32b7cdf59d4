"""Validation of a converted network against eager fp32 on the same input (outside the timing).

Figures per row: the largest absolute difference of the final heatmaps (also relative to the
largest eager value, so that tolerances do not depend on an untrained network's output scale),
the share of keypoints whose decoded location (``datasets.heatmaps.decode``, the project's
arg-max plus quarter-cell shift) lies within one heatmap cell of the eager fp32 one along x and y,
and the share of the other keypoints that are near-ties: the converted network's location is,
in eager fp32's own map, within the precision's tolerance of eager's maximum. An untrained
network's heatmaps are nearly flat, so low-precision rounding moves their arg-max between
near-equal cells (bf16 OpenVINO of untrained cpm-original: 27 % of keypoints within one cell
while its heatmaps differed by 0.5 % of their range); a trained network's sharp peak leaves no
such tie, and a broken conversion (wrong weights) misses both figures by far.

A row passes when the relative difference is within its precision's tolerance and agreeing plus
near-tie keypoints reach the agreement tolerance; a failing row stays in the table, flagged.
bf16 keeps 8 bits of mantissa (relative step 2^-8 = 0.4 %) and errors add up over tens of
layers, hence its looser tolerance. An int8 network is calibrated on images, and a random input
lies far outside the value ranges it was calibrated for, so for int8 this check only catches a
broken conversion (its tolerance is loose); its accuracy is what the scored rows
(:mod:`bench.measure.runtimes.scoring`) measure.
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


def keypoint_agreement(reference: np.ndarray, converted: np.ndarray) -> float:
    """Share of (image, keypoint) pairs whose decoded cells are at most one cell apart."""
    return float(np.mean(_agreeing_and_ties(reference, converted, 0.0)[0]))


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
