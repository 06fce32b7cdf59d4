"""Accuracy of every runtime row on the validation split, and its one-sided pass rule.

The deployment matrix as MMDeploy's regression test shapes it: each (model, runtime, precision)
row's prepared network, built from the trained checkpoint, predicts the validation split
(single scale, batch 1, the suite's protocol: :mod:`bench.accuracy.evaluation`, the same
decoding and PCKh as ``bench.evaluate``); the row passes when its PCKh is at least eager fp32's
minus the precision's tolerance. A row that fails stays in the table, marked failed, as does a
row whose conversion failed (it has no score). Without checkpoints the rows keep only the
random-input check of :mod:`bench.measure.runtimes.validate`.
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

# PCKh points a row may lose against eager fp32 and still pass, and why that much.
PCKH_TOLERANCE = {
    "fp32": 0.1,  # reordered float sums move a near-tied peak on about one joint in a thousand
    "bf16": 0.5,  # 8-bit mantissa: peaks within 0.4 % of the maximum may swap
    "fp16": 0.5,  # 11-bit mantissa over tens of layers, as bf16
    "int8": 1.0,  # 8-bit activations: the accepted loss of post-training quantization
}
SCORE_COLUMNS = ["pckh", "auc", "delta_pckh", "accuracy", "scored_on"]
PASSED = "pass"
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
        return PASSED
    return f"{FAILED}: PCKh {pckh:.2f} < eager fp32 {eager_pckh:.2f} - {tolerance:g}"


def _score(predictor: nn.Module, data, device: torch.device) -> dict[str, float]:
    predictions = collect_predictions(predictor, data, device=device, batch_size=1)
    result = score(predictions, data.layout)
    return {"pckh": result["PCKh"], "auc": result.get("AUC", math.nan)}


def _score_row(trained, data, runtime: str, precision: str, device, calibration) -> dict:
    if next(trained.parameters()).device != device:  # a GPU run's CPU rows (cpu_realtime)
        trained = copy.deepcopy(trained).to(device)
    example = data[0]["image"][None].to(device)
    with torch.inference_mode():
        prepared = get_runtime(runtime).prepare(
            trained, example, precision, torch.get_num_threads(), calibration
        )
    return _score(_Predictor(prepared.infer), data, device)


def score_model(
    frame: pd.DataFrame,
    model: str,
    checkpoint: Path,
    data_root: Path,
    device: torch.device,
    max_samples: int | None = None,
    on_step: Callable[..., None] = lambda *label: None,
) -> dict[tuple[str, str, str], dict]:
    """(runtime, precision, device) -> score columns of ``model``'s rows in ``frame``."""
    trained = load_model(model, checkpoint, device)
    data = eval_dataset(trained.info, trained.info.dataset, data_root, "val", max_samples)
    eager = _score(trained, data, device)
    on_step(model, "eager", "fp32", "score")
    calibration = Calibration(data_root, trained.info.dataset)
    rows = frame[frame.model == model].drop_duplicates(["runtime", "precision", "device"])
    out = {}
    for row in rows.itertuples():
        key = (row.runtime, row.precision, row.device)
        if row.reason:
            scores = {"accuracy": f"{FAILED}: not scored, {row.reason}"}
        elif (row.runtime, row.precision, row.device) == ("eager", "fp32", str(device)):
            scores = dict(eager)
        else:
            try:
                scores = _score_row(
                    trained,
                    data,
                    row.runtime,
                    row.precision,
                    torch.device(row.device),
                    calibration,
                )
            except Exception as exc:  # noqa: BLE001 - a conversion that fails here is the verdict
                scores = {"accuracy": f"{FAILED}: not scored, {first_line(exc)}"}
        if "pckh" in scores:
            scores["delta_pckh"] = scores["pckh"] - eager["pckh"]
            scores["accuracy"] = verdict(scores["pckh"], eager["pckh"], row.precision)
        scores["scored_on"] = f"{trained.info.dataset} val, {len(data)} persons"
        out[key] = scores
        on_step(model, row.runtime, row.precision, "score")
    return out


def score_runtime_rows(
    frame: pd.DataFrame,
    checkpoints: Mapping[str, Path],
    data_root: Path,
    device: torch.device,
    max_samples: int | None = None,
    on_step: Callable[..., None] = lambda *label: None,
) -> pd.DataFrame:
    """``frame`` with PCKh, AUC, ΔPCKh against eager fp32 and the verdict of each row whose model
    has a checkpoint; the other rows keep NaN / empty there."""
    out = frame.copy()
    for column in SCORE_COLUMNS:
        out[column] = "" if column in ("accuracy", "scored_on") else math.nan
    for model, checkpoint in checkpoints.items():
        if not (frame.model == model).any():
            continue
        scores = score_model(
            frame, model, Path(checkpoint), data_root, device, max_samples, on_step
        )
        for (runtime, precision, dev), columns in scores.items():
            mask = (
                (out.model == model)
                & (out.runtime == runtime)
                & (out.precision == precision)
                & (out.device == dev)
            )
            for column, value in columns.items():
                out.loc[mask, column] = value
    return out
