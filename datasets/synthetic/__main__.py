"""``python -m datasets.synthetic``: the generator's command line (a CLI on top of the layers,
so it may use :mod:`architectures.errors`'s error boundary; the library in ``__init__`` never
imports bench).
"""

from __future__ import annotations

from pathlib import Path

from architectures.errors import ArgumentParser, error_boundary
from datasets import synthetic
from datasets.synthetic import FORMATS, SyntheticConfig, generate

PROG = "python -m datasets.synthetic"


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog=PROG, description=synthetic.__doc__.split("\n\n")[0])
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--out", required=True, type=Path, help="dataset root to create")
    parser.add_argument("--num-images", required=True, type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-fraction", type=float, default=0.25)
    args = parser.parse_args(argv)
    generate(
        SyntheticConfig(
            format=args.format,
            out=args.out,
            num_images=args.num_images,
            seed=args.seed,
            val_fraction=args.val_fraction,
        )
    )
    print(f"wrote {args.num_images} {args.format} images to {args.out}")


if __name__ == "__main__":
    with error_boundary(PROG):
        main()
