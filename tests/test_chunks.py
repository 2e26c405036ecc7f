"""Handing out an epoch's sentences (core/train/chunks.py): every sentence exactly once, a worker's
own part first and in order, then the others' tails; and in the trainer, a worker held up does
not hold up the epoch: the other one trains what is left of its part."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from core.config import TrainConfig
from core.corpus import read_corpus_text
from core.train import trainer as trainer_module
from core.train.chunks import Chunk, ChunkQueue


def _offsets(lengths) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)


def _covered(chunks: list[Chunk], n_sentences: int) -> None:
    seen = np.zeros(n_sentences, dtype=np.int64)
    for c in chunks:
        assert c.s < c.e
        seen[c.s:c.e] += 1
    assert (seen == 1).all(), np.flatnonzero(seen != 1)


def test_one_worker_takes_its_part_in_order():
    off = _offsets(np.arange(1, 200) % 17 + 1)
    q = ChunkQueue(off, 1)
    chunks = []
    while (c := q.take(0, 50)) is not None:
        chunks.append(c)
    assert [c.s for c in chunks[1:]] == [c.e for c in chunks[:-1]]
    assert chunks[0].s == 0 and chunks[-1].e == len(off) - 1
    assert all(c.part == 0 for c in chunks)
    # about the words asked for: the chunk ends at the first sentence start at or after s + 50 tokens
    assert all(off[c.e] - off[c.s] >= 50 or c.e == len(off) - 1 for c in chunks)
    assert q.words_before(chunks[3]) == off[chunks[3].s]


def test_a_worker_done_with_its_part_takes_from_the_part_with_most_left():
    off = _offsets([10] * 90)  # 900 tokens: parts of 300 each
    q = ChunkQueue(off, 3)
    assert [q.part_words(p) for p in range(3)] == [300, 300, 300]
    assert q.take(1, 200) == Chunk(1, 30, 50)  # worker 1 has eaten into part 1
    own = []
    while (c := q.take(0, 100)) is not None and c.part == 0:
        own.append(c)
    assert [x.s for x in own] == [0, 10, 20]
    # part 0 is used up: worker 0 goes on with part 2 (300 tokens left), not part 1 (100 left)
    assert c == Chunk(2, 60, 70)
    assert q.words_before(c) == 0
    rest = [c]
    while (c := q.take(0, 100)) is not None:
        rest.append(c)
    assert q.take(1, 100) is None and q.take(2, 100) is None
    _covered([Chunk(1, 30, 50), *own, *rest], 90)


def test_empty_parts_and_an_empty_corpus():
    q = ChunkQueue(_offsets([5]), 4)  # one sentence, four workers: three empty parts
    assert sum(q.part_words(p) for p in range(4)) == 5
    c = q.take(3, 1000)
    assert c is not None and (c.s, c.e) == (0, 1)
    assert all(q.take(w, 1000) is None for w in range(4))
    assert ChunkQueue(_offsets([]), 2).take(0, 10) is None


def test_many_threads_at_once_cover_every_sentence_once():
    rng = np.random.default_rng(0)
    off = _offsets(rng.integers(1, 40, size=5_000))
    q = ChunkQueue(off, 8)
    got: list[list[Chunk]] = [[] for _ in range(8)]

    def run(w: int) -> None:
        while (c := q.take(w, int(rng.integers(1, 300)) if w % 2 else 64)) is not None:
            got[w].append(c)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _covered([c for g in got for c in g], 5_000)
    for g in got:  # a worker's own part comes first, in order
        own = [c for c in g if c.part == got.index(g)]
        assert g[:len(own)] == own


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(300)]
    text = "\n".join(" ".join(rng.choice(words, size=40)) for _ in range(4_000))
    return read_corpus_text(text, min_count=1)


def test_a_held_up_worker_does_not_hold_up_the_epoch(corpus, monkeypatch):
    """Worker 0 sleeps 0.2 s before each chunk: with a fixed half each, worker 1 would train exactly
    half the words and then wait. It must train nearly all of them, and every word exactly once."""
    kernel = trainer_module.train_chunk
    words: dict[int, int] = {}
    slow: list[int] = []

    def held_up(settings, tables, tokens, offsets, W_in, out_rows, base, inv_total, tally, work):
        key = id(tally)
        if not slow:
            slow.append(key)  # the first tally seen is the warm-up's: worker 0's
        if key == slow[0] and words.get(key) is not None:
            time.sleep(0.2)
        words[key] = words.get(key, 0) + len(tokens)
        return kernel(settings, tables, tokens, offsets, W_in, out_rows, base, inv_total, tally, work)

    monkeypatch.setattr(trainer_module, "train_chunk", held_up)
    tr = trainer_module.Trainer(corpus, TrainConfig(size=16, epochs=2, threads=2, seed=1, sample=0))
    result = tr.train()
    assert result.error is None and result.epochs_completed == 2
    assert all(e.words == len(corpus) for e in result.epochs)
    assert sum(words.values()) == 2 * len(corpus)
    fast = sum(v for k, v in words.items() if k != slow[0])
    assert fast > 0.8 * 2 * len(corpus), words
