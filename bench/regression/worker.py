"""One measuring process of a gate pass: ``python -m bench.regression.worker JOB_JSON``.

``counts`` (params, FLOPs, op signature; native) or ``instructions`` (one forward per repeat
under callgrind, each framed by ``begin NAME`` / ``end NAME`` lines on stdout for the progress
bar). The models may come from another commit's tree (``models_root``); the measuring code is
always this tree's, so two commits are measured by the same ruler.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench.regression.callgrind import CallgrindCounter, start_instrumentation

Measure = Callable[[Callable[[], object]], int]


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
    import architectures  # looked up now: load_models_from may have replaced this tree's

    try:
        model = architectures.create_model(name, input_size=tuple(size))
    except TypeError:  # a builder without an input size runs at any size as built
        model = architectures.create_model(name)
    channels = getattr(getattr(model, "info", None), "in_channels", 3)
    generator = torch.Generator().manual_seed(0)
    return model.eval(), torch.randn(1, channels, *size, generator=generator)


class Burn(nn.Module):
    """``--inject-slowdown``: ``model`` preceded by ``units`` fixed convolutions (discarded)."""

    def __init__(self, model: nn.Module, units: int = 0) -> None:
        super().__init__()
        self.model, self.units = model, units
        generator = torch.Generator().manual_seed(0)
        self.register_buffer("x", torch.randn(1, 16, 32, 32, generator=generator))
        self.register_buffer("w", torch.randn(16, 16, 3, 3, generator=generator))

    def unit(self) -> torch.Tensor:
        return F.conv2d(self.x, self.w, padding=1)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        for _ in range(self.units):
            self.unit()
        return self.model(x)


def inject(model: nn.Module, x: torch.Tensor, percent: float, measure: Measure) -> Burn:
    """``model`` with work costing ``percent`` of its forward, as the gate's ``measure`` sees it."""
    burn = Burn(model)
    own = min(measure(lambda: model(x)) for _ in range(2))
    unit = min(measure(burn.unit) for _ in range(2))
    burn.units = max(1, round(own * percent / 100 / unit))
    return burn


def measure_models(
    names: Sequence[str],
    size: tuple[int, int],
    repeats: int,
    measure: Measure,
    slowdowns: dict[str, float],
    before: Callable[[], None] = lambda: None,
) -> dict[str, list[int]]:
    """``repeats`` measurements of one forward per model; ``before`` runs after the warm-up."""
    built = {n: build(n, size) for n in names}
    with torch.inference_mode():
        for model, x in built.values():
            model(x)
        before()
        samples: dict[str, list[int]] = {}
        for name, (model, x) in built.items():
            print(f"begin {name}", flush=True)
            if name in slowdowns:
                model = inject(model, x, slowdowns[name], measure)
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


def main(argv: Sequence[str] | None = None) -> int:
    """``JOB_JSON``: signal, names, size, repeats, out, models_root, slowdowns (see measure)."""
    job = json.loads((sys.argv[1:] if argv is None else argv)[0])
    torch.set_num_threads(1)
    if job.get("models_root"):
        # the measuring modules first, bound to this tree; only the models come from the other
        import bench.measure.complexity  # noqa: F401

        load_models_from(Path(job["models_root"]))
    out, size = Path(job["out"]), tuple(job["size"])
    if job["signal"] == "counts":
        result = static_counts(job["names"], size)
    else:
        counter = CallgrindCounter(out.with_suffix(".callgrind"))
        result = measure_models(
            job["names"], size, job["repeats"], counter, job["slowdowns"], start_instrumentation
        )
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
