"""Everything ``bench.tables`` measures, in order, behind one progress bar; nothing is written
here: :class:`Measurements` goes to :mod:`bench.report.tables_outputs`."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import torch
from tqdm import tqdm

from architectures import ModelInfo, list_models, model_info
from architectures.errors import InputFileError, UsageError
from architectures.registry import build_at_size, input_shape
from bench.accuracy.evaluation import check_scorable, evaluate_checkpoint
from bench.accuracy.training.data import eval_dataset
from bench.accuracy.training.model import load_model
from bench.measure.complexity import FLOPS_COLUMN, Traced, complexity_table, table3, trace
from bench.measure.environment import environment_record
from bench.measure.latency import benchmark_models
from bench.measure.layer_profile import profile_models
from bench.measure.presets import Presets
from bench.measure.runtimes import timing
from bench.measure.runtimes.base import first_line
from bench.measure.runtimes.calibration import Calibration
from bench.report.files import readable_file
from datasets import AnnotationError, open_reader
from datasets.synthetic import is_generated

if TYPE_CHECKING:
    from bench.measure.runtimes.timing import RuntimeMeasurements


NOT_SCORED = "not scored"  # accuracy column: why a checkpoint has no figures


@dataclass
class Measurements:
    env: dict
    latency: pd.DataFrame
    counts: pd.DataFrame  # model, params_m, gmacs: raw counts, unrounded
    complexity: pd.DataFrame
    table3: pd.DataFrame
    layers: pd.DataFrame | None = None
    accuracy: pd.DataFrame | None = None
    runtimes: RuntimeMeasurements | None = None


def wants_runtimes(specs: Sequence[str]) -> bool:
    """``--runtimes none`` alone measures none; no specs measures every available one."""
    return not specs or any(s != timing.NONE for s in specs)


def traced_models(
    names: Sequence[str], device: torch.device, on_step: Callable[..., None]
) -> dict[str, Traced]:
    """Each model built once on ``device`` at its own input size and traced by fvcore, which is
    its first forward: a user's model that fails there stops the run before any timing."""
    traced = {}
    for name in names:
        model = build_at_size(name).eval().to(device)
        x = torch.randn(*input_shape(model.info), device=device)
        try:
            traced[name] = trace(model, x)
        except (RuntimeError, ValueError, TypeError, NotImplementedError) as exc:
            if name in list_models(module="architectures"):
                raise  # one of ours: a bug, with its traceback
            shape, why = "x".join(map(str, x.shape)), first_line(exc)
            raise UsageError(f"model {name}: forward on a {shape} input failed: {why}") from exc
        on_step(name, "fvcore")
    return traced


