"""One training run per output folder: an exclusive ``filelock`` (``flock``) on ``<out>/.lock``,
which ends with its process however that ends; the holder's pid and host serve the refusal."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from architectures.errors import OutputError

LOCK_NAME = ".lock"


def _sign(fd: int) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)


def _holder(path: Path) -> str:
    try:
        text = path.read_text(errors="replace").split()
    except OSError:
        text = []
    return f"pid {text[0]} on {text[1]}" if len(text) >= 2 else "a process that has not said"


@contextmanager
def output_lock(out: Path) -> Iterator[Path]:
    """Hold ``<out>/.lock`` (``out`` must exist) for the block, or refuse in one line."""
    path = Path(out) / LOCK_NAME
    lock = FileLock(path, timeout=0, on_acquired=_sign)
    try:
        lock.acquire()
    except Timeout:
        raise OutputError(
            errno.EBUSY,
            f"--out {out} is in use by another training run ({_holder(path)}); wait for it or "
            f"choose another --out",
        ) from None
    except OSError as exc:
        raise OutputError(
            exc.errno, f"--out {out}: cannot create a lock file there ({exc.strerror})"
        ) from None
    try:
        yield path
    finally:
        lock.release()
