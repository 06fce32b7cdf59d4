"""Checks before a training run does any work; ``--out`` is locked (``filelock``) for the run."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from architectures import model_info
from architectures.errors import InputFileError, OutputError
from architectures.registry import check_input_size
from bench.accuracy.training import checkpoint as ckpt
from bench.accuracy.training.config import TrainConfig
from bench.report.files import prepare_output

LOCK_NAME = ".lock"
LOG_NAME = "log.jsonl"
RUN_FILES = (ckpt.LAST, ckpt.BEST, LOG_NAME)  # what a run writes into --out


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
        busy = f"in use by another training run ({_holder(path)}); wait for it or choose another"
        raise OutputError(errno.EBUSY, f"--out {out} is {busy} --out") from None
    except OSError as exc:
        reason = f"cannot create a lock file there ({exc.strerror})"
        raise OutputError(exc.errno, f"--out {out}: {reason}") from None
    try:
        yield path
    finally:
        lock.release()


def preflight(cfg: TrainConfig) -> None:
    """The checks that need no lock: the model takes the input size, the input paths exist."""
    info = model_info(cfg.model)
    check_input_size(info, cfg.input_size or info.input_size)
    root = Path(cfg.root)
    if not root.is_dir() and (root.exists() or cfg.dataset != "synthetic"):  # synthetic: made there
        what = "exists and is not a folder" if root.exists() else "no such folder"
        raise InputFileError(f"--root {root}: {what}")
    if cfg.backbone_weights is not None and not Path(cfg.backbone_weights).is_file():
        raise InputFileError(f"--backbone-weights {cfg.backbone_weights}: no such file")
    if cfg.resume is not None and not Path(cfg.resume).is_file():
        raise InputFileError(f"--resume {cfg.resume}: no such file")


@contextmanager
def claim_output(cfg: TrainConfig) -> Iterator[Path]:
    """``--out`` created, locked, probed (stale temporaries only under the lock); ``--restart``
    clears the last run's files; a folder this run created goes again if it fails empty."""
    out = Path(cfg.out)
    created = not out.is_dir()
    if created:  # a new folder holds no stale file: create and probe it before locking
        prepare_output(out)
    try:
        with output_lock(out):
            prepare_output(out)
            if not cfg.auto_resume and cfg.resume is None:
                for name in RUN_FILES:
                    (out / name).unlink(missing_ok=True)
            yield out
    except BaseException:
        if created and {p.name for p in out.iterdir()} <= {LOCK_NAME}:
            (out / LOCK_NAME).unlink(missing_ok=True)
            out.rmdir()
        raise