def model_counts(
    names: Sequence[str], traced: Mapping[str, Traced] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(model, params_m, gmacs) from the raw counts, and the full complexity table."""
    table = complexity_table(list(names), traced)
    raw = {"params_m": table["params"] / 1e6, "gmacs": table[FLOPS_COLUMN] / 1e9}
    return pd.DataFrame({"model": table["model"], **raw}), table


def measured_accuracy(
    checkpoints: Sequence[tuple[str, Path]],
    data_roots: Mapping[str, Path],
    device: torch.device,
    on_step: Callable[..., None],
) -> pd.DataFrame:
    """PCKh / Hip / AUC of trained checkpoints on the val split: "(ours, val)", since the paper's
    are on the test split (LIP and MPII test labels are not public). A fault in the data found
    while scoring (an image that does not decode) leaves that model unscored, with the reason in
    column ``NOT_SCORED`` and a warning: the timing done before is kept."""
    rows = []
    for name, path in checkpoints:
        dataset = model_info(name).dataset
        root = data_roots[dataset]
        try:
            result = evaluate_checkpoint(name, path, dataset, root, "val", device=str(device))
        except InputFileError as error:
            warnings.warn(f"{name} not scored: {error}", stacklevel=1)
            rows.append({"model": name, NOT_SCORED: str(error)})
            on_step("accuracy", name)
            continue
        which = "ours, generated val" if is_generated(root) else "ours, val"
        ours = {f"{c} ({which})": result[c] for c in ("PCKh", "Hip", "AUC") if c in result}
        rows.append({"model": name, **ours})
        on_step("accuracy", name)
    return pd.DataFrame(rows)


def measure(
    names: Sequence[str],
    device: torch.device,
    presets: Presets,
    *,
    runtimes: Sequence[str] = (),
    profile: bool = True,
    checkpoints: Sequence[tuple[str, Path]] = (),
    data_roots: Mapping[str, Path] | None = None,
    progress: bool = True,
) -> Measurements:
    """Run every measurement; ``progress``: a bar on stderr, quiet when it is not a terminal."""
    deploy = wants_runtimes(runtimes)  # the progress total counts every on_step call below
    scored = dict(checkpoints) or None  # runtimes rows scored with these weights
    data_roots = data_roots or {}  # dataset -> root: scoring and int8 calibration
    what = (runtimes, presets.runtimes, names, device)
    per_model = len(presets.mode_names) * presets.rounds + profile + 1  # + 1: its fvcore trace
    total = len(names) * per_model + 1 + len(checkpoints)
    total += timing.count_steps(*what, scored, data_roots) if deploy else 0
    with tqdm(total=total, unit="step", disable=None if progress else True, file=sys.stderr) as bar:

        def step(*label: str) -> None:
            bar.set_description_str(" ".join(label))
            bar.update()

        env = environment_record(device)
        # One build per model: counted, timed and profiled; the trace is its warm-up forward.
        traced = traced_models(names, device, step)
        built = {name: done.model for name, done in traced.items()}
        extra = [m for m in presets.mode_names if m != "fp32"]
        latency = pd.concat(
            benchmark_models(
                names, device, modes, config, on_step=step, rounds=presets.rounds, built=built
            )
            for modes, config in ((["fp32"], presets.fp32), (extra, presets.modes))
            if modes
        ).reset_index(drop=True)
        # coverage's divisor: the fp32 medians just timed, not a few more forwards per model
        fp32 = latency[(latency["mode"] == "fp32") & latency.median_ms.notna()]
        timed = dict(zip(fp32.model, fp32.median_ms))
        layers = (
            profile_models(
                names, device, presets.profile, on_step=step, latencies=timed, traced=traced
            )
            if profile
            else None
        )
        counts, complexity = model_counts(names, traced)
        del traced, built  # the runtimes build their own: free the device's memory for them
        deployed = timing.for_tables(*what, step, scored, data_roots) if deploy else None
        modules = table3()
        step("table 3")
        accuracy = measured_accuracy(checkpoints, data_roots, device, step) if checkpoints else None
    env["timing"] = {
        "fp32": asdict(presets.fp32),
        "other_modes": asdict(presets.modes),
        "profile": asdict(presets.profile),
        "modes": presets.mode_names,
        "interleaved_rounds": presets.rounds,
    }
    return Measurements(env, latency, counts, complexity, modules, layers, accuracy, deployed)


def calibrates(specs: Sequence[str], presets: Presets, device: torch.device) -> bool:
    """Whether the runtimes rows include int8, which calibrates on the training split."""
    named = timing.named_specs(specs)
    pairs = timing.selected(named, device, presets.runtimes)[0] if named is not None else []
    return any(precision == "int8" for _, precision in pairs)


def check_checkpoints(
    checkpoints: Sequence[tuple[str, Path]],
    data_roots: Sequence[Path],
    names: Sequence[str],
    calibrate: bool = False,
) -> dict[str, Path]:
    """Fail before the long measurements, not after them: one readable checkpoint per measured
    model that fits it, each model's val split (and, for int8 rows, training split) scorable
    under one of ``data_roots``, its first image decoded; returns each dataset's root (the first
    whose val annotations open)."""
    if checkpoints and not data_roots:
        raise UsageError("--checkpoint needs --data-root (the dataset to evaluate on)")
    given = [name for name, _ in checkpoints]
    twice = sorted({name for name in given if given.count(name) > 1})
    if twice:  # one table row per model: a second checkpoint would add a second row
        raise UsageError(f"--checkpoint {twice[0]} given twice: one checkpoint per model")
    for name, path in checkpoints:
        if name not in names:
            raise UsageError(
                f"--checkpoint {name}={path}: {name!r} is not among the measured "
                f"models ({', '.join(names)})"
            )
        readable_file(path, f"--checkpoint {name}={path}")
        load_model(name, path, "cpu")  # weights_only; a CheckpointError names the file
    if not checkpoints:
        return {}
    if missing := [root for root in data_roots if not root.is_dir()]:
        raise InputFileError(f"--data-root {missing[0]}: no such folder")
    datasets = dict.fromkeys(model_info(name).dataset for name, _ in checkpoints)
    roots = {dataset: _root_of(dataset, data_roots) for dataset in datasets}
    for name, _ in checkpoints:
        _check_splits(model_info(name), roots[model_info(name).dataset], calibrate)
    return roots


def _root_of(dataset: str, data_roots: Sequence[Path]) -> Path:
    """The first root whose ``dataset`` val annotations open; else why the first one failed."""
    why = []
    for root in data_roots:
        try:
            open_reader(dataset, root, "val")
            return root
        except (OSError, AnnotationError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            why.append(f"--data-root {root} ({dataset} val): {message}")
    raise InputFileError(why[0] + (f" (nor in {len(why) - 1} other roots)" if why[1:] else ""))


def _check_splits(info: ModelInfo, root: Path, calibrate: bool) -> None:
    split = "val"
    try:
        data = eval_dataset(info, info.dataset, root, split)
        check_scorable(data, info.dataset, split, root)
        data[0]  # decodes one image: a folder of broken images fails now, not hours later
        if calibrate:
            split = "train"
            Calibration(root, info.dataset, count=1).images(info.input_size)
    except (OSError, AnnotationError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        message = str(message).removeprefix(f"--root {root}: ")  # tables calls it --data-root
        raise InputFileError(f"--data-root {root} ({info.dataset} {split}): {message}") from None
