"""A run's output files as one consistent set: staged, swapped in together, listed in a manifest.

:func:`publish` writes every file into a hidden staging folder beside the results, then moves the
previous set aside and the new one in (renames in one folder: a quick step that needs no space),
and writes ``manifest.json`` (run id, file names, sha256) last. An error or Ctrl-C while writing
leaves the previous set untouched; one during the swap puts it back. A file the previous set
listed that this run does not produce (``layer_profile.*`` after ``--no-profile``) is removed; a
file no manifest listed is never touched (``results/`` also holds other commands' files).

:func:`recover` (called by :func:`publish` and at the start of a run) finishes or undoes a swap
that a killed process left half done and deletes stale staging folders. :func:`verify` tells
whether a folder holds one consistent set: ``python -m bench.result_set FOLDER``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import io
from bench.cli import EXIT_FAILED, ArgumentParser, error_boundary
from bench.errors import InputFileError, OutputError

MANIFEST = "manifest.json"
STAGING = ".staging-"
PREVIOUS = ".previous-"

Writer = Callable[[Path], Any]


def new_run_id() -> str:
    """UTC time plus a random suffix: sortable, and unique for two runs in the same second."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> dict | None:
    """The manifest in ``folder``, or ``None`` if there is none or it cannot be parsed."""
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return (
        manifest if isinstance(manifest, dict) and isinstance(manifest.get("files"), dict) else None
    )


def _listed(folder: Path, owned: Iterable[str]) -> list[str]:
    """Files of the set now in ``folder``: its manifest's, plus ``owned`` names present there
    (a folder written before manifests existed)."""
    manifest = read_manifest(folder)
    names = list(manifest["files"]) if manifest else []
    names += [n for n in owned if n not in names and (folder / n).is_file()]
    return names


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)


def _swap(folder: Path, staging: Path, new: list[str], old: list[str], run_id: str) -> None:
    """Old set (and its manifest) into ``.previous-<run_id>``, new set in, new manifest last."""
    backup = folder / f"{PREVIOUS}{run_id}"
    backup.mkdir()
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for name in [MANIFEST, *old]:
            if (folder / name).is_file():
                _move(folder / name, backup / name)
                moved_out.append(name)
        for name in new:
            _move(staging / name, folder / name)
            moved_in.append(name)
        _move(staging / MANIFEST, folder / MANIFEST)
    except BaseException:
        for name in moved_in:
            (folder / name).unlink(missing_ok=True)
        for name in moved_out:
            _move(backup / name, folder / name)
        shutil.rmtree(backup, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextmanager
def _lock(path: Path, wait: bool = True) -> Iterator[bool]:
    """``flock`` on the folder ``path`` itself (no lock file to leave behind); yields whether it
    was taken. The kernel drops it when the process dies, so a killed run never blocks the next."""
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def recover(folder: Path) -> list[str]:
    """Undo a swap a killed run left half done; delete staging folders no live run holds.
    Returns what it did. Runs writing into the same folder at the same time do not disturb
    each other: each holds its staging folder, and swaps take turns."""
    with _lock(Path(folder)):
        return _recover(Path(folder))


def _recover(folder: Path) -> list[str]:
    done = []
    current = read_manifest(folder)
    for backup in sorted(folder.glob(f"{PREVIOUS}*")):
        run_id = backup.name[len(PREVIOUS) :]
        if not (current and current.get("run_id") == run_id):  # the new manifest never arrived
            staging = folder / f"{STAGING}{run_id}"
            staged = read_manifest(staging) or {"files": {}}
            for name in staged["files"]:  # moved in: gone from staging; the rest is still there
                if not (staging / name).exists():
                    (folder / name).unlink(missing_ok=True)
            for path in backup.iterdir():
                os.replace(path, folder / path.name)
            done.append(f"restored the previous set from {backup.name}")
        shutil.rmtree(backup, ignore_errors=True)
    for staging in folder.glob(f"{STAGING}*"):
        with _lock(staging, wait=False) as stale:
            if stale:  # else a live run is writing into it
                shutil.rmtree(staging, ignore_errors=True)
                done.append(f"removed {staging.name}")
    return done


def _write(write: Writer, staged: Path, final: Path) -> None:
    """``write(staged)``; an OSError (full disk, file too large) names the file it was writing."""
    try:
        write(staged)
    except OSError as exc:
        if exc.errno is None or isinstance(exc, OutputError):
            raise
        raise OutputError(
            exc.errno,
            f"{final}: {exc.strerror} (nothing was replaced: the previous results are unchanged)",
        ) from exc


def publish(
    folder: Path,
    writers: Mapping[str, Writer],
    owned: Iterable[str] = (),
    producer: str = "",
    run_id: str | None = None,
) -> dict[str, Path]:
    """Write ``writers`` (file name -> ``writer(path)``) as the new set in ``folder``.

    ``owned``: names this producer may have written before manifests existed; with the previous
    manifest's list they form the previous set, which the new one replaces as a whole.
    Returns name -> final path (the manifest included).
    """
    folder = Path(folder)
    run_id = run_id or new_run_id()
    folder.mkdir(parents=True, exist_ok=True)
    staging = folder / f"{STAGING}{run_id}"
    staging.mkdir()
    try:
        with _lock(staging):
            recover(folder)  # skips our staging folder: we hold it
            names = _stage(staging, folder, writers, run_id, producer)
            with _lock(folder):
                _swap(folder, staging, names, _listed(folder, owned), run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: folder / name for name in [*names, MANIFEST]}


def _stage(
    staging: Path, folder: Path, writers: Mapping[str, Writer], run_id: str, producer: str
) -> list[str]:
    """Every file, then the manifest (sha256 of each), into ``staging``; returns the names."""
    for name, write in writers.items():
        _write(write, staging / name, folder / name)
    names = list(writers)
    files = {
        n: {"sha256": sha256(staging / n), "bytes": (staging / n).stat().st_size} for n in names
    }
    manifest = {
        "run_id": run_id,
        "producer": producer,
        "written_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": files,
    }
    io.write_json(manifest, staging / MANIFEST)
    return names


def verify(folder: Path, owned: Iterable[str] = ()) -> list[str]:
    """Problems that make ``folder`` not one consistent set; empty when it is one."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [
            f"{folder / MANIFEST}: missing or unreadable, the files are not known to be one set"
        ]
    problems = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
        elif sha256(path) != entry.get("sha256"):
            problems.append(f"{path}: changed since run {manifest.get('run_id')} wrote it")
    problems += [
        f"{folder / n}: not written by run {manifest.get('run_id')}"
        for n in owned
        if n not in manifest["files"] and (folder / n).is_file()
    ]
    problems += [
        f"{p}: left by an interrupted run (the next run removes it)"
        for p in sorted(folder.glob(f"{STAGING}*")) + sorted(folder.glob(f"{PREVIOUS}*"))
    ]
    return problems


def main(argv: list[str] | None = None) -> int:

    parser = ArgumentParser(
        prog="python -m bench.result_set",
        description="Check that a results folder holds one consistent set.",
    )
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    with error_boundary(parser):
        if not args.folder.is_dir():
            raise InputFileError(f"{args.folder}: no such folder")
        problems = verify(args.folder)
    for line in problems:
        print(line)
    if problems:
        return EXIT_FAILED
    manifest = read_manifest(args.folder) or {}
    print(
        f"{args.folder}: one consistent set, run {manifest.get('run_id')}, "
        f"{len(manifest.get('files', {}))} files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
