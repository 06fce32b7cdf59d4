"""A run's output files as one consistent set: staged, swapped in together, listed in a manifest.

:func:`publish` writes every file into a hidden staging folder beside the results, then moves the
previous set aside and the new one in (renames in one folder: a quick step that needs no space),
and writes ``manifest.json`` (run id, file names, sha256) last. An error or Ctrl-C while writing
leaves the previous set untouched; one during the swap puts it back. A file the previous set
listed that this run does not produce (``layer_profile.*`` after ``--no-profile``) is removed; a
file no manifest listed is never touched (``results/`` also holds other commands' files).

The manifest records the tool that wrote the set (``producer``) and the names that tool writes
(``outputs``). A run refuses a folder whose set another tool wrote (:func:`check_owner`), and a
manifest whose names are not plain file names inside the folder is corrupt (:func:`read_manifest`
raises): nothing outside the folder is ever moved, removed or read because a manifest names it.

:func:`recover` (called by :func:`publish` and at the start of a run) finishes or undoes a swap
that a killed process left half done and deletes stale staging folders. :func:`verify` tells
whether a folder holds one consistent set: ``python -m bench.report.publish FOLDER``.
:func:`claim` wraps a command's run: refusal before anything is created, and an ``--out`` the
run created is removed again when the run fails and leaves it empty.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
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

from architectures.errors import (
    EXIT_FAILED,
    ArgumentParser,
    InputFileError,
    OutputError,
    UsageError,
    error_boundary,
)
from bench.report import files as io

MANIFEST = "manifest.json"
STAGING = ".staging-"
PREVIOUS = ".previous-"

Writer = Callable[[Path], Any]

# Producers whose module may be imported for the names it writes (``OUTPUT_NAMES``) when a manifest
# predates the ``outputs`` field. A fixed list: a manifest never chooses what gets imported.
_KNOWN_PRODUCERS = ("bench.tables", "bench.receptive_field")


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
    """The manifest in ``folder``; ``None`` if there is none.

    Raises :class:`~architectures.errors.InputFileError` naming the manifest and the field when it
    is present but unreadable or malformed: wrong types, or a file name that is not a plain name
    inside ``folder`` (``..``, ``/``, an absolute path, a link that leads outside). Such a manifest
    is never acted on.
    """
    path = Path(folder) / MANIFEST
    if not os.path.lexists(path):
        return None
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, not a manifest")
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InputFileError(f"{path}: not a valid JSON manifest ({exc})") from None
    _check_schema(manifest, path)
    return manifest


def _check_schema(manifest: Any, path: Path) -> None:
    def bad(field: str, expected: str) -> InputFileError:
        return InputFileError(f"{path}: {field} must be {expected} (corrupt manifest)")

    if not isinstance(manifest, dict):
        raise bad("the top level", "a JSON object")
    for field in ("run_id", "producer", "written_utc"):
        if field in manifest and not isinstance(manifest[field], str):
            raise bad(f"field {field!r}", "a string")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise bad("field 'files'", "an object of file name -> {sha256, bytes}")
    outputs = manifest.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(n, str) for n in outputs):
        raise bad("field 'outputs'", "a list of file names")
    for name in [*files, *outputs]:
        _check_name(name, path)
    for name, entry in files.items():
        if not isinstance(entry, dict):
            raise bad(f"files[{name!r}]", "an object with sha256 and bytes")
        if not isinstance(entry.get("sha256"), str):
            raise bad(f"files[{name!r}].sha256", "a string")
        size = entry.get("bytes", 0)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise bad(f"files[{name!r}].bytes", "a whole number of bytes")


def _check_name(name: str, manifest: Path) -> None:
    """A manifest name must be a plain file name of the folder: the swap moves and removes
    ``folder / name``, so ``../x`` or ``/etc/x`` would reach files the set does not own."""
    folder = manifest.parent
    plain = (
        name not in ("", ".", "..", MANIFEST)
        and "/" not in name
        and "\\" not in name
        and "\0" not in name
        and not name.startswith((STAGING, PREVIOUS))
    )
    # A link in the folder that leads elsewhere counts as outside too (reading follows links).
    if plain and os.path.lexists(folder / name):
        plain = os.path.dirname(os.path.realpath(folder / name)) == os.path.realpath(folder)
    if not plain:
        raise InputFileError(
            f"{manifest}: entry {name!r} is not a file inside {folder} (corrupt manifest; "
            "nothing was moved or read)"
        )


def _outputs(manifest: dict) -> list[str]:
    """Names the tool that wrote ``manifest`` writes. Manifests before the ``outputs`` field:
    the names its (known) producer module declares, else none."""
    if "outputs" in manifest:
        return list(manifest["outputs"])
    producer = manifest.get("producer")
    if producer in _KNOWN_PRODUCERS:
        return list(getattr(importlib.import_module(producer), "OUTPUT_NAMES", ()))
    return []


def check_owner(folder: Path, producer: str, owned: Iterable[str] = ()) -> None:
    """Raise :class:`~architectures.errors.UsageError` when ``folder`` holds a set another tool
    wrote:
    replacing it would remove that tool's files (``bench.receptive_field --out results`` must not
    delete the tables). A corrupt manifest raises :class:`~architectures.errors.InputFileError`.

    Manifests that record no producer (none should exist: the field came with manifests, but a
    hand-edited one may lack it) are judged conservatively: the set is ``producer``'s only if it
    is empty, ``producer`` declares no names, or it lists one of ``owned`` (the names this tool
    writes); otherwise it is refused.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return
    files = set(manifest["files"])
    owned = set(owned)
    recorded = manifest.get("producer") or ""
    ours = recorded == producer if recorded else not files or not owned or bool(files & owned)
    if ours:
        return
    holder = recorded or "another tool (its manifest names none and lists none of our files)"
    raise UsageError(
        f"--out {folder} holds a result set written by {holder} ({MANIFEST}); "
        f"{producer or 'this run'} would replace it: choose another --out"
    )


