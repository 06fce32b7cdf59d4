"""``python -m bench.gpu_run`` (``make gpu``): the whole GPU picture in one short loan.

A lent GPU machine has Python 3.12 and torch, no internet, and a few minutes. This command
installs what that machine lacks from a wheelhouse built beforehand (``make wheelhouse``:
fvcore and the other pure-Python dependencies, OpenVINO for CPython 3.12), then runs, in order
of value and under one overall time cap (default 8 minutes):

1. ``install``: the wheelhouse's packages that are not installed, into ``build/gpu-site``;
2. ``nvidia-smi``: ``nvidia-smi -q`` into the output folder (driver, clocks, persistence mode);
3. ``tables``: ``python -m bench.tables --full --device cuda`` (Tables 3-5, latency in every mode,
   runtime by layer type, ``env.json``), runtimes left out so that this step stays short;
4. ``benchmark``: the pytest-benchmark suite on CUDA, ``benchmark.json``;
5. ``runtimes``: ``bench.tables --runtimes`` for the paper's model and the reference, into
   ``runtimes/`` (torch.compile, CUDA graphs, ONNX Runtime, TensorRT where present).

Each step writes its own files when it ends; a step still running when the cap is reached is
stopped (its log, with the progress bar's last step, stays), later steps are skipped, and
``gpu_run.json`` lists every step's status, exit code, wall time and estimate.
``--archive FILE.tar.gz`` packs the output folder into one file at the end (the device tool
brings back at most 8 files). ``--dry-run`` prints the plan with estimated times and runs
nothing; it works on any machine.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from architectures import errors as cli
from architectures.errors import InputFileError, UsageError
from bench.report import files as io

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(".wheelhouse")
SITE = Path("build/gpu-site")
OUT = Path("results/gpu")
CAP_S = 480.0  # 8 minutes: a device command may run 10, and install and archive need time too
ARCHIVE_RESERVE_S = 15.0  # kept back from the last step for the summary and the archive
RUNTIME_MODELS = ("gcpm-ushaped",)  # plus the reference: the paper's model against hourglass

# What the lent machines' image lacks (its package list, /work/.library/device/KINDS.md,
# 2026-11-17). Versions are pinned to those installed here, so the GPU runs what the tests ran.
SDIST_ONLY = ("fvcore", "iopath")  # no wheels on PyPI: built into py3 wheels here
PURE_WHEELS = ("yacs", "termcolor", "portalocker", "tabulate")
BINARY_WHEELS = ("openvino", "openvino-telemetry", "ruptures")  # CPython 3.12 manylinux x86_64
FALLBACK_PINS = {
    "fvcore": "0.1.5.post20221221",
    "iopath": "0.1.10",
    "yacs": "0.1.8",
    "termcolor": "3.3.0",
    "portalocker": "3.2.0",
    "tabulate": "0.9.0",
    "openvino": "2025.4.1",
    "openvino-telemetry": "2025.2.0",
    "ruptures": "1.1.10",
}
GPU_PYTHON = "3.12"
GPU_PLATFORMS = (
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
)
MAX_WHEELHOUSE_MIB = 60  # the device tool carries 64 MiB, the working tree included


@dataclass(frozen=True)
class Step:
    """One command of the run; ``estimate_s`` is a planning figure, not a measurement."""

    name: str
    argv: tuple[str, ...]
    estimate_s: float
    what: str
    stdout_to: str = ""  # file (in the output folder) for the command's stdout, else the log


@dataclass
class StepResult:
    name: str
    status: str  # done, failed, timed out, skipped
    returncode: int | None = None
    wall_s: float = 0.0
    estimate_s: float = 0.0
    log: str = ""
    note: str = ""


@dataclass(frozen=True)
class GpuRunConfig:
    out: Path = OUT
    cap_s: float = CAP_S
    wheelhouse: Path = WHEELHOUSE
    device: str = "cuda"
    archive: Path | None = None
    skip: tuple[str, ...] = ()
    python: str = sys.executable


# ---------------------------------------------------------------- wheelhouse


def _pin(dist: str) -> str:
    try:
        return f"{dist}=={importlib.metadata.version(dist)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{dist}=={FALLBACK_PINS[dist]}"


def wheelhouse_commands(folder: Path, python: str = sys.executable) -> list[list[str]]:
    """The pip commands that fill ``folder``: binary and pure wheels for the GPU machine's
    CPython 3.12, and wheels built here from the sdist-only packages."""
    pip = [python, "-m", "pip"]
    platforms = [arg for p in GPU_PLATFORMS for arg in ("--platform", p)]
    download = [
        *pip,
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        GPU_PYTHON,
        "--implementation",
        "cp",
        *platforms,
        "-d",
        str(folder),
    ]
    return [
        [*download, *(_pin(d) for d in (*PURE_WHEELS, *BINARY_WHEELS))],
        [*pip, "wheel", "--no-deps", "-w", str(folder), *(_pin(d) for d in SDIST_ONLY)],
    ]


def wheel_dist(path: Path) -> str:
    """Distribution name of a wheel file (``openvino_telemetry-2025.2.0-py3-none-any.whl``)."""
    return re.sub(r"[-_.]+", "-", path.name.split("-", 1)[0]).lower()


def build_wheelhouse(
    folder: Path, python: str = sys.executable, run: Callable[..., object] = subprocess.run
) -> list[Path]:
    """Fill ``folder`` with the GPU machine's missing packages; refuse one over the carry limit."""
    folder.mkdir(parents=True, exist_ok=True)
    for command in wheelhouse_commands(folder, python):
        try:
            run(command, check=True)
        except subprocess.CalledProcessError as exc:
            raise UsageError(
                f"building the wheelhouse in {folder}: `{' '.join(command[:4])} "
                f"...` exited {exc.returncode} (no internet? see pip's output "
                f"above)"
            ) from None
    wheels = sorted(folder.glob("*.whl"))
    mib = sum(w.stat().st_size for w in wheels) / 2**20
    if mib > MAX_WHEELHOUSE_MIB:
        raise UsageError(
            f"wheelhouse {folder} holds {mib:.0f} MiB; the device tool carries at "
            f"most 64 MiB with the working tree: remove a wheel or an old version"
        )
    return wheels


