"""`bench` on import: `import datasets` resolving to another package stops in one line."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import fresh_python

REPO = Path(__file__).resolve().parents[2]


def test_a_shadowing_datasets_package_is_named_with_the_fix(tmp_path):
    fake = tmp_path / "datasets"
    fake.mkdir()
    (fake / "__init__.py").write_text('"""stands in for Hugging Face datasets"""\n')
    run = fresh_python(
        tmp_path, [tmp_path, REPO], "-m", "bench.score", "p.npy", "--ground-truth", "g.mat"
    )
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert str(fake) in lines[0] and str(REPO / "datasets") in lines[0]
    assert "pip uninstall datasets" in lines[0] and "PYTHONPATH" in lines[0]


def test_our_own_package_passes(tmp_path):
    run = fresh_python(tmp_path, [REPO], "-c", "import bench, datasets; print(datasets.__file__)")
    assert run.returncode == 0 and run.stdout.strip() == str(REPO / "datasets" / "__init__.py")
