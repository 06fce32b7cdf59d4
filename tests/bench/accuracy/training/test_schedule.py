"""The plateau threshold is in the units of the validation PCKh the scheduler reads (percent)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from bench.accuracy.training.config import ScheduleConfig
from bench.accuracy.training.schedule import build_scheduler


def _scheduler(patience: int = 2):
    optimizer = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=4e-5)
    return optimizer, build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=patience))


@pytest.mark.parametrize("gain, resets", [(0.05, False), (0.2, True)])
def test_gain_in_points_resets_patience_only_above_the_threshold(gain, resets):
    _, scheduler = _scheduler()
    scheduler.step(80.0)  # validation PCKh in %, as bench.evaluate returns it
    scheduler.step(80.0)  # one plateau epoch
    assert scheduler.num_bad_epochs == 1
    scheduler.step(80.0 + gain)
    assert scheduler.num_bad_epochs == (0 if resets else 2)


def test_small_gains_still_divide_the_rate_after_patience_epochs():
    optimizer, scheduler = _scheduler(patience=2)
    for pckh in (80.0, 80.05, 80.08, 80.09):  # creeping up, never 0.1 point above the best
        scheduler.step(pckh)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(4e-6)


def test_default_threshold_is_a_tenth_of_a_point():
    assert ScheduleConfig().threshold == pytest.approx(0.1)


def test_plateau_schedule_divides_by_ten_exactly_twice() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    lrs = []
    for _ in range(12):  # a flat validation PCKh: a plateau every other epoch
        scheduler.step(50.0)
        lrs.append(optimizer.param_groups[0]["lr"])
    assert sorted(set(lrs), reverse=True) == pytest.approx([4e-5, 4e-6, 4e-7])
    assert lrs[-1] == pytest.approx(4e-7)


def test_plateau_schedule_keeps_lr_while_pckh_improves() -> None:
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.Adam([param], lr=4e-5)
    scheduler = build_scheduler(optimizer, 4e-5, ScheduleConfig(patience=1))
    for epoch in range(10):
        scheduler.step(10.0 + epoch)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(4e-5)
