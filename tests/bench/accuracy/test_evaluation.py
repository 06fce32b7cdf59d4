"""PCKh of a model: predictions mapped back to original pixels, scored in the paper's columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from architectures import ModelInfo
from bench.accuracy.evaluation import (
    collect_predictions,
    evaluate_checkpoint,
    evaluate_model,
    row_writers,
)
from bench.accuracy.training.data import eval_dataset
from tests.helpers import generated_root
from tests.tiny_models import TinyPose, register_tiny

TINY = "test-tiny-eval"
COLUMNS = ["Head", "Sho.", "Elb.", "Wri.", "Hip", "Knee", "Ank.", "PCKh"]


@pytest.fixture(scope="module", autouse=True)
def _tiny_model() -> str:
    return register_tiny(TINY)  # conftest's registry snapshot removes it after this module


class _Oracle(nn.Module):
    """Returns each known input image's target heatmaps: a perfect model for the given data set."""

    def __init__(self, dataset) -> None:
        super().__init__()
        items = [dataset[i] for i in range(len(dataset))]
        self.images = [item["image"] for item in items]
        self.maps = [item["heatmaps"] for item in items]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        found = [
            next(m for img, m in zip(self.images, self.maps) if torch.equal(img, image))
            for image in x
        ]
        return [torch.stack(found)]


@pytest.fixture(scope="module")
def lip_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "lip", num_images=16, seed=11)


@pytest.fixture(scope="module")
def mpii_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_root(tmp_path_factory, "mpii", num_images=16, seed=11)


def _oracle_dataset(root: Path, dataset: str):
    info = ModelInfo(
        name="oracle",
        family="test",
        dataset=dataset,
        input_size=(128, 128),
        output_stride=4,
        num_heatmaps=17,
    )
    return eval_dataset(info, dataset, root, "val")


@pytest.mark.parametrize("dataset", ["lip", "mpii"])
def test_perfect_heatmaps_score_100_in_original_pixels(
    dataset: str, lip_root: Path, mpii_root: Path
) -> None:
    data = _oracle_dataset(lip_root if dataset == "lip" else mpii_root, dataset)
    row = evaluate_model(_Oracle(data), data, batch_size=3)
    assert list(row)[:8] == COLUMNS
    assert row["PCKh"] == pytest.approx(100.0)
    assert row["persons"] == len(data)
    if dataset == "mpii":
        assert 50.0 < row["AUC"] < 100.0  # threshold 0 only counts exact hits
    else:
        assert "AUC" not in row


def test_predictions_are_in_original_pixels(lip_root: Path) -> None:
    data = _oracle_dataset(lip_root, "lip")
    found = collect_predictions(_Oracle(data), data, batch_size=4)
    error = (found.pred - found.gt)[found.valid]
    # decoding is exact to half a 4-pixel cell of the 128 input; images are at most 256 px (x2)
    assert abs(error).max() <= 0.5 * 4 * 2


def test_checkpoint_round_trip_and_untrained_default(lip_root: Path, tmp_path: Path) -> None:
    torch.manual_seed(42)
    trained = TinyPose()
    path = tmp_path / "weights.pt"
    torch.save({"model": trained.state_dict()}, path)
    row = evaluate_checkpoint(TINY, path, "lip", lip_root, device="cpu")
    direct = evaluate_model(trained.eval(), eval_dataset(_info(), "lip", lip_root))
    assert {k: row[k] for k in COLUMNS} == {k: direct[k] for k in COLUMNS}
    assert row["checkpoint"] == str(path) and row["protocol"] == "single scale"
    untrained = [evaluate_checkpoint(TINY, None, "lip", lip_root, device="cpu") for _ in range(2)]
    assert untrained[0] == untrained[1] and untrained[0]["checkpoint"] == "untrained"


def _info() -> ModelInfo:
    from architectures import model_info

    return model_info(TINY)


def test_wrong_checkpoint_names_model_and_file(lip_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "other.pt"
    torch.save({"model": {"conv.weight": torch.zeros(1)}}, path)
    with pytest.raises(ValueError, match=f"other.pt does not fit model '{TINY}'"):
        evaluate_checkpoint(TINY, path, "lip", lip_root, device="cpu")


def test_flip_and_scales_protocol_runs_and_is_named(lip_root: Path) -> None:
    row = evaluate_checkpoint(
        TINY,
        None,
        "lip",
        lip_root,
        scales=(0.75, 1.0, 1.25),
        flip=True,
        device="cpu",
        max_samples=2,
    )
    assert row["protocol"] == "scales 0.75/1/1.25 + flip" and row["persons"] == 2


def test_progress_is_told_the_batches_and_each_one(lip_root: Path) -> None:
    started, done = [], []
    row = evaluate_checkpoint(
        TINY,
        None,
        "lip",
        lip_root,
        device="cpu",
        batch_size=2,
        on_start=started.append,
        on_batch=lambda: done.append(1),
    )
    assert row["persons"] > 2
    assert started == [len(done)] == [(row["persons"] + 1) // 2]


def test_row_writers_write_the_row_as_csv_and_markdown(tmp_path: Path) -> None:
    row = {"model": "m", "checkpoint": "untrained", **{c: 50.0 for c in COLUMNS}}
    writers = row_writers(row)
    assert sorted(writers) == ["eval_m.csv", "eval_m.md"]
    for name, write in writers.items():
        write(tmp_path / name)
    assert (tmp_path / "eval_m.csv").read_text().splitlines()[0].split(",")[2:] == COLUMNS
    assert "PCKh of m" in (tmp_path / "eval_m.md").read_text()
