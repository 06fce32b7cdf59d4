"""Check that a local LIP or MPII copy is read right: counts, bad records, a left/right sanity test.

Every image is decoded in full; problems exit 1, a user error exits 2 (docs/datasets.md).
"""

from __future__ import annotations

import argparse
import errno
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from architectures.errors import ArgumentParser, OutputError, UsageError, error_boundary

from . import open_reader
from .figures import LIMBS, pixel
from .files import decode_fully
from .mpii import MpiiReader
from .sample import AnnotationError, Sample


@dataclass
class CheckReport:
    samples: int = 0
    images_checked: int = 0
    problems: list[str] = field(default_factory=list)  # one line per bad image / record
    outside: list[str] = field(default_factory=list)  # one line per person with a joint outside
    zero_head_size: int = 0  # excluded from PCKh (LIP: head or neck missing)
    annotated: np.ndarray = field(default_factory=lambda: np.zeros(16, int))
    occluded: np.ndarray = field(default_factory=lambda: np.zeros(16, int))
    right_shoulder_left: float = float("nan")  # % of persons with R_Shoulder x < L_Shoulder x


def check_samples(
    samples: Sequence[Sample],
    load_images: bool = True,
    annotation_file: Path | None = None,
    scored: bool = True,
) -> CheckReport:
    """What :func:`main` prints; ``scored``: a split PCKh scores (not ``train``)."""
    report = CheckReport(samples=len(samples))
    if not samples:
        named = f" {annotation_file}" if annotation_file is not None else ""
        report.problems.append(f"the annotation file{named} holds no records")
        return report
    report.annotated = np.sum([s.valid for s in samples], axis=0, dtype=int)
    report.occluded = np.sum([s.valid & ~s.visible for s in samples], axis=0, dtype=int)
    report.zero_head_size = sum(not (s.head_size > 0) for s in samples)
    both = [s.keypoints[12, 0] < s.keypoints[13, 0] for s in samples if s.valid[12] and s.valid[13]]
    if both:
        report.right_shoulder_left = 100.0 * np.mean(both)
    empty = "no annotated joint (every coordinate missing)"
    report.problems += [f"{s.source}: {empty}" for s in samples if not s.valid.any()]
    if scored and not any(s.head_size > 0 and s.scored.any() for s in samples):
        report.problems.append(
            f"none of the {len(samples)} records can be scored by PCKh (each lacks a head size or "
            "an annotated joint); give the head boxes (--headboxes) or fix the annotations"
        )
    for sample in samples if load_images else ():
        try:
            if sample.image_path is None:
                raise FileNotFoundError(f"{sample.source}: the annotation names no image file")
            height, width = decode_fully(sample.image_path, sample.source)  # a cut JPEG: refused
        except (FileNotFoundError, AnnotationError) as error:
            report.problems.append(str(error))
            continue
        report.images_checked += 1
        for joint in np.flatnonzero(sample.outside_image((height, width))):
            x, y = sample.keypoints[joint]
            where = f"at ({x:.1f}, {y:.1f}) outside the {width}x{height} image"
            report.outside.append(f"{sample.source}: joint {joint} {where}")
    return report


def draw_overlay(sample: Sample) -> np.ndarray:
    image = sample.load_image()
    colours = {-1: (255, 80, 0), 1: (0, 0, 255), 0: (0, 200, 0)}
    points = sample.keypoints
    for parent, child, side in LIMBS:
        if sample.valid[parent] and sample.valid[child]:
            cv2.line(image, pixel(points[parent]), pixel(points[child]), colours[side], 2)
    for joint in np.flatnonzero(sample.valid):
        colour = (255, 255, 255) if sample.visible[joint] else (0, 0, 0)
        cv2.circle(image, pixel(points[joint]), 3, colour, -1)
    return image


def format_report(report: CheckReport, joint_names: Sequence[str]) -> str:
    counts = f"samples: {report.samples}, images read: {report.images_checked}"
    lines = [
        f"{counts}, problems: {len(report.problems)}",
        f"zero / missing head size (excluded from PCKh): {report.zero_head_size}",
        f"R_Shoulder left of L_Shoulder: {report.right_shoulder_left:.1f} % of persons",
        "joint: annotated / occluded",
    ]
    lines += [
        f"  {name}: {a} / {o}" for name, a, o in zip(joint_names, report.annotated, report.occluded)
    ]
    outside = len(report.outside)
    lines.append(f"joints outside their image (kept and scored, not a problem): {outside}")
    lines += [f"  {line}" for line in report.outside[:10]]
    lines += [f"  ... and {outside - 10} more"] if outside > 10 else []
    lines += [f"PROBLEM {line}" for line in report.problems[:20]]
    problems = len(report.problems)
    lines += [f"... and {problems - 20} more problems"] if problems > 20 else []
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """0: no problem found; 1: problems (listed); a user error exits 2 in one line."""
    parser = ArgumentParser(prog="python -m datasets.check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, choices=("lip", "mpii"), help="the format")
    parser.add_argument("--root", required=True, type=Path, help="dataset root")
    parser.add_argument("--split", default="val", help="train or val")
    parser.add_argument("--no-images", action="store_true", help="annotations only (fast)")
    parser.add_argument("--draw", type=int, default=0, help="write this many overlays to --out")
    parser.add_argument("--out", type=Path, help="folder for the --draw overlays")
    parser.add_argument("--headboxes", type=Path, help="MPII: head boxes (.mat, headboxes_src)")
    args = parser.parse_args(argv)
    if args.draw < 0:
        parser.error(f"--draw must be >= 0, got {args.draw}")
    if args.draw and args.out is None:  # never a folder in whatever the current directory is
        parser.error("--draw needs --out DIR, the folder to write the overlays into")
    with error_boundary(parser):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.headboxes is None:
        reader = open_reader(args.dataset, args.root, args.split)
    elif args.dataset != "mpii":
        raise UsageError("--headboxes is for MPII; LIP's head size comes from its joints")
    else:
        reader = MpiiReader(args.root, args.split, headboxes=args.headboxes)
    if args.draw:  # before the long read, so that a bad --out does not waste it
        if args.out.exists() and not args.out.is_dir():
            raise OutputError(errno.ENOTDIR, f"--out {args.out}: exists and is not a folder")
        try:
            args.out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(error.errno, f"--out {args.out}: {error.strerror}") from None
    report = check_samples(
        reader, not args.no_images, getattr(reader, "path", None), scored=args.split != "train"
    )
    print(format_report(report, reader.layout.joint_names))
    written = 0
    for sample in list(reader)[: args.draw]:
        try:
            overlay = draw_overlay(sample)
        except (FileNotFoundError, AnnotationError):
            continue  # already listed as a problem
        path = args.out / f"{sample.id.replace('#', '_')}.jpg"
        if not cv2.imwrite(str(path), overlay):
            raise OutputError(errno.EIO, f"--out {args.out}: cannot write the overlay {path.name}")
        written += 1
    if args.draw:
        print(f"wrote {written} overlays to {args.out}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
