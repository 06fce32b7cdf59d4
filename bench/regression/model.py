"""A gate pass and the baseline file (results/regression_baseline.json); docs/regression-gate.md."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from architectures.errors import UsageError

BASELINE = Path("results/regression_baseline.json")
HISTORY = Path("results/regression_history.csv")
TOOL_ROOT = Path(__file__).resolve().parents[2]  # the tree whose measuring code runs
FORMAT_VERSION = 3
TOLERANCE = 0.03
PROG = "python -m bench.regression"
UPDATE = f"`{PROG} update`"


class GateError(UsageError):
    """Bad argument, baseline or model name: one line, exit status 2."""


class NoComparableBaseline(GateError):
    """No baseline measured under this fingerprint and settings: one line, exit status 4."""


@dataclass(frozen=True)
class GateConfig:
    """One pass: every model at ``input_size``, one thread, ``repeats`` counted forwards each."""

    reference: str = "hourglass-8stack"
    input_size: tuple[int, int] = (64, 64)  # hourglass needs multiples of 64
    repeats: int = 3
    tolerance: float = TOLERANCE

    def __post_init__(self) -> None:  # a hand-edited baseline is refused like a bad option
        object.__setattr__(self, "input_size", tuple(self.input_size))
        if self.repeats < 1:
            raise GateError(f"--repeats must be >= 1, got {self.repeats}")
        if not 0 < self.tolerance < 1:
            raise GateError(f"--tolerance must be in (0, 1), got {self.tolerance}")
        if any(s <= 0 or s % 64 for s in self.input_size):
            raise GateError(f"--size must be positive multiples of 64, got {self.input_size}")


@dataclass
class ModelFigures:
    params: int
    flops: int  # fvcore, 1 multiply-add = 1 FLOP, at the pass's input size
    signature: dict[str, list[int]]  # aten op -> [calls, bytes written]
    samples: list[float]  # the gated figure per repeat (see Pass.figure_of)
    raw: list[float] = field(default_factory=list)  # instructions per repeat


@dataclass
class Pass:
    config: GateConfig
    fingerprint: dict
    commit: str  # HEAD of the measured tree ("" outside git)
    dirty: list[str]  # paths with uncommitted changes that can change a figure
    models: dict[str, ModelFigures]

    def figure_of(self, name: str) -> str:
        ref = self.config.reference
        return "instructions" if name == ref else f"ratio to {ref}"

    def to_json(self) -> dict:
        return {"version": FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict, source: str) -> Pass:
        if not isinstance(data, dict) or "version" not in data:
            raise GateError(
                f'{source}: not a regression baseline (a JSON object with a "version" field); '
                f"re-baseline with {UPDATE}"
            )
        if data["version"] != FORMAT_VERSION:
            raise NoComparableBaseline(
                f"{source}: format version {data['version']!r}, expected {FORMAT_VERSION}; "
                f"re-baseline with {UPDATE}"
            )
        try:
            models = {n: ModelFigures(**m) for n, m in data["models"].items()}
            config = GateConfig(**data["config"])
            fingerprint = dict(data["fingerprint"])
            return cls(config, fingerprint, str(data["commit"]), data["dirty"], models)
        except (KeyError, TypeError) as exc:
            raise GateError(f"{source}: malformed regression baseline ({exc!r})") from None


def load_baseline(path: Path) -> Pass:
    try:
        return Pass.from_json(json.loads(path.read_text(encoding="utf-8")), str(path))
    except FileNotFoundError:
        raise NoComparableBaseline(f"no regression baseline at {path}; run {UPDATE}") from None
    except OSError as exc:
        raise GateError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise GateError(f"{path}: not a JSON text file (byte {exc.start} is not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def merge(passes: list[Pass]) -> Pass:
    """A baseline from unchanged passes: every repeat of every pass is one sample."""
    first = passes[0]
    models = {}
    for name, fig in first.models.items():
        samples = [s for p in passes for s in p.models[name].samples]
        raw = [r for p in passes for r in p.models[name].raw]
        models[name] = ModelFigures(fig.params, fig.flops, fig.signature, samples, raw)
    return Pass(first.config, first.fingerprint, first.commit, first.dirty, models)
