"""``python -m bench.regression``: exit codes, one-line usage errors and what each subcommand
prints and writes. Measuring passes are fabricated (``commands.run_pass`` replaced)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import pytest

from bench.regression import __main__ as gate_cli
from bench.regression import commands
from bench.regression.__main__ import main
from bench.regression.measure import fingerprint
from bench.regression.model import GateConfig, ModelFigures, Pass
from tests.helpers import history_frame

REF, NET = "hourglass-8stack", "fpd-4stack"
SIG = {"conv2d": [3, 4096], "relu": [2, 2048]}


def _pass(
    samples: dict[str, list[float]],
    fp: dict | None = None,
    commit: str = "c0ffee",
    params: int = 1000,
) -> Pass:
    models = {
        n: ModelFigures(params, 5000, dict(SIG), list(s), list(s)) for n, s in samples.items()
    }
    return Pass(GateConfig(reference=REF), fingerprint() if fp is None else fp, commit, [], models)


BASE = _pass({REF: [1e9, 1e9, 1e9], NET: [0.5, 0.5, 0.5], "gcpm-ppm": [2.0, 2.0, 2.0]})


def _write(path: Path, result: Pass) -> Path:
    path.write_text(json.dumps(result.to_json()))
    return path


def _no_pass(*args, **kwargs):
    raise AssertionError("nothing may be measured here")


def _exit(
    main: Callable[[Sequence[str]], int], argv: list[str], capsys: pytest.CaptureFixture
) -> tuple[int, str]:
    """(exit status, stderr) of a main() that is expected to refuse ``argv``."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return exc.value.code, err


# ------------------------------------------------------------ check


def test_other_fingerprint_refuses_with_the_command(tmp_path, monkeypatch, capsys):
    other = {**fingerprint(), "cpu": "AMD EPYC 9B14", "isa": ["avx2", "fma"]}
    path = _write(tmp_path / "b.json", _pass({REF: [1e9], NET: [0.5]}, fp=other))
    monkeypatch.setattr(commands, "run_pass", _no_pass)
    with pytest.raises(SystemExit) as exc:
        main(["--baseline", str(path), "check"])
    assert exc.value.code == 4
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "AMD EPYC 9B14" in err and "python -m bench.regression update" in err


def test_other_fingerprint_remeasures_the_baseline_commit(tmp_path, monkeypatch, capsys):
    other = {**fingerprint(), "torch": "0.0-other"}
    path = _write(tmp_path / "b.json", _pass({REF: [7e9], NET: [9.0]}, fp=other, commit="abc123"))
    calls = []

    def fake_pass(config, names, models_root=None, slowdowns=None, on_model=None, models_from=()):
        calls.append((models_root, list(names)))
        for name in names:
            on_model(name, False)
            on_model(name, True)
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


def test_remeasure_draws_one_step_per_model_and_pass(tmp_path, monkeypatch):
    other = {**fingerprint(), "torch": "0.0-other"}
    path = _write(tmp_path / "b.json", _pass({REF: [1e9], NET: [0.5]}, fp=other, commit="abc123"))
    bars = []

    class Bar:
        def __init__(self, total, **kwargs):
            self.total, self.n, self.descriptions = total, 0, []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n=1):
            self.n += n

        def set_description(self, text):
            self.descriptions.append(text)

        def write(self, text, file=None):
            pass

    def fake_pass(config, names, models_root=None, slowdowns=None, on_model=None, models_from=()):
        for name in names:
            on_model(name, False)
            on_model(name, True)
        return _pass({REF: [1e9] * 3, NET: [0.5] * 3})

    class FakeTree:
        def __init__(self, root, commit):
            pass

        def __enter__(self):
            return tmp_path

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(commands, "tqdm", Bar)
    monkeypatch.setattr(commands, "run_pass", fake_pass)
    monkeypatch.setattr(commands, "worktree", FakeTree)
    main(["--baseline", str(path), "check", "--models", NET, "--other-machine", "remeasure"])
    (bar,) = bars
    assert bar.total == bar.n == 4  # reference and model, in the baseline's commit and now
    assert bar.descriptions == [
        f"baseline abc123: {REF}",
        f"baseline abc123: {NET}",
        f"now: {REF}",
        f"now: {NET}",
    ]


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
    assert _run_check(tmp_path, monkeypatch, slower, "--models", NET, "--tolerance", "0.2") == 0


def test_the_report_holds_the_verdicts(tmp_path, monkeypatch):
    slower = _pass({REF: [1e9] * 3, NET: [0.56] * 3})
    report = tmp_path / "gate.md"
    assert _run_check(tmp_path, monkeypatch, slower, "--models", NET, "--report", str(report)) == 1
    assert "FAIL: slower" in report.read_text()


