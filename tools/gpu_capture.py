"""Capture the whole GPU picture of this benchmark on a GPU machine without internet, in one go.

    python tools/gpu_capture.py --build-wheelhouse        # where pip has internet
    python tools/gpu_capture.py --archive gpu.tar.gz      # on the GPU machine (torch with CUDA)

The wheelhouse holds wheels of the project's dependencies other than torch, for the GPU
machine's Python; the capture installs those that Python lacks into ``build/gpu-site``, then
runs, in order of value and under one overall time cap:

1. ``nvml``: ``nvidia-smi -q``, the NVML record (driver, clocks, power, persistence mode);
2. ``tables``: ``bench.tables --full``: latency in strict fp32, TF32, fp16 and the other modes,
   the layer profile, Tables 3-5 and the environment record;
3. ``runtimes``: the paper's model and the reference in torch.compile, CUDA graphs, ONNX Runtime
   GPU and TensorRT, each where installed;
4. ``benchmark``: the pytest-benchmark suite; 5. ``tests``: the test suite (not its slow tests).

Each step writes its files and log as it ends; the step running at the cap is stopped, later
ones skipped; ``capture.json`` lists each step's status, exit code and wall time. ``--archive``
packs the output folder into one .tar.gz; ``--dry-run`` checks the options and prints the plan,
on any machine. Exit status: 0 all done, 1 a step failed or was stopped, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "gpu-site"
PROG = "tools/gpu_capture.py"
# torch comes with the GPU machine; fvcore and iopath have no wheels (built here, deps listed)
PROVIDED = {"torch", "torchvision"}
SDIST_ONLY = ("fvcore", "iopath")
THEIR_DEPENDENCIES = ("yacs", "termcolor", "portalocker", "pyyaml", "typing-extensions")
STEPS = ("install", "nvml", "tables", "runtimes", "benchmark", "tests")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")


class InputError(Exception):
    """Bad input: one line on stderr, exit status 2."""


@dataclass
class Result:
    name: str
    status: str  # done, failed, stopped, skipped
    returncode: int | None = None
    wall_s: float = 0.0


def wheelhouse_commands(folder: Path, python_version: str) -> list[list[str]]:
    """Wheels built here from the sdist-only packages, then binary wheels (with their
    dependencies) of the project's other requirements for the GPU machine's CPython."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    name = re.compile(r"^[A-Za-z0-9._-]+")
    skip = PROVIDED | set(SDIST_ONLY)
    binary = [r for r in project["dependencies"] if name.match(r).group(0).lower() not in skip]
    pip = [sys.executable, "-m", "pip"]
    target = ["--python-version", python_version, "--implementation", "cp"]
    target += [arg for p in PLATFORMS for arg in ("--platform", p)]
    return [
        [*pip, "wheel", "--no-deps", "-w", str(folder), *SDIST_ONLY],
        [*pip, "download", "--only-binary=:all:", *target, "-d", str(folder), *binary]
        + list(THEIR_DEPENDENCIES),
    ]


def build_wheelhouse(args: argparse.Namespace) -> int:
    args.wheelhouse.mkdir(parents=True, exist_ok=True)
    for command in wheelhouse_commands(args.wheelhouse, args.python_version):
        if subprocess.run(command, check=False).returncode != 0:
            raise InputError(f"`{shlex.join(command[:4])} ...` failed (see pip's output above)")
    print(f"{len(list(args.wheelhouse.glob('*.whl')))} wheels in {args.wheelhouse}")
    return 0


def wheel_dist(path: Path) -> str:
    """Distribution name of a wheel file (``openvino_telemetry-2025.2.0-py3-none-any.whl``)."""
    return re.sub(r"[-_.]+", "-", path.name.split("-", 1)[0]).lower()


