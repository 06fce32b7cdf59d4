"""One training run per output folder: an exclusive lock on ``<out>/.lock`` for the whole run.

The lock is an ``flock`` on that file, so the kernel drops it when its process ends, however it
ends: a lock file left behind by a killed run holds no lock and the next run takes it over (its pid,
written in the file, only serves the message). A second run into a folder in use is refused with
:class:`~architectures.errors.OutputError` naming the folder and the holder's pid and host. POSIX
only (``fcntl``), like the rest of the training tooling.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from architectures.errors import OutputError

LOCK_NAME = ".lock"


def _holder(fd: int) -> str:
    text = os.pread(fd, 200, 0).decode(errors="replace").split()
    return f"pid {text[0]} on {text[1]}" if len(text) >= 2 else "a process that has not said"


def _acquire(out: Path) -> int:
    path = out / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                exc.errno, f"--out {out}: cannot create a lock file there ({exc.strerror})"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise OutputError(
                errno.EBUSY,
                f"--out {out} is in use by another training run "
                f"({holder}); wait for it or choose another --out",
            ) from None
        try:  # the previous holder may have removed the file between our open and our lock
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


@contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold ``<out>/.lock`` (``out`` must exist) for the block; the file is removed after."""
    out = Path(out)
    fd = _acquire(out)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
        yield out / LOCK_NAME
    finally:
        (out / LOCK_NAME).unlink(missing_ok=True)
        os.close(fd)
