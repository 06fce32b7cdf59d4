"""Bad input on the command line ends in one line naming what is wrong, exit status 2, no traceback."""

from __future__ import annotations

import pytest

from bench import evaluate, train


@pytest.mark.parametrize(
    ("main", "argv", "named"),
    [
        (evaluate.main, ["--model", "no-such-net", "--dataset", "lip", "--root", "."], "no-such-net"),
        (train.main, ["--model", "no-such-net", "--dataset", "lip", "--root", ".", "--out", "x"],
         "no-such-net"),
        (train.main, ["--model", "gcpm-baseline", "--dataset", "lip", "--root", "/no/such/root",
                      "--out", "x"], "/no/such/root"),
    ],
)
def test_user_errors_exit_2_naming_the_culprit(main, argv, named, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    if "no-such-net" in argv:
        assert "gcpm-ushaped" in err  # the known names are listed
