"""The regression gate's environment fingerprint: which /proc/cpuinfo flags count, the CPU name
and its fall-backs, the valgrind version, the record and how two records differ."""

from __future__ import annotations

import platform
import stat
from pathlib import Path

import pytest
import torch

from bench.regression import fingerprint as fp

XEON = (
    "processor\t: 0\n"
    "vendor_id\t: GenuineIntel\n"
    "model name\t: Intel(R) Xeon(R) Platinum 8480+  \n"
    "flags\t\t: fpu sse sse3 pni sse4_1 sse4_2 sse4a ssse3 avx avx2 avx512f avx512_bf16 "
    "amx_bf16 amx_tile fma fma4 f16c bmi1 bmi2 bmi3 avx_vnni vnni xavx2 AVX2\n"
    "bogomips\t: 4000.00\n"
    "\n"
    "processor\t: 1\n"
    "model name\t: Some Other CPU\n"
    "flags\t\t: fpu avx512_fp16\n"
)
XEON_ISA = [
    "amx_bf16",
    "amx_tile",
    "avx",
    "avx2",
    "avx512_bf16",
    "avx512f",
    "avx_vnni",
    "bmi1",
    "bmi2",
    "f16c",
    "fma",
    "sse4_1",
    "sse4_2",
    "ssse3",
    "vnni",
]
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd asimdhp sve sve2 crc32\n"


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cpuinfo"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_first_processors_name_and_only_kernel_relevant_flags(tmp_path: Path) -> None:
    assert fp._cpuinfo(_file(tmp_path, XEON)) == ("Intel(R) Xeon(R) Platinum 8480+", XEON_ISA)


def test_arm_features_count_and_the_name_falls_back_to_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "aarch64")
    assert fp._cpuinfo(_file(tmp_path, ARM)) == ("aarch64", ["asimd", "asimdhp", "sve", "sve2"])


def test_a_stray_byte_that_is_not_utf8_does_not_stop_the_read(tmp_path: Path) -> None:
    path = tmp_path / "cpuinfo"
    path.write_bytes(b"model name\t: Xeon \xff\nflags\t: avx2 \xfe fma\n")
    assert fp._cpuinfo(path) == ("Xeon \ufffd", ["avx2", "fma"])


def test_no_flags_line_gives_no_flags(tmp_path: Path) -> None:
    assert fp._cpuinfo(_file(tmp_path, "model name\t: Xeon\n")) == ("Xeon", [])


def test_an_unreadable_cpuinfo_falls_back_to_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "processor", lambda: "")
    assert fp._cpuinfo(tmp_path / "absent") == ("x86_64", [])
    monkeypatch.setattr(platform, "processor", lambda: "i386")
    assert fp._cpuinfo(tmp_path / "absent") == ("i386", [])


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="no /proc/cpuinfo (not Linux)")
def test_the_default_is_this_machines_cpuinfo() -> None:
    assert fp._cpuinfo() == fp._cpuinfo(Path("/proc/cpuinfo"))
    assert fp._cpuinfo()[0] != platform.machine()  # a model name was found, not the fall-back


def _tool(tmp_path: Path, output: str, status: int = 0) -> str:
    """A fake valgrind that answers ``--version`` (and nothing else) with ``output``."""
    exe = tmp_path / "valgrind"
    script = f"#!/bin/sh\n[ \"$*\" = --version ] || exit 3\nprintf '{output}'\nexit {status}\n"
    exe.write_text(script, encoding="utf-8")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


def test_valgrind_version_missing_unknown_or_its_first_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fp.shutil, "which", lambda name: None)
    assert fp.valgrind_version() == "missing"
    monkeypatch.setattr(fp.shutil, "which", lambda name: _tool(tmp_path, "  valgrind-3.22.0\\n"))
    assert fp.valgrind_version() == "valgrind-3.22.0"
    # A valgrind that cannot say its version (no output, failing) is "unknown", not a crash.
    monkeypatch.setattr(fp.shutil, "which", lambda name: _tool(tmp_path, "\\n", status=1))
    assert fp.valgrind_version() == "unknown"


def test_valgrind_is_looked_up_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(fp.shutil, "which", lambda name: asked.append(name))
    fp.valgrind_version()
    assert asked == ["valgrind"]


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fp, "_cpuinfo", lambda: ("Xeon", ["avx2"]))
    monkeypatch.setattr(fp, "valgrind_version", lambda: "valgrind-3.22.0")
    monkeypatch.setattr(platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(platform, "python_version", lambda: "3.12.1")


def _common(threads: int = 1) -> dict:
    return {
        "cpu": "Xeon",
        "isa": ["avx2"],
        "machine": "x86_64",
        "torch": torch.__version__,
        "python": "3.12.1",
        "threads": threads,
    }


@pytest.mark.usefixtures("machine")
def test_the_fingerprint_has_valgrind_and_the_sorted_isa_cap() -> None:
    record = fp.fingerprint({"b": "2", "a": "1"})
    assert record == {**_common(), "valgrind": "valgrind-3.22.0", "isa_cap": {"a": "1", "b": "2"}}
    assert list(record["isa_cap"]) == ["a", "b"]  # stored sorted: baselines diff cleanly
    assert fp.fingerprint({}, threads=2)["threads"] == 2


def test_differences_per_key_sorted_with_flags_as_missing_and_extra() -> None:
    base = {"torch": "2.14.1", "isa": ["amx_bf16", "avx2", "avx512f"], "cpu": "Xeon", "threads": 1}
    now = {"torch": "2.11.0", "isa": ["avx2", "fma", "avx_vnni"], "cpu": "Xeon", "extra": 1}
    assert fp.differences(base, now) == [
        "extra: None -> 1",
        "isa: missing amx_bf16 avx512f, extra avx_vnni fma",
        "threads: 1 -> None",
        "torch: '2.14.1' -> '2.11.0'",
    ]


def test_flags_only_added_or_only_removed_use_a_dash() -> None:
    assert fp.differences({"isa": ["avx2"]}, {"isa": ["avx2", "fma"]}) == [
        "isa: missing -, extra fma"
    ]
    assert fp.differences({"isa": ["avx2", "fma"]}, {"isa": ["avx2"]}) == [
        "isa: missing fma, extra -"
    ]


def test_a_list_against_a_non_list_is_shown_whole() -> None:
    assert fp.differences({"isa": ["avx2"]}, {"isa": "avx2"}) == ["isa: ['avx2'] -> 'avx2'"]
    assert fp.differences({"isa": "avx2"}, {"isa": ["avx2"]}) == ["isa: 'avx2' -> ['avx2']"]


def test_equal_records_and_reordered_flags_do_not_differ() -> None:
    assert fp.differences({"cpu": "Xeon", "isa": ["a"]}, {"isa": ["a"], "cpu": "Xeon"}) == []
    # Flags are a set: a baseline whose list was reordered by hand is still comparable (it was
    # refused as "isa: missing -, extra -" before).
    assert fp.differences({"isa": ["a", "b"]}, {"isa": ["b", "a"]}) == []
    assert fp.differences({}, {}) == []
