"""Both architectures draw each position's targets one position ahead (kernels._cbow_sentence,
_skipgram_sentence: their output rows load while the previous position trains). Every drawn
position must still be trained and nothing drawn twice or wasted: per epoch, the noise draws
counted are exactly k per training example (CBOW: per position; skip-gram: per pair), one-word
sentences (no context, no example) included, and a seeded single-thread run repeats bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Architecture, Loss, TrainConfig
from core.corpus import Corpus
from core.train.trainer import Trainer
from core.vocab import Vocab


def _corpus() -> Corpus:
    rng = np.random.default_rng(5)
    v = 200
    p = 1.0 / np.arange(1, v + 1)
    p /= p.sum()
    lengths = rng.choice([1, 1, 2, 3, 7, 40], size=3000)  # many one-word sentences
    tokens = rng.choice(v, size=int(lengths.sum()), p=p).astype(np.int32)
    counts = np.bincount(tokens, minlength=v).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(v, np.int64)
    rank[order] = np.arange(v)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return Corpus(rank[tokens].astype(np.int32), offsets, Vocab([f"w{i}" for i in order], counts[order]))


def _train(corpus: Corpus, loss: Loss = Loss.NS, arch: Architecture = Architecture.CBOW):
    cfg = TrainConfig(architecture=arch, loss=loss, size=12, epochs=2, threads=1, seed=9, sample=0, negative=4)
    return Trainer(corpus, cfg).train()


def test_cbow_draws_k_noise_words_per_example_and_no_more():
    corpus = _corpus()
    result = _train(corpus)
    singles = int(np.sum(np.diff(corpus.offsets) == 1))
    assert singles > 500
    for epoch in result.epochs:
        assert epoch.examples == len(corpus) - singles  # every position with a context, once
        assert int(epoch.negatives.sum()) == 4 * epoch.examples


def test_skipgram_draws_k_noise_words_per_pair_and_no_more():
    corpus = _corpus()
    result = _train(corpus, arch=Architecture.SKIPGRAM)
    for epoch in result.epochs:
        assert epoch.examples > len(corpus)  # pairs: ~2 x 2.5 per position with a context
        assert int(epoch.negatives.sum()) == 4 * epoch.examples


@pytest.mark.parametrize("arch", [Architecture.CBOW, Architecture.SKIPGRAM])
def test_seeded_single_thread_runs_repeat_exactly(arch):
    corpus = _corpus()
    for loss in (Loss.NS, Loss.HS):
        a, b = _train(corpus, loss, arch), _train(corpus, loss, arch)
        assert np.array_equal(a.vectors.vectors, b.vectors.vectors)
        assert [e.loss for e in a.epochs] == [e.loss for e in b.epochs]
