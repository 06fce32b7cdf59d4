"""A run's files as one set: staged, swapped in by renames under the folder's lock, listed last in
``manifest.json`` (run id, producer, sha256 per file); :func:`recover` undoes a half-done swap."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock

from architectures.errors import InputFileError, OutputError, UsageError
from bench.report import files as io

MANIFEST = "manifest.json"
STAGING = ".staging-"
PREVIOUS = ".previous-"
LOCK = ".publish.lock"

Writer = Callable[[Path], Any]


def new_run_id() -> str:
    """UTC time plus a random suffix: sortable, and unique for two runs in the same second."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(3)


def _lock(folder: Path) -> FileLock:
    return FileLock(Path(folder) / LOCK)


def read_manifest(folder: Path) -> dict | None:
    """The manifest in ``folder`` or ``None``; an InputFileError naming what is malformed."""
    path = Path(folder) / MANIFEST
    if not os.path.lexists(path):
        return None
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a folder, not a manifest") from None
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InputFileError(f"{path}: not a valid JSON manifest ({exc})") from None
    if problem := _schema_problem(manifest, Path(folder)):
        raise InputFileError(f"{path}: {problem} (corrupt manifest; nothing was moved or read)")
    return manifest


def _schema_problem(manifest: Any, folder: Path) -> str:
    if not isinstance(manifest, dict):
        return "the top level must be a JSON object"
    files, outputs = manifest.get("files"), manifest.get("outputs", [])
    if not isinstance(files, dict):
        return "field 'files' must be an object of file name -> {sha256}"
    if not isinstance(outputs, list) or not all(isinstance(n, str) for n in outputs):
        return "field 'outputs' must be a list of file names"
    if bad := [n for n, e in files.items() if not isinstance(e, dict) or "sha256" not in e]:
        return f"files[{bad[0]!r}] must be an object with a sha256"
    # The swap moves folder / name: "../x", "/etc/x" or a link leading out must not get there.
    real = folder.resolve()
    for n in [*files, *outputs]:
        if n in (MANIFEST, LOCK) or "\\" in n or "\0" in n or (folder / n).resolve().parent != real:
            return f"entry {n!r} is not a file inside {folder}"
    return ""


def check_owner(folder: Path, producer: str, owned: Iterable[str] = ()) -> None:
    folder = Path(folder)
    manifest = read_manifest(folder) or {"files": {}}
    holder = manifest.get("producer", "an unnamed tool")
    if manifest["files"] and holder != producer:
        raise UsageError(
            f"--out {folder} holds a result set written by {holder} ({MANIFEST}); "
            f"{producer} would replace it: choose another --out"
        )
    if stray := [n for n in owned if n not in manifest["files"] and (folder / n).exists()]:
        raise UsageError(
            f"--out {folder} holds {', '.join(stray)}, which no manifest of {producer} lists: "
            "move them away or choose another --out"
        )


@contextmanager
def claim(folder: Path, producer: str, owned: Iterable[str] = ()) -> Iterator[Path]:
    if Path(folder).is_dir():
        check_owner(folder, producer, owned)
    with io.removed_if_left_empty(folder):
        yield Path(folder)


def recover(folder: Path) -> list[str]:
    folder = Path(folder)
    if not any(folder.glob(f"{STAGING}*")) and not any(folder.glob(f"{PREVIOUS}*")):
        return []  # nothing to do, and no lock file left in a folder a failed run may remove
    with _lock(folder):
        return _recover(folder)


def _recover(folder: Path) -> list[str]:
    done, current = [], read_manifest(folder)
    for backup in sorted(folder.glob(f"{PREVIOUS}*")):
        run_id = backup.name.removeprefix(PREVIOUS)
        if not (current and current.get("run_id") == run_id):  # the new manifest never arrived
            staging = folder / f"{STAGING}{run_id}"
            for name in (read_manifest(staging) or {"files": {}})["files"]:
                if not (staging / name).exists():  # moved in before the kill
                    (folder / name).unlink(missing_ok=True)
            for path in backup.iterdir():
                os.replace(path, folder / path.name)
            done.append(f"restored the previous set from {backup.name}")
        shutil.rmtree(backup)
    for staging in sorted(folder.glob(f"{STAGING}*")):
        shutil.rmtree(staging)
        done.append(f"removed {staging.name}")
    return done


def _move(source: Path, target: Path) -> None:
    os.replace(source, target)


def publish(
    folder: Path,
    writers: Mapping[str, Writer],
    owned: Iterable[str] = (),
    producer: str = "",
    run_id: str | None = None,
    say: Callable[[str], object] = print,
) -> dict[str, Path]:
    """``writers`` (name -> ``writer(path)``) as the set replacing ``folder``'s; name -> path."""
    folder, owned, run_id = Path(folder), sorted(set(owned)), run_id or new_run_id()
    folder.mkdir(parents=True, exist_ok=True)
    with _lock(folder):
        _recover(folder)
        check_owner(folder, producer, owned)
        staging = folder / f"{STAGING}{run_id}"
        staging.mkdir()
        try:
            for name, write in writers.items():
                try:
                    write(staging / name)
                except OSError as exc:  # a full disk: named, the previous set stays
                    if exc.errno is None or isinstance(exc, OutputError):
                        raise
                    unchanged = "nothing was replaced: the previous results are unchanged"
                    msg = f"{folder / name}: {exc.strerror} ({unchanged})"
                    raise OutputError(exc.errno, msg) from exc
            files = {n: {"sha256": sha256(staging / n)} for n in writers}
            written = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            manifest = {"run_id": run_id, "producer": producer, "written_utc": written}
            io.write_json(manifest | {"files": files, "outputs": owned}, staging / MANIFEST)
            previous = read_manifest(folder) or {"files": {}}
            # The old set into .previous-<run_id>, the new one in, its manifest last.
            backup = folder / f"{PREVIOUS}{run_id}"
            backup.mkdir()
            for name in [n for n in [MANIFEST, *previous["files"]] if (folder / n).is_file()]:
                _move(folder / name, backup / name)
            for name in [*writers, MANIFEST]:
                _move(staging / name, folder / name)
            shutil.rmtree(backup)
            staging.rmdir()  # empty now: every file moved in
        except BaseException:
            _recover(folder)  # the previous set back, the staging folder gone
            raise
    if previous["files"]:
        count = len(previous["files"])
        say(f"replaced the set of run {previous.get('run_id')} ({count} files) in {folder}")
    return {name: folder / name for name in [*writers, MANIFEST]}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def verify(folder: Path, owned: Iterable[str] | None = None) -> list[str]:
    """Why ``folder`` is not one consistent set; ``owned`` default: the manifest's ``outputs``."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder / MANIFEST}: missing, the files are not known to be one set"]
    run_id, files = manifest.get("run_id"), manifest["files"]
    problems = []
    for n, entry in files.items():
        if not (folder / n).is_file():
            problems.append(f"{folder / n}: listed in the manifest but missing")
        elif sha256(folder / n) != entry["sha256"]:
            problems.append(f"{folder / n}: changed since run {run_id} wrote it")
    owned = manifest.get("outputs", []) if owned is None else owned
    problems += [
        f"{folder / n}: not written by run {run_id} (foreign)"
        for n in dict.fromkeys(owned)
        if n not in files and n != MANIFEST and (folder / n).is_file()
    ]
    return problems + [
        f"{p}: left by an interrupted run (the next run removes it)"
        for p in sorted(folder.glob(f"{STAGING}*")) + sorted(folder.glob(f"{PREVIOUS}*"))
    ]
