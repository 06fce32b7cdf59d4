"""`python -m bench.tables` on a tiny registered model: every file, atomic and honest output."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pandas as pd
import pytest
import torch
from torch import nn

from architectures import PaperFigures
from bench import tables
from bench.report import files as io
from tests.helpers import half_written_figures, quick_tables_argv, stub_table3
from tests.tiny_models import register_test_model

TINY = "tiny-test-net"
FILES = {
    f"{stem}.{ext}"
    for stem in ("table3", "table4", "table5", "complexity", "latency", "layer_profile")
    for ext in ("csv", "md")
}
FILES |= {"latency_vs_gflops.png", "layer_profile.png", "env.json"}


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 1)
        )

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [self.body(x)]


@pytest.fixture
def tiny():
    return register_test_model(  # conftest restores the registry after the test
        TINY,
        Tiny,
        input_size=(32, 32),
        output_stride=1,
        num_heatmaps=4,
        paper=PaperFigures(
            4, "Tiny et al., CVPR'18", "LIP test", pckh=50.0, hip=40.0, time_ms=2.0, note="a note"
        ),
        extra_paper_rows=(PaperFigures(5, "Tiny", "MPII test", auc=10.0, pckh=60.0, time_ms=4.0),),
    )


@pytest.fixture
def fast_table3(monkeypatch):
    stub_table3(monkeypatch)


def _args(out: Path, *extra: str) -> list[str]:
    return quick_tables_argv(TINY, out, *extra)


def test_quick_run_writes_every_file(tiny, tmp_path):
    assert tables.main(_args(tmp_path)) == 0
    assert FILES <= {p.name for p in tmp_path.iterdir()}
    t4 = pd.read_csv(tmp_path / "table4.csv")
    assert list(t4["method (paper row)"]) == ["Tiny et al., CVPR'18"]
    assert t4[f"speed-up vs {TINY}"].iloc[0] == pytest.approx(1.0)
    assert t4["PCKh (paper)"].iloc[0] == 50.0 and t4["Hip (paper)"].iloc[0] == 40.0
    assert t4["latency median (ms)"].iloc[0] > 0 and t4["iters"].iloc[0] >= 3
    t5 = pd.read_csv(tmp_path / "table5.csv")
    assert t5["AUC (paper)"].iloc[0] == 10.0 and t5["speed-up (paper)"].iloc[0] == 1.0
    layers = pd.read_csv(tmp_path / "layer_profile.csv")
    assert layers.time_share_pct.sum() == pytest.approx(100.0)
    env = json.loads((tmp_path / "env.json").read_text())
    assert env["gpu"]["available"] is False and env["models"] == [TINY]
    assert not list(tmp_path.glob(".*.tmp"))


def _previous_run(out: Path) -> dict[str, bytes]:
    out.mkdir(exist_ok=True)
    for name in FILES:
        (out / name).write_bytes(f"previous {name}".encode())
    return {name: (out / name).read_bytes() for name in FILES}


def test_failure_while_measuring_leaves_previous_files_intact(
    tiny, fast_table3, tmp_path, monkeypatch
):
    before = _previous_run(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(tables, "profile_models", interrupted)
    with pytest.raises(SystemExit) as exit_info:  # Ctrl-C: exit 130 (architectures.errors)
        tables.main(_args(tmp_path))
    assert exit_info.value.code == 130
    assert {n: (tmp_path / n).read_bytes() for n in FILES} == before


def test_failure_while_writing_leaves_no_partial_file(tiny, fast_table3, tmp_path, monkeypatch):
    before = _previous_run(tmp_path)

    monkeypatch.setattr(io, "write_figure", half_written_figures(errno.ENOSPC))
    with pytest.raises(SystemExit) as exit_info:  # a full disk is the user's to fix: exit 2
        tables.main(_args(tmp_path))
    assert exit_info.value.code == 2
    assert (tmp_path / "latency_vs_gflops.png").read_bytes() == before["latency_vs_gflops.png"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_unknown_model_lists_the_known_ones(tiny, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        tables.main(
            ["--models", "no-such-net", "--out", str(tmp_path), "--no-progress", "--device", "cpu"]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "'no-such-net'" in err and "known models:" in err and TINY in err
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--checkpoint", "nonsense"], "NAME=PATH"),
        (["--checkpoint", f"{TINY}=/no/such.pth", "--data-root", "/tmp"], "no such file"),
        (["--checkpoint", f"{TINY}=/no/such.pth"], "--data-root"),
        (["--device", "tpu:7"], "--device"),
    ],
)
def test_bad_options_are_usage_errors(tiny, tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        tables.main(
            [
                "--models",
                TINY,
                "--reference",
                TINY,
                "--out",
                str(tmp_path),
                "--device",
                "cpu",
                *argv,
            ]
        )
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def _latency_rows(rows: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": n,
                "mode": "fp32",
                "input": "32x32",
                "median_ms": ms,
                "p10_ms": ms,
                "p90_ms": ms,
                "cv": cv,
                "iters": 5,
                "throttled": False,
            }
            for n, (ms, cv) in rows.items()
        ]
    )


@pytest.fixture
def tiny_reference(tiny):
    return register_test_model(
        "tiny-ref",
        Tiny,
        dataset="mpii",
        input_size=(32, 32),
        output_stride=1,
        num_heatmaps=4,
        paper=PaperFigures(5, "Ref", "MPII test", time_ms=8.0),
    )


def test_speed_up_is_reference_over_row_in_the_same_run(tiny, tiny_reference):
    measurements = tables.Measurements(
        env={},
        latency=_latency_rows({tiny_reference: (100.0, 0.01), TINY: (25.0, 0.01)}),
        counts=pd.DataFrame(
            {"model": [tiny_reference, TINY], "params_m": [1.0, 1.0], "gmacs": [3.0, 2.0]}
        ),
        complexity=pd.DataFrame(),
        table3=pd.DataFrame(),
    )
    names = [tiny_reference, TINY]
    t5 = tables.paper_table(5, measurements, names, tiny_reference).set_index("model")
    assert t5.loc[TINY, "speed-up vs tiny-ref"] == 4.0
    assert t5.loc[TINY, "speed-up (paper)"] == 2.0  # 8 ms / 4 ms
    assert t5.loc[TINY, "GFLOPs (1 MAC = 1 FLOP)"] == 2.0 and t5.loc[TINY, "PCKh (paper)"] == 60.0
    t4 = tables.paper_table(4, measurements, [tiny_reference, TINY], tiny_reference)
    assert list(t4.model) == [TINY]  # the reference has no Table 4 row
    assert t4["speed-up (paper)"].isna().all()  # nor a Table 4 time to compare with


def test_noisy_rows_are_called_out():
    warning = tables._noise_warning(_latency_rows({"calm": (10.0, 0.05), "busy": (10.0, 0.5)}))
    assert "busy (50 %)" in warning and "calm" not in warning
    assert tables._noise_warning(_latency_rows({"calm": (10.0, 0.05)})) == ""
