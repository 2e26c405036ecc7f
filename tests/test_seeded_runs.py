"""A seeded single-thread run is bit-identical run to run, for every architecture and loss, on the
shipped sample corpus (tests/test_trainer.py also cuts one into tiny chunks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.config import Architecture, Loss, TrainConfig
from core.corpus import read_corpus_text
from core.train.trainer import Trainer

SAMPLE = Path(__file__).resolve().parents[1] / "sample_corpora" / "small_world.txt"
PAIRS = [(a, loss) for a in Architecture for loss in Loss]


@pytest.fixture(scope="module")
def corpus():
    with open(SAMPLE, encoding="utf-8") as f:
        text = "".join(f.readlines()[:1500])  # small: the full softmax is O(V) per example
    return read_corpus_text(text, min_count=3)


@pytest.mark.parametrize(("arch", "loss"), PAIRS, ids=[f"{a.name}-{b.name}" for a, b in PAIRS])
def test_seeded_single_thread_runs_are_bit_identical(corpus, arch, loss):
    cfg = TrainConfig(architecture=arch, loss=loss, size=16, epochs=2, threads=1, seed=5, sample=1e-3)
    runs = []
    for _ in range(2):
        trainer = Trainer(corpus, cfg)
        result = trainer.train()
        runs.append((trainer.W_in.copy(), trainer.W_out.copy(), [e.loss for e in result.epochs],
                     result.epochs[-1].kept, result.epochs[-1].negatives))
    (a_in, a_out, a_loss, a_kept, a_neg), (b_in, b_out, b_loss, b_kept, b_neg) = runs
    assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out)
    assert a_loss == b_loss and np.isfinite(a_loss).all()
    assert np.array_equal(a_kept, b_kept) and np.array_equal(a_neg, b_neg)
    other = Trainer(corpus, TrainConfig(architecture=arch, loss=loss, size=16, epochs=2, threads=1, seed=6))
    other.train()
    assert not np.array_equal(other.W_in, a_in)  # the seed matters: the test can fail
