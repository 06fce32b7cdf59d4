"""The regression gate (bench.regression): statistics, signature, fingerprint, exit codes.

Measuring passes are replaced by fabricated ones here; tests/test_regression_worker.py runs the
measuring process for real on a tiny models tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from bench.regression import GateConfig, ModelFigures, Pass, commands, compare, decide
from bench.regression.__main__ import main
from bench.regression.fingerprint import differences
from bench.regression.measure import fingerprint_of
from bench.regression.model import load_baseline, merge
from bench.regression.signature import op_signature, signature_diff
from bench.regression.stats import tolerance

REF, NET = "hourglass-8stack", "fpd-4stack"
SIG = {"conv2d": [3, 4096], "relu": [2, 2048]}


# ---------------------------------------------------------------- statistics on fabricated samples


def _noisy(median: float, rel_sigma: float, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(median * (1 + rel_sigma * rng.standard_normal(n)))


@pytest.mark.parametrize("seed", range(5))
def test_ten_percent_shift_in_realistic_noise_fails_and_no_shift_passes(seed):
    # 5 % noise per round, 20 rounds each side: CPU-time ratios on a quiet 2-core box
    base = _noisy(0.5, 0.05, 20, seed)
    assert decide(base, _noisy(0.55, 0.05, 20, seed + 100)).regressed
    unchanged = decide(base, _noisy(0.5, 0.05, 20, seed + 100))
    assert not unchanged.regressed


def test_shift_within_noise_is_not_significant():
    base = _noisy(1.0, 0.25, 10, 1)  # a busy machine: 25 % per round
    decision = decide(base, [v * 1.10 for v in _noisy(1.0, 0.25, 10, 2)])
    assert decision.tolerance > 0.03 and not decision.regressed


def test_instruction_counts_use_the_floor_and_catch_ten_percent():
    base = [1_000_000.0, 1_000_040.0, 999_980.0]  # 0.004 % apart, as callgrind repeats are
    assert tolerance(base, 3) == 0.03
    assert decide(base, [1.10e6, 1.10004e6, 1.09998e6]).regressed
    assert not decide(base, [1.02e6, 1.02e6, 1.02e6]).regressed  # under the 3 % floor
    assert decide(base, [0.8e6] * 3).faster


def test_fixed_tolerance_overrides():
    base = [1.0, 1.0, 1.0]
    assert not decide(base, [1.1] * 3, fixed_tolerance=0.2).regressed
    assert decide(base, [1.1] * 3, fixed_tolerance=0.05).regressed


# ---------------------------------------------------------------- op signature


class Net(nn.Module):
    def __init__(self, extra: str = "") -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.extra = extra

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        y = self.conv(x)
        if self.extra == "contiguous":
            y = y.transpose(2, 3).contiguous().transpose(2, 3)
        elif self.extra == "cat":
            y = torch.cat([y, y], 1)[:, :8]
        elif self.extra == "copy":
            y = y.clone()
        return [torch.relu(y)]


@pytest.mark.parametrize("extra", ["contiguous", "cat", "copy"])
def test_flop_neutral_change_changes_the_signature(extra):
    x = torch.randn(1, 3, 16, 16)
    plain = op_signature(Net(), x)
    assert plain == op_signature(Net(), x)  # deterministic
    changed = op_signature(Net(extra), x)
    assert changed != plain and signature_diff(plain, changed)
    base = _pass({REF: [1.0], NET: [0.5]})
    cur = _pass({REF: [1.0], NET: [0.5]})
    base.models[NET].signature, cur.models[NET].signature = plain, changed
    verdict = _verdicts(base, cur)[NET]
    assert verdict.startswith("FAIL: ops changed")


# ---------------------------------------------------------------- comparing passes


def _pass(
    samples: dict[str, list[float]],
    fp: dict | None = None,
    commit: str = "c0ffee",
    params: int = 1000,
) -> Pass:
    models = {
        n: ModelFigures(params, 5000, dict(SIG), list(s), list(s)) for n, s in samples.items()
    }
    return Pass(
        GateConfig(reference=REF),
        fp if fp is not None else fingerprint_of(GateConfig()),
        commit,
        [],
        models,
    )


def _verdicts(base: Pass, cur: Pass, names=None, **kw) -> dict[str, str]:
    table = compare(base, cur, names or list(cur.models), **kw)
    return dict(zip(table.model, table.verdict))


BASE = _pass({REF: [1e9, 1e9, 1e9], NET: [0.5, 0.5, 0.5], "gcpm-ppm": [2.0, 2.0, 2.0]})


def test_verdicts_for_slower_faster_counts_and_new_models():
    cur = _pass({REF: [1e9] * 3, NET: [0.56] * 3, "gcpm-ppm": [1.6] * 3, "gcpm-aspp": [1.0]})
    assert _verdicts(BASE, cur) == {
        REF: "ok",
        NET: "FAIL: slower",
        "gcpm-ppm": "ok (faster: consider update)",
        "gcpm-aspp": "new (not gated)",
    }
    cur = _pass({REF: [1.2e9] * 3, NET: [0.5] * 3}, params=1001)
    verdicts = _verdicts(BASE, cur)
    assert verdicts[NET] == "FAIL: params 1000 -> 1001"


def test_reference_is_gated_on_its_own_instruction_count():
    cur = _pass({REF: [1.1e9] * 3, NET: [0.5] * 3})
    assert _verdicts(BASE, cur)[REF] == "FAIL: slower"


def test_only_the_models_run_are_reported():
    cur = _pass({REF: [1e9] * 3, NET: [0.5] * 3})
    table = compare(BASE, cur, [REF, NET])
    assert list(table.model) == [REF, NET] and not table.verdict.str.startswith("FAIL").any()


def test_merge_keeps_every_repeat_and_json_round_trip(tmp_path):
    merged = merge([BASE, BASE])
    assert merged.models[NET].samples == [0.5] * 6
    path = tmp_path / "b.json"
    path.write_text(json.dumps(merged.to_json()))
    loaded = load_baseline(path)
    assert loaded.models == merged.models and loaded.config == merged.config


# ---------------------------------------------------------------- fingerprint and exit codes


def _write(path: Path, result: Pass) -> Path:
    path.write_text(json.dumps(result.to_json()))
    return path


def _no_pass(*args, **kwargs):
    raise AssertionError("nothing may be measured here")


def test_other_fingerprint_refuses_with_the_command(tmp_path, monkeypatch, capsys):
    other = {**fingerprint_of(GateConfig()), "cpu": "AMD EPYC 9B14", "isa": ["avx2", "fma"]}
    path = _write(tmp_path / "b.json", _pass({REF: [1e9], NET: [0.5]}, fp=other))
    monkeypatch.setattr(commands, "run_pass", _no_pass)
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(path), "check"])
    assert exc.value.code == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "AMD EPYC 9B14" in err and "python -m bench.regression update" in err


def test_fingerprint_differences_are_named():
    a = {"cpu": "Xeon", "isa": ["amx_bf16", "avx2"], "torch": "2.14.1"}
    b = {"cpu": "Xeon", "isa": ["avx2"], "torch": "2.11.0"}
    assert differences(a, b) == ["isa: missing amx_bf16, extra -", "torch: '2.14.1' -> '2.11.0'"]


def test_other_fingerprint_remeasures_the_baseline_commit(tmp_path, monkeypatch, capsys):
    other = {**fingerprint_of(GateConfig()), "torch": "0.0-other"}
    path = _write(tmp_path / "b.json", _pass({REF: [7e9], NET: [9.0]}, fp=other, commit="abc123"))
    calls = []

    def fake_pass(config, names, models_root=None, slowdowns=None):
        calls.append((models_root, list(names)))
        return _pass({REF: [1e9] * 3, NET: [0.5] * 3})

    class FakeTree:
        def __init__(self, root, commit):
            calls.append(("worktree", commit))

        def __enter__(self):
            return tmp_path / "tree"

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(commands, "run_pass", fake_pass)
    monkeypatch.setattr(commands, "worktree", FakeTree)
    code = main(["--baseline", str(path), "check", "--models", NET, "--other-machine", "remeasure"])
    out = capsys.readouterr().out
    assert code == 0 and "another fingerprint" in out
    assert calls[0] == ("worktree", "abc123") and calls[1][0] == tmp_path / "tree"
    assert calls[2][0] is None  # the current tree measured after the baseline's commit


def _run_check(tmp_path, monkeypatch, current: Pass, *extra: str) -> int:
    path = _write(tmp_path / "b.json", BASE)
    monkeypatch.setattr(commands, "run_pass", lambda *a, **k: current)
    return main(["--baseline", str(path), "check", *extra])


def test_exit_codes_pass_and_regressed(tmp_path, monkeypatch, capsys):
    same = _pass({REF: [1e9] * 3, NET: [0.5] * 3})
    assert _run_check(tmp_path, monkeypatch, same, "--models", NET) == 0
    slower = _pass({REF: [1e9] * 3, NET: [0.56] * 3})
    assert _run_check(tmp_path, monkeypatch, slower, "--models", NET) == 1
    out = capsys.readouterr().out
    assert "gcpm-ppm" not in out  # not run, not reported


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["check", "--tolerance", "-0.1"], "--tolerance"),
        (["check", "--tolerance", "5"], "--tolerance"),
        (["check", "--repeats", "0"], "--repeats"),
        (["check", "--models", "no-such-net"], "no-such-net"),
        (["check", "--inject-slowdown", f"{NET}=+x%"], "--inject-slowdown"),
        (["check", "--inject-slowdown", f"{NET}=+10"], "--inject-slowdown"),  # not 10 layers
        (["check", "--models", NET, "--inject-slowdown", "gcpm-ppm=+10%"], "does not run"),
        (["frobnicate"], "frobnicate"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, needle):
    path = _write(tmp_path / "b.json", BASE)
    monkeypatch.setattr(commands, "run_pass", _no_pass)
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(path), *argv])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and len(err.splitlines()) == 1 and needle in err


def test_missing_and_malformed_baseline(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(commands, "run_pass", _no_pass)
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(tmp_path / "none.json"), "check"])
    assert exc.value.code == 4 and "update" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{\n oops")
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(bad), "check"])
    assert exc.value.code == 2 and "line 2" in capsys.readouterr().err


def test_a_crash_is_not_a_regression(tmp_path, monkeypatch, capsys):
    path = _write(tmp_path / "b.json", BASE)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(commands, "run_pass", crash)
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(path), "check", "--models", NET])
    err = capsys.readouterr().err
    assert exc.value.code == 3 and "Traceback" in err and "worker died" in err