def has_distribution(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def missing_wheels(folder: Path, installed: Callable[[str], bool] = has_distribution) -> list[Path]:
    """Wheels in ``folder`` whose distribution this Python lacks (the machine's own are kept)."""
    return [w for w in sorted(folder.glob("*.whl")) if not installed(wheel_dist(w))]


def _q(value: object) -> str:
    return shlex.quote(str(value))


def plan(out: Path, device: str, wheels: Sequence[Path]) -> dict[str, tuple[str, ...]]:
    """Step name -> command line, in order (``install`` only when there are wheels to install)."""
    py = _q(sys.executable)
    tables = f"{py} -m bench.tables --full --device {_q(device)}"
    lines = {
        "install": f"{py} -m pip install --no-index --no-deps --upgrade --target {_q(SITE)} "
        + " ".join(map(_q, wheels)),
        "nvml": f"nvidia-smi -q -f {_q(out / 'nvml.txt')}",
        "tables": f"{tables} --runtimes none --out {_q(out / 'tables')}",
        "runtimes": f"{tables} --no-profile --modes fp32 --models gcpm-ushaped "
        f"--out {_q(out / 'runtimes')}",
        "benchmark": f"{py} -m pytest bench --benchmark-only --bench-device {_q(device)} "
        f"--benchmark-json {_q(out / 'benchmark.json')} -q",
        "tests": f"{py} -m pytest tests -q -m 'not slow' --junitxml {_q(out / 'tests.xml')}",
    }
    return {n: tuple(shlex.split(c)) for n, c in lines.items() if wheels or n != "install"}


def run_step(name: str, argv: tuple[str, ...], timeout_s: float, out: Path) -> Result:
    """One step in its own process group; at the timeout the whole group is stopped."""
    (out / "logs").mkdir(parents=True, exist_ok=True)
    paths = os.pathsep.join(p for p in (str(SITE), str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": paths, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    with open(out / "logs" / f"{name}.log", "w", encoding="utf-8") as log:
        try:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=log, cwd=ROOT, env=env, start_new_session=True
            )
        except OSError as exc:
            print(f"could not start: {exc}", file=log)
            return Result(name, "failed")
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            return Result(name, "stopped", proc.returncode, time.monotonic() - started)
    status = "done" if code == 0 else "failed"
    return Result(name, status, code, time.monotonic() - started)


def run_all(
    steps: dict[str, tuple[str, ...]],
    out: Path,
    cap_s: float,
    runner: Callable[[str, tuple[str, ...], float, Path], Result] = run_step,
    clock: Callable[[], float] = time.monotonic,
) -> list[Result]:
    """Every step in order within the cap; ``capture.json`` rewritten after each one."""
    deadline, results = clock() + cap_s, []
    for name, argv in steps.items():
        left = deadline - clock()
        results.append(runner(name, argv, left, out) if left >= 1 else Result(name, "skipped"))
        record = {"cap_s": cap_s, "steps": [asdict(r) for r in results]}
        (out / "capture.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    return results


def check_options(args: argparse.Namespace) -> None:
    """What a dry run checks too: the options themselves, on whatever machine this is."""
    if not (math.isfinite(args.cap_s) and args.cap_s > 0):
        raise InputError(f"--cap-s {args.cap_s:g}: give the time cap in seconds, e.g. 480")
    if not re.fullmatch(r"cuda(:\d+)?|cpu", args.device):
        raise InputError(f"--device {args.device!r}: not a device; use cuda, cuda:N or cpu")
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {args.out}: exists and is not a folder")
    if args.archive is not None:
        where = args.archive.parent
        if args.archive.exists():
            raise InputError(f"--archive {args.archive}: exists; give a new file name")
        if not where.is_dir():
            raise InputError(f"--archive {args.archive}: no folder {where}; create it first")
        if not os.access(where, os.W_OK | os.X_OK):
            raise InputError(f"--archive {args.archive}: cannot write into {where}")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--dry-run", action="store_true", help="check the options, print the plan")
    p.add_argument("--build-wheelhouse", action="store_true", help="fill --wheelhouse (internet)")
    p.add_argument("--wheelhouse", type=Path, default=Path(".wheelhouse"))
    p.add_argument(
        "--python-version",
        default="{}.{}".format(*sys.version_info[:2]),
        help="the GPU machine's Python, for --build-wheelhouse (default: this one's)",
    )
    p.add_argument("--out", type=Path, default=Path("runs/gpu"), help="output folder")
    p.add_argument("--cap-s", type=float, default=480.0, help="overall time cap in seconds")
    p.add_argument("--device", default="cuda", help="cuda or cuda:N (cpu tries the plumbing)")
    p.add_argument("--archive", type=Path, help="pack the output folder into this .tar.gz")
    p.add_argument("--skip", nargs="+", default=[], choices=STEPS, metavar="STEP")
    return p


def capture(args: argparse.Namespace) -> int:
    check_options(args)
    args.out = args.out.resolve()  # the steps run in the repository root
    wheels = missing_wheels(args.wheelhouse) if args.wheelhouse.is_dir() else []
    if not (args.dry_run or args.wheelhouse.is_dir() or has_distribution("fvcore")):
        raise InputError(
            f"--wheelhouse {args.wheelhouse}: no such folder, and this Python lacks "
            "fvcore; build it with --build-wheelhouse where pip has internet"
        )
    steps = {n: a for n, a in plan(args.out, args.device, wheels).items() if n not in args.skip}
    print(f"{PROG}: {len(steps)} steps under a {args.cap_s:g} s cap, into {args.out}")
    for i, (name, argv) in enumerate(steps.items(), 1):
        print(f"{i}. {name:<9} $ {shlex.join(argv)}")
    if args.dry_run:
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    results = run_all(steps, args.out, args.cap_s)
    for r in results:
        print(f"{r.name:<9} {r.status:<8} exit {r.returncode} {r.wall_s:7.1f} s")
    if args.archive is not None:  # written beside its place, then moved: never half an archive
        tmp = args.archive.with_name(f".{args.archive.name}.tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(args.out, arcname=args.out.name)
        print(f"archive: {os.replace(tmp, args.archive) or args.archive}")
    return 0 if all(r.status == "done" for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return build_wheelhouse(args) if args.build_wheelhouse else capture(args)
    except InputError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
