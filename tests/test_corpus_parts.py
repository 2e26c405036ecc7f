"""Reading a file as byte ranges on several threads (core/corpus_parts.py, read_corpus(threads=)).

The rule: whatever the cuts, read_corpus gives what one pass over the file gives, to the bit:
tokens, sentence offsets, vocabulary order (ties by first occurrence), counts and read stats.
The texts below are made to hit the hard cases at the cuts: lines that go on across a cut,
sentences longer than max_sentence, CRLF and lone CR line ends, blank lines, non-ASCII words,
invalid UTF-8, apostrophes, and a last line without a newline.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

from core import corpus_parts
from core.corpus import CorpusError, read_corpus, tokenize
from core.corpus_parts import range_count, run_ranges, split_points
from core.word_table import WordTable

WORDS = ["the", "a", "of", "Cat", "dog's", "don't", "'quoted'", "café", "straße", "東京", "x1", "_u", "naïve",
         "it’s", "rare" * 3]
SEPS = [" ", " ", " ", "  ", "\t", "\n", "\r\n", "\r", "\n\n", ", ", ". ", " - "]


def _text(rng: random.Random, n: int) -> bytes:
    out = []
    for _ in range(n):
        w = rng.choice(WORDS) if rng.random() < 0.9 else f"w{rng.randrange(400)}"
        out.append(w.encode("utf-8"))
        if rng.random() < 0.01:
            out.append(b"\xff\xfe")  # invalid UTF-8
        out.append(rng.choice(SEPS).encode())
    if rng.random() < 0.5:
        out.append(b"tail without newline")
    return b"".join(out)


def _same(a, b) -> None:
    assert np.asarray(a.tokens).tolist() == np.asarray(b.tokens).tolist()
    assert a.offsets.tolist() == b.offsets.tolist()
    assert a.vocab.words == b.vocab.words
    assert a.vocab.counts.tolist() == b.vocab.counts.tolist()
    for f in ("chars", "replaced", "raw_tokens", "lines"):
        assert getattr(a.stats, f) == getattr(b.stats, f), f


@pytest.mark.parametrize("seed", range(6))
def test_any_cuts_read_what_one_pass_reads(tmp_path, monkeypatch, seed):
    rng = random.Random(seed)
    path = tmp_path / "c.txt"
    path.write_bytes(_text(rng, 3000))
    kw = dict(min_count=rng.choice([1, 2, 5]), max_sentence=rng.choice([7, 50, 10_000]))
    one = read_corpus(path, threads=1, **kw)
    text = path.read_bytes().decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    assert one.stats.lines == text.count("\n") + bool(tokenize(text.rsplit("\n", 1)[-1]))
    assert one.stats.chars == len(text)
    monkeypatch.setattr(corpus_parts, "MIN_RANGE_BYTES", 1)  # ranges of any size: cuts everywhere
    for threads in (2, 3, 7):
        assert len(split_points(path, threads)) == threads + 1
        _same(read_corpus(path, threads=threads, **kw), one)
    _same(read_corpus(path, threads=4, out_prefix=tmp_path / "spilled", **kw), one)


def test_by_default_a_large_file_is_read_in_ranges(tmp_path, monkeypatch):
    """The default path (no threads given) really cuts: every range's table is merged in."""
    path = tmp_path / "c.txt"
    path.write_bytes(_text(random.Random(9), 4000))
    monkeypatch.setattr(corpus_parts, "MIN_RANGE_BYTES", 1000)
    monkeypatch.setattr(corpus_parts.os, "cpu_count", lambda: 3)
    assert range_count(path.stat().st_size) == 3
    absorbed = []
    real = WordTable.absorb
    monkeypatch.setattr(WordTable, "absorb", lambda self, other: absorbed.append(len(other)) or real(self, other))
    _same(read_corpus(path), read_corpus(path, threads=1))
    assert len(absorbed) == 2


def test_split_points_end_after_a_space_or_newline(tmp_path):
    path = tmp_path / "c.txt"
    data = b"aaaa bbbb\ncccc" + b"d" * 100 + b" e\n"
    path.write_bytes(data)
    cuts = split_points(path, 4)
    assert cuts[0] == 0 and cuts[-1] == len(data)
    assert all(a < b for a, b in zip(cuts[:-1], cuts[1:], strict=True))
    assert all(data[c - 1:c] in (b" ", b"\n") for c in cuts[1:-1])
    (tmp_path / "solid.txt").write_bytes(b"x" * 1000)
    assert split_points(tmp_path / "solid.txt", 4) == [0, 1000]  # nowhere to cut: one range


def test_absorbing_a_later_table_numbers_words_as_one_pass():
    rng = random.Random(4)
    words = [f"w{rng.randrange(3000)}" + "é" * rng.randrange(2) for _ in range(40_000)]
    a_text, b_text = " ".join(words[:25_000]).encode(), " ".join(words[25_000:]).encode()
    whole = WordTable()
    ids_a, _ = whole.encode(a_text)
    ids_b, _ = whole.encode(b_text)
    first, second = WordTable(), WordTable()
    first.encode(a_text)
    own_b, _ = second.encode(b_text)
    into = first.absorb(second)
    assert first.words() == whole.words() and len(first) == len(whole)
    assert into[own_b].tolist() == ids_b.tolist()


def test_a_bad_range_stops_the_others_and_raises(tmp_path, monkeypatch):
    """Valid text, then over a quarter undecodable bytes: the error of the second range is raised."""
    path = tmp_path / "c.txt"
    path.write_bytes(b"fine words here\n" * 20_000 + b"\xff\xfe\xfd ok\n" * 40_000)
    monkeypatch.setattr(corpus_parts, "MIN_RANGE_BYTES", 1)
    with pytest.raises(CorpusError, match="UTF-8"):
        read_corpus(path, threads=2)
    assert not [t for t in threading.enumerate() if t.name.startswith("w2v-read")]


def test_run_ranges_polls_and_stops_the_rest_on_a_failure():
    polls = []
    started = threading.Event()

    def work(source, stop):
        if source == "bad":
            started.wait(5)
            raise ValueError("bad range")
        started.set()
        stop.wait(5)  # returns as soon as the failure sets stop
        return "stopped" if stop.is_set() else "timed out"

    with pytest.raises(ValueError, match="bad range"):
        run_ranges(["good", "bad"], work, poll=lambda: polls.append(1), poll_seconds=0.01)
    assert run_ranges(["a", "b"], lambda s, stop: s * 2) == ["aa", "bb"]


def test_progress_reports_every_character_at_the_end(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_bytes(b"one two three\n" * 1000)
    monkeypatch.setattr(corpus_parts, "MIN_RANGE_BYTES", 1)
    seen = []
    read_corpus(path, threads=3, min_count=1, progress=lambda chars, total: seen.append((chars, total)))
    assert seen[-1] == (14_000, 14_000)
