"""User errors and the one command-line boundary: a mistake the user can fix ends in one line
naming what is wrong and exit status 2; a bug keeps its traceback and exits 3."""

from __future__ import annotations

import pytest

# ---------------------------------------------------------------- the shared boundary
# (architectures.errors)


def _boundary_exit(raised: BaseException, capsys) -> tuple[int, list[str]]:
    from architectures.errors import error_boundary

    with pytest.raises(SystemExit) as exit_info, error_boundary("prog"):
        raise raised
    return exit_info.value.code, capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    ("raised", "line"),
    [
        ("usage", "prog: error: --iters must be >= 1, got 0"),
        ("device", "prog: error: --device 'meta': no"),
        ("nospace", "prog: error: /out/t.csv: No space left on device"),
        ("denied", "prog: error: /out: Permission denied"),
    ],
)
def test_user_errors_exit_2_in_one_line(raised, line, capsys) -> None:
    import errno

    from architectures.errors import DeviceError, UsageError

    errors = {
        "usage": UsageError("--iters must be >= 1, got 0"),
        "device": DeviceError("--device 'meta': no"),
        "nospace": OSError(errno.ENOSPC, "No space left on device", "/out/t.csv"),
        "denied": PermissionError(errno.EACCES, "Permission denied", "/out"),
    }
    assert _boundary_exit(errors[raised], capsys) == (2, [line])


def test_a_bug_exits_3_and_keeps_its_traceback(capsys) -> None:
    code, err = _boundary_exit(KeyError("internal"), capsys)  # KeyError is a bug by default
    assert code == 3 and err[0] == "Traceback (most recent call last):"
    assert err[-1] == (
        "prog: error: internal error (a bug, please report it with the traceback "
        "above): KeyError: 'internal'"
    )


def test_ctrl_c_exits_130_in_one_line(capsys) -> None:
    code, err = _boundary_exit(KeyboardInterrupt(), capsys)
    assert code == 130 and len(err) == 1 and "interrupted" in err[0]


def test_system_exit_passes_through(capsys) -> None:
    assert _boundary_exit(SystemExit(1), capsys) == (1, [])


def test_argparse_errors_are_one_line(capsys) -> None:
    from architectures.errors import ArgumentParser

    parser = ArgumentParser(prog="prog")
    parser.add_argument("--n", type=int)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--n", "x"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "prog: error: argument --n: invalid int value: 'x' (see --help)"
    ]


def test_check_range_names_the_option() -> None:
    from architectures.errors import UsageError, check_range

    check_range("--iters", 1, low=1)
    check_range("--iters", None, low=1)
    for value in (0, float("nan")):
        with pytest.raises(UsageError, match="--iters must be >= 1"):
            check_range("--iters", value, low=1)
    with pytest.raises(UsageError, match="--fraction must be between 0 and 1, got 2"):
        check_range("--fraction", 2, 0, 1)


def test_a_value_error_that_is_not_a_user_error_is_a_bug(capsys) -> None:
    code, err = _boundary_exit(ValueError("a bug's message"), capsys)
    assert code == 3 and err[0] == "Traceback (most recent call last):"


def test_unknown_name_error_prints_its_message_unquoted() -> None:
    from architectures.errors import UnknownNameError

    error = UnknownNameError("unknown layout 'x'; known: lip, mpii")
    assert isinstance(error, KeyError) and str(error) == "unknown layout 'x'; known: lip, mpii"


# ---------------------------------------------------------------- --help of every command

COMMANDS = [
    ("bench.tables", []),
    ("bench.train", []),
    ("bench.evaluate", []),
    ("bench.score", []),
    ("bench.receptive_field", []),
    ("bench.compare", []),
    ("bench.result_set", []),
    ("datasets.synthetic.__main__", []),
    ("datasets.check", []),
    *[
        ("bench.regression.__main__", [sub])
        for sub in ("check", "update", "record", "history", "bisect")
    ],
]


@pytest.mark.parametrize(("module", "sub"), COMMANDS, ids=[" ".join([m, *s]) for m, s in COMMANDS])
def test_help_states_every_options_default(module, sub, capsys) -> None:
    import importlib
    import re

    with pytest.raises(SystemExit):
        importlib.import_module(module).main([*sub, "--help"])
    options = capsys.readouterr().out.split("options:")[-1]
    blocks = re.split(r"\n(?=  -)", options)
    silent = [b.split()[0] for b in blocks if b.strip().startswith("--") and "default" not in b]
    assert not silent, f"{module} {' '.join(sub)}: no default in the help of {silent}"


def test_a_warning_in_a_command_is_one_line_naming_the_command(capsys) -> None:
    import warnings

    from architectures.errors import error_boundary

    with error_boundary("prog"):
        warnings.warn("gcpm is registered for lip,\n used here on mpii", stacklevel=1)
    assert (
        capsys.readouterr().err == "prog: warning: gcpm is registered for lip, used here on mpii\n"
    )
