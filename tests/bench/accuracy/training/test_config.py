"""The typed training config: its checks, and how a resumed run proves it keeps the recipe."""

from __future__ import annotations

from pathlib import Path

import pytest

from architectures.errors import UsageError
from bench.accuracy.training.config import TrainConfig, check_split, config_changes, config_record


def test_config_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="dataset must be one of"):
        TrainConfig(model="m", dataset="coco", root=Path("."), out=Path("."))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(model="m", dataset="lip", root=Path("."), out=Path("."), epochs=0)


def test_config_changes_name_the_options_that_shape_training() -> None:
    saved = TrainConfig(model="m", dataset="lip", root=Path("a"), out=Path("o"))
    now = TrainConfig(model="m", dataset="lip", root=Path("b"), out=Path("p"), lr=1e-3, epochs=5)
    assert config_changes(config_record(saved), now) == ["--lr 0.001 (saved: 4e-05)"]
    assert config_changes({}, saved) == []  # fields a saved config lacks were at their defaults


@pytest.mark.parametrize(("split", "says"), [("test", "no public labels"), ("dev", "not a split")])
def test_only_labelled_splits_pass(split, says) -> None:
    check_split("lip", "val")
    with pytest.raises(UsageError, match=says):
        check_split("lip", split)
