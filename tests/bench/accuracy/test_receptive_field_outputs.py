"""One model's receptive field on one image: a row per keypoint, an overlay per keypoint."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from bench.accuracy.receptive_field import RFConfig
from bench.accuracy.receptive_field_outputs import measure_model, render_overlay, table_writers
from bench.accuracy.training.model import load_model
from tests.tiny_models import OneConv, register_test_model


def test_render_overlay_is_green_where_the_change_is() -> None:
    change = np.zeros((20, 20))
    change[5:10, 5:10] = 1.0
    image = np.full((20, 20, 3), 100, dtype=np.uint8)
    out = render_overlay(image, change)
    assert out.shape == (20, 20, 3) and out.dtype == np.uint8
    assert out[7, 7, 1] > out[7, 7, 0] + 100
    assert out[15, 15, 1] == out[15, 15, 0]
    with pytest.raises(ValueError, match="sizes differ"):
        render_overlay(image, np.zeros((10, 10)))


def test_measure_model_gives_rows_and_overlays_that_tables_write(tmp_path: Path) -> None:
    name = register_test_model(
        "test-tiny-rf-outputs", lambda: OneConv(17, kernel=5), input_size=(48, 48), output_stride=4
    )
    image = tmp_path / "person.png"
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (60, 40, 3), dtype=np.uint8))
    model = load_model(name, None, torch.device("cpu"))
    cfg = RFConfig(stride=8)
    frame, overlays = measure_model(model, None, image, ["R_Hip", "L_Elbow"], cfg)
    assert list(frame["keypoint"]) == ["R_Hip", "L_Elbow"] and frame["bn_calibrated"].all()
    assert (frame["stride"] == 8).all() and (frame["image"] == str(image)).all()
    assert sorted(overlays) == [f"{name}_L_Elbow.png", f"{name}_R_Hip.png"]
    overlays[f"{name}_R_Hip.png"](tmp_path / "map.png")
    assert cv2.imread(str(tmp_path / "map.png")).shape == (48, 48, 3)
    for file_name, write in table_writers(frame).items():
        write(tmp_path / file_name)
    assert "stride 8" in (tmp_path / "receptive_field.md").read_text()
    with pytest.raises(KeyError):
        measure_model(model, None, image, ["Nose"], cfg)


def test_check_models_names_the_joint_and_the_window() -> None:
    from architectures.errors import UsageError
    from bench.accuracy.receptive_field_outputs import check_models

    check_models(["gcpm-baseline"], ["R_Hip"], 11)
    with pytest.raises(UsageError, match="--keypoint Nose: not a joint of gcpm-baseline"):
        check_models(["gcpm-baseline"], ["R_Hip", "Nose"], 11)
    with pytest.raises(UsageError, match="--window 999 is larger than the input"):
        check_models(["gcpm-baseline"], ["R_Hip"], 999)
