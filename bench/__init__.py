"""Benchmark harness: complexity counts, latency, tables (GCPM, Osokin 2019, and baselines)."""


def _require_own_datasets() -> None:
    """Stop in one line when ``import datasets`` gives another package (Hugging Face's)."""
    import importlib.util
    import sys
    from pathlib import Path

    ours = Path(__file__).resolve().parent.parent / "datasets"
    spec = importlib.util.find_spec("datasets")
    found = Path(spec.origin).resolve().parent if spec is not None and spec.origin else None
    if found != ours:
        print(
            f"error: `import datasets` gives {found or 'nothing'}, not gcpm-bench's {ours} "
            f"(another package named datasets, e.g. Hugging Face's, comes first on sys.path); "
            f"run from {ours.parent}, or put it first on PYTHONPATH, or use an environment "
            f"without the other package (pip uninstall datasets)",
            file=sys.stderr,
        )
        raise SystemExit(2)


_require_own_datasets()
