"""Only the settings in which the machines differ, the telling ones first."""

from __future__ import annotations

from bench.report.compare_env import differences, flatten
from tests.bench.report.test_compare import ENV_A, ENV_B


def test_flatten_names_nested_settings_by_path_and_keeps_lists():
    assert flatten({"gpu": {"name": "H200", "clocks": {"sm": 1}}, "isa": ["avx2"]}) == {
        "gpu.name": "H200",
        "gpu.clocks.sm": 1,
        "isa": ["avx2"],
    }


def test_only_differing_settings_are_listed_telling_ones_first():
    df = differences({"a": ENV_A, "b": ENV_B}).set_index("setting")
    assert list(df.index) == [
        "cpu_model",
        "isa",
        "cpu_count",
        "torch_threads",
        "device",
        "gpu.name",
        "load.load_1m",
        "load.cores",
        "load.busy",
        "gpu.available",
    ]  # torch is the same; run ids and a GPU's momentary state never count
    assert df.loc["cpu_count"].to_dict() == {"a": "8", "b": "32"}
    assert df.loc["gpu.name"].to_dict() == {"a": "–", "b": "NVIDIA H200"}


def test_flags_show_what_not_every_set_has():
    df = differences({"a": ENV_A, "b": ENV_B}).set_index("setting")
    assert df.loc["isa"].to_dict() == {"a": "+amx_tile +avx512f", "b": "(shared only)"}
    lacking = differences({"a": ENV_A, "b": {"cpu_model": "x"}}).set_index("setting")
    assert lacking.loc["isa"].to_dict() == {"a": "+amx_tile +avx2 +avx512f", "b": "–"}


def test_the_same_flags_in_another_order_agree():
    same = differences({"a": {"isa": ["avx2", "fma"]}, "b": {"isa": ["fma", "avx2"]}})
    assert same.empty and list(same.columns) == ["setting", "a", "b"]