def test_a_full_check_fails_a_baselined_model_that_is_gone(tmp_path, monkeypatch, capsys):
    gone = _pass({REF: [1e9], "no-longer-registered": [1.0]})
    path = _write(tmp_path / "b.json", gone)
    monkeypatch.setattr(commands, "list_models", lambda: [REF])
    monkeypatch.setattr(commands, "run_pass", lambda *a, **k: _pass({REF: [1e9]}))
    assert main(["--baseline", str(path), "check"]) == 1
    assert "no-longer-registered" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["check", "--tolerance", "-0.1"], "--tolerance"),
        (["check", "--tolerance", "5"], "--tolerance"),
        (["check", "--repeats", "0"], "--repeats"),
        (["check", "--models", "no-such-net"], "no-such-net"),
        (["check", "--models-from", "no_such_users_module"], "no_such_users_module"),
        (["check", "--inject-slowdown", f"{NET}=+x%"], "--inject-slowdown"),
        (["check", "--inject-slowdown", f"{NET}=+10"], "--inject-slowdown"),  # not 10 layers
        (["check", "--models", NET, "--inject-slowdown", "gcpm-ppm=+10%"], "does not run"),
        (["update", "--reference", "no-such-net"], "no-such-net"),
        (["update", "--passes", "0"], "--passes"),
        (["update", "--models-from", "no_such_users_module"], "no_such_users_module"),
        (["record", "--models-from", "no_such_users_module"], "no_such_users_module"),
        (["update", "--tolerance", "1.5"], "--tolerance"),
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


# ------------------------------------------------------------ update and record


