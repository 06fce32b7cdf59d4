"""Test isolation itself (issue 14): conftest restores the model registry after every test and
module, and a test module that registers a model at import fails its own collection."""

from __future__ import annotations

from pathlib import Path

import pytest

import architectures as zoo

pytest_plugins = ["pytester"]

_OWN = sorted(zoo.list_models(module=zoo))

_MODULE_THAT_REGISTERS_AT_IMPORT = """
from torch import nn
from architectures import ModelInfo, register_model

register_model(ModelInfo(name="test-at-import", family="t", dataset="lip", input_size=(8, 8),
                         output_stride=1, num_heatmaps=1))(lambda **kw: nn.Identity())

def test_nothing():
    pass
"""

_MODULE_THAT_REGISTERS_IN_TESTS = """
from torch import nn
import architectures as zoo

def _register(name):
    info = zoo.ModelInfo(name=name, family="t", dataset="lip", input_size=(8, 8),
                         output_stride=1, num_heatmaps=1)
    zoo.register_model(info)(lambda **kw: nn.Identity())

def test_a_adds_and_removes():
    _register("test-leak-a")
    zoo.unregister_model("gcpm-baseline")

def test_b_sees_the_package_registry():
    assert zoo.list_models() == {own!r}
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    """A scratch test directory that uses this suite's conftest."""
    conftest = Path(pytest.importorskip("conftest").__file__)
    pytester.makeconftest(conftest.read_text(encoding="utf-8"))
    return pytester


def test_registration_at_import_fails_collection_with_the_model_named(suite) -> None:
    suite.makepyfile(test_at_import=_MODULE_THAT_REGISTERS_AT_IMPORT)
    result = suite.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    expected = (
        "*test_at_import.py changes the model registry at import (test-at-import); "
        "register in a fixture*"
    )
    result.stdout.fnmatch_lines([expected])
    assert zoo.list_models() == _OWN, "the failed collection left nothing behind"


def test_a_test_adding_or_removing_models_leaves_the_next_one_untouched(suite) -> None:
    suite.makepyfile(test_leak=_MODULE_THAT_REGISTERS_IN_TESTS.format(own=_OWN))
    result = suite.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert zoo.list_models() == _OWN
