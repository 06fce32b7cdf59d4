"""Score anyone's predictions by the official MPII (or LIP) PCKh rules, or a named port's.

The formats it reads are in docs/datasets.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from architectures.errors import ArgumentParser, UsageError, error_boundary

ANONYMOUS = (
    "An array file (.mat, .h5, .npy, .npz, .json) names neither its dataset nor its images: LIP "
    "and MPII share one 16-joint order, so it is scored as whatever --ground-truth is when the "
    "person counts match (the printed table's first line names that dataset); a LIP CSV is "
    "matched by image name."
)
CONVENTION_NAMES = ("official", "bearpaw", "hrnet", "mmpose")  # datasets.conventions.CONVENTIONS


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="python -m bench.score", description=__doc__.split("\n\n")[0], epilog=ANONYMOUS
    )
    opt = parser.add_argument
    base = parser.add_mutually_exclusive_group()
    # fmt: off
    opt("predictions", type=Path, help="predictions file (N, 16, 2)")
    opt("--ground-truth", required=True, type=Path, help="gt_valid.mat / "
        "detections_our_format.mat, mpii_annotations.json(.gz), mmpose JSON, an MPII or LIP root, "
        "or lip_val_set.csv")
    opt("--headboxes", type=Path, help="head boxes (.mat, headboxes_src) for a JSON ground truth")
    opt("--split", default="val", help="split of a root (train, val) or bearpaw JSON (also all)")
    base.add_argument("--one-based", dest="base", action="store_const", const=1,
                      help="prediction pixels are MATLAB 1-based")
    base.add_argument("--zero-based", dest="base", action="store_const", const=0,
                      help="prediction pixels are 0-based (pixel centre of the top-left = 0)")
    opt("--convention", default="official", choices=CONVENTION_NAMES, help="whose PCKh table")
    opt("--threshold", type=float, default=0.5, help="PCKh threshold")
    opt("--json", action="store_true", help="print one JSON object instead")
    # fmt: on
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with error_boundary(parser):
        if not 0 < args.threshold <= 1:
            raise UsageError(f"--threshold must be in (0, 1], got {args.threshold}")
        from bench.accuracy.scoring import format_score, score_predictions

        score = score_predictions(
            args.predictions,
            args.ground_truth,
            args.base,
            args.convention,
            args.headboxes,
            args.split,
            args.threshold,
        )
    print(json.dumps(score.as_json()) if args.json else format_score(score, args.predictions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
