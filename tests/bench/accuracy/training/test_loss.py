"""The GCPM heatmap loss (Osokin 2019, Sec. 3.2): per-stage MSE summed over stages."""

from __future__ import annotations

import pytest
import torch

from bench.accuracy.training.loss import heatmap_mse, multi_stage_loss


def test_loss_is_the_papers_formula_summed_over_stages() -> None:
    pred = torch.zeros(2, 4, 3, 3)
    target = torch.ones(2, 4, 3, 3)
    target[:, 0] = 0.0  # one of four maps right: 1/N * sum_n sum_xy = (3 * 9) / 4
    assert heatmap_mse(pred, target).item() == pytest.approx(27 / 4)
    assert multi_stage_loss([pred, pred, pred], target).item() == pytest.approx(3 * 27 / 4)


def test_loss_resizes_targets_and_names_bad_shapes() -> None:
    target = torch.ones(1, 2, 8, 8)
    assert heatmap_mse(torch.ones(1, 2, 4, 4), target).item() == pytest.approx(0.0)
    with pytest.raises(ValueError, match=r"\(1, 3, 4, 4\)"):
        heatmap_mse(torch.ones(1, 3, 4, 4), target)
    with pytest.raises(ValueError, match="list of heatmap"):
        multi_stage_loss(torch.ones(1, 2, 8, 8), target)
