"""The kernels draw a position's random numbers two positions ahead of training it and turn them into
noise words one position ahead (kernels._skipgram_window, _skipgram_targets, _draw_ahead), so the
table entries and rows they need are loading while the position before trains. Whatever the
pipelining, each pair must train with the words the plain order gives: a sentence's subsampling
numbers first (one per word whose keep probability is below 1), then position after position, the
window's number, then each pair's noise draws (skip-gram); CBOW draws each position's targets one
position before its window. These tests replay that plain order in Python, through the same
compiled output step (core/train/step.py), and compare the trained matrices and the noise counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Architecture, Loss, TrainConfig
from core.corpus import read_corpus_text
from core.train.hot_rows import unbuffered
from core.train.kernels import make_settings, make_tally, make_work, train_chunk
from core.train.losses import rng_below, rng_next, rng_uniform
from core.train.step import _state, apply_step, pick_targets
from core.train.trainer import Trainer

DIM, WINDOW, K, ALPHA, SEED = 8, 3, 4, 0.05, 77


@pytest.fixture(scope="module", params=[0.0, 0.01], ids=["all-kept", "subsampled"])
def model(request):
    rng = np.random.default_rng(3)
    words = iter(rng.zipf(1.3, 3000) % 60)
    lengths = [1, 2, 5, 37] * 18  # sentences too short for a window, and longer than two of them
    lines = [" ".join(f"w{next(words)}" for _ in range(n)) for n in lengths]
    corpus = read_corpus_text("\n".join(lines) + "\n", min_count=1)
    trainer = Trainer(corpus, TrainConfig(size=DIM, window=WINDOW, negative=K, sample=request.param, threads=1,
                                          seed=1))
    assert np.any(trainer.tables.keep_prob < 1) == (request.param > 0)
    init = np.random.default_rng(4)
    W_in = init.normal(0, 0.3, trainer.W_in.shape).astype(np.float32)
    W_out = init.normal(0, 0.3, trainer.W_out.shape).astype(np.float32)
    return corpus, trainer.tables, W_in, W_out


def _kernel(model, arch: Architecture, shared: bool):
    corpus, tables, W_in, W_out = model
    W_in, W_out = W_in.copy(), W_out.copy()
    settings = make_settings(int(arch), int(Loss.NS), WINDOW, K, shared, True, ALPHA, ALPHA)
    work = make_work(64, WINDOW, K + 1, DIM, W_out.shape[0], False)
    tally = make_tally(np.array([SEED], np.uint64), W_in.shape[0])
    ids = corpus.tokens.astype(np.int32)
    train_chunk(settings, tables, ids, corpus.offsets, W_in, unbuffered(W_out), 0, 1e-9, tally, work)
    return W_in, W_out, tally.negatives


def _window(rng, i, n):
    rng, r = rng_next(rng)
    eff = WINDOW - int(rng_below(np.uint64(r), np.int64(WINDOW)))
    return np.uint64(rng), max(0, i - eff), min(n, i + eff + 1)


def _pick(tables, word, rng, counts):
    rows, labels, shifts, state = pick_targets(tables, Loss.NS, word, K, rng, counts)
    return (rows, labels, shifts), _state(state)


def _reference(model, arch: Architecture, shared: bool):
    corpus, tables, W_in, W_out = model
    W_in, W_out = W_in.copy(), W_out.copy()
    counts = np.zeros(W_in.shape[0], np.int64)
    rng = _state(SEED)
    for s in range(len(corpus.offsets) - 1):
        sen = []
        for w in corpus.tokens[corpus.offsets[s]:corpus.offsets[s + 1]]:
            if tables.keep_prob[w] < 1:
                rng, r = rng_next(rng)
                rng = np.uint64(rng)
                if rng_uniform(np.uint64(r)) >= tables.keep_prob[w]:
                    continue
            sen.append(int(w))
        n = len(sen)
        if arch == Architecture.SKIPGRAM:
            for i in range(n):
                rng, lo, hi = _window(rng, i, n)
                picked = None
                for c in range(lo, hi):
                    if c == i:
                        continue
                    if picked is None or not shared:
                        picked, rng = _pick(tables, sen[i], rng, counts)
                    apply_step(Loss.NS, W_in, sen[c], W_out, *picked, alpha=ALPHA, into_h=True)
            continue
        picked = {}
        if n >= 2:
            picked[0], rng = _pick(tables, sen[0], rng, counts)
        for i in range(n):
            if i + 1 < n:
                picked[i + 1], rng = _pick(tables, sen[i + 1], rng, counts)
            rng, lo, hi = _window(rng, i, n)
            context = [sen[c] for c in range(lo, hi) if c != i]
            if not context:
                continue
            h = np.zeros((1, DIM), np.float32)
            for w in context:
                h[0] += W_in[w]
            h[0] *= np.float32(1.0) / np.float32(len(context))
            _, neu1e = apply_step(Loss.NS, h, 0, W_out, *picked[i], alpha=ALPHA, into_h=False)
            for w in context:
                W_in[w] += neu1e
    return W_in, W_out, counts


@pytest.mark.parametrize("arch, shared", [(Architecture.SKIPGRAM, False), (Architecture.SKIPGRAM, True),
                                          (Architecture.CBOW, False)])
def test_each_pair_trains_with_the_words_the_plain_order_draws(model, arch, shared):
    k_in, k_out, k_counts = _kernel(model, arch, shared)
    r_in, r_out, r_counts = _reference(model, arch, shared)
    np.testing.assert_array_equal(k_counts, r_counts)
    assert not np.array_equal(k_in, model[2])  # it trained
    np.testing.assert_array_equal(k_in, r_in)
    np.testing.assert_array_equal(k_out, r_out)
