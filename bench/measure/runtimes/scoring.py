"""Accuracy of every runtime row on the validation split, and its one-sided pass rule.

The deployment matrix as MMDeploy's regression test shapes it: each row's prepared network, built
from the trained checkpoint, predicts the validation split as ``bench.evaluate`` does
(:mod:`bench.accuracy.evaluation`); it passes when its PCKh is at least eager fp32's minus the
precision's tolerance. Failed rows, and rows whose conversion failed, stay, marked failed.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from bench.accuracy.evaluation import collect_predictions, score
from bench.accuracy.training.data import eval_dataset
from bench.accuracy.training.model import load_model
from bench.measure.runtimes import get_runtime
from bench.measure.runtimes.base import first_line
from bench.measure.runtimes.calibration import Calibration

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
    """A prepared runtime's ``infer`` as a model of the model contract (a list of stages)."""

    def __init__(self, infer: Callable[[np.ndarray], np.ndarray]) -> None:
        super().__init__()
        self.infer = infer

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [torch.from_numpy(self.infer(x.cpu().numpy())).to(x.device)]


def verdict(pckh: float, eager_pckh: float, precision: str) -> str:
    """``pass`` when ``pckh`` >= eager fp32's minus the precision's tolerance, else why not."""
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
        scores["scored_on"] = f"{trained.info.dataset} val, {len(data)} persons"
        out.append({**{key: getattr(row, key) for key in KEYS}, **scores})
        on_step(model, row.runtime, row.precision, "score")
    return out


def score_runtime_rows(
    frame: pd.DataFrame,
    checkpoints: Mapping[str, Path],
    data_root: Path,
    device: torch.device,
    on_step: Callable[..., None] = lambda *label: None,
) -> pd.DataFrame:
    """``frame`` with PCKh, AUC, ΔPCKh against eager fp32 and the verdict of each row whose model
    has a checkpoint; the other rows keep NaN / empty there."""
    scored = [
        row
        for model, checkpoint in checkpoints.items()
        if (frame.model == model).any()
        for row in score_model(frame, model, Path(checkpoint), data_root, device, on_step)
    ]
    scores = pd.DataFrame(scored, columns=KEYS + SCORE_COLUMNS)
    scores = scores.astype({"pckh": float, "auc": float, "delta_pckh": float})
    out = frame.merge(scores, on=KEYS, how="left")
    return out.fillna({"accuracy": "", "scored_on": ""})
