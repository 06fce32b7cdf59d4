"""User errors (what a user can fix, as opposed to a bug) and the one command-line boundary.

Standard library only, so a command answers ``--help`` before torch loads. Exit status (the README
lists it): 0 done; 1 the command's "not ok" verdict; 2 usage; 3 internal error; 130 interrupted.
"""

from __future__ import annotations

import argparse
import errno
import math
import sys
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

EXIT_OK = 0
EXIT_FAILED = 1  # the command's verdict, not an error: regressed, problems found
EXIT_USAGE = 2
EXIT_INTERNAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


class UserError(Exception):
    """Something the user can fix; its message names the argument, file or device at fault."""


class UsageError(UserError, ValueError):
    """A bad argument: unknown name, value out of range, options that do not go together."""


class UnknownNameError(UsageError, KeyError):
    """A name not among the known ones (the message lists them); a ``KeyError`` for lookups."""

    def __str__(self) -> str:  # KeyError's own __str__ would quote the whole message
        return str(self.args[0]) if self.args else ""


class InputFileError(UserError, ValueError):
    """A file or folder that is missing, unreadable or malformed (the message names it)."""


class OutputError(UserError, OSError):
    """An output that cannot be created or written; ``OutputError(errno, message)`` prints the
    message alone."""

    def __str__(self) -> str:
        return self.strerror if self.strerror else super().__str__()


class DeviceError(UserError, RuntimeError):
    """A device that is not present on this machine or cannot run the work (``meta``)."""


# OS errors about paths, permissions or space are the user's to fix; any other is a bug.
_USER_OS_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)
_USER_ERRNOS = {
    *(errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EACCES, errno.EPERM, errno.EROFS),
    *(errno.ENOSPC, errno.EDQUOT, errno.EEXIST, errno.ENAMETOOLONG, errno.EFBIG),
}


def is_user_error(err: BaseException) -> bool:
    """Whether ``err`` is the user's to fix (reported in one line) rather than a bug."""
    if isinstance(err, (UserError, *_USER_OS_ERRORS)):
        return True
    return isinstance(err, OSError) and err.errno in _USER_ERRNOS


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (an OSError with its file names)."""
    if isinstance(err, OSError) and err.strerror and not isinstance(err, UserError):
        names = [str(n) for n in (err.filename, err.filename2) if n is not None]
        text = f"{': '.join(names)}: {err.strerror}" if names else err.strerror
    else:
        text = str(err) or type(err).__name__
    return " ".join(text.split())


Prog = str | argparse.ArgumentParser


def _prog(prog: Prog) -> str:
    return prog.prog if isinstance(prog, argparse.ArgumentParser) else prog


def fail(prog: Prog, message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``prog: error: message`` (one line) on stderr and exit with ``code``."""
    print(f"{_prog(prog)}: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(code)


@contextmanager
def error_boundary(prog: Prog) -> Iterator[None]:
    """A user error escaping the block exits 2 in one line, Ctrl-C 130, a bug 3 with its
    traceback; ``SystemExit`` passes through. Warnings read ``prog: warning: message``."""
    with warnings.catch_warnings():
        # one line, like the errors: the source line of the warn() call tells a user nothing
        warnings.showwarning = lambda message, *args, **kwargs: print(
            f"{_prog(prog)}: warning: {' '.join(str(message).split())}", file=sys.stderr
        )
        yield from _boundary(prog)


def _boundary(prog: Prog) -> Iterator[None]:
    try:
        yield
    except KeyboardInterrupt:
        print(
            f"{_prog(prog)}: interrupted; results written before this run are unchanged",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as err:  # noqa: BLE001 - this is the boundary
        if is_user_error(err):
            fail(prog, one_line(err))
        traceback.print_exc()
        fail(
            prog,
            f"internal error (a bug, please report it with the traceback above): "
            f"{type(err).__name__}: {one_line(err)}",
            EXIT_INTERNAL,
        )


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) and every option's default in its help."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        fail(self, f"{message} (see --help)")


def check_range(
    name: str, value: float | None, low: float | None = None, high: float | None = None
) -> None:
    """A :class:`UsageError` naming ``name`` unless ``low <= value <= high`` (None: no bound)."""
    if value is None:
        return
    if (
        math.isnan(value)
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}"
        if low is None or high is None:
            bounds = f">= {low}" if high is None else f"<= {high}"
        raise UsageError(f"{name} must be {bounds}, got {value}")