def _has(dist: str) -> bool:
    """Whether this Python has the distribution ``dist`` installed."""
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_wheels(folder: Path, installed: Callable[[str], bool] | None = None) -> list[Path]:
    """Wheels in ``folder`` whose distribution this Python lacks (the machine's own are kept)."""
    check = installed or _has
    return [w for w in sorted(folder.glob("*.whl")) if not check(wheel_dist(w))]


# ---------------------------------------------------------------- plan


def tables_options(python: str = sys.executable) -> str:
    """``bench.tables``' option strings as this checkout has them (another engineer may add
    options); from its parser in this process, else from ``--help``."""
    try:
        from bench.tables import _parser as tables_parser

        return " ".join(o for a in tables_parser()._actions for o in a.option_strings)
    except (ImportError, AttributeError, TypeError):
        result = subprocess.run(
            [python, "-m", "bench.tables", "--help"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        return result.stdout


def _count_models() -> tuple[int, int]:
    """(models in the default tables run, registered models): the estimates scale with them."""
    from architectures import list_models
    from bench.tables import default_models

    return len(default_models()), len(list_models())


def _tables_argv(python: str, device: str, out: Path, *options: str) -> tuple[str, ...]:
    """``python -m bench.tables --full`` on ``device`` into ``out``: both table steps run it."""
    return (python, "-m", "bench.tables", "--full", "--device", device, "--out", str(out), *options)


def plan(
    config: GpuRunConfig, help_text: str, counts: tuple[int, int], to_install: Sequence[Path]
) -> list[Step]:
    """The steps, with estimates from the number of models (rough, from CPU-side counts)."""
    py, out, dev = config.python, config.out, config.device
    table_models, all_models = counts
    has_runtimes = "--runtimes" in help_text
    steps = [
        Step(
            "install",
            (
                py,
                "-m",
                "pip",
                "install",
                "--no-index",
                "--no-deps",
                "--no-compile",
                "--no-cache-dir",
                "--upgrade",
                "--target",
                str(SITE),
                *map(str, to_install),
            ),
            5 + 3 * len(to_install),
            f"the {len(to_install)} wheel(s) of {config.wheelhouse} this Python lacks, into {SITE}",
        ),
        Step(
            "nvidia-smi",
            ("nvidia-smi", "-q"),
            3,
            "driver, clocks, persistence, power",
            stdout_to="nvidia-smi.txt",
        ),
        Step(
            "tables",
            _tables_argv(py, dev, out, *(("--runtimes", "none") if has_runtimes else ())),
            40 + 20 * table_models,
            f"Tables 3-5, latency, layer profile ({table_models} models, every mode)",
        ),
        Step(
            "benchmark",
            (
                py,
                "-m",
                "pytest",
                "bench",
                "--benchmark-only",
                "--bench-device",
                dev,
                "--benchmark-json",
                str(out / "benchmark.json"),
                "-q",
                "-p",
                "no:cacheprovider",
            ),
            10 + 5 * all_models,
            f"pytest-benchmark, {all_models} models",
        ),
    ]
    if has_runtimes:
        steps.append(
            Step(
                "runtimes",
                _tables_argv(
                    py,
                    dev,
                    out / "runtimes",
                    *("--no-profile", "--modes", "fp32", "--models", *RUNTIME_MODELS),
                ),
                200,
                f"runtimes for {', '.join(RUNTIME_MODELS)} and the reference "
                f"(torch.compile dominates; gets what is left of the cap)",
            )
        )
    return [s for s in steps if s.name not in config.skip]


def describe(steps: Sequence[Step], config: GpuRunConfig) -> str:
    lines = [
        (
            f"bench.gpu_run plan (cap {config.cap_s:.0f} s; estimates are planning figures, "
            f"not measurements):"
        )
    ]
    total = 0.0
    for i, step in enumerate(steps, 1):
        total += step.estimate_s
        lines.append(f"{i}. {step.name:<11} ~{step.estimate_s:>4.0f} s  {step.what}")
        lines.append(
            f"   $ {' '.join(step.argv)}"
            + (f" > {config.out / step.stdout_to}" if step.stdout_to else "")
        )
    lines.append(
        f"total ~{total:.0f} s of a {config.cap_s:.0f} s cap"
        + (
            "; steps past the cap are stopped or skipped, finished ones stay written"
            if total > config.cap_s - ARCHIVE_RESERVE_S
            else ""
        )
    )
    if config.archive is not None:
        lines.append(f"then: {config.out} packed into {config.archive}")
    return "\n".join(lines)


# ---------------------------------------------------------------- running


def _child_env() -> dict[str, str]:
    paths = [str((ROOT / SITE).resolve()), str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "PYTHONUNBUFFERED": "1",
    }


def run_step(step: Step, timeout_s: float, out: Path) -> StepResult:
    """Run one step in its own process group; at the timeout the whole group is stopped."""
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{step.name}.log"
    started = time.monotonic()
    with open(log_path, "w", encoding="utf-8") as log:
        # closed in the finally below, once the child holds its own copy
        stdout = open(out / step.stdout_to, "w", encoding="utf-8") if step.stdout_to else log  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                step.argv,
                stdout=stdout,
                stderr=log,
                cwd=ROOT,
                env=_child_env(),
                start_new_session=True,
            )
        except OSError as exc:
            return StepResult(
                step.name,
                "failed",
                None,
                0.0,
                step.estimate_s,
                str(log_path),
                f"could not start: {exc}",
            )
        finally:
            if stdout is not log:
                stdout.close()
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return StepResult(
                step.name,
                "timed out",
                proc.returncode,
                time.monotonic() - started,
                step.estimate_s,
                str(log_path),
                f"stopped at the cap after {timeout_s:.0f} s",
            )
    status = "done" if code == 0 else "failed"
    return StepResult(
        step.name, status, code, time.monotonic() - started, step.estimate_s, str(log_path)
    )


def _stop(proc: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


StepRunner = Callable[[Step, float, Path], StepResult]


def run_all(
    steps: Sequence[Step],
    config: GpuRunConfig,
    runner: StepRunner = run_step,
    clock: Callable[[], float] = time.monotonic,
    on_result: Callable[[list[StepResult]], None] = lambda results: None,
) -> list[StepResult]:
    """Every step in order within the cap; ``on_result`` sees the list after each step."""
    deadline = clock() + config.cap_s - ARCHIVE_RESERVE_S
    results: list[StepResult] = []
    for step in steps:
        left = deadline - clock()
        if left < 5:
            results.append(
                StepResult(
                    step.name,
                    "skipped",
                    estimate_s=step.estimate_s,
                    note="cap reached before it could start",
                )
            )
        else:
            results.append(runner(step, left, config.out))
        on_result(results)
    return results


def summary(results: Sequence[StepResult]) -> str:
    lines = [f"{'step':<11} {'status':<10} {'exit':>4} {'wall s':>7} {'est. s':>7}  note"]
    for r in results:
        code = "" if r.returncode is None else str(r.returncode)
        lines.append(
            f"{r.name:<11} {r.status:<10} {code:>4} {r.wall_s:>7.1f} {r.estimate_s:>7.0f}  {r.note}"
        )
    return "\n".join(lines)


def write_summary(
    config: GpuRunConfig, steps: Sequence[Step], results: Sequence[StepResult]
) -> Path:
    record = {
        "cap_s": config.cap_s,
        "device": config.device,
        # written after each step: results may still be shorter than steps
        "steps": [
            {**asdict(r), "argv": list(s.argv)} for s, r in zip(steps, results, strict=False)
        ],
    }
    return io.write_json(record, config.out / "gpu_run.json")


def archive(folder: Path, target: Path) -> Path:
    """``folder`` as one .tar.gz (written beside ``target``, then moved into place)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tarfile.open(tmp, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    os.replace(tmp, target)
    return target


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = cli.ArgumentParser(prog="python -m bench.gpu_run", description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="print the plan and estimates only")
    p.add_argument(
        "--build-wheelhouse",
        action="store_true",
        help="fill --wheelhouse with the GPU machine's missing packages (run here, "
        "with internet; `make wheelhouse`)",
    )
    p.add_argument("--out", type=Path, default=OUT, help=f"output folder (default {OUT})")
    p.add_argument(
        "--cap-s",
        type=float,
        default=CAP_S,
        help=f"overall time cap in seconds (default {CAP_S:.0f})",
    )
    p.add_argument("--wheelhouse", type=Path, default=WHEELHOUSE)
    p.add_argument("--device", default="cuda", help="cuda or cuda:N (cpu tries the plumbing)")
    p.add_argument("--archive", type=Path, help="also pack the output folder into this .tar.gz")
    p.add_argument(
        "--skip",
        nargs="+",
        default=[],
        metavar="STEP",
        choices=("install", "nvidia-smi", "tables", "benchmark", "runtimes"),
    )
    return p


def _check_options(config: GpuRunConfig) -> None:
    """The checks a dry run makes too: the options themselves, whatever machine this is."""
    if not 60 <= config.cap_s <= 590:  # also refuses nan
        raise UsageError(
            f"--cap-s {config.cap_s:g}: must be 60 to 590 s (one device command may run 600 s)"
        )
    if not re.fullmatch(r"auto|cpu|(cuda|mps|xpu)(:\d+)?", config.device):
        raise UsageError(f"--device {config.device!r}: not a device; use cuda, cuda:N or cpu")
    if config.out.exists() and not config.out.is_dir():
        raise UsageError(f"--out {config.out}: exists and is not a folder")
    if config.archive is not None:
        if config.archive.is_dir():
            raise UsageError(f"--archive {config.archive}: is a folder; give a .tar.gz file")
        above = next(p for p in config.archive.parents if p.exists() or p == p.parent)
        if not above.is_dir():
            raise UsageError(f"--archive {config.archive}: {above} is not a folder")


def _check(config: GpuRunConfig, to_install: Sequence[Path]) -> None:
    """Fail in one line before anything runs."""
    _check_options(config)
    from bench.measure.devices import resolve_device

    resolve_device(config.device, option="--device")  # DeviceError: not on this machine
    if "install" not in config.skip and not config.wheelhouse.is_dir():
        missing = [d for d in SDIST_ONLY if not _has(d)]
        if missing:
            raise InputFileError(
                f"--wheelhouse {config.wheelhouse}: no such folder, and this "
                f"Python lacks {', '.join(missing)}; build it with `make "
                f"wheelhouse` where pip has internet, and carry it"
            )


def _runnable(steps: Sequence[Step], wheels: Sequence[Path]) -> tuple[list[Step], list[str]]:
    """Steps this machine can run, and a note on each one left out."""
    keep, notes = [], []
    for step in steps:
        if step.name == "install" and not wheels:
            notes.append(
                "install: nothing to install (every wheelhouse package is here, or no "
                "wheelhouse); on the lent machine's image it installs "
                + ", ".join(dict.fromkeys((*SDIST_ONLY, *PURE_WHEELS[:2], *BINARY_WHEELS)))
            )
        elif step.argv[0] == "nvidia-smi" and not shutil.which("nvidia-smi"):
            notes.append("nvidia-smi: not on this machine, left out")
        else:
            keep.append(step)
    return keep, notes


def execute(config: GpuRunConfig, dry_run: bool) -> int:
    wheels = missing_wheels(config.wheelhouse) if config.wheelhouse.is_dir() else []
    # Before the plan's imports: a bad option costs no time. A dry run checks the options only
    # (it is how a command line for the GPU machine is tried out on another machine).
    if dry_run:
        _check_options(config)
    else:
        _check(config, wheels)
    planned = plan(config, tables_options(config.python), _count_models(), wheels)
    steps, notes = _runnable(planned, wheels)
    print(describe(steps, config), flush=True)
    print("\n".join(f"(left out) {n}" for n in notes), flush=True)
    if dry_run:
        return cli.EXIT_OK
    config.out.mkdir(parents=True, exist_ok=True)
    results = run_all(steps, config, on_result=lambda r: write_summary(config, steps, r))
    print(summary(results), flush=True)
    if config.archive is not None:
        print(f"archive: {archive(config.out, config.archive)}")
    return cli.EXIT_OK if all(r.status == "done" for r in results) else cli.EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    config = GpuRunConfig(
        out=args.out,
        cap_s=args.cap_s,
        wheelhouse=args.wheelhouse,
        device=args.device,
        archive=args.archive,
        skip=tuple(args.skip),
    )
    with cli.error_boundary("python -m bench.gpu_run"):
        if args.build_wheelhouse:
            wheels = build_wheelhouse(args.wheelhouse)
            mib = sum(w.stat().st_size for w in wheels) / 2**20
            print(f"{len(wheels)} wheels, {mib:.1f} MiB in {args.wheelhouse}:")
            print("\n".join(f"  {w.name}" for w in wheels))
            return cli.EXIT_OK
        return execute(config, args.dry_run)


if __name__ == "__main__":
    sys.exit(main())
