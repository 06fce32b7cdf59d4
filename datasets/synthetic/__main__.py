"""``python -m datasets.synthetic``: the generator's command line."""

from __future__ import annotations

from pathlib import Path

from architectures.errors import ArgumentParser, error_boundary
from datasets import synthetic
from datasets.synthetic import FORMATS, SyntheticConfig, earlier_set, generate


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(
        prog="python -m datasets.synthetic", description=synthetic.__doc__.split("\n\n")[0]
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="the official layout")
    parser.add_argument("--out", required=True, type=Path, help="dataset root to create")
    parser.add_argument("--num-images", required=True, type=int, help="train and val together")
    parser.add_argument("--seed", type=int, default=0, help="the same seed writes the same files")
    parser.add_argument("--val-fraction", type=float, default=0.25, help="share for val")
    args = parser.parse_args(argv)
    config = SyntheticConfig(args.format, args.out, args.num_images, args.seed, args.val_fraction)
    with error_boundary(parser):
        earlier = earlier_set(args.out)
        generate(config)
        print(f"wrote {args.num_images} {args.format} images to {args.out}")
        if earlier is not None:
            print(f"replaced the earlier generated set in {args.out} ({earlier} files)")


if __name__ == "__main__":
    main()
