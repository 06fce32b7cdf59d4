"""The error boundary every entry point shares: one line for a user's mistake, a traceback for
a bug.

Exit status (documented in the README):

- 0: done; 1: the command's own "not ok" verdict (the regression gate: regressed;
  ``datasets.check``: problems found);
- 2: usage: a bad argument, a missing, unreadable or malformed file, an unwritable output, a full
  disk, a device that is not there, an incompatible checkpoint. One line on stderr names it;
- 3: internal error, a bug: the traceback is kept, then one line;
- 130: interrupted (Ctrl-C); results written before the run started are left as they were.

Use :func:`error_boundary` around the body of ``main`` (after ``parse_args``), and
:class:`ArgumentParser` for argparse's own errors in one line as well.
"""

from __future__ import annotations

import argparse
import errno
import math
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from bench.errors import (
    CheckpointError,
    DeviceError,
    InputFileError,
    OutputError,
    UsageError,
    UserError,
)
from datasets import AnnotationError

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "ArgumentParser",
    "CheckpointError",
    "DeviceError",
    "InputFileError",
    "OutputError",
    "UsageError",
    "UserError",
    "check_range",
    "error_boundary",
    "fail",
    "one_line",
    "user_errors_exit",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the command's verdict, not an error: regressed, problems found
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C

# Operating-system errors a user causes or fixes (paths, permissions, space), reported in one line.
# Any other OSError is treated as a bug.
_USER_ERRNOS = {
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EEXIST,
    errno.ENAMETOOLONG,
    errno.EFBIG,
}


def _legacy_user_errors() -> tuple[type[BaseException], ...]:
    # An unknown model / layout / joint raises KeyError listing the known names.
    return (KeyError, FileNotFoundError, NotADirectoryError, AnnotationError)


Prog = str | argparse.ArgumentParser


def _prog(prog: Prog) -> str:
    return prog.prog if isinstance(prog, argparse.ArgumentParser) else prog


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (KeyError's repr quotes are dropped)."""
    if isinstance(err, KeyError) and err.args and type(err).__str__ is KeyError.__str__:
        text = str(err.args[0])
    elif isinstance(err, OSError) and err.strerror and not isinstance(err, UserError):
        names = [str(n) for n in (err.filename, err.filename2) if n is not None]
        text = f"{': '.join(names)}: {err.strerror}" if names else err.strerror
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


def _is_user_error(err: BaseException, extra: tuple[type[BaseException], ...]) -> bool:
    if isinstance(err, (UserError, *extra)):
        return True
    return isinstance(err, OSError) and err.errno in _USER_ERRNOS


def fail(prog: Prog, message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``prog: error: message`` (one line) on stderr and exit with ``code``."""
    print(f"{_prog(prog)}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(code)


@contextmanager
def error_boundary(prog: Prog, user_errors: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn what escapes the block into an exit status and one line on stderr.

    :class:`UserError` (and ``user_errors``, and OSErrors about paths, permissions or space) exit
    2; Ctrl-C exits 130; anything else is a bug: traceback, one line, exit 3. ``SystemExit``
    passes through untouched.
    """
    try:
        yield
    except KeyboardInterrupt:
        print(
            f"{_prog(prog)}: interrupted; results written before this run are unchanged",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as err:  # noqa: BLE001 - this is the boundary
        if _is_user_error(err, user_errors):
            fail(prog, one_line(err))
        traceback.print_exc()
        fail(
            prog,
            f"internal error (a bug, please report it with the traceback above): "
            f"{type(err).__name__}: {one_line(err)}",
            EXIT_INTERNAL,
        )


@contextmanager
def user_errors_exit(parser: argparse.ArgumentParser) -> Iterator[None]:
    """:func:`error_boundary` that also takes KeyError (unknown model, layout or joint),
    FileNotFoundError, NotADirectoryError and AnnotationError as user errors (first API)."""
    with error_boundary(parser, _legacy_user_errors()):
        yield


class ArgumentParser(argparse.ArgumentParser):
    """argparse whose errors are one line (``prog: error: ... (see --help)``), exit 2."""

    def error(self, message: str) -> NoReturn:
        fail(self, f"{message} (see --help)")


def check_range(
    name: str, value: float | None, low: float | None = None, high: float | None = None
) -> None:
    """Raise :class:`UsageError` naming ``name`` unless ``low <= value <= high``.

    ``None`` for a bound means no bound.
    """
    if value is None:
        return
    if (
        math.isnan(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        bounds = (
            f">= {low}"
            if high is None
            else f"<= {high}"
            if low is None
            else f"between {low} and {high}"
        )
        raise UsageError(f"{name} must be {bounds}, got {value}")
