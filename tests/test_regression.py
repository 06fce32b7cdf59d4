"""The CI latency regression gate (bench.regression) on fabricated and tiny real passes."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from architectures import ModelInfo, register_model, unregister_model
from bench.regression import (
    GateError,
    ModelRecord,
    PassConfig,
    PassResult,
    combine_passes,
    compare,
    config_mismatch,
    load_baseline,
    main,
)


def _pass(ratios: dict[str, float], params: int = 1000, flops: int = 5000,
          tolerance: float = 0.15) -> PassResult:
    models = {n: ModelRecord(params, flops, r, 10.0 * r, 0.01) for n, r in ratios.items()}
    config = PassConfig(models=tuple(ratios), reference="ref", tolerance=tolerance)
    return PassResult(config, models)


BASE = _pass({"ref": 1.0, "a": 0.5, "b": 2.0})


def _verdicts(baseline: PassResult, current: PassResult, **kw) -> dict[str, str]:
    table = compare(baseline, current, **kw)
    return dict(zip(table.model, table.verdict))


def test_unchanged_pass_passes():
    assert set(_verdicts(BASE, _pass({"ref": 1.0, "a": 0.52, "b": 1.9})).values()) == {"ok"}


def test_slower_beyond_tolerance_fails_and_faster_passes():
    verdicts = _verdicts(BASE, _pass({"ref": 1.0, "a": 0.5 * 1.3, "b": 2.0 * 0.7}))
    assert verdicts == {"ref": "ok", "a": "FAIL: slower", "b": "ok (faster: consider update)"}


def test_tolerance_argument_overrides_the_baseline():
    current = _pass({"ref": 1.0, "a": 0.5 * 1.3, "b": 2.0})
    assert _verdicts(BASE, current, tolerance=0.35)["a"] == "ok"


def test_exact_counts_are_gated():
    current = _pass({"ref": 1.0, "a": 0.5, "b": 2.0})
    current.models["a"] = ModelRecord(1001, 5000, 0.5, 5.0, 0.0)
    current.models["b"] = ModelRecord(1000, 5001, 2.0, 20.0, 0.0)
    verdicts = _verdicts(BASE, current)
    assert verdicts["a"] == "FAIL: params changed" and verdicts["b"] == "FAIL: FLOPs changed"


def test_missing_model_fails_and_new_model_is_reported():
    verdicts = _verdicts(BASE, _pass({"ref": 1.0, "a": 0.5, "c": 3.0}))
    assert verdicts["b"] == "FAIL: missing" and verdicts["c"] == "new (not gated)"


def test_baseline_tolerance_from_pass_spread():
    passes = [_pass({"ref": 1.0, "a": r}) for r in (0.50, 0.53, 0.47)]
    combined = combine_passes(passes, tolerance=None)
    assert combined.models["a"].ratio == 0.50
    assert combined.models["a"].pass_noise == pytest.approx(0.06)
    assert combined.config.tolerance == pytest.approx(0.12)  # twice the largest deviation
    quiet = combine_passes([_pass({"ref": 1.0, "a": 0.5})] * 3, tolerance=None)
    assert quiet.config.tolerance == 0.10  # never below the floor
    assert combine_passes(passes, tolerance=0.3).config.tolerance == 0.3


def test_baseline_json_round_trip_and_errors(tmp_path):
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(BASE.to_json()))
    loaded = load_baseline(path)
    assert loaded.models == BASE.models and loaded.config == BASE.config
    with pytest.raises(GateError, match="update"):
        load_baseline(tmp_path / "none.json")
    path.write_text("{\n  oops")
    with pytest.raises(GateError, match="line 2"):
        load_baseline(path)
    path.write_text(json.dumps({**BASE.to_json(), "version": 0}))
    with pytest.raises(GateError, match="version"):
        load_baseline(path)


def test_incomparable_settings_are_named():
    other = PassConfig(reference="ref", input_size=(64, 64))
    assert config_mismatch(BASE.config, other) == [
        "input_size: baseline (128, 128), now (64, 64)"]
    assert not math.isnan(BASE.config.tolerance)


class Convs(nn.Module):
    def __init__(self, depth: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1),
                                  *[nn.Conv2d(16, 16, 3, padding=1) for _ in range(depth - 1)])

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.body(x)]


@pytest.fixture
def tiny_pair():
    names = ("tiny-gate-ref", "tiny-gate-net")
    for name, depth in zip(names, (4, 2)):
        info = ModelInfo(name=name, family="test", dataset="lip", input_size=(32, 32),
                         output_stride=1, num_heatmaps=3)
        register_model(info)(lambda depth=depth, **kw: Convs(depth))
    yield names
    for name in names:
        unregister_model(name)


def test_cli_update_then_injected_extra_layer_fails(tiny_pair, tmp_path, capsys):
    ref, net = tiny_pair
    baseline = tmp_path / "baseline.json"
    common = ["--baseline", str(baseline), "--rounds", "3"]
    # explicit tolerance: one derived from 2 passes of millisecond models on a loaded CI box
    # would be a random number, and this test is about the injection, not about noise
    assert main(["update", *common, "--models", ref, net, "--reference", ref, "--repeats", "2",
                 "--tolerance", "0.5"]) == 0
    stored = json.loads(baseline.read_text())
    assert set(stored["models"]) == {ref, net} and stored["config"]["reference"] == ref
    assert stored["config"]["tolerance"] == 0.5
    # 8 extra 64-channel convs (4.2 GMAC) dwarf the 16-channel nets (0.07 / 0.04 GMAC)
    assert main(["check", *common, "--inject-slowdown", f"{net}=8"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: slower" in out and "FAILED: 1 of 2" in out


def test_cli_unknown_model_is_a_clear_error(tiny_pair, tmp_path, capsys):
    assert main(["update", "--baseline", str(tmp_path / "b.json"), "--models", "nope",
                 "--reference", tiny_pair[0]]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "known models" in err
