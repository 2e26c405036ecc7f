"""A corpus read into memory keeps its word ids as uint16 when the vocabulary fits (up to 65,536
words; the 19M-word corpus has 49,531): half the memory of int32, 38 MB less for that corpus. The
kernels take int32, so TokenReader and train_slice widen a chunk at a time; training must not
notice (same vectors to the bit), and files keep int32."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Architecture, TrainConfig
from core.corpus import Corpus, TokenReader, read_corpus_text, token_dtype
from core.train.slices import SliceModel, slice_rng, train_slice
from core.train.trainer import Trainer


def _text(distinct: int) -> str:
    return " ".join(f"w{i}" for i in range(distinct)) + "\n"


@pytest.mark.parametrize(("distinct", "dtype"), [(65_536, np.uint16), (65_537, np.int32)])
def test_the_narrowest_type_that_holds_every_id(distinct: int, dtype: type) -> None:
    c = read_corpus_text(_text(distinct), min_count=1)
    assert c.tokens.dtype == dtype and token_dtype(distinct) == dtype
    assert int(c.tokens.max()) == distinct - 1  # the largest id survives the narrow type
    words = c.vocab.words
    assert [words[i] for i in c.tokens.tolist()] == [f"w{i}" for i in range(distinct)]


@pytest.fixture(scope="module")
def corpus(small_real_text: str) -> Corpus:
    c = read_corpus_text(small_real_text, min_count=5)
    assert c.tokens.dtype == np.uint16
    return c


def _wide(c: Corpus) -> Corpus:
    return Corpus(c.tokens.astype(np.int32), c.offsets, c.vocab)


def test_reader_widens_uint16_and_gives_int32_a_view(corpus: Corpus) -> None:
    narrow = TokenReader(corpus.tokens)
    for a, b in [(0, 5), (100, 150), (7, 9), (len(corpus) - 30, len(corpus))]:
        got = narrow.read(a, b)
        assert got.dtype == np.int32 and np.array_equal(got, corpus.tokens[a:b])
    wide = _wide(corpus)
    view = TokenReader(wide.tokens).read(3, 9)
    assert view.dtype == np.int32 and np.shares_memory(view, wide.tokens)


@pytest.mark.parametrize("arch", [Architecture.SKIPGRAM, Architecture.CBOW])
def test_training_on_uint16_ids_equals_training_on_int32(corpus: Corpus, arch: Architecture) -> None:
    cfg = TrainConfig(architecture=arch, size=16, epochs=1, threads=1, seed=3)
    a, b = Trainer(corpus, cfg), Trainer(_wide(corpus), cfg)
    a.train()
    b.train()
    assert np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)


def test_a_slice_of_uint16_ids_trains_like_int32(corpus: Corpus) -> None:
    cfg = TrainConfig(size=16, epochs=1, threads=1, seed=3).resolved()
    t = Trainer(corpus, cfg)
    model = SliceModel(cfg, t.tables)
    results = []
    for tokens in (corpus.tokens, corpus.tokens.astype(np.int32)):
        W_in, W_out = t.W_in.copy(), t.W_out.copy()
        train_slice(model, W_in, W_out, tokens, corpus.offsets, 0, corpus.n_sentences, 0, 1.0 / len(corpus),
                    slice_rng(3, 0))
        results.append((W_in, W_out))
    assert np.array_equal(results[0][0], results[1][0]) and np.array_equal(results[0][1], results[1][1])
    assert not np.array_equal(results[0][0], t.W_in)  # it trained


def test_saved_files_keep_int32(corpus: Corpus, tmp_path) -> None:
    corpus.save(tmp_path / "c")
    for mmap in (True, False):
        back = Corpus.load(tmp_path / "c", mmap=mmap)
        assert back.tokens.dtype == np.int32 and np.array_equal(back.tokens, corpus.tokens)
