"""core/word_table.py (provisional ids from a compiled hash table) and read_corpus built on it.

read_corpus must give exactly what a plain Python reading of the same tokens gives: the
reference below takes the sentences from iter_sentences (iter_token_runs, itself tested against
the regex tokeniser in test_corpus_fastpath.py), counts words in first-seen order with a dict,
builds the Vocab and encodes the sentences, dropping out-of-vocabulary tokens and empty sentences.
"""

from __future__ import annotations

import functools
import io
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import corpus
from core.corpus import BLOCK_CHARS, CorpusError, iter_blocks, iter_sentences, read_corpus
from core.vocab import Vocab
from core.word_table import WordTable

REPO = Path(__file__).resolve().parents[1]


def test_ids_in_first_seen_order_and_tokens_per_line_segment():
    t = WordTable()
    ids, segs = t.encode(b"b a b\nc\n\na ")
    assert ids.tolist() == [0, 1, 0, 2, 1]
    assert segs.tolist() == [3, 1, 0, 1]
    ids, segs = t.encode(b"d b")
    assert ids.tolist() == [3, 0] and segs.tolist() == [2]
    assert t.words() == ["b", "a", "c", "d"] and len(t) == 4


def test_empty_and_blank_blocks():
    t = WordTable()
    ids, segs = t.encode(b"")
    assert ids.tolist() == [] and segs.tolist() == [0]
    ids, segs = t.encode(b"  \n \n")
    assert ids.tolist() == [] and segs.tolist() == [0, 0, 0]


def test_utf8_words_round_trip():
    t = WordTable()
    words = ["café", "straße", "i̇stanbul", "東京", "don’t", "a"]
    ids, _ = t.encode(" ".join(words + words[::-1]).encode("utf-8"))
    assert ids.tolist() == [0, 1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 0]
    assert t.words() == words


def test_growth_past_every_initial_capacity_keeps_ids():
    """Far more distinct words than the first table (2^16 slots, 2^15 words) and a word pool
    beyond its first 256 KB, over many blocks: every word keeps its first id."""
    rng = random.Random(3)
    t = WordTable()
    truth: dict[str, int] = {}
    for _ in range(12):
        words = [f"w{rng.randrange(120_000)}" + "x" * rng.randrange(0, 40) for _ in range(15_000)]
        ids, segs = t.encode(" ".join(words).encode())
        want = [truth.setdefault(w, len(truth)) for w in words]
        assert ids.tolist() == want and segs.tolist() == [len(words)]
    assert len(t) == len(truth) > 1 << 15
    assert t.words() == list(truth)


def test_counts_follow_every_encoded_token_through_growth_but_not_absorb():
    rng = random.Random(5)
    t, truth = WordTable(), {}
    for _ in range(6):
        words = [f"w{rng.randrange(60_000)}" for _ in range(20_000)]  # past the first 2^15 words
        t.encode(" ".join(words).encode())
        for w in words:
            truth[w] = truth.get(w, 0) + 1
    assert t.words() == list(truth) and t.counts().tolist() == list(truth.values())
    other = WordTable()
    other.encode(b"new w1 new")
    t.absorb(other)
    assert t.counts().shape == (len(t),) and t.counts()[-1] == 0  # absorbed words: counted by their own table


def test_encode_returns_its_own_arrays():
    """The ids come from a scratch buffer reused block to block; what encode returns is a copy."""
    t = WordTable()
    first, _ = t.encode(b"a b c")
    t.encode(b"d e f")
    assert first.tolist() == [0, 1, 2]


def test_words_with_equal_hash_buckets_stay_apart():
    """A full-ish table: linear probing must compare the bytes, not just the slot."""
    t = WordTable()
    words = [f"{i:x}" for i in range(40_000)]
    ids, _ = t.encode(" ".join(words + words).encode())
    assert ids.tolist() == list(range(40_000)) * 2


ALIKE = ["abcdefgh", "abcdefg", "abcdefgi", "abcdefghi", "abcdefghj", "abcdefghij", "abcdefgh" + "x" * 30,
         "abcdefgh" + "x" * 29 + "y", "a", "a\x00", "a\x00\x00", "\x00", "abcdefg\x00", "abcdefg\x00h", "ab"]


