"""The measuring sequence of ``bench.tables``: every step counted in the progress total, raw
counts kept raw, checkpoints checked before anything is measured."""

from __future__ import annotations

from typing import ClassVar, Self

import pytest
import torch

from architectures.errors import InputFileError, UsageError
from bench.measure import suite
from bench.measure.presets import QUICK, presets_for
from datasets.synthetic import SyntheticConfig, generate
from tests.helpers import stub_table3
from tests.tiny_models import TinyPose, register_tiny

TINY = "tiny-suite"


class _Bar:
    """Stands in for tqdm: records the total and every update."""

    made: ClassVar[list[_Bar]] = []

    def __init__(self, total: int, **kwargs) -> None:
        self.total, self.done, self.kwargs, self.names = total, 0, kwargs, []
        _Bar.made.append(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def set_description_str(self, text: str) -> None:
        self.names.append(text)

    def update(self, n: int = 1) -> None:
        self.done += n


@pytest.mark.parametrize("profile", [True, False])
def test_the_progress_total_counts_every_step(monkeypatch, profile):
    stub_table3(monkeypatch)
    monkeypatch.setattr(suite, "tqdm", _Bar)
    register_tiny(TINY, (32, 32))
    presets = presets_for("quick", "cpu", iters=2, modes=("channels_last",))
    m = suite.measure([TINY], torch.device("cpu"), presets, runtimes=("none",), profile=profile)
    bar = _Bar.made[-1]
    assert bar.done == bar.total == 2 * presets.rounds + profile + 2
    assert bar.kwargs["disable"] is None  # quiet when stderr is not a terminal
    assert "complexity" in bar.names and m.runtimes is None
    assert set(m.latency["mode"]) == {"fp32", "channels_last"} and (m.layers is not None) == profile
    assert m.env["timing"]["modes"] == ("fp32", "channels_last")


def test_counts_are_the_raw_counts(monkeypatch):
    register_tiny(TINY, (32, 32))
    counts, table = suite.model_counts([TINY])
    assert counts.params_m.iloc[0] == table["params"].iloc[0] / 1e6


def test_checkpoints_need_a_data_root_and_one_per_model(tmp_path):
    with pytest.raises(UsageError, match="--data-root"):
        suite.check_checkpoints([("a", tmp_path / "a.pt")], [], ["a"])
    twice = [("a", tmp_path / "a.pt"), ("a", tmp_path / "b.pt")]
    with pytest.raises(UsageError, match="given twice"):
        suite.check_checkpoints(twice, [tmp_path], ["a"])
    with pytest.raises(UsageError, match="not among the measured"):
        suite.check_checkpoints([("b", tmp_path / "b.pt")], [tmp_path], ["a"])


def test_none_alone_skips_the_runtimes():
    assert not suite.wants_runtimes(["none"])
    assert suite.wants_runtimes([]) and suite.wants_runtimes(["none", "eager"])
    assert QUICK.runtimes is not None


def test_each_checkpointed_dataset_is_scored_on_the_first_root_that_holds_it(tmp_path):
    name = register_tiny(TINY)
    checkpoint = tmp_path / "tiny.pt"
    torch.save({"model": TinyPose().state_dict()}, checkpoint)
    lip = tmp_path / "lip"
    generate(SyntheticConfig("lip", lip, num_images=4))
    (tmp_path / "mpii").mkdir()
    roots = [tmp_path / "mpii", lip]
    assert suite.check_checkpoints([(name, checkpoint)], roots, [name]) == {"lip": lip}
    with pytest.raises(InputFileError, match=r"mpii \(lip val\).*nor in 1 other"):
        suite.check_checkpoints([(name, checkpoint)], roots[:1] * 2, [name])
