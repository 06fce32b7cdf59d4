"""Reading callgrind's dumps and counting one call's instructions from them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.regression import callgrind

DUMP = """# callgrind format
version: 1
creator: callgrind-3.22.0
events: Ir
fn=(1) main
0 5
summary: 123456
totals: 123456
"""


def test_the_totals_line_is_the_instruction_count(tmp_path: Path) -> None:
    dump = tmp_path / "out.1"
    dump.write_text(DUMP)
    assert callgrind.read_total(dump) == 123456
    dump.write_text(DUMP.replace("summary: 123456\ntotals: 123456\n", "summary: 42\n"))
    assert callgrind.read_total(dump) == 42


def test_a_file_without_totals_is_no_dump(tmp_path: Path) -> None:
    dump = tmp_path / "out.1"
    dump.write_text("events: Ir\n")
    with pytest.raises(ValueError, match="no totals line"):
        callgrind.read_total(dump)


def test_each_call_reads_its_own_numbered_dump(tmp_path: Path, monkeypatch) -> None:
    toggles = []
    monkeypatch.setattr(callgrind.torch._C, "_valgrind_toggle", lambda: toggles.append("on"))
    monkeypatch.setattr(
        callgrind.torch._C, "_valgrind_toggle_and_dump_stats", lambda: toggles.append("dump")
    )
    for i, total in ((1, 10), (2, 20)):
        (tmp_path / f"out.{i}").write_text(f"totals: {total}\n")
    counter = callgrind.CallgrindCounter(tmp_path / "out")
    calls = []
    assert [counter(lambda: calls.append(1)) for _ in range(2)] == [10, 20]
    assert toggles == ["on", "dump", "on", "dump"] and len(calls) == 2


@pytest.mark.skipif(not callgrind.LATE_INSTRUMENTATION, reason="x86-64 only")
def test_outside_valgrind_a_client_request_answers_zero() -> None:
    assert callgrind.client_request(0x1001) == 0  # RUNNING_ON_VALGRIND
    callgrind.start_instrumentation()  # a no-op outside valgrind
