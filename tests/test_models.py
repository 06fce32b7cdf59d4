"""Model zoo: forward contract of every registered model, registry behaviour, swappable parts."""

from __future__ import annotations

from functools import partial

import pytest
import torch
from torch import nn

import architectures as zoo
from architectures.context import ASPP, PyramidPooling, UShapedContext
from architectures.cpm import CPM
from architectures.gcpm import GCPM
from architectures.registry import ModelInfo
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


@pytest.mark.parametrize(
    "context", [UShapedContext, PyramidPooling, lambda c: ASPP(c, 17, mid_channels=8)]
)
@pytest.mark.parametrize("position", ["stage", "backbone"])
def test_context_module_is_swappable(context, position: str) -> None:
    model = GCPM(num_refinement_stages=1, context=context, context_position=position)
    modules = list(model.modules())
    assert any(isinstance(m, (UShapedContext, PyramidPooling, ASPP)) for m in modules)
    assert model(torch.zeros(1, 3, 64, 64))[-1].shape == (1, 17, 8, 8)


def test_norm_and_activation_are_swappable() -> None:
    # The context factory only gets the width; it takes its own norm through partial.
    norm = partial(nn.GroupNorm, 1)
    model = GCPM(
        num_refinement_stages=1,
        context=partial(UShapedContext, norm=norm, act=nn.SiLU),
        norm=norm,
        act=nn.SiLU,
    )
    kinds = {type(m) for m in model.modules()}
    assert nn.GroupNorm in kinds and nn.SiLU in kinds
    assert nn.BatchNorm2d not in kinds and nn.ReLU not in kinds
    assert torch.isfinite(model(torch.randn(1, 3, 64, 64))[-1]).all()


def test_bad_constructor_arguments_are_named() -> None:
    with pytest.raises(ValueError, match="context_position"):
        GCPM(context=UShapedContext, context_position="middle")
    with pytest.raises(ValueError, match="multiples of 8"):
        CPM(input_size=(100, 100))


def test_cpm_centre_prior_is_a_fixed_buffer_at_the_centre() -> None:
    model = CPM(input_size=(64, 64), num_stages=2)
    assert "centre_map" in dict(model.named_buffers())
    assert all("centre" not in name for name, _ in model.named_parameters())
    centre = model.centre_map[0, 0]
    assert centre.shape == (64, 64) and centre[31:33, 31:33].min() == centre.max()
    with pytest.raises(ValueError, match=r"built for input \(64, 64\)"):
        model(torch.zeros(1, 3, 128, 128))
