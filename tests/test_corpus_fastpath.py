"""The ASCII fast path of iter_token_runs (str.translate + str.split instead of TOKEN_RE.findall)
yields exactly the tokens, runs and line counts of the regex path it replaces.

The reference below is iter_token_runs as it was before the fast path: every block lowercased,
split at "\\n" and tokenised with TOKEN_RE.findall. It runs over the same blocks (iter_blocks is
unchanged), so the runs themselves must be equal, not only the tokens.
"""

from __future__ import annotations

import functools
import io
import random
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import corpus
from core.corpus import BLOCK_CHARS, TOKEN_RE, ReadStats, iter_blocks, iter_sentences, iter_token_runs

# every ASCII character class that matters: word characters of both cases, the apostrophe, the
# punctuation around it, the whitespace str.split() knows (\t \n \v \f \r \x1c-\x1f, space) and the
# other control characters, which are neither
CONTROLS = "".join(map(chr, range(0x20))) + "\x7f"
ALPHABET = string.ascii_letters + string.digits + "_" + "'" * 8 + string.punctuation + " " * 8 + "\t\n\r" + CONTROLS
PIECES = ["don't", "'", "''", "a", "B", "_", "__init__", "x'", "'y", "rock'n'roll", "42", "-", ".", ",", "\"",
          " ", " ", "\t", "\n", "\n\n", "\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x00", "\x7f", "Ab9", "q_r"]


def reference_runs(source, lowercase: bool = True, block_chars: int = BLOCK_CHARS):
    """(runs, lines, raw_tokens) from the regex-only tokeniser (the code before the fast path)."""
    stats = ReadStats()
    runs = []
    pending_line = False
    for block in iter_blocks(source, stats, block_chars):
        if lowercase:
            block = block.lower()
        segments = block.split("\n")
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            toks = TOKEN_RE.findall(seg) if seg else []
            stats.raw_tokens += len(toks)
            if toks or not last:
                pending_line = True
                runs.append((toks, not last))
                if not last:
                    stats.lines += 1
                    pending_line = False
    if pending_line:
        stats.lines += 1
    return runs, stats.lines, stats.raw_tokens


def actual_runs(source, lowercase: bool = True, block_chars: int = BLOCK_CHARS):
    """(runs, lines, raw_tokens) from corpus.iter_token_runs, reading blocks of `block_chars`."""
    stats = ReadStats()
    with pytest.MonkeyPatch.context() as mp:
        if block_chars != BLOCK_CHARS:
            mp.setattr(corpus, "iter_blocks", functools.partial(iter_blocks, block_chars=block_chars))
        runs = list(iter_token_runs(source, lowercase, stats))
    return runs, stats.lines, stats.raw_tokens


def lines_of(runs) -> list[list[str]]:
    """Join runs into lines (a last line without newline counts when it has tokens)."""
    lines, cur, open_line = [], [], False
    for toks, ends in runs:
        cur += toks
        open_line = True
        if ends:
            lines.append(cur)
            cur, open_line = [], False
    if open_line and cur:
        lines.append(cur)
    return lines


def whole_text_lines(text: str, lowercase: bool) -> list[list[str]]:
    """TOKEN_RE per line of the whole text, no blocks at all."""
    if lowercase:
        text = text.lower()
    segs = text.split("\n")
    lines = [TOKEN_RE.findall(s) for s in segs[:-1]]
    last = TOKEN_RE.findall(segs[-1])
    return lines + [last] if last else lines


def assert_same(text: str, lowercase: bool, block_chars: int = BLOCK_CHARS) -> None:
    got = actual_runs(io.StringIO(text), lowercase, block_chars)
    want = reference_runs(io.StringIO(text), lowercase, block_chars)
    assert got == want, (text, lowercase, block_chars)
    assert lines_of(got[0]) == whole_text_lines(text, lowercase), (text, lowercase, block_chars)


def tokens(text: str, lowercase: bool = True) -> list[list[str]]:
    assert_same(text, lowercase)
    return lines_of(actual_runs(io.StringIO(text), lowercase)[0])


