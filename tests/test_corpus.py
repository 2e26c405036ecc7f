"""Corpus reading, tokenisation, vocabulary and the CLI's handling of bad input."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.corpus import Corpus, CorpusError, iter_sentences, read_corpus, read_corpus_text
from core.vocab import Vocab

ROOT = Path(__file__).resolve().parents[1]


def test_tokens_lowercase_unicode_digits_inner_apostrophes():
    import io

    sents = list(iter_sentences(io.StringIO("Don't STOP 'quoted' École 42 new_york\nZürich, naïve!")))
    assert sents == [["don't", "stop", "quoted", "école", "42", "new_york"], ["zürich", "naïve"]]
    kept = list(iter_sentences(io.StringIO("Keep Case"), lowercase=False))
    assert kept == [["Keep", "Case"]]


def test_sentences_are_lines_split_every_max_sentence_tokens():
    c = read_corpus_text("a b c d e f g\nh i\n", min_count=1, max_sentence=3)
    assert [c.sentence(s) for s in range(c.n_sentences)] == [["a", "b", "c"], ["d", "e", "f"], ["g"], ["h", "i"]]


def test_vocabulary_order_min_count_and_tie_break():
    c = read_corpus_text("b a c a b d a\n", min_count=2)
    assert c.vocab.words == ["a", "b"]  # a:3, b:2; c and d below min_count
    t = read_corpus_text("z y x y z\n", min_count=1)
    assert t.vocab.words == ["z", "y", "x"]  # ties keep first occurrence
    assert list(t.tokens) == [0, 1, 2, 1, 0]
    capped = read_corpus_text("a a a b b c\n", min_count=1, max_vocab=2)
    assert capped.vocab.words == ["a", "b"] and len(capped) == 5


def test_out_of_vocabulary_tokens_are_removed_and_offsets_stay_consistent():
    c = read_corpus_text("rare the cat\nthe rare2\nthe cat\n", min_count=2)
    assert c.vocab.words == ["the", "cat"]
    assert [c.sentence(s) for s in range(c.n_sentences)] == [["the", "cat"], ["the"], ["the", "cat"]]
    assert c.offsets[0] == 0 and c.offsets[-1] == len(c)


def test_gz_and_plain_read_the_same(tmp_path):
    text = "the quick brown fox jumps over the lazy dog\n" * 20
    (tmp_path / "a.txt").write_text(text)
    with gzip.open(tmp_path / "a.txt.gz", "wt") as f:
        f.write(text)
    a = read_corpus(tmp_path / "a.txt", min_count=1)
    b = read_corpus(tmp_path / "a.txt.gz", min_count=1)
    assert a.vocab.words == b.vocab.words and np.array_equal(a.tokens, b.tokens)


def test_single_long_line_streams_in_blocks(tmp_path):
    words = [f"w{i % 997}" for i in range(300_000)]
    (tmp_path / "long.txt").write_text(" ".join(words))  # one line, no newline, > one 4 MB block? no: many blocks
    from core import corpus as corpus_mod

    c = corpus_mod.read_corpus(tmp_path / "long.txt", min_count=1)
    assert len(c) == 300_000 and c.n_sentences == 30
    assert c.sentence(0)[:3] == ["w0", "w1", "w2"]
    # a block boundary never splits a token
    blocks = list(corpus_mod.iter_blocks(tmp_path / "long.txt", block_chars=1000))
    assert "".join(blocks).split() == words


def test_a_token_longer_than_a_block_is_joined_once_and_endless_ones_are_refused(tmp_path, monkeypatch):
    from core import corpus as corpus_mod

    long_word = "x" * 5_500  # spans six 1,000-character blocks
    (tmp_path / "t.txt").write_text(f"a {long_word} b\nc")
    blocks = list(corpus_mod.iter_blocks(tmp_path / "t.txt", block_chars=1000))
    assert "".join(blocks).split() == ["a", long_word, "b", "c"]
    assert all(b[-1].isspace() for b in blocks[:-1])  # every block but the last ends on whitespace
    monkeypatch.setattr(corpus_mod, "MAX_TOKEN_CHARS", 4_000)
    with pytest.raises(CorpusError, match="no whitespace"):
        list(corpus_mod.iter_blocks(tmp_path / "t.txt", block_chars=1000))


def test_vocab_save_load_roundtrip(tmp_path):
    c = read_corpus_text("a a a b b c\n", min_count=1)
    c.vocab.save(tmp_path / "v.txt")
    assert (tmp_path / "v.txt").read_text() == "a 3\nb 2\nc 1\n"
    v = Vocab.load(tmp_path / "v.txt")
    assert v.words == c.vocab.words and np.array_equal(v.counts, c.vocab.counts)


def test_memory_mapped_corpus(tmp_path):
    (tmp_path / "t.txt").write_text("x y z x y x\nz z\n")
    c = read_corpus(tmp_path / "t.txt", min_count=1, out_prefix=tmp_path / "enc")
    assert isinstance(c.tokens, np.memmap)
    again = Corpus.load(tmp_path / "enc")
    assert np.array_equal(again.tokens, c.tokens) and np.array_equal(again.offsets, c.offsets)
    assert again.vocab.words == c.vocab.words


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9 ok ok\nmore \xff\xfe words\n")
    c = read_corpus(tmp_path / "bad.txt", min_count=1)
    assert c.stats.replaced == 3 and "ok" in c.vocab


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "no words"),
        (b"   \n\n  ", "no words"),
        (b"\x00\x01\x02binary\x00" * 100, "binary"),
        (b"one two three", "min_count"),
    ],
)
def test_bad_corpora_give_clear_errors(tmp_path, content, message):
    p = tmp_path / "c.txt"
    p.write_bytes(content)
    with pytest.raises(CorpusError, match=message):
        read_corpus(p, min_count=5)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize(
    "extra,content,message",
    [
        ([], "", "no words"),
        ([], "a b c", "min_count"),
        (["--window", "0"], "a b c " * 10, "window"),
        (["--size", "0"], "a b c " * 10, "size"),
        (["--epochs", "0"], "a b c " * 10, "epochs"),
        (["--negative", "0"], "a b c " * 10, "negative"),
        (["--hot-rows", "-1"], "a b c " * 10, "hot-rows"),
        (["--hot-rows", "200000"], "a b c " * 10, "hot_rows"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, extra, content, message):
    corpus = tmp_path / "c.txt"
    corpus.write_text(content)
    r = run_cli("train", str(corpus), "-o", str(tmp_path / "v.txt"), "--quiet", *extra)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and message in r.stderr


def test_cli_binary_garbage_and_missing_file(tmp_path):
    garbage = tmp_path / "g.bin"
    garbage.write_bytes(bytes(range(256)) * 50)
    r = run_cli("train", str(garbage), "-o", str(tmp_path / "v.txt"), "--quiet")
    assert r.returncode == 2 and "binary" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("train", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "v.txt"), "--quiet")
    assert r.returncode == 2 and "no such file" in r.stderr


def test_cli_train_json_similar_and_analogy(tmp_path):
    import json

    corpus = ROOT / "sample_corpora" / "tiny.txt"
    out = tmp_path / "v.bin"
    r = run_cli("train", str(corpus), "-o", str(out), "--binary", "--json", "--min-count", "1", "--epochs", "2",
                "--size", "16")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert set(summary) >= {"words", "vocab_size", "seconds", "words_per_sec", "epochs"}
    assert len(summary["epochs"]) == 2 and all(e["loss"] > 0 for e in summary["epochs"])
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(out), binary=True)
    assert len(kv) == summary["vocab_size"]
    word = kv.index_to_key[0]
    r = run_cli("similar", str(out), word, "-n", "3")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 3
    r = run_cli("similar", str(out), "notaword")
    assert r.returncode == 2 and "notaword" in r.stderr and "Traceback" not in r.stderr


def test_a_lowercased_dotted_capital_i_stays_one_word():
    # 'İ'.lower() is 'i' + U+0307 (a combining mark, not a word character): once split 'i' | 'stanbul'
    c = read_corpus_text("İstanbul İstanbul", min_count=1)
    assert c.vocab.words == ["i\u0307stanbul"]


@pytest.mark.parametrize("count", ["²", "9" * 5000, "1e3", "-4"])
def test_vocab_file_with_a_bad_count_is_a_vocab_error(tmp_path, count):
    from core.vocab import Vocab, VocabError

    p = tmp_path / "v.txt"
    p.write_text(f"the 10\nword {count}\n", encoding="utf-8")
    with pytest.raises(VocabError, match="expected 'word count'"):
        Vocab.load(p)
