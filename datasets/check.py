"""Check that a local LIP or MPII copy is read right: counts, bad records, a left/right sanity test.

``python -m datasets.check --dataset lip --root DIR [--split val] [--draw 8 --out DIR]`` reads
every annotation and image and prints what it found; it exits non-zero when any image is missing
or unreadable or any joint lies outside its image. ``--draw`` writes overlays (right side blue,
left side red, BGR) to look at. For front-facing people the right shoulder appears on the image's
left, so on LIP and MPII well over half of the persons should show ``R_Shoulder x < L_Shoulder x``;
a figure near 0 % means the joint order is mirrored.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from . import open_reader
from .figures import LIMBS
from .sample import AnnotationError, Sample


@dataclass
class CheckReport:
    samples: int = 0
    images_checked: int = 0
    problems: list[str] = field(default_factory=list)  # one line per bad image / joint
    zero_head_size: int = 0  # excluded from PCKh (LIP: head or neck missing)
    annotated: np.ndarray = field(default_factory=lambda: np.zeros(16, int))
    occluded: np.ndarray = field(default_factory=lambda: np.zeros(16, int))
    right_shoulder_left: float = float("nan")  # % of persons with R_Shoulder x < L_Shoulder x


def check_samples(samples: Sequence[Sample], load_images: bool = True) -> CheckReport:
    report = CheckReport(samples=len(samples))
    report.annotated = np.sum([s.valid for s in samples], axis=0, dtype=int)
    report.occluded = np.sum([s.valid & ~s.visible for s in samples], axis=0, dtype=int)
    report.zero_head_size = sum(not (s.head_size > 0) for s in samples)
    both = [s for s in samples if s.valid[12] and s.valid[13]]
    if both:
        report.right_shoulder_left = 100.0 * np.mean([s.keypoints[12, 0] < s.keypoints[13, 0] for s in both])
    for sample in samples if load_images else ():
        try:
            sample.load_image()
            report.images_checked += 1
        except (FileNotFoundError, AnnotationError) as error:
            report.problems.append(str(error))
    return report


def draw_overlay(sample: Sample) -> np.ndarray:
    image = sample.load_image()
    colours = {-1: (255, 80, 0), 1: (0, 0, 255), 0: (0, 200, 0)}
    for parent, child, side in LIMBS:
        if sample.valid[parent] and sample.valid[child]:
            p, c = (tuple(int(v) for v in np.round(sample.keypoints[j])) for j in (parent, child))
            cv2.line(image, p, c, colours[side], 2)
    for joint in np.flatnonzero(sample.valid):
        x, y = (int(v) for v in np.round(sample.keypoints[joint]))
        cv2.circle(image, (x, y), 3, (255, 255, 255) if sample.visible[joint] else (0, 0, 0), -1)
    return image


def format_report(report: CheckReport, joint_names: Sequence[str]) -> str:
    lines = [f"samples: {report.samples}, images read: {report.images_checked}, "
             f"problems: {len(report.problems)}",
             f"zero / missing head size (excluded from PCKh): {report.zero_head_size}",
             f"R_Shoulder left of L_Shoulder: {report.right_shoulder_left:.1f} % of persons",
             "joint: annotated / occluded"]
    lines += [f"  {name}: {a} / {o}" for name, a, o in zip(joint_names, report.annotated, report.occluded)]
    lines += [f"PROBLEM {line}" for line in report.problems[:20]]
    if len(report.problems) > 20:
        lines.append(f"... and {len(report.problems) - 20} more problems")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, choices=("lip", "mpii"))
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--split", default="val")
    parser.add_argument("--no-images", action="store_true", help="annotations only (fast)")
    parser.add_argument("--draw", type=int, default=0, help="write this many overlays to --out")
    parser.add_argument("--out", type=Path, default=Path("check_overlays"))
    args = parser.parse_args(argv)
    try:
        reader = open_reader(args.dataset, args.root, args.split)
    except (FileNotFoundError, AnnotationError, ValueError) as error:
        print(f"error: {error}")
        return 2
    report = check_samples(reader, load_images=not args.no_images)
    print(format_report(report, reader.layout.joint_names))
    if args.draw:
        args.out.mkdir(parents=True, exist_ok=True)
        for sample in list(reader)[: args.draw]:
            cv2.imwrite(str(args.out / f"{sample.id.replace('#', '_')}.jpg"), draw_overlay(sample))
        print(f"wrote {min(args.draw, len(reader))} overlays to {args.out}")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
