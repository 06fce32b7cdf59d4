"""Train any registered pose model with the GCPM recipe (Osokin 2019, Sec. 3.2).

Also under ``torchrun``; last.pt, best.pt and log.jsonl go to ``--out`` (docs/accuracy.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from architectures.errors import ArgumentParser, error_boundary
from bench.accuracy.training.config import DATASETS, AugmentSwitches, ScheduleConfig, TrainConfig


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="python -m bench.train", description=__doc__.split("\n")[0])
    opt = parser.add_argument
    # fmt: off
    opt("--model", required=True, help="registered model name: the README's model table, or "
        "`python -c 'import architectures; print(*architectures.list_models())'`")
    opt("--models-from", nargs="+", default=[], metavar="MODULE",
        help="import these modules first: their @register_model networks join the known models")
    opt("--dataset", required=True, choices=DATASETS, help="the data set's format")
    opt("--root", required=True, type=Path, help="dataset root (official layout)")
    opt("--out", required=True, type=Path, help="checkpoints and log go here")
    opt("--epochs", type=int, default=100, help="epochs in all (a resumed run counts on)")
    opt("--batch-size", type=int, default=16, help="per process")
    opt("--lr", type=float, default=4e-5, help="initial Adam learning rate")
    opt("--patience", type=int, default=5, help="epochs without PCKh gain before lr/10")
    opt("--workers", type=int, default=2, help="data-loading processes (0: in this one)")
    opt("--seed", type=int, default=0, help="weights, shuffling and augmentation")
    opt("--device", default="auto", help="auto, cpu, cuda, cuda:1 ...")
    opt("--input-size", type=int, nargs=2, metavar=("H", "W"), help="override the model's input "
        "size (e.g. 128 128 for quick runs)")
    opt("--backbone-weights", type=Path, help="ImageNet MobileNet-v1 weights (local file)")
    opt("--resume", type=Path, help="checkpoint to resume from")
    opt("--restart", "--no-auto-resume", dest="restart", action="store_true",
        help="start afresh: ignore and replace --out's last.pt, best.pt and log.jsonl")
    opt("--trust-checkpoint", action="store_true", help="load --resume / last.pt / "
        "--backbone-weights with full unpickling, which can run code stored in the file: only "
        "for files from a source you trust")
    opt("--no-augment", action="store_true", help="train on the plain fit only")
    mask = parser.add_mutually_exclusive_group().add_argument
    mask("--body-masking", action="store_true", help="Table 1: + body masking")
    mask("--keypoint-masking", action="store_true", help="Table 1: + keypoints masking")
    opt("--max-val-samples", type=int, help="validate on the first N persons (unset: all)")
    opt("--validate-every", type=int, default=1, help="epochs between validations")
    opt("--synthetic-images", type=int, default=400, help="--dataset synthetic: images made")
    opt("--no-progress", action="store_true", help="no progress bars on stderr (logs, CI)")
    # fmt: on
    return parser


# Options whose value is the config field of the same name.
SAME = ("model", "dataset", "root", "out", "epochs", "batch_size", "lr", "workers", "seed")
SAME += ("device", "max_val_samples", "validate_every", "synthetic_images", "backbone_weights")
SAME += ("resume", "trust_checkpoint")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        **{name: getattr(args, name) for name in SAME},
        input_size=tuple(args.input_size) if args.input_size else None,
        auto_resume=not args.restart,
        augment=AugmentSwitches(not args.no_augment, args.body_masking, args.keypoint_masking),
        schedule=ScheduleConfig(patience=args.patience),
        progress=not args.no_progress,
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_boundary(parser):
        cfg = config_from_args(args)
        from architectures.registry import import_model_modules, require_models
        from bench.accuracy.training.loop import fit

        import_model_modules(args.models_from)
        require_models([cfg.model])
        run = fit(cfg)
    if run.history:
        last = run.history[-1]
        print(
            f"done: epoch {last['epoch']}, loss {last['train_loss']:.4g}, "
            f"val PCKh {last['val_pckh']}, best {run.best_pckh:.2f}; checkpoints in {cfg.out}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
