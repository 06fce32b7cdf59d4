"""Accuracy of the runtime rows (docs/runtimes.md): the random-input check against eager fp32,
and the score on the validation split with its one-sided pass rule (MMDeploy's regression test)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from architectures import model_info
from bench.accuracy.evaluation import collect_predictions, score
from bench.accuracy.training.data import eval_dataset
from bench.accuracy.training.model import load_model
from bench.measure.runtimes import get_runtime
from bench.measure.runtimes.base import first_line
from bench.measure.runtimes.calibration import Calibration
from datasets.heatmaps import decode
from datasets.synthetic import is_generated


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
    flag: str = ""  # empty when passed, else which figure missed its tolerance
    passed: bool = False
    max_abs_diff: float = math.nan
    rel_diff: float = math.nan
    keypoint_agreement: float = math.nan
    near_ties: float = math.nan  # share of keypoints outside one cell whose location is a near-tie


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
        return Validation(f"FAILED: output shape {converted.shape} != eager {reference.shape}")
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
    return Validation(flag, not failed, diff, rel, agree, ties)


PCKH_TOLERANCE = {"fp32": 0.1, "bf16": 0.5, "fp16": 0.5, "int8": 1.0}  # PCKh points
TOLERANCE_WHY = {
    "fp32": "reordered float sums may move a near-tied peak on about one joint in a thousand",
    "bf16": "8-bit mantissa: peaks within 0.4 % of the maximum may swap",
    "fp16": "11-bit mantissa, rounding added up over tens of layers",
    "int8": "8-bit activations and weights: the usual accepted loss of post-training quantization",
}
SCORE_COLUMNS = ["pckh", "auc", "delta_pckh", "accuracy", "scored_on"]
KEYS = ["model", "runtime", "precision", "device"]  # rows of other thread counts score the same
FAILED = "FAILED"


class _Predictor(nn.Module):
    """A prepared runtime's ``infer`` under the model contract (a list of stages)."""

    def __init__(self, infer: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__()
        self.infer = infer

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.from_numpy(self.infer(x.cpu().numpy())).to(x.device)]


def verdict(pckh: float, eager_pckh: float, precision: str) -> str:
    tolerance = PCKH_TOLERANCE[precision]
    if pckh >= eager_pckh - tolerance:  # NaN fails
        return "pass"
    return f"{FAILED}: PCKh {pckh:.2f} < eager fp32 {eager_pckh:.2f} - {tolerance:g}"


def _score(predictor: nn.Module, data, device: torch.device) -> dict[str, float]:
    predictions = collect_predictions(predictor, data, device=device, batch_size=1)
    result = score(predictions, data.layout)
    return {"pckh": result["PCKh"], "auc": result.get("AUC", math.nan)}


def _score_row(trained: nn.Module, data, row, calibration: Calibration) -> dict[str, float]:
    device = torch.device(row.device)
    if next(trained.parameters()).device != device:  # a GPU run's CPU rows (cpu_realtime)
        trained = copy.deepcopy(trained).to(device)
    example = data[0]["image"][None].to(device)
    with torch.inference_mode():
        prepared = get_runtime(row.runtime).prepare(
            trained, example, row.precision, torch.get_num_threads(), calibration
        )
    return _score(_Predictor(prepared.infer), data, device)


def score_model(
    frame: pd.DataFrame, model: str, checkpoint: Path, data_root: Path, device, on_step
) -> list[dict]:
    """The key and score columns of each (runtime, precision, device) of ``model`` in ``frame``."""
    trained = load_model(model, checkpoint, device)
    data = eval_dataset(trained.info, trained.info.dataset, data_root, "val")
    h, w = trained.info.input_size  # the checkpoint's: it may differ from the timed rows'
    origin = "generated " if is_generated(data_root) else ""
    scored_on = f"{origin}{trained.info.dataset} val, {len(data)} persons at {h}x{w}"
    eager = _score(trained, data, device)
    on_step(model, "eager", "fp32", "score")
    calibration = Calibration(data_root, trained.info.dataset)
    out = []
    for row in frame[frame.model == model].drop_duplicates(KEYS).itertuples():
        if row.reason:
            scores = {"accuracy": f"{FAILED}: not scored, {row.reason}"}
        elif (row.runtime, row.precision, row.device) == ("eager", "fp32", str(device)):
            scores = dict(eager)
        else:
            try:
                scores = _score_row(trained, data, row, calibration)
            except Exception as exc:  # noqa: BLE001 - a conversion that fails here is the verdict
                scores = {"accuracy": f"{FAILED}: not scored, {first_line(exc)}"}
        if "pckh" in scores:
            scores["delta_pckh"] = scores["pckh"] - eager["pckh"]
            scores["accuracy"] = verdict(scores["pckh"], eager["pckh"], row.precision)
        scores["scored_on"] = scored_on
        out.append({**{key: getattr(row, key) for key in KEYS}, **scores})
        on_step(model, row.runtime, row.precision, "score")
    return out


def score_runtime_rows(
    frame: pd.DataFrame,
    checkpoints: Mapping[str, Path],
    data_roots: Mapping[str, Path],
    device: torch.device,
    on_step: Callable[..., None] = lambda *label: None,
) -> pd.DataFrame:
    """``frame`` with PCKh, AUC, ΔPCKh and the verdict of each row of a model with a checkpoint,
    scored on its dataset's root in ``data_roots``."""
    scored = [
        row
        for model, checkpoint in checkpoints.items()
        if (frame.model == model).any()
        for row in score_model(
            frame, model, Path(checkpoint), data_roots[model_info(model).dataset], device, on_step
        )
    ]
    scores = pd.DataFrame(scored, columns=KEYS + SCORE_COLUMNS)
    scores = scores.astype({"pckh": float, "auc": float, "delta_pckh": float})
    out = frame.merge(scores, on=KEYS, how="left")
    return out.fillna({"accuracy": "", "scored_on": ""})
