"""Generated pose data in the official LIP and MPII layouts, read back by the real readers.

The same seed gives the same files; a set is swapped in whole and listed in
``.synthetic_files.json``; a folder holding anything else is refused (docs/datasets.md).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from architectures.errors import InputFileError, UsageError, check_range

from ..atomic import staging_folder, swap_folder, write_bytes
from .writers import WRITERS, Drawn, SyntheticConfig, Written, num_val

__all__ = [
    "FORMATS",
    "MANIFEST",
    "Drawn",
    "SyntheticConfig",
    "Written",
    "earlier_set",
    "generate",
    "is_generated",
]

FORMATS = tuple(WRITERS)
MANIFEST = ".synthetic_files.json"  # the files of the set, relative to ``out``


def generate(config: SyntheticConfig) -> Written:
    """Write the set, replacing our earlier one; returns per split the names and drawn figures."""
    if config.format not in FORMATS:
        raise UsageError(f"unknown format {config.format!r}; expected one of {FORMATS}")
    check_range("num_images", config.num_images, 2)  # one for train, one for val
    check_range("seed", config.seed, 0)  # numpy's own message would not name the seed
    check_range("val_fraction", config.val_fraction, 0, 1)
    if num_val(config) >= config.num_images:
        raise UsageError(
            f"val_fraction {config.val_fraction} leaves no image of {config.num_images} for the "
            "train split; give a smaller fraction or more images"
        )
    earlier_set(config.out)  # refuses a folder of other files before any work
    staging = staging_folder(config.out)
    try:
        written = WRITERS[config.format](replace(config, out=staging))
        files = sorted(_files_under(staging))
        manifest = {"format": config.format, "num_images": config.num_images, "files": files}
        write_bytes(staging / MANIFEST, json.dumps(manifest, indent=1).encode())
        swap_folder(staging, config.out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already once swapped in
    return written


def is_generated(root: Path) -> bool:
    """Whether ``root`` is a set of this generator: results from it are labelled as such."""
    return (Path(root) / MANIFEST).is_file()


def earlier_set(out: Path) -> int | None:
    """Files of our earlier set in ``out`` (None: absent or empty); other content is refused."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise InputFileError(f"--out {out}: exists and is not a folder")
    present = _files_under(out)
    if not present:
        return None
    try:
        listed = set(json.loads((out / MANIFEST).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):  # no readable manifest of ours
        listed = None
    foreign = sorted(present - (listed or set()) - {MANIFEST})
    if listed is None or foreign:
        example = f" (e.g. {foreign[0]})" if foreign else ""
        raise InputFileError(
            f"--out {out}: holds files that are not a generated data set{example}; give an empty "
            "or new folder"
        )
    return len(present)


def _files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
