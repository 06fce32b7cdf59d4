"""The subcommands' helpers: model names (reference first), settings from the previous baseline
and the options, and the progress callback a pass drives."""

from __future__ import annotations

import argparse

import pytest

from bench.regression import commands
from bench.regression.model import GateConfig, GateError


def test_the_reference_comes_first_and_unknown_names_are_listed(monkeypatch) -> None:
    monkeypatch.setattr(commands, "list_models", lambda: ["a", "b", "ref"])
    assert commands.resolve_names(["b", "ref", "b"], "ref") == ["ref", "b"]
    assert commands.resolve_names([], "ref") == ["ref", "a", "b"]
    with pytest.raises(GateError, match="'x', 'y'; known models: a, b, ref"):
        commands.resolve_names(["x"], "y")


def test_settings_come_from_the_previous_baseline_then_the_options(tmp_path) -> None:
    args = argparse.Namespace(reference=None, repeats=5, tolerance=None, size=[128, 64])
    config = commands._config_for(args, tmp_path / "none.json")
    assert config == GateConfig(input_size=(128, 64), repeats=5)


class _Bar:
    def __init__(self) -> None:
        self.n, self.description = 0, ""

    def update(self) -> None:
        self.n += 1

    def set_description(self, text: str) -> None:
        self.description = text


def test_a_model_is_named_as_it_starts_and_counted_as_it_ends() -> None:
    bar = _Bar()
    on_model = commands.following(bar, "now")
    on_model("net", False)
    assert (bar.description, bar.n) == ("now: net", 0)
    on_model("net", True)
    assert bar.n == 1


def test_the_bar_is_quiet_off_a_terminal(capsys) -> None:
    with commands.progress(3) as bar:
        bar.update(3)
    assert bar.disable and capsys.readouterr().err == ""
