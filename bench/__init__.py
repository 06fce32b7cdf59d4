"""Benchmark harness: complexity counts, latency, tables (GCPM, Osokin 2019, and baselines)."""

import importlib.util as _util
import sys as _sys
from pathlib import Path as _Path

# Another package named datasets (Hugging Face's) first on sys.path: stop in one line.
_ours = _Path(__file__).resolve().parent.parent / "datasets"
_spec = _util.find_spec("datasets")
_found = _Path(_spec.origin).resolve().parent if _spec is not None and _spec.origin else None
if _found != _ours:
    print(
        f"error: `import datasets` gives {_found or 'nothing'}, not gcpm-bench's {_ours} "
        f"(another package named datasets, e.g. Hugging Face's, comes first on sys.path); "
        f"run from {_ours.parent}, or put it first on PYTHONPATH, or use an environment "
        f"without the other package (pip uninstall datasets)",
        file=_sys.stderr,
    )
    raise SystemExit(2)
