"""Model registry: each network (the suite's and a user's) is a named builder with its facts.

Forward contract of every registered model: a float NCHW image batch in, a ``list`` of heatmap
tensors out, one per stage / stack, the last one being the prediction. See docs/models.md.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatch
from pathlib import PurePath
from types import ModuleType
from typing import TYPE_CHECKING, Any

from architectures.errors import UnknownNameError, UsageError, one_line

if TYPE_CHECKING:  # the registry itself needs no torch: listing names stays fast
    from torch import nn

# The data sets whose readers and protocols the suite has (``datasets.open_reader``).
DATASETS = ("lip", "mpii")
# The suite's own families; imported on the registry's first use, not by ``import architectures``.
BUILTIN_MODULES = ("architectures.cpm", "architectures.gcpm", "architectures.hourglass")


@dataclass(frozen=True)
class PaperFigures:
    """One row of a paper's table; metrics are ``None`` where it gives none.

    ``row`` is the label exactly as the paper prints it; ``split`` the evaluation data (empty for
    complexity-only tables); ``gflops`` in the GCPM paper's convention (1 MAC = 1 FLOP, as fvcore).
    """

    table: int
    row: str
    split: str = ""
    params_m: float | None = None
    gflops: float | None = None
    pckh: float | None = None
    hip: float | None = None
    auc: float | None = None
    time_ms: float | None = None
    note: str = ""
    paper: str = "GCPM"

    @property
    def source(self) -> str:
        """``GCPM Table 4 (LIP test), row 'Ours': note`` for notes, logs and tables."""
        split = f" ({self.split})" if self.split else ""
        text = f"{self.paper} Table {self.table}{split}, row '{self.row}'"
        return f"{text}: {self.note}" if self.note else text


@dataclass(frozen=True)
class ReferenceCounts:
    """Params / GMACs of the public reference implementation this model reproduces."""

    source: str
    params_m: float
    gmacs: float


@dataclass(frozen=True)
class ModelInfo:
    """Facts of one registered variant; tables and the harness read these, never re-type them."""

    name: str
    family: str
    dataset: str  # "lip" or "mpii": the keypoint layout and the protocol the row belongs to
    input_size: tuple[int, int]  # (height, width)
    output_stride: int
    num_heatmaps: int
    num_keypoints: int = 16
    in_channels: int = 3
    # Input height and width must be multiples of this (the network's total downsampling): other
    # sizes break its skip additions or give heatmaps that do not line up with their targets.
    size_multiple: int = 1
    paper: PaperFigures | None = None
    reference: ReferenceCounts | None = None
    # Rows of other tables the network stands behind (hourglass-8: Newell's Table 5 row and
    # the backbone of Nie et al.'s Table 4 row); ``paper`` is the primary row.
    extra_paper_rows: tuple[PaperFigures, ...] = field(default_factory=tuple)

    @property
    def heatmap_size(self) -> tuple[int, int]:
        return (self.input_size[0] // self.output_stride, self.input_size[1] // self.output_stride)

    @property
    def paper_rows(self) -> tuple[PaperFigures, ...]:
        """Every paper row this model stands behind, the primary one first."""
        primary = () if self.paper is None else (self.paper,)
        return primary + self.extra_paper_rows

    def paper_row(self, table: int, paper: str = "GCPM") -> PaperFigures | None:
        """The row this model stands behind in ``paper``'s Table ``table``, or ``None``."""
        return next((r for r in self.paper_rows if r.table == table and r.paper == paper), None)

    @property
    def has_background(self) -> bool:
        return self.num_heatmaps > self.num_keypoints


Builder = Callable[..., "nn.Module"]


@dataclass(frozen=True)
class _Entry:
    info: ModelInfo
    builder: Builder


_REGISTRY: dict[str, _Entry] = {}
_builtins_loaded = False


def _load_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True  # first: the family modules call register_model while importing
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