def test_ascii_word_characters_are_what_the_regex_calls_word_characters():
    word = {c for c in map(chr, range(128)) if TOKEN_RE.fullmatch(c)}
    assert word == set(corpus._ASCII_WORD)
    for lc, table in corpus._ASCII_TABLES.items():
        for c in map(chr, range(128)):
            kept = c.lower() if lc else c
            assert c.translate(table) == (kept if c in word or c in "'\n" else " "), (lc, c)


@pytest.mark.parametrize("text, want", [
    ("don't", [["don't"]]),
    ("'quoted'", [["quoted"]]),
    ("a''b", [["a", "b"]]),
    ("x'", [["x"]]),
    ("'x", [["x"]]),
    ("'''", []),
    ("'", []),
    ("__init__", [["__init__"]]),
    ("rock'n'roll", [["rock'n'roll"]]),
    ("rock'n''roll'", [["rock'n", "roll"]]),
    ("Don't STOP 'Quoted' it's O'Brien's", [["don't", "stop", "quoted", "it's", "o'brien's"]]),
    ("9'5 _'_ a'_'b", [["9'5", "_'_", "a'_'b"]]),
    ("e-mail, mr.smith; (x)[y]{z}<w> a\"b", [["e", "mail", "mr", "smith", "x", "y", "z", "w", "a", "b"]]),
    ("a\x00b\x1fc\x7fd\x0be\x0cf\x1cg\rh\ti", [["a", "b", "c", "d", "e", "f", "g", "h", "i"]]),
    ("a\r\nb\rc\n", [["a"], ["b", "c"]]),
    ("", []),
    ("\n", [[]]),
    ("\n\n\nword\n\n", [[], [], [], ["word"], []]),
    ("  \t ", []),
    ("a\n\n", [["a"], []]),
    ("one two three\nfour\n\nfive", [["one", "two", "three"], ["four"], [], ["five"]]),
    (" anarchism originated as a term of abuse first used against early working class radicals",
     [["anarchism", "originated", "as", "a", "term", "of", "abuse", "first", "used", "against", "early",
       "working", "class", "radicals"]]),
])
def test_explicit_cases(text, want):
    assert tokens(text) == want
    assert_same(text, lowercase=False)
    for block_chars in (8, 13):
        assert_same(text, True, block_chars)
        assert_same(text, False, block_chars)


def test_lowercase_false_keeps_case():
    assert tokens("Don't STOP 'Quoted' __Init__", lowercase=False) == [["Don't", "STOP", "Quoted", "__Init__"]]


def test_line_counts_and_raw_tokens():
    _, lines, raw = actual_runs(io.StringIO("a b\n\nc'd 'e'\nf"))
    assert (lines, raw) == (4, 5)
    _, lines, raw = actual_runs(io.StringIO("a b\n\n' ,\n"))
    assert (lines, raw) == (3, 2)


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from(ALPHABET), max_size=300), lowercase=st.booleans(),
       block_chars=st.sampled_from([8, 13, 64, BLOCK_CHARS]))
def test_random_ascii_text_equals_the_regex_tokeniser(text, lowercase, block_chars):
    assert_same(text, lowercase, block_chars)


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(st.sampled_from(PIECES), max_size=80), lowercase=st.booleans(),
       block_chars=st.sampled_from([8, 13, 64, BLOCK_CHARS]))
def test_random_word_like_ascii_text_equals_the_regex_tokeniser(pieces, lowercase, block_chars):
    assert_same("".join(pieces), lowercase, block_chars)


def test_many_seeded_random_ascii_strings():
    rng = random.Random(20240611)
    for _ in range(3000):
        if rng.random() < 0.5:
            text = "".join(rng.choices(ALPHABET, k=rng.randrange(0, 200)))
        else:
            text = "".join(rng.choices(PIECES, k=rng.randrange(0, 60)))
        assert_same(text, rng.random() < 0.5, rng.choice([8, 13, 64, BLOCK_CHARS]))


