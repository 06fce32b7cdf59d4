"""One measuring process of a gate pass (``python -m bench.regression.worker JOB_JSON``):
``counts`` (params, FLOPs, op signature) or ``instructions`` under callgrind, one forward per
repeat. Models may come from another commit's tree; the measuring code is always this tree's.
"""

from __future__ import annotations

import ctypes
import importlib.util
import itertools
import json
import mmap
import platform
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

LATE_INSTRUMENTATION = platform.machine() in ("x86_64", "AMD64")
_START_INSTRUMENTATION = 0x43540000 + 4  # callgrind.h: VG_USERREQ_TOOL_BASE('C','T') + 4
# rax = rdi (args); rdx = 0 (default); the special preamble on rdi; xchg rbx,rbx; return rdx
Measure = Callable[[Callable[[], object]], int]  # instructions (or a stand-in) of one call
_AMD64_STUB = bytes.fromhex("4889f8 31d2 48c1c703 48c1c70d 48c1c73d 48c1c733 4887db 4889d0 c3")


def client_request(code: int) -> int:
    """Valgrind's client request ``code`` (valgrind.h), 0 outside valgrind; x86-64 only. Starting
    instrumentation after start-up and warm-up (``--instr-atstart=no``) saves ~75 s of CPU."""
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(_AMD64_STUB)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    call = ctypes.CFUNCTYPE(ctypes.c_ulong, ctypes.c_void_p)(address)
    args = (ctypes.c_ulong * 6)(code, 0, 0, 0, 0, 0)
    return int(call(ctypes.cast(args, ctypes.c_void_p)))


def start_instrumentation() -> None:
    if LATE_INSTRUMENTATION:
        client_request(_START_INSTRUMENTATION)


def callgrind_counter(out_file: Path) -> Measure:
    """Instructions of one call, read from the dump callgrind writes when collection stops."""
    dumps = itertools.count(1)

    def measure(fn: Callable[[], object]) -> int:
        torch._C._valgrind_toggle()
        fn()
        torch._C._valgrind_toggle_and_dump_stats()
        return read_total(Path(f"{out_file}.{next(dumps)}"))

    return measure


def read_total(dump: Path) -> int:
    """The ``totals:`` (or ``summary:``) line of a callgrind dump: instructions (Ir)."""
    for line in dump.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("totals:", "summary:")):
            return int(line.split()[1])
    raise ValueError(f"{dump}: no totals line (is this a callgrind dump?)")


class _Recorder(TorchDispatchMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        name = str(func.overloadpacket.__name__)
        self.calls[name] += 1
        self.bytes[name] += sum(
            t.numel() * t.element_size() for t in tree_leaves(out) if isinstance(t, torch.Tensor)
        )
        return out


def op_signature(model: nn.Module, x: torch.Tensor) -> dict[str, list[int]]:
    """``{op: [calls, bytes written]}`` of one inference forward, sorted by op name: recorded
    below autograd, it catches FLOP-neutral changes (a copy, a ``cat``)."""
    recorder = _Recorder()
    with torch.inference_mode(), recorder:
        model(x)
    return {op: [recorder.calls[op], recorder.bytes[op]] for op in sorted(recorder.calls)}


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
    """``repeats`` measurements of one forward per model, framed by ``begin NAME`` / ``end NAME``
    lines on stdout (the progress bar's); ``before`` runs after the warm-up."""
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
        import bench.measure.complexity  # noqa: F401 - bound to this tree before the models move

        load_models_from(Path(job["models_root"]))
    if job.get("models_from"):  # only then: another commit's tree may predate the option
        from architectures.registry import import_model_modules

        import_model_modules(job["models_from"])
    out, size = Path(job["out"]), tuple(job["size"])
    if job["signal"] == "counts":
        result = static_counts(job["names"], size)
    else:
        counter = callgrind_counter(out.with_suffix(".callgrind"))
        names, repeats, slowdowns = job["names"], job["repeats"], job["slowdowns"]
        result = measure_models(names, size, repeats, counter, slowdowns, start_instrumentation)
    out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
