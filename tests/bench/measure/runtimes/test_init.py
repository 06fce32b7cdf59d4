"""bench.measure.runtimes: the light registry of runtime names."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from architectures.errors import UnknownNameError
from bench.measure import runtimes
from bench.measure.runtimes import get_runtime, list_runtimes, parse_spec, runtime_spec

ROOT = Path(__file__).resolve().parents[4]


def test_listing_and_checking_names_imports_no_runtime_library():
    code = (
        "import sys; from bench.measure.runtimes import list_runtimes, parse_spec;"
        "list_runtimes(); parse_spec('openvino:int8');"
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'openvino', 'nncf', 'pandas')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_every_registered_name_resolves_to_an_adapter_of_that_name():
    for name in list_runtimes():
        assert get_runtime(name).name == name


def test_specs_parse_into_name_and_precision():
    assert parse_spec("openvino") == ("openvino", None)
    assert parse_spec("onnxruntime:int8") == ("onnxruntime", "int8")


@pytest.mark.parametrize("spec", ["onnx-runtime", "onnx-runtime:fp32"])
def test_an_unknown_runtime_names_the_known_ones(spec):
    with pytest.raises(UnknownNameError, match="known runtimes: .*onnxruntime"):
        parse_spec(spec)
    with pytest.raises(UnknownNameError):
        get_runtime(spec)


def test_runtime_spec_is_the_argparse_type_of_runtime_options():
    assert runtime_spec("openvino:int8") == "openvino:int8" and runtime_spec("none") == "none"
    with pytest.raises(argparse.ArgumentTypeError, match="unknown precision 'int4'"):
        runtime_spec("openvino:int4")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown precision ''"):
        runtime_spec("openvino:")  # a colon without a precision is a typo, not "every one"


def test_an_adapter_object_can_stand_in_the_registry(monkeypatch):
    adapter = object()
    monkeypatch.setitem(runtimes.RUNTIMES, "mine", adapter)
    assert get_runtime("mine") is adapter and "mine" in list_runtimes()