def random_prose(rng: random.Random, n_words: int) -> str:
    words = ["the", "The", "don't", "'quoted'", "O'Neil's", "rock'n'roll", "a''b", "x'", "'''", "__init__",
             "e-mail", "U.S.A.", "(aside)", "42", "3.14", "co-op", "well,", "end.", "Why?", "\"yes\"", "it's"]
    seps = [" "] * 30 + ["  ", "\t", "\n", "\n\n", "\r\n", " - ", "; "]
    out = []
    for _ in range(n_words):
        out.append(rng.choice(words))
        out.append(rng.choice(seps))
    return "".join(out)


def test_three_megabyte_single_line_spanning_blocks(tmp_path: Path):
    rng = random.Random(7)
    words = ["anarchism", "originated", "as", "a", "term", "of", "abuse", "first", "used", "against", "early",
             "working", "class", "radicals", "including", "the", "diggers", "o", "clock", "zero", "nine"]
    text8 = " " + " ".join(rng.choices(words, k=550_000))
    assert len(text8) > 3 * BLOCK_CHARS and "\n" not in text8
    (tmp_path / "text8.txt").write_text(text8)
    got = actual_runs(tmp_path / "text8.txt")
    assert len(got[0]) >= 3  # one run per block, none ends the line
    assert got == reference_runs(tmp_path / "text8.txt")
    assert lines_of(got[0]) == [text8.split()] and got[1:] == (1, len(text8.split()))

    prose = random_prose(rng, 600_000).replace("\n", " ").replace("\r", " ")
    assert len(prose) > 3 * BLOCK_CHARS
    (tmp_path / "prose.txt").write_text(prose)
    for lc in (True, False):
        got = actual_runs(tmp_path / "prose.txt", lc)
        assert got == reference_runs(tmp_path / "prose.txt", lc)
        assert lines_of(got[0]) == whole_text_lines(prose, lc)


def test_file_with_ascii_and_non_ascii_blocks(tmp_path: Path):
    rng = random.Random(11)
    parts = []
    for i in range(5):  # ~0.75 MB each: the 1 M-character blocks are ASCII, not, not, ASCII
        part = random_prose(rng, 120_000)
        if i == 2:
            extra = ["École", "naïve", "İstanbul", "\u212a", "don\u2019t", "ZÜRICH", "a\u0301b", "x\xa0y",
                     "p\u2028q", "Straße", "ǅ", "\u2019quoted\u2019"]
            part = " ".join(w + " " + rng.choice(extra) if j % 50 == 0 else w
                            for j, w in enumerate(part.split(" ")))
        parts.append(part)
    text = "".join(parts)
    path = tmp_path / "mixed.txt"
    path.write_text(text, encoding="utf-8")
    kinds = {b.isascii() for b in iter_blocks(path)}
    assert kinds == {True, False}
    decoded = path.read_text(encoding="utf-8")  # universal newlines, as the reader decodes it
    for lc in (True, False):
        got = actual_runs(path, lc)
        assert got == reference_runs(path, lc)
        assert lines_of(got[0]) == whole_text_lines(decoded, lc)
    got = actual_runs(io.StringIO(text), True, 65_536)  # finer interleaving of the two kinds of block
    assert got == reference_runs(io.StringIO(text), True, 65_536)


def test_ascii_blocks_do_not_use_the_regex(monkeypatch):
    """The equality tests above exercise the fast path: ASCII blocks never reach TOKEN_RE."""

    class NoRegex:
        def findall(self, s):
            raise AssertionError("TOKEN_RE used for an ASCII block")

    monkeypatch.setattr(corpus, "TOKEN_RE", NoRegex())
    assert list(iter_sentences(io.StringIO("Don't 'stop' now\nok"))) == [["don't", "stop", "now"], ["ok"]]
    with pytest.raises(AssertionError, match="ASCII block"):
        list(iter_sentences(io.StringIO("Café au lait")))
