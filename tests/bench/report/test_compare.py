"""Result sets of two machines, written by hand with known figures, loaded and joined."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from architectures.errors import InputFileError, UsageError
from bench.report import compare
from bench.report.compare import differences, flatten
from bench.report.publish import MANIFEST, sha256

LATENCY_A = {
    "hourglass-8stack": 400.0,
    "gcpm-ushaped": 100.0,
    "fpd-4stack": 50.0,
    "cpm-original": 800.0,
}
LATENCY_B = {
    "hourglass-8stack": 20.0,
    "gcpm-ushaped": 10.0,
    "fpd-4stack": 12.0,
    "hourglass-4stack": 8.0,
}
# (runtime, precision, threads, device, median_ms) of gcpm-ushaped
RUNTIMES_A = [
    ("eager", "fp32", 4, "cpu", 100.0),
    ("onnxruntime", "fp32", 4, "cpu", 50.0),
    ("openvino", "fp32", 4, "cpu", 40.0),
    ("eager", "fp32", 1, "cpu", 300.0),
    ("openvino", "fp32", 1, "cpu", 150.0),
]
RUNTIMES_B = [
    ("eager", "fp32", 16, "cpu", 80.0),
    ("onnxruntime", "fp32", 16, "cpu", 20.0),
    ("openvino", "fp32", 16, "cpu", 40.0),
    ("eager", "fp32", 1, "cpu", 200.0),
    ("openvino", "fp32", 1, "cpu", 100.0),
    ("eager", "fp32", 16, "cuda:0", 5.0),
]
ENV_A = {
    "cpu_model": "Intel(R) Xeon(R) Platinum 8480+ CPU @ 2.00GHz",
    "isa": ["avx2", "avx512f", "amx_tile"],
    "cpu_count": 8,
    "torch_threads": 4,
    "device": "cpu",
    "torch": "2.4.0",
    "run_id": "a",
    "gpu": {"available": False},
}
ENV_B = {
    "cpu_model": "AMD EPYC 7763 64-Core Processor",
    "isa": ["avx2"],
    "cpu_count": 32,
    "torch_threads": 16,
    "device": "cuda:0",
    "torch": "2.4.0",
    "run_id": "b",
    "gpu": {"available": True, "name": "NVIDIA H200", "state_at_start": {"sm_clock": 1980}},
    "load": {"load_1m": 0.5, "cores": 32, "busy": False},
}


def _latency_rows(medians: dict[str, float]) -> pd.DataFrame:
    rows = [
        {
            "model": m,
            "mode": "fp32",
            "input": "256x256",
            "median_ms": v,
            "p10_ms": 0.9 * v,
            "p90_ms": 1.1 * v,
            "cv": 0.01,
        }
        for m, v in medians.items()
    ]
    # another mode, and a mode that failed: neither is an fp32 figure
    rows.append({**rows[0], "mode": "channels_last", "median_ms": 1.0})
    rows.append({**rows[1], "mode": "fp16", "median_ms": math.nan})
    return pd.DataFrame(rows)


def _runtime_rows(rows: list[tuple]) -> pd.DataFrame:
    timed = [
        {
            "model": "gcpm-ushaped",
            "runtime": r,
            "precision": p,
            "threads": t,
            "device": d,
            "input": "256x256",
            "median_ms": v,
            "p10_ms": v,
            "p90_ms": v,
            "cv": 0.0,
            "reason": "",
        }
        for r, p, t, d, v in rows
    ]
    untimed = {
        **timed[0],
        "model": "(all models)",
        "runtime": "tensorrt",
        "median_ms": math.nan,
        "reason": "needs a CUDA device",
    }
    return pd.DataFrame([*timed, untimed])


def write_set(
    folder: Path,
    env: dict,
    latency: dict[str, float],
    runtimes: list[tuple] | None = None,
    producer: str = "bench.tables",
) -> Path:
    """A result set as ``bench.tables`` publishes it: files, then a manifest listing them."""
    folder.mkdir(parents=True)
    (folder / "env.json").write_text(json.dumps(env))
    _latency_rows(latency).to_csv(folder / "latency.csv", index=False)
    if runtimes is not None:
        _runtime_rows(runtimes).to_csv(folder / "runtimes.csv", index=False)
    names = sorted(p.name for p in folder.iterdir())
    files = {n: {"sha256": sha256(folder / n), "bytes": (folder / n).stat().st_size} for n in names}
    manifest = {"run_id": env.get("run_id", "x"), "producer": producer, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    return folder


def two_sets(root: Path) -> tuple[Path, Path]:
    return (
        write_set(root / "a", ENV_A, LATENCY_A, RUNTIMES_A),
        write_set(root / "b", ENV_B, LATENCY_B, RUNTIMES_B),
    )


@pytest.fixture
def sets(tmp_path) -> list[compare.ResultSet]:
    return compare.load_sets(two_sets(tmp_path))


def _row(df: pd.DataFrame, **keys: str) -> pd.Series:
    mask = pd.Series(True, index=df.index)
    for key, value in keys.items():
        mask &= df[key] == value
    assert mask.sum() == 1, keys
    return df[mask].iloc[0]


def test_labels_name_the_gpu_of_a_cuda_set_and_the_cpu_model_without_noise(sets):
    assert [s.label for s in sets] == ["Intel Xeon Platinum 8480+", "NVIDIA H200"]


def test_labels_two_sets_share_get_the_folder_name_then_a_number(tmp_path):
    a, b = (write_set(tmp_path / n, ENV_A, LATENCY_A) for n in ("x", "y"))
    assert compare.derive_labels([compare.load_set(a), compare.load_set(b)]) == [
        "Intel Xeon Platinum 8480+ (x)",
        "Intel Xeon Platinum 8480+ (y)",
    ]
    same = write_set(tmp_path / "z" / "x", ENV_A, LATENCY_A)
    assert compare.derive_labels([compare.load_set(a), compare.load_set(same)]) == [
        "Intel Xeon Platinum 8480+ (x) #1",
        "Intel Xeon Platinum 8480+ (x) #2",
    ]


def test_names_replace_the_derived_labels(tmp_path):
    loaded = compare.load_sets(two_sets(tmp_path), ["laptop", "server"])
    assert [s.label for s in loaded] == ["laptop", "server"]


def test_latency_joins_fp32_medians_with_speedups_within_each_set(sets):
    df = compare.latency_frame(sets)
    a, b = (s.label for s in sets)
    # the first set's rows in its order, then rows only the second has
    assert list(df.model) == [
        "hourglass-8stack",
        "gcpm-ushaped",
        "fpd-4stack",
        "cpm-original",
        "hourglass-4stack",
    ]
    gcpm = _row(df, model="gcpm-ushaped")
    assert gcpm[f"{a} median_ms"] == 100.0 and gcpm[f"{b} median_ms"] == 10.0
    assert gcpm[f"{a} speedup"] == pytest.approx(4.0) and gcpm[f"{b} speedup"] == pytest.approx(2.0)
    assert gcpm[f"{b} vs_first"] == pytest.approx(10.0)
    assert _row(df, model="hourglass-4stack")[f"{b} speedup"] == pytest.approx(2.5)
    assert pd.isna(_row(df, model="hourglass-4stack")[f"{a} median_ms"])


def test_latency_ranks_the_models_every_set_has_and_marks_the_changes(sets):
    df = compare.latency_frame(sets).set_index("model")
    a, b = (s.label for s in sets)
    assert list(df[f"{a} rank"].fillna(0)) == [3, 2, 1, 0, 0]
    assert list(df[f"{b} rank"].fillna(0)) == [3, 1, 2, 0, 0]
    assert list(df[f"{b} rank_change"].fillna(99)) == [0, 1, -1, 99, 99]


def test_speedups_are_empty_in_a_set_without_the_reference(sets):
    df = compare.latency_frame(sets, reference="cpm-original")
    a, b = (s.label for s in sets)
    assert _row(df, model="gcpm-ushaped")[f"{a} speedup"] == pytest.approx(8.0)
    assert df[f"{b} speedup"].isna().all()


def test_runtimes_speedup_is_against_eager_fp32_of_the_same_threads_and_device(sets):
    df = compare.runtimes_frame(sets)
    a, b = (s.label for s in sets)
    onnx = _row(df, runtime="onnxruntime", threads="all")
    assert onnx[f"{a} speedup"] == pytest.approx(2.0) and onnx[f"{b} speedup"] == pytest.approx(4.0)
    single = _row(df, runtime="openvino", threads="1")
    assert single[f"{a} speedup"] == pytest.approx(2.0) and single[f"{b} vs_first"] == 1.5
    cuda = _row(df, runtime="eager", device="cuda")  # cuda:0 lines up as its type
    assert cuda[f"{b} speedup"] == 1.0 and pd.isna(cuda[f"{a} median_ms"])
    assert "tensorrt" not in set(df.runtime)  # rows without a figure are left out


def test_runtimes_rank_within_model_threads_and_device(sets):
    df = compare.runtimes_frame(sets)
    a, b = (s.label for s in sets)
    full = df[(df.threads == "all") & (df.device == "cpu")].set_index("runtime")
    assert full[f"{a} rank"].to_dict() == {"eager": 3, "onnxruntime": 2, "openvino": 1}
    assert full[f"{b} rank"].to_dict() == {"eager": 3, "onnxruntime": 1, "openvino": 2}
    assert full[f"{b} rank_change"].to_dict() == {"eager": 0, "onnxruntime": 1, "openvino": -1}
    assert pd.isna(_row(df, device="cuda")[f"{b} rank"])  # the other set has no such row


def test_runtimes_of_a_set_without_them_are_empty_cells(tmp_path):
    loaded = compare.load_sets(
        [
            write_set(tmp_path / "a", ENV_A, LATENCY_A),
            write_set(tmp_path / "b", ENV_B, LATENCY_B, RUNTIMES_B),
        ]
    )
    df = compare.runtimes_frame(loaded)
    assert df[f"{loaded[0].label} median_ms"].isna().all() and len(df) == len(RUNTIMES_B)
    assert list(df[f"{loaded[1].label} rank"]) == [3, 1, 2, 2, 1, 1]  # ranked all the same
    assert compare.runtimes_frame([loaded[0], loaded[0]]) is None


def _text_in(path: Path, column: str) -> None:
    """A hand edit: one cell of a number column holds a word."""
    df = pd.read_csv(path)
    if column not in df:  # a table written with the CV as a fraction
        df[column] = 1.0
    df[column] = df[column].astype(object)
    df.loc[0, column] = "fast"
    df.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("damage", "named"),
    [
        (lambda f: (f / MANIFEST).unlink(), "{f}: not a result set"),
        (lambda f: (f / "latency.csv").unlink(), "{f}/latency.csv"),
        (lambda f: (f / "env.json").write_text("{"), "{f}/env.json"),
        (lambda f: (f / "runtimes.csv").unlink(), "{f}/runtimes.csv: listed"),
        (lambda f: (f / "latency.csv").write_text("a,b\n1,2\n"), "{f}/latency.csv: no column"),
        (lambda f: (f / "latency.csv").write_text(""), "{f}/latency.csv: not a readable CSV"),
        (
            lambda f: pd.concat([pd.read_csv(f / "latency.csv")] * 2).to_csv(f / "latency.csv"),
            "{f}/latency.csv: two timed rows for hourglass-8stack, 256x256",
        ),
        (lambda f: _text_in(f / "latency.csv", "median_ms"), "{f}/latency.csv: column median_ms"),
        (lambda f: _text_in(f / "latency.csv", "cv_pct"), "{f}/latency.csv: column cv_pct"),
        (lambda f: _text_in(f / "runtimes.csv", "threads"), "{f}/runtimes.csv: column threads"),
    ],
)
def test_a_broken_set_is_refused_naming_the_folder_or_file(tmp_path, damage, named):
    folder, _ = two_sets(tmp_path)
    damage(folder)
    with pytest.raises(InputFileError, match=named.format(f=folder).replace(".", r"\.")):
        compare.load_set(folder)


def test_a_folder_that_is_missing_a_file_or_another_tools_set_is_refused(tmp_path):
    with pytest.raises(InputFileError, match="no such folder"):
        compare.load_set(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputFileError, match="is a file"):
        compare.load_set(tmp_path / "file")
    other = write_set(tmp_path / "o", ENV_A, LATENCY_A, producer="bench.receptive_field")
    with pytest.raises(InputFileError, match="bench.receptive_field"):
        compare.load_set(other)


def test_sets_without_a_model_in_common_are_refused_naming_both(tmp_path):
    a = write_set(tmp_path / "a", ENV_A, {"hourglass-8stack": 1.0})
    b = write_set(tmp_path / "b", ENV_B, {"gcpm-ushaped": 1.0})
    with pytest.raises(UsageError, match=f"{b} and {a} have no model in common"):
        compare.load_sets([a, b])


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


def test_a_latency_csv_with_its_cv_in_percent_reads_as_a_fraction(tmp_path):
    folder = write_set(tmp_path / "pct", ENV_A, {"hourglass-8stack": 100.0})
    latency = pd.read_csv(folder / "latency.csv")
    latency.assign(cv_pct=latency.cv * 100).drop(columns="cv").to_csv(folder / "latency.csv")
    loaded = compare.load_set(folder)
    fp32 = latency[latency["mode"] == "fp32"]
    assert loaded.latency.cv.tolist() == pytest.approx(fp32.cv.tolist())
