"""The regression history: the fingerprint id, one row per model and pass, reading and appending
the CSV (cut files refused), which rows form a series (passes in record order), where a change
point starts (a step beyond the tolerance) and the change table. Passes are fabricated."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from bench.regression import history as hist
from bench.regression.model import GateConfig, GateError, ModelFigures, Pass
from tests.helpers import history_frame

C40 = [f"{i:02d}" + "abcdef0123456789" * 2 + "ab1234" for i in range(40)]  # 40 characters


def test_the_fingerprint_id_is_key_order_free_and_twelve_hex_digits() -> None:
    record = {"torch": "2.14.1", "cpu": "Xeon"}
    assert hist.fingerprint_id(record) == "cafd344c999c"
    assert hist.fingerprint_id({"cpu": "Xeon", "torch": "2.14.1"}) == "cafd344c999c"
    full = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    assert full.startswith("cafd344c999c") and len(full) > 12


def _pass(dirty: list[str], fingerprint: dict) -> Pass:
    config = GateConfig(reference="ref", input_size=(128, 64))
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
            "signal": "instructions",
            "input": "128x64",
            "model": "ref",
            "figure": "instructions",
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
            "signal": "instructions",
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
    assert list(per_model["a"].columns) == [*hist.COLUMNS, "pass"]  # passes numbered
    assert list(per_model["b"].value) == [1.0]


def test_a_series_refuses_an_empty_history() -> None:
    with pytest.raises(GateError, match="^the history is empty$"):
        hist.series(_frame([]))


def test_a_change_point_is_a_step_beyond_the_tolerance() -> None:
    assert hist.change_points([]) == [] and hist.change_points([5.0]) == []
    assert hist.change_points([1.0, 2.0]) == [1]
    assert hist.change_points([1.0] * 3 + [1.2] * 5) == [3]
    assert hist.change_points([1.0, 1.004, 0.997, 1.002, 0.999]) == []  # repeat spread
    assert hist.change_points([1.0, 1.25, 1.25], tolerance=0.25) == []  # exactly the tolerance
    assert hist.change_points([1.0, 1.25, 1.25], tolerance=0.2) == [1]
    assert hist.change_points([1.0, 0.5], tolerance=0.2) == [1]  # either way


CHANGE_COLUMNS = ["model", "pass", "from commit", "to commit", "before", "after", "change (%)"]


def test_the_change_table_names_the_commits_and_the_values_on_each_side() -> None:
    values = [1.0, 1.01, 0.99, 1.005, 1.2, 1.21, 1.19, 1.22]
    frame = _frame([("fp", "time", "64x64", "a", v) for v in values])
    table = hist.change_table(hist.series(frame))
    assert list(table.columns) == CHANGE_COLUMNS
    row = table.iloc[0].to_dict()
    assert len(table) == 1 and row == {
        "model": "a",
        "pass": 4,
        "from commit": C40[3][:10],
        "to commit": C40[4][:10],
        "before": pytest.approx(1.005),
        "after": pytest.approx(1.2),
        "change (%)": pytest.approx(100 * (1.2 / 1.005 - 1)),
    }
    assert hist.change_table(hist.series(frame), tolerance=0.2).empty


def test_no_change_gives_an_empty_table_with_its_columns() -> None:
    frame = _frame([("fp", "time", "64x64", "a", 1.0)] * 4)
    table = hist.change_table(hist.series(frame))
    assert table.empty and list(table.columns) == CHANGE_COLUMNS


# ---------------------------------------------------------------- passes and the plot


def _history(
    passes: list[tuple[str, float]], models: tuple[str, ...] = ("net",), start: int = 0
) -> pd.DataFrame:
    """One row per model and pass, in the given (record) order, second ``start`` on."""
    return history_frame(
        [
            {
                "recorded_at": f"2030-02-01T00:00:{start + i:02d}+00:00",
                "commit": commit,
                "model": model,
                "value": value,
            }
            for i, (commit, value) in enumerate(passes)
            for model in models
        ]
    )


def test_passes_are_numbered_in_record_order_and_plotted(tmp_path):
    c0, c1, c2 = C40[:3]
    frame = _history([(c2, 1.0), (c0, 1.0), (c1, 1.0)], models=("a", "b"))
    frame = pd.concat([frame, _history([(c1, 1.1)], models=("a",), start=3)], ignore_index=True)
    per_model = hist.series(frame)
    assert list(per_model["a"].commit) == [c2, c0, c1, c1]
    assert list(per_model["a"]["pass"]) == [0, 1, 2, 3]
    assert list(per_model["b"]["pass"]) == [0, 1, 2]  # b was not in c1's second pass
    changes = hist.change_table(per_model)
    assert list(changes["to commit"]) == [c1[:10]] and list(changes["pass"]) == [3]
    path = hist.plot(per_model, hist.change_table(per_model), tmp_path / "h.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- reading a history file


def _written(path: Path) -> Path:
    rows = [{"commit": f"c{i}", "recorded_at": f"t{i}", "value": 1.0 + i} for i in range(3)]
    history_frame(rows).to_csv(path, index=False)
    return path


def test_a_history_row_missing_its_last_fields_is_refused(tmp_path) -> None:
    path = _written(tmp_path / "h.csv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 2)[0]  # line 3 loses params and flops, line end kept
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(GateError, match="line 3 is cut short"):
        hist.read_history(path)


def test_a_whole_history_reads(tmp_path) -> None:
    assert len(hist.read_history(_written(tmp_path / "h.csv"))) == 3


def test_a_history_that_lost_only_its_last_line_end_is_refused(tmp_path) -> None:
    # Every field is there, yet a number may be cut short ("10" -> "1"): the lost line end says so.
    path = _written(tmp_path / "h.csv")
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    with pytest.raises(GateError, match=r"h\.csv: line 4 is cut short"):
        hist.read_history(path)


@pytest.mark.parametrize("column", ["value", "samples", "params", "flops"])
def test_a_history_row_without_any_one_figure_is_refused(tmp_path, column) -> None:
    frame = pd.read_csv(_written(tmp_path / "h.csv"))
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = None  # line 2, the first row after the header
    frame.to_csv(tmp_path / "h.csv", index=False)
    with pytest.raises(GateError, match="line 2 is cut short"):
        hist.read_history(tmp_path / "h.csv")


def test_a_history_with_its_header_only_reads_as_empty(tmp_path) -> None:
    path = tmp_path / "h.csv"
    history_frame([]).to_csv(path, index=False)
    assert hist.read_history(path).empty
