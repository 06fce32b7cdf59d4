"""Empirical receptive field of pose networks (GCPM, Osokin 2019, Sec. 3.3, Figs. 6-8).

Publishes the maps and table into ``--out`` as one set; see docs/accuracy.md."""

from __future__ import annotations

import argparse
from pathlib import Path

from architectures.errors import ArgumentParser, UsageError, check_range, error_boundary

# The set's tool, and the names it always writes (the maps' names depend on model and keypoint).
PRODUCER = "bench.receptive_field"
OUTPUT_NAMES = ("receptive_field.csv", "receptive_field.md")
MEASURES = ("peak", "l1")  # bench.accuracy.receptive_field.MEASURES
WINDOW = 11  # the default of bench.accuracy.receptive_field.RFConfig, as is --batch-size's


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m bench.receptive_field", description=__doc__.split("\n")[0]
    )
    opt = parser.add_argument
    # fmt: off
    opt("--model", required=True, nargs="+", help="one or more registered models")
    opt("--models-from", nargs="+", default=[], metavar="MODULE",
        help="import these modules first: their @register_model networks join the known models")
    opt("--checkpoint", type=Path, help="weights (one model only)")
    opt("--image", required=True, type=Path, help="a JPEG or PNG with one person")
    opt("--keypoint", nargs="+", default=["R_Hip"],
        help="joint names of the model's layout (LIP: R_Hip, L_Elbow, ...)")
    opt("--out", type=Path, default=Path("runs/receptive_field"),
        help="folder for the maps and table (the committed ones: results/receptive_field)")
    opt("--window", type=int, default=WINDOW, help="occluder side in pixels")
    opt("--stride", type=int, default=WINDOW, help="default: the window")
    opt("--batch-size", type=int, default=16, help="occluded images per forward")
    opt("--measure", choices=MEASURES, default=MEASURES[0], help="how a heatmap change is counted")
    opt("--seed", type=int, default=0, help="weights of untrained models and the noise")
    opt("--device", default="auto", help="auto, cpu, cuda, cuda:N")
    opt("--no-bn-calibration", action="store_true",
        help="untrained models: keep BatchNorm's initial statistics (see calibrate_batchnorm)")
    # fmt: on
    return parser


def check_numbers(args: argparse.Namespace) -> None:
    """The checks that need no import: option values and combinations."""
    if args.checkpoint is not None and len(args.model) > 1:
        raise UsageError("--checkpoint applies to a single --model")
    for option in ("window", "stride", "batch_size"):
        check_range(f"--{option.replace('_', '-')}", getattr(args, option), low=1)
    check_range("--seed", args.seed, 0, 2**63 - 1)  # torch's generator takes a 64-bit seed


def check_args(args: argparse.Namespace):
    """Every check before a model runs, ``--out`` last; returns the device."""
    from architectures.registry import import_model_modules, require_models
    from bench.accuracy.receptive_field_outputs import check_models
    from bench.measure.devices import resolve_device
    from bench.report import publish
    from bench.report.files import prepare_output, readable_file
    from datasets.files import decode_fully

    import_model_modules(args.models_from)
    args.model = require_models(args.model)
    check_models(args.model, args.keypoint, args.window)
    readable_file(args.image, f"--image {args.image}")
    decode_fully(args.image, "--image")  # in full: OpenCV reads a truncated JPEG without a word
    if args.checkpoint is not None:
        readable_file(args.checkpoint, f"--checkpoint {args.checkpoint}")
    device = resolve_device(args.device)
    check_folder(args.out, publish.read_manifest)
    publish.check_owner(args.out, PRODUCER, OUTPUT_NAMES)
    prepare_output(args.out, "--out")
    return device


def check_folder(out: Path, read_manifest) -> None:
    """Refuse an ``--out`` that holds files but no result set: they are no run's of ours."""
    if not out.is_dir() or read_manifest(out) is not None:
        return
    files = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    if files:
        raise UsageError(
            f"--out {out} holds files no result set lists ({', '.join(files[:3])}"
            f"{' ...' if len(files) > 3 else ''}); choose an empty or new folder"
        )


def run(args: argparse.Namespace):
    """Check, load every model, measure them under one progress bar, publish one set."""
    device = check_args(args)
    import pandas as pd
    from tqdm import tqdm

    from bench.accuracy.receptive_field import RFConfig, count_batches
    from bench.accuracy.receptive_field_outputs import measure_model, table_writers
    from bench.accuracy.training.model import load_model
    from bench.report import publish

    publish.recover(args.out)
    cfg = RFConfig(args.window, args.stride, args.batch_size, args.seed, measure=args.measure)
    models = [load_model(m, args.checkpoint, device, seed=args.seed) for m in args.model]
    total = sum(count_batches(m.info.input_size, cfg) for m in models)
    frames, writers = [], {}
    with tqdm(total=total, unit="batch", disable=None) as bar:
        for model in models:
            bar.set_description(f"receptive field {model.info.name}")
            calibrate = not args.no_bn_calibration
            frame, overlays = measure_model(
                model, args.checkpoint, args.image, args.keypoint, cfg, calibrate, bar.update
            )
            frames.append(frame)
            writers.update(overlays)
    table = pd.concat(frames, ignore_index=True)
    writers.update(table_writers(table))
    written = publish.publish(args.out, writers, owned=OUTPUT_NAMES, producer=PRODUCER)
    return table, written


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # claim: a run that fails removes the --out folder it created, if it left it empty.
    with error_boundary(parser):
        check_numbers(args)
        from bench.report.publish import claim

        with claim(args.out, PRODUCER, OUTPUT_NAMES):
            table, written = run(args)
    shown = ["model", "keypoint", "area_90", "spread_px", "spread_rel"]
    print(table[shown].to_markdown(index=False))
    print(f"wrote {len(written)} files (maps, receptive_field.csv/.md, manifest) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
