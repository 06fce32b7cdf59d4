"""Shared test fixtures, and isolation of the model registry between tests.

Tests that need a model of their own register it inside a test or fixture (``tiny_models``), never
at import: a module that registers while it is collected changes what other modules collect (the
smoke test is parametrised over the registry), so collection fails for it with a message. Every
module and every test gets the registry back as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import torch

from architectures import registry


@contextmanager
def registry_snapshot() -> Iterator[None]:
    """Restore the model registry on exit to what it held on entry (additions and removals)."""
    registry.list_models()  # the built-in models are registered on first use: before the copy
    saved = dict(registry._REGISTRY)
    try:
        yield
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)


@pytest.fixture(scope="module", autouse=True)
def _module_registry() -> Iterator[None]:
    """Models a module's fixtures register are gone before the next module runs."""
    with registry_snapshot():
        yield


@pytest.fixture(autouse=True)
def isolated_registry() -> Iterator[None]:
    """Models a test registers (and models it removes) are restored after it."""
    with registry_snapshot():
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """Fail the collection of a module that changes the registry when it is imported."""
    before = set(registry._REGISTRY)
    with registry_snapshot():
        outcome = yield
        changed = sorted(set(registry._REGISTRY) ^ before)
    report = outcome.get_result()
    if isinstance(collector, pytest.Module) and changed and report.passed:
        report.outcome = "failed"
        report.longrepr = (
            f"{collector.nodeid} changes the model registry at import "
            f"({', '.join(changed)}); register in a fixture (tests/tiny_models.py)"
        )


@pytest.fixture(scope="module")
def torch_single_thread() -> Iterator[None]:
    """One intra-op thread for CPU-heavy tests: results are identical, and on a shared 2-core
    runner OpenMP threads fighting for cores made these tests ~20x slower (CPU time)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