class UnknownModelError(UnknownNameError):
    """A model name that is not registered; the message lists the known ones."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:  # name: one, or quoted ones
        super().__init__(name, known)  # both in args: the error survives pickling (DDP workers)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        quoted = self.name if self.name.startswith("'") else repr(self.name)
        return f"unknown model {quoted}; known models: {', '.join(self.known)}"


def register_model(info: ModelInfo) -> Callable[[Builder], Builder]:
    """Decorator: register ``builder(**overrides) -> nn.Module`` under ``info.name``."""
    _load_builtins()  # a user's model named like a built-in one clashes now, not later
    if info.dataset not in DATASETS:
        raise UsageError(
            f"model {info.name!r}: dataset {info.dataset!r} has no reader; "
            f"known datasets: {', '.join(DATASETS)}"
        )

    def decorate(builder: Builder) -> Builder:
        if info.name in _REGISTRY:
            raise UsageError(
                f"model name {info.name!r} is already registered; give the model another name"
            )
        _REGISTRY[info.name] = _Entry(info, builder)
        return builder

    return decorate


def unregister_model(name: str) -> None:
    """Remove a model (for tests and interactive sessions that re-register)."""
    _entry(name)
    del _REGISTRY[name]


def _entry(name: str) -> _Entry:
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownModelError(name, tuple(sorted(_REGISTRY))) from None


def list_models(pattern: str = "*", module: ModuleType | str | None = None) -> list[str]:
    """Registered names, sorted, matching the wildcard ``pattern``; ``module`` keeps those whose
    builder is defined in that module or package (as torchvision's ``list_models``)."""
    _load_builtins()
    prefix = module if isinstance(module, str) or module is None else module.__name__
    names = [n for n, e in _REGISTRY.items() if fnmatch(n, pattern)]
    if prefix is not None:
        where = {n: _REGISTRY[n].builder.__module__ or "" for n in names}
        names = [n for n in names if where[n] == prefix or where[n].startswith(prefix + ".")]
    return sorted(names)


def model_info(name: str) -> ModelInfo:
    return _entry(name).info


def require_models(names: Iterable[str]) -> list[str]:
    """``names`` in order without repeats; :class:`UnknownModelError` naming every unknown one."""
    _load_builtins()
    names = list(dict.fromkeys(names))
    unknown = [n for n in names if n not in _REGISTRY]
    if unknown:
        raise UnknownModelError(", ".join(map(repr, unknown)), tuple(sorted(_REGISTRY)))
    return names


def create_model(name: str, **overrides) -> nn.Module:
    """Build a registered model; ``model.info`` holds its facts, with overridden ones updated."""
    entry = _entry(name)
    check_input_size(entry.info, overrides.get("input_size", entry.info.input_size))
    model = entry.builder(**overrides)
    fact_overrides = {k: v for k, v in overrides.items() if k in _OVERRIDABLE_FACTS}
    model.info = replace(entry.info, **fact_overrides)
    return model


class InputSizeError(UsageError):
    """An input size the model cannot take; the message names the model and the multiple."""


def check_input_size(info: ModelInfo, size: tuple[int, int]) -> None:
    """Raise :class:`InputSizeError` unless ``size`` (H, W) fits ``info.size_multiple``."""
    size = tuple(size)
    multiple = info.size_multiple
    if len(size) != 2 or any(not isinstance(s, int) or s < multiple or s % multiple for s in size):
        raise InputSizeError(
            f"model {info.name!r} needs an input size whose height and width are positive "
            f"multiples of {multiple}, got {' x '.join(map(str, size))}"
        )


_OVERRIDABLE_FACTS = {"num_heatmaps", "input_size", "num_keypoints"}

# Facts ``create_model`` passes on to builders that most networks' constructors do not take: their
# layers do not depend on the input size, and they output every heatmap whatever the joint count.
FACT_ONLY_OVERRIDES = ("input_size", "num_keypoints")


def build_variant(
    network: Builder,
    overrides: Mapping[str, Any],
    /,
    fact_only: Collection[str] = FACT_ONLY_OVERRIDES,
    **defaults: Any,
) -> nn.Module:
    """``network(**defaults)`` with the ``overrides`` on top, less the ``fact_only`` ones."""
    kept = {k: v for k, v in overrides.items() if k not in fact_only}
    return network(**{**defaults, **kept})


def input_shape(
    info: ModelInfo, input_size: tuple[int, int] | None = None, batch: int = 1
) -> tuple[int, int, int, int]:
    """The NCHW shape a model takes: its registered input size unless ``input_size`` (H, W)."""
    h, w = input_size if input_size is not None else info.input_size
    return (batch, info.in_channels, h, w)


def build_at_size(name: str, input_size: tuple[int, int] | None = None) -> nn.Module:
    """A registered model for ``input_size`` (H, W), recorded in ``model.info.input_size``.

    The size reaches the builder only where the class takes ``input_size`` (CPM's centre map);
    asking the signature, not catching a ``TypeError``, keeps a builder's own errors visible.
    """
    model = create_model(name)
    if input_size is None or tuple(input_size) == tuple(model.info.input_size):
        return model
    size = tuple(input_size)
    if "input_size" in inspect.signature(type(model)).parameters:
        return create_model(name, input_size=size)
    check_input_size(model.info, size)
    model.info = replace(model.info, input_size=size)
    return model


def _import_error(module: str, error: Exception) -> UsageError:
    if isinstance(error, ModuleNotFoundError) and error.name and module.startswith(error.name):
        return UsageError(
            f"--models-from {module}: no module named {error.name!r} on the Python path "
            "(give a dotted module name importable from the current folder)"
        )
    if isinstance(error, UsageError):  # e.g. a model name that is taken
        return UsageError(f"--models-from {module}: {error}")
    return UsageError(
        f"--models-from {module}: importing it raised {type(error).__name__}: {one_line(error)} "
        f"(python -c 'import {module}' shows the traceback)"
    )


def import_model_modules(modules: Iterable[str]) -> list[str]:
    """``--models-from``: import each module so its builders register; returns the new names.

    Whatever goes wrong in the user's module (it is missing, raises, registers a taken name, or
    registers nothing on its first import) is a :class:`UsageError` naming it.
    """
    _load_builtins()
    before = set(_REGISTRY)
    for module in modules:
        if module.endswith(".py") or "/" in module:
            raise UsageError(
                f"--models-from {module}: a file path; give the module's name "
                f"({PurePath(module).stem}), run from the folder that holds it"
            )
        first, known = module not in sys.modules, set(_REGISTRY)
        try:
            importlib.import_module(module)
        except SystemExit as exit_:  # a script's sys.exit() at import would end the command
            raise UsageError(
                f"--models-from {module}: it called sys.exit({exit_.code!r}) while importing "
                "(guard script code with if __name__ == '__main__':)"
            ) from None
        except Exception as error:  # noqa: BLE001 - the user's module: its faults are theirs
            raise _import_error(module, error) from None
        if first and set(_REGISTRY) == known:
            raise UsageError(
                f"--models-from {module}: it registers no model (decorate each builder with "
                "@register_model(ModelInfo(...)))"
            )
    return [name for name in _REGISTRY if name not in before]
