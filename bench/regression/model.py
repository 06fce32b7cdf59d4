"""What a gate pass measures and how a baseline is stored (results/regression_baseline.json)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from architectures.errors import UsageError

BASELINE = Path("results/regression_baseline.json")
FORMAT_VERSION = 3
TOLERANCE = 0.03


class GateError(UsageError):
    """Bad argument, baseline or model name: one line, exit status 2."""


class NoComparableBaseline(GateError):
    """No baseline measured under this fingerprint and settings: one line, exit status 4."""


@dataclass(frozen=True)
class GateConfig:
    """One pass: every model at ``input_size``, one thread, ``repeats`` counted forwards each.

    Instruction counts repeat to about 0.1 %, so one fixed relative ``tolerance`` decides.
    """

    reference: str = "hourglass-8stack"
    input_size: tuple[int, int] = (64, 64)  # hourglass needs multiples of 64
    repeats: int = 3
    tolerance: float = TOLERANCE

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise GateError(f"--repeats must be >= 1, got {self.repeats}")
        if not 0 < self.tolerance < 1:
            raise GateError(f"--tolerance must be in (0, 1), got {self.tolerance}")
        if any(s <= 0 or s % 64 for s in self.input_size):
            raise GateError(
                f"input size must be positive multiples of 64 (hourglass), got {self.input_size}"
            )

    def comparable_key(self) -> tuple:
        return (self.reference, tuple(self.input_size))


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
        """Ratio to the reference; the reference itself is gated on its instruction count."""
        return (
            "instructions" if name == self.config.reference else f"ratio to {self.config.reference}"
        )

    def to_json(self) -> dict:
        return {
            "version": FORMAT_VERSION,
            "config": asdict(self.config),
            "fingerprint": self.fingerprint,
            "commit": self.commit,
            "dirty": self.dirty,
            "models": {n: asdict(m) for n, m in self.models.items()},
        }

    @classmethod
    def from_json(cls, data: dict, source: str) -> Pass:
        if not isinstance(data, dict) or "version" not in data:
            # Not a baseline of any format (a list, another tool's JSON): malformed, exit 2.
            raise GateError(
                f'{source}: not a regression baseline (a JSON object with a "version" '
                f"field); re-baseline with `python -m bench.regression update`"
            )
        if data["version"] != FORMAT_VERSION:
            version = data["version"]
            raise NoComparableBaseline(
                f"{source}: format version {version!r}, expected {FORMAT_VERSION}; re-baseline "
                f"with `python -m bench.regression update`"
            )
        try:
            cfg = data["config"]
            config = GateConfig(**{**cfg, "input_size": tuple(cfg["input_size"])})
            models = {n: ModelFigures(**m) for n, m in data["models"].items()}
            return cls(
                config, dict(data["fingerprint"]), str(data["commit"]), list(data["dirty"]), models
            )
        except (KeyError, TypeError) as exc:
            raise GateError(f"{source}: malformed regression baseline ({exc!r})") from None


def load_baseline(path: Path) -> Pass:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NoComparableBaseline(
            f"no regression baseline at {path}; create it with `python -m bench.regression update`"
        ) from None
    except OSError as exc:
        raise GateError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise GateError(f"{path}: not a JSON text file (byte {exc.start} is not UTF-8)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GateError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return Pass.from_json(data, str(path))


def merge(passes: list[Pass]) -> Pass:
    """A baseline from unchanged passes: every repeat of every pass is one sample."""
    first = passes[0]
    models = {}
    for name, fig in first.models.items():
        models[name] = ModelFigures(
            fig.params,
            fig.flops,
            fig.signature,
            [s for p in passes for s in p.models[name].samples],
            [r for p in passes for r in p.models[name].raw],
        )
    return Pass(first.config, first.fingerprint, first.commit, first.dirty, models)
