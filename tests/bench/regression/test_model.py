"""The gate's settings and its baseline file: checks, JSON round trip, merging passes, refusals."""

from __future__ import annotations

import json

import pytest

from bench.regression.model import (
    FORMAT_VERSION,
    GateConfig,
    GateError,
    ModelFigures,
    NoComparableBaseline,
    Pass,
    load_baseline,
    merge,
)


def _pass(samples: list[float]) -> Pass:
    models = {"ref": ModelFigures(1, 2, {"conv2d": [1, 8]}, samples, [s * 10 for s in samples])}
    return Pass(GateConfig(reference="ref"), {"cpu": "x"}, "abc", [], models)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"repeats": 0}, "--repeats"),
        ({"tolerance": 0.0}, "--tolerance"),
        ({"tolerance": 1.0}, "--tolerance"),
        ({"input_size": (65, 64)}, "multiples of 64"),
    ],
)
def test_bad_settings_are_usage_errors(fields: dict, named: str) -> None:
    with pytest.raises(GateError, match=named):
        GateConfig(**fields)


def test_merge_keeps_every_repeat_and_the_json_round_trips(tmp_path) -> None:
    merged = merge([_pass([1.0, 2.0]), _pass([3.0])])
    assert merged.models["ref"].samples == [1.0, 2.0, 3.0]
    assert merged.models["ref"].raw == [10.0, 20.0, 30.0]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(merged.to_json()))
    loaded = load_baseline(path)
    assert loaded.models == merged.models and loaded.config == merged.config
    assert json.loads(path.read_text())["version"] == FORMAT_VERSION


def test_the_reference_is_gated_on_instructions_the_others_on_ratios() -> None:
    assert _pass([1.0]).figure_of("ref") == "instructions"
    assert _pass([1.0]).figure_of("net") == "ratio to ref"


def test_refusals_name_the_file(tmp_path) -> None:
    with pytest.raises(NoComparableBaseline, match="no regression baseline"):
        load_baseline(tmp_path / "none.json")
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"version": FORMAT_VERSION - 1}))
    with pytest.raises(NoComparableBaseline, match="format version"):
        load_baseline(old)
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps({"version": FORMAT_VERSION, "config": {}}))
    with pytest.raises(GateError, match=f"{cut}: malformed regression baseline"):
        load_baseline(cut)
