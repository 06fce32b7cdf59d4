"""PCKh evaluation of a (trained or untrained) model in the paper's table columns (Osokin 2019).

Prints the row; ``--out`` publishes ``eval_<model>.csv/.md`` beside earlier models' rows."""

from __future__ import annotations

import argparse
import math
from contextlib import ExitStack
from pathlib import Path

from architectures.errors import (
    ArgumentParser,
    InputFileError,
    UsageError,
    check_range,
    error_boundary,
)
from bench.accuracy.training.config import DATASETS, check_split

PRODUCER = "bench.evaluate"
PAPER_SCALES = (0.75, 1.0, 1.25)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m bench.evaluate", description=__doc__.split("\n")[0])
    opt = parser.add_argument
    # fmt: off
    opt("--model", required=True, help="registered model name")
    opt("--models-from", nargs="+", default=[], metavar="MODULE",
        help="import these modules first: their @register_model networks join the known models")
    opt("--checkpoint", type=Path, help="checkpoint or state_dict; omitted: seeded weights")
    opt("--trust-checkpoint", action="store_true", help="load --checkpoint with full unpickling, "
        "which can run code stored in the file: only for a file from a source you trust")
    opt("--dataset", required=True, choices=DATASETS, help="the data set's format")
    opt("--root", required=True, type=Path, help="dataset root (official layout)")
    opt("--split", default="val", help="train or val (test labels are not public)")
    opt("--scales", type=float, nargs="+", default=[1.0],
        help=f"input scales to average; the paper's: {' '.join(map(str, PAPER_SCALES))}")
    opt("--flip", action="store_true", help="also average the flipped image")
    opt("--input-size", type=int, nargs=2, metavar=("H", "W"),
        help="default: the checkpoint's training size, else the model's registered size")
    opt("--batch-size", type=int, default=16, help="images per forward")
    opt("--workers", type=int, default=0, help="data-loading processes (0: in this one)")
    opt("--max-samples", type=int, help="the first N persons (unset: all)")
    opt("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    opt("--out", type=Path, help="publish eval_<model>.csv/.md here (default: print only)")
    # fmt: on
    return parser


def check_args(args: argparse.Namespace) -> None:
    """Raise a user error naming the option that is wrong; cheap, so it runs before anything."""
    if args.dataset != "synthetic" and not args.root.is_dir():
        raise InputFileError(f"--root {args.root}: no such folder")
    check_split(f"--dataset {args.dataset}", args.split)
    bad = [s for s in args.scales if not (math.isfinite(s) and 0 < s <= 4)]
    if bad:
        raise UsageError(f"--scales must be numbers in (0, 4], got {' '.join(map(str, bad))}")
    check_range("--batch-size", args.batch_size, 1)
    check_range("--workers", args.workers, 0)
    check_range("--max-samples", args.max_samples, 1)
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise InputFileError(f"--checkpoint {args.checkpoint}: no such file")


def run(args: argparse.Namespace) -> dict:
    """Resolve the model and device, check ``--out``, evaluate with a progress bar."""
    from tqdm import tqdm

    from architectures.registry import import_model_modules, require_models
    from bench.accuracy import evaluation
    from bench.measure.devices import resolve_device
    from bench.report.files import prepare_output

    import_model_modules(args.models_from)
    (model,) = require_models([args.model])
    device = resolve_device(args.device)
    if args.out is not None:
        prepare_output(args.out)  # an unwritable --out is found before the model runs
    with tqdm(desc=f"evaluate {model}", unit="batch", disable=None) as bar:
        return evaluation.evaluate_checkpoint(
            model,
            args.checkpoint,
            args.dataset,
            args.root,
            args.split,
            tuple(args.scales),
            args.flip,
            device,
            tuple(args.input_size) if args.input_size else None,
            args.batch_size,
            args.max_samples,
            args.workers,
            args.trust_checkpoint,
            on_start=lambda total: bar.reset(total=total),
            on_batch=bar.update,
        )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_boundary(parser), ExitStack() as stack:
        if args.out is not None:  # refuses another tool's set; removes a new --out left empty
            from bench.report.publish import claim

            stack.enter_context(claim(args.out, PRODUCER))
        check_args(args)
        row = run(args)
        import pandas as pd

        print(pd.DataFrame([row]).to_markdown(index=False, floatfmt=".2f"))
        if args.out is not None:
            from bench.accuracy.evaluation import publish_row

            written, replaced = publish_row(row, args.out, PRODUCER)
            if replaced:
                print(f"replaced {', '.join(replaced)} of the previous set in {args.out}")
            print(f"wrote {', '.join(sorted(written))} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
