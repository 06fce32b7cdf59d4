"""``python -m bench.result_set FOLDER``: check that a folder holds one consistent result set."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from architectures.errors import EXIT_FAILED, ArgumentParser, InputFileError, error_boundary


def main(argv: Sequence[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m bench.result_set", description=__doc__.split(":")[1])
    parser.add_argument("folder", type=Path, help="a folder a command published a set into")
    args = parser.parse_args(argv)
    with error_boundary(parser):
        from bench.report.publish import read_manifest, verify

        if not args.folder.is_dir():
            state = "is a file, not a folder" if args.folder.exists() else "no such folder"
            raise InputFileError(f"{args.folder}: {state}")
        problems = verify(args.folder)
        manifest = read_manifest(args.folder) or {"files": {}}
    count = len(manifest["files"])
    consistent = f"{args.folder}: one consistent set, run {manifest.get('run_id')}, {count} files"
    print("\n".join(problems) or consistent)
    return EXIT_FAILED if problems else 0


if __name__ == "__main__":
    sys.exit(main())
