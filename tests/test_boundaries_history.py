"""The regression history's decisions at their boundaries (mutation run of
bench/regression/history.py, issue 14): the fingerprint id, one row per model and pass, which
rows form a series, where a change point starts (penalty ``(2 * floor)^2`` on figures relative
to their median) and the change table's columns. Passes and histories are fabricated."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bench.regression import GateConfig, GateError, ModelFigures, Pass
from bench.regression import history as hist

C40 = [f"{i:02d}" + "abcdef0123456789" * 2 + "ab1234" for i in range(40)]  # 40 characters


def test_the_fingerprint_id_is_key_order_free_and_twelve_hex_digits() -> None:
    record = {"torch": "2.14.1", "cpu": "Xeon"}
    assert hist.fingerprint_id(record) == "cafd344c999c"
    assert hist.fingerprint_id({"cpu": "Xeon", "torch": "2.14.1"}) == "cafd344c999c"
    full = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    assert full.startswith("cafd344c999c") and len(full) > 12


def _pass(dirty: list[str], fingerprint: dict) -> Pass:
    config = GateConfig(signal="time", reference="ref", input_size=(128, 64))
    models = {
        "ref": ModelFigures(10, 20, {}, [1.0, 1.0, 1.0]),
        "net": ModelFigures(30, 40, {}, [0.5, 0.9, 0.4, 0.6]),
    }
    return Pass(config, fingerprint, "abc123", dirty, models)


def test_one_row_per_model_with_the_median_of_its_gated_figure() -> None:
    rows = hist.rows_of(_pass(["bench/x.py"], {"cpu": "Xeon", "torch": "2.14.1"}))
    assert list(rows.columns) == hist.COLUMNS
    stamp = rows.pop("recorded_at")
    assert rows.to_dict("records") == [
        {
            "commit": "abc123",
            "dirty": True,
            "fingerprint_id": "cafd344c999c",
            "cpu": "Xeon",
            "torch": "2.14.1",
            "signal": "time",
            "input": "128x64",
            "model": "ref",
            "figure": "(not gated)",
            "value": 1.0,
            "samples": 3,
            "params": 10,
            "flops": 20,
        },
        {
            "commit": "abc123",
            "dirty": True,
            "fingerprint_id": "cafd344c999c",
            "cpu": "Xeon",
            "torch": "2.14.1",
            "signal": "time",
            "input": "128x64",
            "model": "net",
            "figure": "ratio to ref",
            "value": 0.55,
            "samples": 4,
            "params": 30,
            "flops": 40,
        },
    ]
    when = datetime.fromisoformat(stamp.iloc[0])  # one stamp per pass, in UTC, to the second
    assert stamp.nunique() == 1 and when.utcoffset() == timedelta(0) and when.microsecond == 0
    assert stamp.iloc[0].endswith("+00:00") and len(stamp.iloc[0]) == len(
        "2026-01-01T00:00:00+00:00"
    )


def test_a_pass_without_models_still_has_the_history_columns() -> None:
    empty = Pass(GateConfig(), {}, "abc123", [], {})
    assert hist.rows_of(empty).empty and list(hist.rows_of(empty).columns) == hist.COLUMNS


def test_a_clean_pass_without_cpu_or_torch_facts() -> None:
    rows = hist.rows_of(_pass([], {}))
    assert list(rows.dirty) == [False, False]
    assert list(rows.cpu) == ["", ""] and list(rows.torch) == ["", ""]


def _frame(rows: list[tuple[str, str, str, str, float]]) -> pd.DataFrame:
    """(fingerprint id, signal, input, model, value) per row, commits in order."""
    return pd.DataFrame(
        [
            {
                "recorded_at": "2026-01-01T00:00:00+00:00",
                "commit": C40[i],
                "dirty": False,
                "fingerprint_id": fid,
                "cpu": "x",
                "torch": "t",
                "signal": signal,
                "input": size,
                "model": model,
                "figure": "ratio",
                "value": value,
                "samples": 3,
                "params": 1,
                "flops": 1,
            }
            for i, (fid, signal, size, model, value) in enumerate(rows)
        ],
        columns=hist.COLUMNS,
    )


def test_append_creates_then_extends_the_file(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    first = _frame([("fp", "time", "64x64", "a", 1.0)])
    assert len(hist.append(path, first)) == 1
    frame = hist.append(path, _frame([("fp", "time", "64x64", "b", 2.0)]))
    assert list(frame.model) == ["a", "b"]
    assert list(hist.read_history(path).model) == ["a", "b"]
    assert list(frame.index) == [0, 1]  # one label per row: .loc on it selects each row once


def _commit(root: Path, message: str, date: str) -> str:
    env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    message_args = ["commit", "-q", "--allow-empty", "-m", message]
    subprocess.run([*git, *message_args], cwd=root, check=True, capture_output=True, env=env)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    )
    return head.stdout.strip()


def test_a_parent_comes_before_a_branch_child_dated_before_it(tmp_path: Path) -> None:
    # base (Jan 2) has two children on two branches: new (Jan 3) and skewed (Jan 1, a clock
    # or rebase left it older than its parent). Git's default walk lists base before skewed.
    root = tmp_path / "repo"
    root.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    base = _commit(root, "base", "2030-01-02T00:00:00")
    new = _commit(root, "new", "2030-01-03T00:00:00")
    subprocess.run(["git", "checkout", "-q", "-b", "side", base], cwd=root, check=True)
    skewed = _commit(root, "skewed", "2030-01-01T00:00:00")
    positions = hist.commit_positions(root)
    assert set(positions) == {base, new, skewed}
    assert positions[base] == 0 and {positions[new], positions[skewed]} == {1, 2}
    assert hist.commit_positions(tmp_path / "absent") == {}  # not a repository: record order


def test_commit_order_is_stable_and_an_unknown_first_commit_stays_first() -> None:
    # Recorded: an unknown commit, 30 passes of k2, k0, an unknown commit after k0, then k1.
    # 30 ties: more than numpy's insertion-sort cut-off, so an unstable sort shows everywhere.
    recorded = ["u", *["k2"] * 30, "k0", "x", "k1"]
    frame = _frame([("fp", "time", "64x64", "a", 1.0)] * len(recorded))
    frame["commit"] = recorded
    frame["recorded_at"] = [f"2026-01-01T00:00:{i:02d}+00:00" for i in range(len(recorded))]
    ordered = hist.in_commit_order(frame, {"k0": 0, "k1": 1, "k2": 2})
    # u before every known commit, x right after k0 (recorded after it), ties in record order
    assert list(ordered.index) == [0, 31, 32, 33, *range(1, 31)]
    assert list(ordered["pass"]) == list(range(len(recorded)))


def test_read_history_refusals_name_the_file(tmp_path: Path) -> None:
    absent = tmp_path / "absent.csv"
    with pytest.raises(GateError) as exc:
        hist.read_history(absent)
    assert str(exc.value) == (
        f"no history at {absent}; add a pass with `python -m bench.regression record`"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(GateError, match=f"^{empty}: not a regression history CSV \\("):
        hist.read_history(empty)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81,\x9f\n")
    with pytest.raises(GateError, match=f"^{binary}: not a regression history CSV \\("):
        hist.read_history(binary)
    partial = tmp_path / "partial.csv"
    _frame([("fp", "time", "64x64", "a", 1.0)]).drop(columns=["cpu", "flops"]).to_csv(partial)
    with pytest.raises(GateError) as exc:
        hist.read_history(partial)
    assert (
        str(exc.value) == f"{partial}: not a regression history (missing columns ['cpu', 'flops'])"
    )


MIXED = [
    ("old", "time", "64x64", "a", 9.0),
    ("fp", "instructions", "64x64", "a", 8.0),
    ("fp", "time", "64x64", "b", 1.0),
    ("fp", "time", "128x128", "a", 7.0),
    ("fp", "time", "64x64", "a", 2.0),
    ("old", "time", "64x64", "a", 6.0),
    ("fp", "time", "64x64", "a", 3.0),
]


def test_a_series_is_the_latest_rows_fingerprint_signal_and_input_per_model() -> None:
    per_model = hist.series(_frame(MIXED))
    assert list(per_model) == ["a", "b"]
    assert list(per_model["a"].value) == [2.0, 3.0] and list(per_model["a"].index) == [0, 1]
    assert list(per_model["a"].columns) == [*hist.COLUMNS, "pass"]  # numbered in commit order
    assert list(per_model["b"].value) == [1.0]
    old = hist.series(_frame(MIXED), "old")  # the latest row's signal and input still apply
    assert list(old) == ["a"] and list(old["a"].value) == [9.0, 6.0]


def test_a_series_refuses_an_empty_history_or_an_unknown_fingerprint() -> None:
    with pytest.raises(GateError, match="^the history is empty$"):
        hist.series(_frame([]))
    with pytest.raises(GateError) as exc:
        hist.series(_frame(MIXED), "zzz")
    assert str(exc.value) == "no history rows with fingerprint 'zzz'"


def test_change_points_need_two_values_and_find_a_single_step() -> None:
    assert hist.change_points([]) == [] and hist.change_points([5.0]) == []
    assert hist.change_points([1.0, 2.0]) == [1]  # min_size 1: a one-point segment counts
    assert hist.change_points([1.0] * 3 + [1.2] * 5) == [3]  # any index, not only even ones
    assert hist.change_points([1.0] * 4) == []


def test_the_penalty_keeps_a_lasting_shift_of_twice_the_floor() -> None:
    # 5 + 5 points, relative step d: the split lowers the cost by 2.5 d^2 against (2 floor)^2,
    # so the edge is d = 0.06 / sqrt(2.5) = 3.79 % (of the median, here 101.5 or 102.5).
    assert hist.change_points([100.0] * 5 + [105.0] * 5) == [5]  # d = 4.9 %
    assert hist.change_points([100.0] * 5 + [103.0] * 5) == []  # d = 3.0 %
    assert hist.change_points([100.0] * 5 + [105.0] * 5, floor=0.04) == []  # edge 5.1 %
    assert hist.change_points([100.0] * 5 + [103.0] * 5, floor=0.02) == [5]  # edge 2.5 %


CHANGE_COLUMNS = ["model", "pass", "from commit", "to commit", "before", "after", "change (%)"]


def test_the_change_table_names_the_commits_and_the_medians_on_each_side() -> None:
    values = [1.0, 1.01, 0.99, 1.005, 1.2, 1.21, 1.19, 1.23]
    frame = _frame([("fp", "time", "64x64", "a", v) for v in values])
    table = hist.change_table(hist.series(frame))
    assert list(table.columns) == CHANGE_COLUMNS
    row = table.iloc[0].to_dict()
    assert len(table) == 1 and row == {
        "model": "a",
        "pass": 4,
        "from commit": C40[3][:10],
        "to commit": C40[4][:10],
        "before": pytest.approx(1.0025),
        "after": pytest.approx(1.205),
        "change (%)": pytest.approx(100 * (1.205 / 1.0025 - 1)),
    }
    assert hist.change_table(hist.series(frame), floor=0.2).empty  # the floor reaches the search


def test_no_change_gives_an_empty_table_with_its_columns() -> None:
    frame = _frame([("fp", "time", "64x64", "a", 1.0)] * 4)
    table = hist.change_table(hist.series(frame))
    assert table.empty and list(table.columns) == CHANGE_COLUMNS
