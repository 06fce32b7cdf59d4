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
from tests.helpers import generated_root, stub_table3
from tests.tiny_models import TinyPose, register_tiny

TINY = "tiny-suite"
CPU = torch.device("cpu")


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
    assert bar.done == bar.total == 1 + 2 * presets.rounds + profile + 1  # trace ... table 3
    assert bar.kwargs["disable"] is None  # quiet when stderr is not a terminal
    assert bar.names[0] == f"{TINY} fvcore" and m.runtimes is None
    assert set(m.latency["mode"]) == {"fp32", "channels_last"} and (m.layers is not None) == profile
    assert m.env["timing"]["modes"] == ("fp32", "channels_last")


def test_counts_are_the_raw_counts(monkeypatch):
    register_tiny(TINY, (32, 32))
    counts, table = suite.model_counts([TINY])
    assert counts.params_m.iloc[0] == table["params"].iloc[0] / 1e6


def test_each_model_is_built_once_for_counts_timing_and_profile(monkeypatch):
    from architectures import registry

    stub_table3(monkeypatch)
    register_tiny(TINY, (32, 32))
    built = []
    real = registry.create_model
    monkeypatch.setattr(registry, "create_model", lambda *a, **k: built.append(a) or real(*a, **k))
    presets = presets_for("quick", "cpu", iters=2)
    m = suite.measure([TINY], CPU, presets, runtimes=("none",), progress=False)
    assert built == [(TINY,)]
    assert m.counts.gmacs.iloc[0] > 0 and set(m.layers.model) == {TINY}


class _Broken(torch.nn.Module):
    def forward(self, x):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied\n(more lines)")


def test_a_user_model_whose_forward_fails_stops_the_run_before_timing(monkeypatch):
    from tests.tiny_models import register_test_model

    register_test_model("user-broken", _Broken, family="user", dataset="lip")
    monkeypatch.setattr(suite, "benchmark_models", lambda *a: pytest.fail("timed"))
    with pytest.raises(
        UsageError,
        match=r"^model user-broken: forward on a 1x3x\d+x\d+ input "
        "failed: RuntimeError: mat1 and mat2 shapes cannot be multiplied$",
    ):
        suite.measure(["user-broken"], CPU, QUICK, runtimes=("none",), progress=False)


def test_checkpoints_need_a_data_root_and_one_per_model(tmp_path):
    with pytest.raises(UsageError, match="--data-root"):
        suite.check_checkpoints([("a", tmp_path / "a.pt")], [], ["a"])
    twice = [("a", tmp_path / "a.pt"), ("a", tmp_path / "b.pt")]
    with pytest.raises(UsageError, match="given twice"):
        suite.check_checkpoints(twice, [tmp_path], ["a"])
    with pytest.raises(UsageError, match="not among the measured"):
        suite.check_checkpoints([("b", tmp_path / "b.pt")], [tmp_path], ["a"])


def _damage(root, split: str, how: str) -> None:
    """Break one split of a generated LIP root the way a careless copy would."""
    csv = root / "TrainVal_pose_annotations" / f"lip_{split}_set.csv"
    images = sorted((root / "TrainVal_images" / f"{split}_images").iterdir())
    if how == "no annotations":
        csv.unlink()
    elif how == "no persons":
        csv.write_text("")
    elif how == "no images":
        for image in images:
            image.unlink()
    else:  # "broken images"
        for image in images:
            image.write_bytes(b"not a jpeg")


@pytest.mark.parametrize("how", ["no annotations", "no persons", "no images", "broken images"])
@pytest.mark.parametrize("split", ["val", "train"])
def test_a_data_root_that_cannot_be_scored_or_calibrated_on_is_refused_first(
    tmp_path_factory, tmp_path, split, how
):
    # The val split is scored, the train split calibrates int8: both only after the long run.
    register_tiny(TINY)
    weights = tmp_path / "tiny.pt"
    torch.save({"model": TinyPose().state_dict()}, weights)
    root = generated_root(tmp_path_factory, "lip", 12, seed=1)
    suite.check_checkpoints([(TINY, weights)], [root], [TINY], calibrate=True)
    _damage(root, split, how)
    if split == "train":  # without int8 rows the training split is not read
        suite.check_checkpoints([(TINY, weights)], [root], [TINY], calibrate=False)
    with pytest.raises(InputFileError, match=rf"^--data-root {root} \(lip {split}\): ") as info:
        suite.check_checkpoints([(TINY, weights)], [root], [TINY], calibrate=True)
    assert "--root" not in str(info.value)


def test_int8_rows_are_what_needs_the_training_split():
    cpu, quick = torch.device("cpu"), presets_for("quick", "cpu", None, ())
    assert suite.calibrates(["openvino:int8"], quick, cpu)
    assert suite.calibrates(["onnxruntime"], quick, cpu)  # a runtime named alone: every precision
    assert not suite.calibrates([], quick, cpu)  # the quick preset leaves int8 out
    assert not suite.calibrates(["none"], quick, cpu)
    assert not suite.calibrates(["openvino:fp32", "eager"], quick, cpu)


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


def test_an_image_that_breaks_while_scoring_leaves_the_model_unscored_not_the_run_lost(
    tmp_path_factory, tmp_path
):
    register_tiny(TINY)
    weights = tmp_path / "tiny.pt"
    torch.save({"model": TinyPose().state_dict()}, weights)
    root = generated_root(tmp_path_factory, "lip", 12, seed=2)
    last = max((root / "TrainVal_images" / "val_images").iterdir())
    last.write_bytes(b"not a jpeg")  # the checks before timing open the first image only
    steps = []
    with pytest.warns(UserWarning, match=rf"^{TINY} not scored: .*{last.name}"):
        frame = suite.measured_accuracy(
            [(TINY, weights)], {"lip": root}, CPU, lambda *s: steps.append(s)
        )
    row = frame.set_index("model").loc[TINY]
    assert last.name in row[suite.NOT_SCORED] and len(steps) == 1
    assert not any(c.startswith("PCKh") for c in frame.columns)
