"""The measuring process of one gate pass: ``python -m bench.regression.worker ...``.

It runs in its own process because the instruction signal needs the whole process under
valgrind's callgrind. The models come from ``--models-root`` (a git worktree of another commit,
for ``bisect`` and for a baseline measured on this machine) while the measuring code is always
this tree's, so two commits are measured by the same ruler.

Two kinds of figures, one JSON file out:

* ``counts``: params, fvcore FLOPs and the aten op signature (native, deterministic);
* ``instructions``: instructions executed by one forward per repeat, counted by callgrind with
  collection switched on only around that forward (``torch._C._valgrind_toggle``), each
  forward dumped to its own file. A line ``begin NAME`` / ``end NAME`` on stdout frames each
  model, for the caller's progress bar.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import nn

from bench.regression.callgrind import CallgrindCounter, ClientRequests
from bench.regression.slowdown import Burn, ExtraLayers, Slowdown, parse_slowdown


def load_models_from(root: Path) -> None:
    """Import ``architectures`` from ``root`` (another commit's tree) instead of this tree's."""
    init = root / "architectures" / "__init__.py"
    if not init.is_file():
        raise FileNotFoundError(f"{root}: no architectures/__init__.py")
    for name in [m for m in sys.modules if m == "architectures" or m.startswith("architectures.")]:
        del sys.modules[name]  # else the other tree's relative imports find this tree's modules
    spec = importlib.util.spec_from_file_location(
        "architectures", init, submodule_search_locations=[str(init.parent)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["architectures"] = module
    spec.loader.exec_module(module)


def build(name: str, size: tuple[int, int]) -> tuple[nn.Module, torch.Tensor]:
    """A model of the chosen tree at ``size``, and a fixed input for it."""
    import architectures  # looked up now: --models-root may have replaced this tree's

    try:
        model = architectures.create_model(name, input_size=tuple(size))
    except TypeError:  # a builder without an input size runs at any size as built
        model = architectures.create_model(name)
    channels = getattr(getattr(model, "info", None), "in_channels", 3)
    generator = torch.Generator().manual_seed(0)
    return model.eval(), torch.randn(1, channels, *size, generator=generator)


def _inject(
    model: nn.Module,
    x: torch.Tensor,
    slowdown: Slowdown,
    measure: Callable[[Callable[[], object]], int],
) -> nn.Module:
    """``model`` with extra work; a percentage is calibrated with the gate's own measure."""
    if slowdown.layers is not None:
        return ExtraLayers(model, slowdown.layers, x.shape[1]).eval()
    burn = Burn(model)
    own = min(measure(lambda: model(x)) for _ in range(2))
    unit = min(measure(burn.unit) for _ in range(2))
    burn.units = max(1, round(own * slowdown.percent / 100 / unit))
    return burn


def measure_models(
    names: Sequence[str],
    size: tuple[int, int],
    repeats: int,
    measure: Callable[[Callable[[], object]], int],
    slowdowns: dict[str, Slowdown],
    before: Callable[[], None] = lambda: None,
    warmup: int = 1,
) -> dict[str, list[int]]:
    """``repeats`` measurements of one forward per model; ``before`` runs after the warm-up."""
    built = {n: build(n, size) for n in names}
    with torch.inference_mode():
        for model, x in built.values():
            for _ in range(warmup):
                model(x)
        before()
        samples: dict[str, list[int]] = {}
        for name, (model, x) in built.items():
            print(f"begin {name}", flush=True)
            if name in slowdowns:
                model = _inject(model, x, slowdowns[name], measure)
                model(x)  # new layers create their kernels outside the measured forwards
            samples[name] = [measure(lambda m=model, x=x: m(x)) for _ in range(repeats)]
            print(f"end {name}", flush=True)
    return samples


def static_counts(names: Sequence[str], size: tuple[int, int]) -> dict[str, dict]:
    """Params, fvcore FLOPs (1 MAC = 1 FLOP) and the op signature of each model."""
    from bench.measure.complexity import count_flops
    from bench.regression.signature import op_signature

    out = {}
    for name in names:
        model, x = build(name, size)
        out[name] = {
            "params": sum(p.numel() for p in model.parameters()),
            "flops": int(count_flops(model, tuple(x.shape)).total),
            "signature": op_signature(model, x),
        }
    return out


def _instrumentation_starter(late: bool) -> Callable[[], None]:
    if not late:
        return lambda: None
    requests = ClientRequests()
    if not requests.running_on_valgrind():
        raise RuntimeError("--late-instrumentation needs to run under valgrind")
    return requests.start_instrumentation


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m bench.regression.worker",
        description="one measuring process of the regression gate",
    )
    p.add_argument("signal", choices=("counts", "instructions"))
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--reference", required=True)
    p.add_argument("--size", type=int, nargs=2, required=True)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--callgrind-out", type=Path, help="instructions: valgrind's out file")
    p.add_argument(
        "--late-instrumentation",
        action="store_true",
        help="instructions: valgrind runs with --instr-atstart=no; start it after "
        "the warm-up (x86-64 only)",
    )
    p.add_argument("--models-root", type=Path, help="import architectures from this tree")
    p.add_argument("--slowdown", action="append", default=[], type=parse_slowdown)
    p.add_argument("--out", type=Path, required=True)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    torch.set_num_threads(1)
    if args.models_root is not None:
        # the measuring modules first, bound to this tree; only the models come from the other
        import bench.measure.complexity  # noqa: F401

        load_models_from(args.models_root)
    size = tuple(args.size)
    names = list(dict.fromkeys([args.reference, *args.models]))
    if args.signal == "counts":
        result = static_counts(names, size)
    else:
        result = measure_models(
            names,
            size,
            args.repeats,
            CallgrindCounter(args.callgrind_out),
            dict(args.slowdown),
            _instrumentation_starter(args.late_instrumentation),
        )
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
