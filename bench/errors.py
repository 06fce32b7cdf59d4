"""The project's user-error types: what a user can fix, as opposed to a bug.

Library code raises these; the command-line boundary (:mod:`bench.cli`) turns them into one line
and exit status 2. Each also derives from the built-in it refines, so code that already catches
``ValueError``, ``FileNotFoundError`` or ``RuntimeError`` keeps working.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; its message names the argument, file or device at fault."""


class UsageError(UserError, ValueError):
    """A bad argument: unknown name, value out of range, options that do not go together."""


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


class CheckpointError(InputFileError):
    """A checkpoint that cannot be read or was not made for the requested model."""
