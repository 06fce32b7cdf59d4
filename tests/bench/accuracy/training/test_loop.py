"""The training loop end to end: a short CPU run lifts PCKh and its checkpoint holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import cpu_train_config, generated_root


@pytest.mark.slow
def test_short_training_lifts_pckh_far_above_the_untrained_model(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The CPU demonstration in small: gcpm-ushaped-2stage at 64x64 fits 9 generated images."""
    from bench.accuracy.evaluation import evaluate_checkpoint
    from bench.accuracy.training.config import AugmentSwitches
    from bench.accuracy.training.loop import fit

    root = generated_root(tmp_path_factory, "lip", num_images=12, seed=1)
    cfg = cpu_train_config(
        "gcpm-ushaped-2stage",
        root,
        tmp_path / "run",
        epochs=6,
        batch_size=3,
        lr=2e-3,
        seed=0,
        input_size=(64, 64),
        val_split="train",
        validate_every=6,
        augment=AugmentSwitches(enabled=False),
    )
    # the same seed gives fit() the same initial weights: this is the run's starting point
    before = evaluate_checkpoint(
        cfg.model, None, "lip", root, split="train", input_size=(64, 64), device="cpu"
    )["PCKh"]
    run = fit(cfg)
    after = run.history[-1]["val_pckh"]
    assert [r["val_pckh"] is None for r in run.history] == [True] * 5 + [False]
    assert run.history[-1]["train_loss"] < 0.5 * run.history[0]["train_loss"]
    assert after >= before + 10.0, (before, after)
    trained = evaluate_checkpoint(
        cfg.model,
        cfg.out / "last.pt",
        "lip",
        root,
        split="train",
        input_size=(64, 64),
        device="cpu",
    )["PCKh"]
    assert trained == pytest.approx(after)  # the checkpoint holds what was validated
