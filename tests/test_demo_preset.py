"""Issue 5's promise: the Demo preset on the small-world corpus trains in seconds, reaches >= 70%
on its own analogy file (3CosAdd), and phrase detection finds names such as new_york."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core.phrases import PhraseConfig, detect_phrases
from core.train.trainer import Trainer
from core.vectors.evaluate import evaluate_analogies
from ui.presets import PRESETS, preset_corpus, preset_params, to_config

SAMPLES = Path(__file__).resolve().parents[1] / "sample_corpora"

pytestmark = pytest.mark.slow


def test_demo_preset_reaches_70_percent_on_its_analogies():
    preset = PRESETS["demo"]
    loaded = preset_corpus(preset)
    cfg = to_config(preset_params(preset))
    t0 = time.perf_counter()
    result = Trainer(loaded.corpus, cfg).train()
    seconds = time.perf_counter() - t0
    acc = evaluate_analogies(result.vectors, SAMPLES / "small_world_analogies.txt", method="add")
    print(f"demo preset: {seconds:.1f} s training, 3CosAdd accuracy {100 * acc.total:.1f}%")
    assert result.epochs_completed == cfg.epochs
    assert acc.total >= 0.70


def test_phrases_detected_on_small_world(tmp_path):
    model = detect_phrases(SAMPLES / "small_world.txt", tmp_path / "phrased.txt",
                           PhraseConfig(thresholds=(200.0, 100.0)))
    found = {p.phrase for p in model.phrases}
    assert {"new_york", "united_states", "hong_kong", "prime_minister"} <= found
    assert "new_york" in (tmp_path / "phrased.txt").read_text(encoding="utf-8")
