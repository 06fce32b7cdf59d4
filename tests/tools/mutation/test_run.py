"""``python tools/mutation/run.py``: its targets file, the focused tests found, the scratch copy's
mutmut section and the refusals. mutmut itself is not run here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import tomllib

SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "mutation" / "run.py"
_spec = importlib.util.spec_from_file_location("mutation_run", SCRIPT)
run = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = run
_spec.loader.exec_module(run)


def test_every_committed_target_is_a_source_file_with_tests() -> None:
    targets = run.load_targets(SCRIPT.parent / "targets.toml")
    for target, entry in targets.items():
        assert (run.ROOT / target).is_file(), target
        assert entry["tests"] and all(t.startswith("tests/") for t in entry["tests"]), target


def test_a_target_without_a_test_list_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "t.toml"
    config.write_text('[targets."a.py"]\nmutants = ["x*"]\n')
    with pytest.raises(TypeError, match="'a.py' has no tests"):
        run.load_targets(config)


def test_focused_tests_expand_globs_and_drop_missing_files() -> None:
    found = run.focused_tests(["tests/tools/mutation/test_r*.py", "tests/no_such_test.py"])
    assert found == ["tests/tools/mutation/test_run.py"]


def test_the_scratch_copy_mutates_only_its_target(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(run, "COPIED", ("pyproject.toml",))
    tests = ["tests/bench/regression/test_gate.py"]
    where = run.scratch_copy(tmp_path, "bench/regression/gate.py", tests)
    section = tomllib.loads((where / "pyproject.toml").read_text())["tool"]["mutmut"]
    assert section["only_mutate"] == ["bench/regression/gate.py"]
    assert section["pytest_add_cli_args_test_selection"] == tests
    assert where.name == "bench__regression__gate"


def test_an_unknown_target_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        run.main(["no/such.py"])
    assert exc.value.code == 2 and "not in" in capsys.readouterr().err