@contextmanager
def claim(folder: Path, producer: str, owned: Iterable[str] = ()) -> Iterator[Path]:
    """Around a command's whole run into ``folder`` (``--out``): refuse it first, creating
    nothing, when another tool's set or a corrupt manifest is there; if the run fails or is
    interrupted, remove the folder again when this run created it and left it empty."""
    folder = Path(folder)
    if folder.is_dir():
        check_owner(folder, producer, owned)
    with io.removed_if_left_empty(folder):
        yield folder


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


def recover(folder: Path, producer: str | None = None, owned: Iterable[str] = ()) -> list[str]:
    """Undo a swap a killed run left half done; delete staging folders no live run holds.
    Returns what it did. Runs writing into the same folder at the same time do not disturb
    each other: each holds its staging folder, and swaps take turns. With ``producer``, first
    refuse a folder that holds another tool's set (:func:`check_owner`)."""
    with _lock(Path(folder)):
        if producer is not None:
            check_owner(Path(folder), producer, owned)
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
    Returns name -> final path (the manifest included). Raises
    :class:`~architectures.errors.UsageError` when ``folder`` holds another producer's set.
    """
    folder = Path(folder)
    owned = tuple(owned)
    run_id = run_id or new_run_id()
    folder.mkdir(parents=True, exist_ok=True)
    check_owner(folder, producer, owned)  # before writing anything
    staging = folder / f"{STAGING}{run_id}"
    staging.mkdir()
    try:
        with _lock(staging):
            recover(folder)  # skips our staging folder: we hold it
            names = _stage(staging, folder, writers, run_id, producer, owned)
            with _lock(folder):
                check_owner(folder, producer, owned)  # again: a run may have swapped in since
                _swap(folder, staging, names, _listed(folder, owned), run_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: folder / name for name in [*names, MANIFEST]}


def _stage(
    staging: Path,
    folder: Path,
    writers: Mapping[str, Writer],
    run_id: str,
    producer: str,
    owned: Iterable[str],
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
        "outputs": sorted(set(owned)),  # what `bench.report.publish` calls foreign when unlisted
    }
    io.write_json(manifest, staging / MANIFEST)
    return names


def verify(folder: Path, owned: Iterable[str] | None = None) -> list[str]:
    """Problems that make ``folder`` not one consistent set; empty when it is one.

    A foreign file is one of ``owned`` (default: the names the manifest's producer writes) that
    is present but not listed; other files (a user's notes, other commands' outputs) are ignored.
    Raises :class:`~architectures.errors.InputFileError` for a corrupt manifest.
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder / MANIFEST}: missing, the files are not known to be one set"]
    run_id = manifest.get("run_id")
    problems = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: listed in the manifest but missing")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{path}: changed since run {run_id} wrote it")
    owned = _outputs(manifest) if owned is None else owned
    problems += [
        f"{folder / n}: not written by run {run_id} (foreign)"
        for n in dict.fromkeys(owned)
        if n not in manifest["files"] and n != MANIFEST and (folder / n).is_file()
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
        if args.folder.exists() and not args.folder.is_dir():
            raise InputFileError(f"{args.folder}: is a file, not a folder")
        if not args.folder.is_dir():
            raise InputFileError(f"{args.folder}: no such folder")
        problems = verify(args.folder)
        manifest = read_manifest(args.folder) or {}
    for line in problems:
        print(line)
    if problems:
        return EXIT_FAILED
    print(
        f"{args.folder}: one consistent set, run {manifest.get('run_id')}, "
        f"{len(manifest.get('files', {}))} files"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
