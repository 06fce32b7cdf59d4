"""The registry: forward contract of every registered model, lookup, registration, isolation."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import ClassVar

import pytest
import torch
from torch import nn

import architectures as zoo
from architectures.errors import UsageError
from architectures.registry import ModelInfo, import_model_modules
from tests.tiny_models import OneConv

pytestmark = pytest.mark.usefixtures("torch_single_thread")

# 64 is a multiple of every model's stride chain (hourglass 64, GCPM U-block 32, CPM 8), so
# output shapes still scale with the input while the test stays fast on 2 CPU cores. Batch 2:
# training-mode BatchNorm needs more than one value per channel at the hourglass' 1x1 bottom.
SMOKE_SIZE = (64, 64)
SMOKE_BATCH = 2
# One output per stage / stack; the MPII variant adds its upsampled prediction after the stages.
NUM_OUTPUTS = {
    "gcpm-baseline": 6,
    "gcpm-aspp": 6,
    "gcpm-ppm": 6,
    "gcpm-ushaped": 6,
    "gcpm-ushaped-2stage": 2,
    "gcpm-ushaped-mpii": 7,
    "hourglass-8stack": 8,
    "hourglass-4stack": 4,
    "hourglass-2stack": 2,
    "fpd-4stack": 4,
    "cpm-original": 6,
}


# The package's own models: the smoke cases do not depend on what other tests registered.
@pytest.mark.parametrize("name", zoo.list_models(module=zoo))
def test_forward_contract_and_backward(name: str) -> None:
    torch.manual_seed(0)
    model = zoo.create_model(name, input_size=SMOKE_SIZE)
    info = model.info
    outputs = model(torch.randn(SMOKE_BATCH, info.in_channels, *SMOKE_SIZE))
    assert isinstance(outputs, list) and all(isinstance(o, torch.Tensor) for o in outputs)
    assert outputs[-1].shape == (SMOKE_BATCH, info.num_heatmaps, *info.heatmap_size)
    assert len(outputs) == NUM_OUTPUTS[name]
    assert all(torch.isfinite(o).all() for o in outputs)
    sum(o.square().mean() for o in outputs).backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads), (
        "every parameter gets a gradient"
    )


def test_registered_names_are_the_required_ones() -> None:
    required = {
        "gcpm-baseline",
        "gcpm-aspp",
        "gcpm-ppm",
        "gcpm-ushaped",
        "gcpm-ushaped-2stage",
        "gcpm-ushaped-mpii",
        "hourglass-8stack",
        "hourglass-4stack",
        "hourglass-2stack",
        "fpd-4stack",
        "cpm-original",
    }
    assert required <= set(zoo.list_models())
    assert zoo.list_models("gcpm-ushaped*") == [
        "gcpm-ushaped",
        "gcpm-ushaped-2stage",
        "gcpm-ushaped-mpii",
    ]


@pytest.mark.parametrize(
    "name, heatmaps, keypoints, heatmap_size",
    [
        ("gcpm-ushaped", 17, 16, (32, 32)),
        ("gcpm-ushaped-mpii", 17, 16, (64, 64)),
        ("hourglass-8stack", 16, 16, (64, 64)),
        ("fpd-4stack", 16, 16, (64, 64)),
        ("cpm-original", 15, 14, (46, 46)),
    ],
)
def test_facts(name: str, heatmaps: int, keypoints: int, heatmap_size: tuple[int, int]) -> None:
    info = zoo.model_info(name)
    assert (info.num_heatmaps, info.num_keypoints, info.heatmap_size) == (
        heatmaps,
        keypoints,
        heatmap_size,
    )


def test_a_model_in_two_tables_keeps_both_rows() -> None:
    rows = zoo.model_info("hourglass-8stack").paper_rows
    assert [r.pckh for r in rows] == [90.9, 87.5]
    assert "Table 5" in rows[0].source and "Table 4" in rows[1].source
    assert zoo.model_info("gcpm-ushaped").paper.gflops == 21.3


def test_unknown_name_lists_known_ones() -> None:
    with pytest.raises(zoo.UnknownModelError) as err:
        zoo.create_model("gcpm-nonexistent")
    message = str(err.value)
    assert message.startswith("unknown model 'gcpm-nonexistent'; known models: ")
    assert all(name in message for name in zoo.list_models())
    assert isinstance(err.value, KeyError), "callers that catch KeyError keep working"
    for lookup in (zoo.model_info, zoo.unregister_model):
        with pytest.raises(zoo.UnknownModelError, match="gcpm-nonexistent"):
            lookup("gcpm-nonexistent")


def test_list_models_by_module_leaves_out_models_registered_elsewhere() -> None:
    info = ModelInfo(
        name="test-user-module",
        family="user",
        dataset="lip",
        input_size=(64, 64),
        output_stride=4,
        num_heatmaps=17,
    )
    zoo.register_model(info)(lambda **kw: OneConv(17))  # conftest restores the registry
    assert "test-user-module" in zoo.list_models()
    assert "test-user-module" in zoo.list_models(module=__name__)
    assert set(zoo.list_models(module=zoo)) == set(NUM_OUTPUTS)
    assert zoo.list_models(module="architectures") == zoo.list_models(module=zoo)
    assert zoo.list_models("hourglass-*", module="architectures.hourglass") == [
        "hourglass-2stack",
        "hourglass-4stack",
        "hourglass-8stack",
    ]
    assert zoo.list_models(module="architectures.hour") == [], "a module, not a name prefix"


def test_duplicate_registration_raises() -> None:
    info = zoo.model_info("gcpm-ushaped")
    with pytest.raises(ValueError, match="already registered"):
        zoo.register_model(info)(lambda **kw: nn.Identity())


def test_user_model_joins_the_registry_with_one_decorator() -> None:
    info = ModelInfo(
        name="test-user-net",
        family="user",
        dataset="lip",
        input_size=(64, 64),
        output_stride=4,
        num_heatmaps=17,
    )

    @zoo.register_model(info)
    def user_net(**overrides) -> nn.Module:
        return OneConv(17)

    try:
        assert "test-user-net" in zoo.list_models()
        model = zoo.create_model("test-user-net")
        assert model.info == info
        assert model(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 17, 16, 16)
    finally:
        zoo.unregister_model("test-user-net")
    assert "test-user-net" not in zoo.list_models()


def test_overrides_reach_the_network_and_the_facts() -> None:
    model = zoo.create_model("gcpm-ushaped-2stage", num_heatmaps=16)
    assert model.info.num_heatmaps == 16
    assert model(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 16, 8, 8)


def _user_info(name: str, dataset: str = "lip") -> ModelInfo:
    return ModelInfo(
        name=name,
        family="user",
        dataset=dataset,
        input_size=(64, 64),
        output_stride=4,
        num_heatmaps=17,
    )


def test_a_dataset_without_a_reader_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match="'coco'.*known datasets: lip, mpii"):
        zoo.register_model(_user_info("test-coco", dataset="coco"))
    assert "test-coco" not in zoo.list_models()


def test_built_in_models_are_registered_on_first_use(tmp_path, monkeypatch) -> None:
    """Listing, looking up and registering import the built-in family modules first, so a user's
    model named like a built-in one clashes at once, not later."""
    (tmp_path / "family_for_test.py").write_text(
        "from torch import nn\n"
        "from architectures.registry import ModelInfo, register_model\n"
        "register_model(ModelInfo('test-built-in', 'f', 'lip', (64, 64), 4, 17))(\n"
        "    lambda **kw: nn.Identity())\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(zoo.registry, "BUILTIN_MODULES", ("family_for_test",))
    monkeypatch.setattr(zoo.registry, "_builtins_loaded", False)
    with pytest.raises(UsageError, match="'test-built-in' is already registered"):
        zoo.register_model(_user_info("test-built-in"))(lambda **kw: nn.Identity())
    assert "test-built-in" in zoo.list_models()


def test_require_models_names_every_unknown_one_and_drops_repeats() -> None:
    assert zoo.registry.require_models(["gcpm-ushaped", "gcpm-ushaped"]) == ["gcpm-ushaped"]
    with pytest.raises(zoo.UnknownModelError, match="'no-a', 'no-b'"):
        zoo.registry.require_models(["no-a", "gcpm-ushaped", "no-b"])


# ---------------------------------------------------------------- isolation between tests
# conftest restores the registry after every test and module; a test module that registers a
# model at import fails its own collection.

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
    conftest = Path(__file__).resolve().parents[1] / "conftest.py"
    pytester.makeconftest(conftest.read_text(encoding="utf-8"))
    return pytester


@pytest.mark.slow  # a nested pytest run
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


@pytest.mark.slow  # a nested pytest run
def test_a_test_adding_or_removing_models_leaves_the_next_one_untouched(suite) -> None:
    suite.makepyfile(test_leak=_MODULE_THAT_REGISTERS_IN_TESTS.format(own=_OWN))
    result = suite.runpytest_inprocess("-p", "no:randomly", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert zoo.list_models() == _OWN


def test_build_at_size_lets_a_builders_own_type_error_through():
    from architectures import ModelInfo, register_model, unregister_model
    from architectures.registry import build_at_size

    info = ModelInfo(
        name="tiny-broken",
        family="test",
        dataset="lip",
        input_size=(16, 16),
        output_stride=1,
        num_heatmaps=3,
    )

    def broken(**overrides):
        raise TypeError("bug inside the builder")

    register_model(info)(broken)
    try:
        with pytest.raises(TypeError, match="bug inside the builder"):
            build_at_size("tiny-broken", (32, 32))
    finally:
        unregister_model("tiny-broken")


def test_input_shape_from_the_registry_facts_or_the_size_given() -> None:
    from architectures.registry import input_shape

    info = SimpleNamespace(input_size=(16, 12), in_channels=1)
    assert input_shape(info) == (1, 1, 16, 12)
    assert input_shape(info, (8, 4)) == (1, 1, 8, 4)
    assert input_shape(info, (8, 4), batch=3) == (3, 1, 8, 4)


class _Sized(nn.Module):
    built: ClassVar[list] = []

    def __init__(self, input_size: tuple[int, int] = (16, 16)) -> None:
        super().__init__()
        _Sized.built.append(input_size)


def test_build_at_size_rebuilds_only_for_another_size() -> None:
    from architectures import ModelInfo, register_model
    from architectures.registry import build_at_size

    info = ModelInfo("tiny-sized", "test", "lip", (16, 16), 1, 3)
    register_model(info)(lambda **overrides: _Sized(**overrides))
    _Sized.built = []
    assert build_at_size("tiny-sized").info.input_size == (16, 16)
    assert build_at_size("tiny-sized", [16, 16]).info.input_size == (16, 16)
    assert _Sized.built == [(16, 16), (16, 16)]  # the registered size: built once each
    assert tuple(build_at_size("tiny-sized", [32, 24]).info.input_size) == (32, 24)
    assert _Sized.built[2:] == [(16, 16), (32, 24)]


_USER_MODULES = {
    "cl_raises": ('raise RuntimeError("boom at import")', "raised RuntimeError: boom at import"),
    "cl_syntax": ("def (:", "raised SyntaxError"),
    "cl_needs": ("import cl_no_such_dependency", "No module named 'cl_no_such_dependency'"),
    "cl_taken": (
        (
            "from architectures import ModelInfo, register_model\n"
            "register_model(ModelInfo('gcpm-ushaped', 'mine', 'lip', (64, 64), 8, 17))(print)"
        ),
        "'gcpm-ushaped' is already registered",
    ),
    "cl_nothing": ("X = 1", "registers no model"),
    "cl_exits": ("import sys\nsys.exit(3)", r"called sys.exit\(3\) while importing"),
}


@pytest.mark.parametrize("module", sorted(_USER_MODULES))
def test_a_users_module_that_fails_is_a_usage_error_naming_it(module, tmp_path, monkeypatch):
    # The user's module, not this suite, is at fault: one line (exit 2), never "internal error".
    source, named = _USER_MODULES[module]
    (tmp_path / f"{module}.py").write_text(source + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError, match=rf"^--models-from {module}: .*{named}"):
        import_model_modules([module])


@pytest.mark.parametrize("given", ["my_models.py", "nets/my_models.py", "/abs/my_models"])
def test_a_file_path_instead_of_a_module_name_says_which_name_to_give(given):
    with pytest.raises(UsageError, match=r"a file path; give the module's name \(my_models\)"):
        import_model_modules([given])


def test_a_module_imported_before_is_not_asked_to_register_again():
    assert import_model_modules(["architectures.gcpm", "architectures.gcpm"]) == []
