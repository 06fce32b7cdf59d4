"""What a user can fix, as opposed to a bug, and the one command-line boundary that reports it.

Every layer raises a subclass of :class:`UserError` for a mistake the user can correct; every
command wraps its work in :func:`error_boundary`, which turns one into a single line and exit
status 2. The types live here, in the lowest package, so that ``datasets`` and ``bench`` derive
their own errors from them without importing upwards; this module imports only the standard
library, so a command can answer ``--help`` or a usage error before torch is loaded.

Exit status (the README lists it): 0 done; 1 the command's own "not ok" verdict (the regression
gate found a regression, ``datasets.check`` found problems); 2 usage (bad argument, missing or
malformed file, unwritable output, absent device, incompatible checkpoint); 3 internal error (a
bug: the traceback is kept); 130 interrupted.
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
    """A name that is not among the known ones (model, layout, joint, runtime); the message lists
    them. A ``KeyError`` too, so that a lookup's caller may catch it as one."""

    def __str__(self) -> str:  # KeyError's own __str__ would quote the whole message
        return str(self.args[0]) if self.args else ""


class InputFileError(UserError, ValueError):
    """A file or folder that is missing, unreadable or malformed (the message names it)."""


class OutputError(UserError, OSError):
    """An output location that cannot be created or written (a file where a folder should be,
    no permission, read-only file system, full disk). ``OutputError(errno, message)`` keeps the
    errno for callers and prints as the message alone."""

    def __str__(self) -> str:
        return self.strerror if self.strerror else super().__str__()


class DeviceError(UserError, RuntimeError):
    """A device that is not present on this machine or cannot run the work (``meta``)."""


# Operating-system errors about paths, permissions or space are the user's to fix; any other
# OSError is treated as a bug.
_USER_OS_ERRORS = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)
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
    """Turn what escapes the block into an exit status and one line on stderr.

    A user error (:func:`is_user_error`) exits 2; Ctrl-C exits 130; anything else is a bug:
    traceback, one line, exit 3. ``SystemExit`` passes through untouched.
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
    """argparse whose errors are one line (``prog: error: ... (see --help)``), exit 2, and whose
    help shows every option's default."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.ArgumentDefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

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
