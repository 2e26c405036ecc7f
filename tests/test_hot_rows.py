"""Buffered output rows (core/train/hot_rows.py): which rows, merging, and that buffering changes what a
worker computes only by float32 rounding."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from core.config import Architecture, ConfigError, Loss, TrainConfig
from core.corpus import read_corpus_text
from core.huffman import build_huffman
from core.train.hot_rows import (
    MERGE_EVERY,
    MIN_MERGE_SHIFT,
    TIER_ROWS,
    buffered,
    load_rows,
    merge_due,
    merge_rows,
    merge_shift,
    most_used_rows,
    unbuffered,
)
from core.train.kernels import _tick, make_settings, make_tally, make_work, train_chunk
from core.train.trainer import Trainer


@pytest.fixture(scope="module")
def corpus(small_real_text):
    return read_corpus_text(small_real_text, min_count=5)


def test_most_used_rows_ns_are_the_most_frequent_words():
    assert most_used_rows(Loss.NS, 100, 8).tolist() == list(range(8))
    assert most_used_rows(Loss.NCE, 5, 8).tolist() == list(range(5))  # never more rows than exist
    assert most_used_rows(Loss.SOFTMAX, 100, 8).size == 0
    assert most_used_rows(Loss.NS, 100, 0).size == 0


def test_most_used_rows_hs_are_the_most_visited_inner_nodes():
    rng = np.random.default_rng(0)
    counts = np.sort(rng.zipf(1.3, 400).clip(1, 10**6))[::-1].astype(np.int64)
    tree = build_huffman(counts)
    visits = np.zeros(counts.size - 1, np.int64)  # how often each inner node is on an example's path
    for w, c in enumerate(counts):
        visits[tree.points[w, : tree.lengths[w]]] += c
    k = 20
    got = most_used_rows(Loss.HS, counts.size - 1, k)
    assert got[0] == counts.size - 2  # the root first
    assert visits[got].min() >= np.sort(visits)[::-1][k - 1]  # the k most visited (ties either way)


def test_merge_adds_every_workers_change_and_refreshes_the_copy():
    rng = np.random.default_rng(1)
    W0 = rng.normal(size=(10, 4)).astype(np.float32)
    W = W0.copy()
    a, b = buffered(W, np.array([2, 3])), buffered(W, np.array([3, 2]))
    load_rows(a)
    load_rows(b)
    da, db = np.float32(0.5), np.float32(0.25)
    a.local[:] += da  # worker a changes rows 2 and 3 in its copy
    b.local[0] += db  # worker b changes row 3 only
    assert np.array_equal(W, W0)  # nothing reaches W before a merge
    merge_rows(a)
    assert np.allclose(W[[2, 3]], W0[[2, 3]] + da)
    assert np.array_equal(a.local, W[[2, 3]]) and np.array_equal(a.base, a.local)
    merge_rows(b)
    assert np.allclose(W[2], W0[2] + da) and np.allclose(W[3], W0[3] + da + db)
    assert np.array_equal(b.local, W[[3, 2]])  # b now sees a's change too
    others = [0, 1, 4, 5, 6, 7, 8, 9]
    assert np.array_equal(W[others], W0[others])


def test_merge_due_merges_each_tier_at_its_own_interval():
    """Tier 0 (the TIER_ROWS most used slots) after every MERGE_EVERY positions, tier j >= 1
    (slots [TIER_ROWS 2^(j-1), TIER_ROWS 2^j)) after every 2^j of them; here K = 5 TIER_ROWS
    rows make tiers [0, 1), [1, 2), [2, 4) and a partial [4, 5) in units of TIER_ROWS."""
    k = 5 * TIER_ROWS
    W = np.zeros((k + 3, 2), np.float32)
    out = buffered(W, np.arange(k))
    load_rows(out)
    tier_of = np.repeat([0, 1, 2, 2, 3], TIER_ROWS)  # slot -> tier
    merged_at = {n: [] for n in range(1, 17)}
    for n in range(1, 17):
        out.local[:] += 1.0  # every buffered row changes between two merge points
        before = W[:k, 0].copy()
        merge_due(out, n)
        changed = W[:k, 0] != before
        merged_at[n] = sorted(set(tier_of[changed].tolist()))
        # a merged row carries every change since its last merge; an unmerged one none yet
        assert np.array_equal(W[:k, 0][changed], out.local[changed, 0])
    for n, tiers in merged_at.items():
        assert tiers == [j for j in range(4) if n % (1 << j) == 0], (n, tiers)
    assert np.array_equal(W[k:], 0 * W[k:])  # unbuffered rows untouched
    merge_rows(out)  # the end of a chunk: everything, whatever is due
    assert np.array_equal(W[:k, 0], np.full(k, 16.0, np.float32))


@njit
def _ticks(settings, out, work, n):
    for _ in range(n):
        _tick(settings, out, work)


@pytest.mark.parametrize("arch", list(Architecture))
def test_the_kernels_merge_tier_zero_at_their_architectures_interval(arch):
    """The trainer's own per-position count (kernels._tick with make_settings): tier 0 reaches W
    after MERGE_EVERY[arch] positions (1,024 skip-gram, 512 CBOW), not one position earlier, and
    again after twice as many."""
    every = MERGE_EVERY[arch]
    assert every & (every - 1) == 0  # a power of two: the kernel masks instead of dividing
    k = 2 * TIER_ROWS
    W = np.zeros((k + 1, 2), np.float32)
    out = buffered(W, np.arange(k))
    load_rows(out)
    settings = make_settings(arch, Loss.NS, 5, 5, False, False, 0.025, 1e-4)
    work = make_work(16, 5, 6, 2, k + 1, False)
    out.local[:] += 1.0
    _ticks(settings, out, work, every - 1)
    assert not W.any()  # nothing merged yet
    _ticks(settings, out, work, 1)
    assert np.array_equal(W[:TIER_ROWS, 0], np.ones(TIER_ROWS, np.float32))  # tier 0 merged
    assert not W[TIER_ROWS:].any()  # tier 1 waits for the second interval
    _ticks(settings, out, work, every)
    assert np.array_equal(W[:k, 0], np.ones(k, np.float32))


@pytest.mark.parametrize("arch", list(Architecture))
def test_more_workers_merge_tier_zero_more_often(arch):
    """Between two merges a buffered row misses the other workers' updates: with T workers the
    interval is MERGE_EVERY / (T - 1) rounded down to a power of two, never under 16 positions,
    and the trainer's settings carry it."""
    every = MERGE_EVERY[arch]
    for threads, expected in [(1, every), (2, every), (3, every // 2), (4, every // 4), (5, every // 4),
                              (9, every // 8), (17, every // 16), (10_000, 1 << MIN_MERGE_SHIFT)]:
        expected = max(expected, 1 << MIN_MERGE_SHIFT)
        assert 1 << merge_shift(arch, threads) == expected, (threads, expected)
        settings = make_settings(arch, Loss.NS, 5, 5, False, False, 0.025, 1e-4, threads=threads)
        assert 1 << int(settings.merge_shift) == expected


def test_buffered_rejects_rows_that_are_not_a_run_of_rows_of_w():
    W = np.zeros((5, 3), np.float32)
    for bad in ([1, 1], [5], [-1], [1, 3], [0, 1, 3], [2, 1, 2]):
        with pytest.raises(ValueError):
            buffered(W, np.array(bad))
    assert buffered(W, np.array([], np.int64)).index.size == 0  # nothing buffered: the plain view


@pytest.mark.parametrize("arch,loss", [(Architecture.SKIPGRAM, Loss.NS), (Architecture.SKIPGRAM, Loss.HS),
                                       (Architecture.CBOW, Loss.NS), (Architecture.SKIPGRAM, Loss.NCE)])
def test_one_worker_with_buffered_rows_computes_what_it_computes_without(corpus, arch, loss):
    """Same chunk, same seed, one worker: reading and writing the buffered copies and merging
    in tiers may only change float32 rounding (W + (local - base) vs local), so a bug in the
    plumbing (a buffered row read from W, a lost or repeated merge of some tier) shows up as a
    real difference. 3 TIER_ROWS + 100 rows: tiers 0, 1 and a partial tier 2."""
    results = []
    for hot in (0, 3 * TIER_ROWS + 100):
        trainer = Trainer(corpus, TrainConfig(architecture=arch, loss=loss, size=16, threads=1, seed=4))
        cfg = trainer.config
        settings = make_settings(cfg.architecture, cfg.loss, cfg.window, cfg.negative, False, True, cfg.alpha,
                                 cfg.min_alpha)
        work = make_work(cfg.max_sentence, cfg.window, max(cfg.negative + 1, trainer.tables.points.shape[1]),
                         16, trainer.W_out.shape[0], False)
        out_rows = buffered(trainer.W_out, most_used_rows(loss, trainer.W_out.shape[0], hot))
        tally = make_tally(np.array([77], np.uint64), 0)
        acc = tally.totals
        c = corpus
        ids = c.tokens.astype(np.int32)
        train_chunk(settings, trainer.tables, ids, c.offsets, trainer.W_in, out_rows, 0, 1.0 / len(c), tally, work)
        results.append((trainer.W_in.copy(), trainer.W_out.copy(), acc.copy()))
        assert out_rows.index.size == hot  # the vocabulary is large enough for every tier
    (wi0, wo0, acc0), (wi1, wo1, acc1) = results
    assert acc0[1] == acc1[1]  # the same examples
    assert np.isclose(acc0[0], acc1[0], rtol=1e-3)  # the same loss up to rounding
    assert np.abs(wo1 - wo0).max() < 1e-3 and np.abs(wi1 - wi0).max() < 1e-3
    assert not np.array_equal(wo0, 0 * wo0)  # it trained


def test_two_threads_with_and_without_buffering_learn_alike(corpus):
    losses = {}
    for hot in (0, 256):
        r = Trainer(corpus, TrainConfig(size=24, epochs=3, threads=2, seed=2, hot_rows=hot)).train()
        losses[hot] = [e.loss for e in r.epochs]
        assert losses[hot][-1] < losses[hot][0]
    assert abs(losses[256][-1] - losses[0][-1]) < 0.03 * losses[0][-1], losses


def test_hot_rows_default_and_validation():
    assert TrainConfig(threads=1).resolved().hot_rows == 0  # one thread: exact, nothing buffered
    for arch in Architecture:  # NS/NCE: the 4,096 most frequent words; HS: the 1,024 nodes nearest the root
        assert TrainConfig(threads=2, architecture=arch).resolved().hot_rows == 4096
        assert TrainConfig(threads=2, architecture=arch, loss=Loss.NCE).resolved().hot_rows == 4096
        assert TrainConfig(threads=2, architecture=arch, loss=Loss.HS, negative=0).resolved().hot_rows == 1024
    assert TrainConfig(threads=2, loss=Loss.SOFTMAX, negative=0, max_vocab=100).resolved().hot_rows == 0
    assert TrainConfig(threads=2, hot_rows=0).resolved().hot_rows == 0
    assert TrainConfig(threads=2, shared_negatives=True).resolved().hot_rows == 4096  # since 2026-12-05
    assert TrainConfig(threads=1, shared_negatives=True).resolved().hot_rows == 0
    assert TrainConfig(threads=2, shared_negatives=True, hot_rows=8).resolved().hot_rows == 8
    with pytest.raises(ConfigError, match="hot_rows"):
        TrainConfig(hot_rows=-1).resolved()


def test_unbuffered_is_w_itself():
    W = np.ones((3, 2), np.float32)
    v = unbuffered(W)
    assert v.W is W and v.index.size == 0 and v.local.shape == (0, 2)