def test_update_merges_its_passes_and_keeps_the_given_settings(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_pass(config, names, models_root=None, slowdowns=None, on_model=None, models_from=()):
        seen.append(config)
        return _pass({n: [1.0] for n in names})

    monkeypatch.setattr(commands, "run_pass", fake_pass)
    monkeypatch.setattr(commands, "list_models", lambda: [REF, NET])
    path = tmp_path / "b.json"
    argv = ["--baseline", str(path), "update", "--passes", "3", "--tolerance", "0.05"]
    assert main(argv) == 0
    written = json.loads(path.read_text())
    assert len(seen) == 3 and {c.tolerance for c in seen} == {0.05}
    assert written["models"][NET]["samples"] == [1.0, 1.0, 1.0]
    assert f"git add {path}" in capsys.readouterr().out


def test_record_appends_one_row_per_model(tmp_path, monkeypatch):
    monkeypatch.setattr(
        commands, "run_pass", lambda c, names, **k: _pass({n: [2.0] for n in names})
    )
    history = tmp_path / "h.csv"
    argv = ["--baseline", str(tmp_path / "none.json"), "record", "--models", NET]
    assert main([*argv, "--history", str(history)]) == 0
    assert main([*argv, "--history", str(history)]) == 0
    assert list(pd.read_csv(history).model) == [REF, NET, REF, NET]


def test_record_refuses_a_malformed_history_before_measuring(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(commands, "run_pass", _no_pass)
    history = tmp_path / "h.csv"
    history.write_text("a,b\n1,2\n")
    argv = ["--baseline", str(tmp_path / "none.json"), "record", "--history", str(history)]
    code, err = _exit(main, argv, capsys)
    assert code == 2 and "missing columns" in err


# ------------------------------------------------------------ the baseline


def test_a_binary_baseline_is_a_malformed_file_exit_2(tmp_path, capsys) -> None:
    path = tmp_path / "bl.json"
    path.write_bytes(bytes(range(128, 256)) * 4)
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == 2
    assert f"{path}: not a JSON text file (byte 0 is not UTF-8)" in err


@pytest.mark.parametrize("content", [[1, 2], {"format": 1}])
def test_json_that_is_no_baseline_at_all_is_exit_2_not_4(tmp_path, capsys, content) -> None:
    path = tmp_path / "bl.json"
    path.write_text(json.dumps(content))
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == 2
    assert f"{path}: not a regression baseline" in err


def test_a_baseline_of_another_format_version_stays_exit_4(tmp_path, capsys) -> None:
    path = tmp_path / "bl.json"
    path.write_text(json.dumps({"version": 1}))
    code, err = _exit(gate_cli.main, ["--baseline", str(path), "check"], capsys)
    assert code == gate_cli.EXIT_NO_BASELINE == 4
    assert "format version 1, expected 3" in err


@pytest.mark.parametrize("size", [["65", "64"], ["64", "0"], ["-64", "64"]])
def test_update_size_names_the_option(tmp_path, capsys, size) -> None:
    argv = ["--baseline", str(tmp_path / "bl.json"), "update", "--size", *size]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert "--size" in err and "multiples of 64" in err
    assert not (tmp_path / "bl.json").exists()


def test_help_texts_of_the_gate(capsys) -> None:
    with pytest.raises(SystemExit):
        gate_cli.main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    assert "give it before the subcommand" in top
    with pytest.raises(SystemExit):
        gate_cli.main(["check", "--help"])
    check = capsys.readouterr().out
    assert "NAME=+PCT%" in check and "%%" not in check


@pytest.mark.parametrize("text", ["net=+10%", "net=10%", "net=+2.5%"])
def test_a_slowdown_is_a_percentage(text: str) -> None:
    assert gate_cli.parse_slowdown(text) == ("net", float(text.strip("net=+%")))


@pytest.mark.parametrize("text", ["net=+10", "net=3", "net", "net=+0%", "net=+2000%", "net=x%"])
def test_bad_slowdowns_name_the_option(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="--inject-slowdown"):
        gate_cli.parse_slowdown(text)


# ------------------------------------------------------------ history


def _history(path: Path) -> Path:
    rows = [{"commit": f"c{i}", "recorded_at": f"t{i}", "value": 1.0 + i} for i in range(3)]
    history_frame(rows).to_csv(path, index=False)
    return path


def test_a_history_cut_mid_row_is_refused_naming_the_line(tmp_path, capsys) -> None:
    path = _history(tmp_path / "h.csv")
    path.write_bytes(path.read_bytes()[:-6])  # the last row loses its flops and line end
    argv = ["history", "--history", str(path), "--plot", str(tmp_path / "h.png")]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert f"{path}: line 4 is cut short" in err
    assert not (tmp_path / "h.png").exists()


def test_history_plot_into_a_folder_names_plot_not_a_temporary(tmp_path, capsys) -> None:
    path = _history(tmp_path / "h.csv")
    folder = tmp_path / "plots"
    folder.mkdir()
    code, err = _exit(
        gate_cli.main, ["history", "--history", str(path), "--plot", str(folder)], capsys
    )
    assert code == 2
    assert f"--plot {folder}: is a folder" in err and ".tmp" not in err


# ------------------------------------------------------------ bisect


def test_bisect_outside_a_git_repository_says_so(tmp_path, capsys) -> None:
    argv = ["--baseline", str(tmp_path / "none.json"), "bisect", "HEAD~1", "HEAD"]
    argv += ["--model", "fpd-4stack", "--repo", str(tmp_path)]
    code, err = _exit(gate_cli.main, argv, capsys)
    assert code == 2
    assert f"--repo {tmp_path}: not a git repository" in err


def test_history_prints_the_change_points_and_draws_the_plot(tmp_path, capsys) -> None:
    rows = [
        {"commit": f"c{i}", "recorded_at": f"t{i}", "value": v} for i, v in enumerate([1, 1, 2])
    ]
    history = tmp_path / "h.csv"
    history_frame(rows).to_csv(history, index=False)
    plot = tmp_path / "plots" / "h.png"
    assert main(["history", "--history", str(history), "--plot", str(plot)]) == 0
    out = capsys.readouterr().out
    assert "Change points" in out and "| c1 " in out and plot.read_bytes()[:4] == b"\x89PNG"


def test_bisect_prints_its_steps_and_the_first_changed_commit(tmp_path, monkeypatch, capsys):
    from bench.regression.bisect import BisectResult

    seen = {}

    def fake_bisect(repo, good, bad, config, model, on_step):
        seen.update(good=good, bad=bad, model=model, tolerance=config.tolerance)
        on_step("a" * 40, None)
        on_step("a" * 40, 1.0)
        return BisectResult(1.0, 1.1, "abc1234 the change", [("a" * 40, 1.0), ("b" * 40, 1.1)])

    monkeypatch.setattr(commands.bis, "bisect", fake_bisect)
    monkeypatch.setattr(commands.bis, "expected_steps", lambda *a: 3)
    argv = ["--baseline", str(tmp_path / "none.json"), "bisect", "HEAD~2", "HEAD"]
    assert main([*argv, "--model", NET, "--tolerance", "0.05"]) == 0
    out = capsys.readouterr().out
    assert seen == {"good": "HEAD~2", "bad": "HEAD", "model": NET, "tolerance": 0.05}
    assert "+10.0 % from good to bad): abc1234 the change" in out and "bbbbbbbbbb" in out