def check_alike_words_stay_apart() -> None:
    """Words that share their key (a word's first 8 bytes: longer words with different tails, of
    equal or different length), words that are a prefix of another, words differing only in the
    8th byte and a NUL inside a word (the key is zero-padded) each keep their own id, in a table
    and through absorb."""
    words = ALIKE
    t = WordTable()
    ids, _ = t.encode(" ".join(words + words[::-1]).encode("utf-8"))
    n = len(words)
    assert ids.tolist() == list(range(n)) + list(range(n))[::-1]
    assert t.words() == words and t.counts().tolist() == [2] * n
    # the same words seen first by a second table (another byte range), then absorbed: same ids
    first, second = WordTable(), WordTable()
    first.encode(" ".join(words[:5]).encode())
    second.encode(" ".join(words[3:][::-1]).encode())
    remap = first.absorb(second)
    assert first.words() == words[:5] + words[5:][::-1]
    assert [first.words()[i] for i in remap] == words[3:][::-1]


def test_words_alike_in_their_first_eight_bytes_or_their_length_stay_apart():
    check_alike_words_stay_apart()


def test_alike_words_stay_apart_when_every_word_hashes_the_same():
    """The same words with the table hash made constant, so all of them share one probe chain and
    only the key, length and tail comparisons tell them apart (the kernels run as Python:
    NUMBA_DISABLE_JIT, where a module global can be replaced)."""
    script = (
        "import numpy as np\n"
        "from core import word_table\n"
        "word_table._mixed = lambda key, tail, size: np.uint64(12345)\n"
        "from tests.test_word_table import check_alike_words_stay_apart\n"
        "check_alike_words_stay_apart()\n"
        "print('ok')\n"
    )
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    p = subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]


def reference(text: str, min_count: int, max_sentence: int, lowercase: bool):
    sents = list(iter_sentences(io.StringIO(text), lowercase, max_sentence))
    counts: dict[str, int] = {}
    for s in sents:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    if not counts:
        return None
    vocab = Vocab.from_counts(list(counts), np.array(list(counts.values()), np.int64), min_count=min_count)
    index = {w: i for i, w in enumerate(vocab.words)}
    tokens: list[int] = []
    offsets = [0]
    for s in sents:
        enc = [index[w] for w in s if w in index]
        if enc:
            tokens += enc
            offsets.append(len(tokens))
    return list(vocab.words), vocab.counts.tolist(), tokens, offsets


def assert_read_matches(text: str, min_count: int, max_sentence: int, lowercase: bool, block_chars: int):
    want = reference(text, min_count, max_sentence, lowercase)
    with pytest.MonkeyPatch.context() as mp:
        if block_chars != BLOCK_CHARS:
            mp.setattr(corpus, "iter_blocks", functools.partial(iter_blocks, block_chars=block_chars))
        try:
            c = read_corpus(io.StringIO(text), min_count=min_count, max_sentence=max_sentence,
                            lowercase=lowercase)
        except CorpusError:
            assert want is None or not want[0], text
            return
    assert want is not None
    assert (list(c.vocab.words), c.vocab.counts.tolist(), c.tokens.tolist(), c.offsets.tolist()) == want, text


ALPHABET = list("abcAB'’ \n\t.-é東ßİ") + ["\u0301", "don't", "Café", "the", "The", "x'y"]


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(ALPHABET), max_size=120), min_count=st.sampled_from([1, 2, 3]),
       max_sentence=st.sampled_from([1, 2, 3, 10_000]), lowercase=st.booleans(),
       block_chars=st.sampled_from([8, 13, 64, BLOCK_CHARS]))
def test_read_corpus_equals_a_python_reading_of_the_same_tokens(pieces, min_count, max_sentence, lowercase,
                                                                block_chars):
    assert_read_matches("".join(pieces), min_count, max_sentence, lowercase, block_chars)


def test_read_corpus_long_single_line_over_many_blocks():
    rng = random.Random(11)
    text = " " + " ".join(rng.choices(["the", "cat", "sat", "on", "mat", "x", "don't", "Über"], k=30_000))
    for block_chars in (4096, BLOCK_CHARS):
        assert_read_matches(text, 2, 700, True, block_chars)


def test_the_table_grows_with_its_words_not_with_the_block():
    """A 1 MB block of ten distinct words leaves the table at its first size (sizing for the most
    a block could hold, half a million new words, cost ~25 MB per reader thread)."""
    t = WordTable()
    block = (" ".join(f"w{i % 10}" for i in range(300_000))).encode()
    ids, _ = t.encode(block)
    assert ids[:12].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1] and len(t) == 10
    def size(table):
        return table._slots.nbytes + table._info.nbytes + table._starts.nbytes + table._pool.nbytes

    assert size(t) == size(WordTable())  # ~1.3 MB


def test_a_token_longer_than_the_pool_grows_it_mid_block():
    t = WordTable()
    long = "y" * 700_000  # past the first pool (256 KB) and past its double
    ids, segs = t.encode(f"a {long} b\n{long} a".encode())
    assert ids.tolist() == [0, 1, 2, 1, 0] and segs.tolist() == [3, 2]
    assert t.words() == ["a", long, "b"]
