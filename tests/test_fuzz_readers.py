"""Fuzz the corpus reader, saved-corpus loading and the question / word-pair readers with malformed
input: only CorpusError / EvalError may escape, with a one-line message; a result that comes back is
valid (and, for the corpus reader, equals a plain-Python reading of the same text); and the memory a
read traces (tracemalloc, which also sees numpy's buffers) stays below a constant plus a multiple
of the input size.

Bounds, from measured worst cases with headroom:
- read_corpus: 32 MB + 64 x input bytes (for .gz: file bytes + decompressed bytes). The constant is
  the reader's fixed read buffer: TextIOWrapper.read(4 Mi characters) asks for 4 MiB of bytes and
  sizes its output for them, so even a 2-byte file traces 4 MB (12 MB with an emoji). While a block
  is tokenised every token is a Python str of ~50 bytes, and a distinct word costs a str, dict
  entries and list slots for the vocabulary; at the end every sentence costs a few int64 copies
  while the offsets are assembled. Measured: 32x for a line of two-letter words, 38x for one-word
  lines, 39x for all-distinct five-letter words. The other fixed buffers (4 M-character blocks, 2 M
  token ids before a spill) only fill on inputs whose size already pays for them.
- Corpus.load: 1 MB + 64 x the three files' bytes. Token ids are memory-mapped (or read: 1x), offsets
  are read (1x, plus np.diff) and each vocabulary line becomes a str, an int and dict entries (~50x
  for 'w 1' lines). A .npy header's shape is never trusted before it is checked against the file.
- read_analogies / read_word_pairs: 1 MB + 64 x file bytes. The file is read whole, decoded (<= 4x)
  and split into line and word objects (measured <= 33x).
"""

from __future__ import annotations

import gzip
import io
import re
import tempfile
import tracemalloc
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.corpus import TOKEN_RE, Corpus, CorpusError, read_corpus, read_corpus_text
from core.vectors.evaluate import EvalError, read_analogies, read_word_pairs

MB = 1 << 20
CORPUS_BOUND = (32 * MB, 64)
LOAD_BOUND = (1 * MB, 64)
EVAL_BOUND = (1 * MB, 64)
FUZZ = settings(max_examples=400, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="fuzz_readers_", dir="/tmp") as d:
        yield Path(d)


def put(path: Path, data: bytes | None) -> None:
    """Replace a file (unlink first: an earlier example may still map the old one)."""
    path.unlink(missing_ok=True)
    if data is not None:
        path.write_bytes(data)


def bounded(fn, error: type[Exception], size: int, bound: tuple[int, int]):
    """Run fn under tracemalloc. Only `error` may escape, with a one-line message; the traced peak
    must stay below bound[0] + bound[1] * size. Returns fn's result, or the error."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except error as e:
            out = e
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    if isinstance(out, error):
        assert len(str(out).splitlines()) == 1, repr(str(out))
    assert peak < bound[0] + bound[1] * size, f"peak {peak} bytes for {size} input bytes"
    return out


@st.composite
def edited(draw, data: bytes, max_edits: int = 4) -> bytes:
    """`data` with a few bytes set, inserted or deleted, and maybe cut short."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, max_edits))):
        i = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["set", "insert", "delete"]))
        if op == "set" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        else:
            del data[i:i + draw(st.integers(1, 8))]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


# -- the corpus reader --------------------------------------------------------------------------------
PIECES = [s.encode() if isinstance(s, str) else s for s in [
    "the", "cat", "The", "CAT", "don't", "'quoted'", "café", "CAFÉ", "東京", "İstanbul", "ΣΟΦΟΣ", "x\u2019y",
    "new_york", "42", "😀", "a", "ab",
    " ", "  ", "\t", "\n", "\n", "\r\n", "\r", "\x0b", "\x0c", "\u2028", "\xa0", "\u3000",
    ".", ",", "!?", "--", "'", '"', "\ufeff", "\ufffd",
    b"\xff", b"\xfe", b"\xc3", b"\xe6\x9d", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x00",
]]
text_like = st.lists(st.sampled_from(PIECES) | st.binary(max_size=6), max_size=80).map(b"".join)
corpus_bytes = st.one_of(st.binary(max_size=800), text_like)
# bigger inputs by repetition: runs of whitespace, punctuation, garbage or words, up to ~1 MB
repeated = st.tuples(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map(b"".join),
                     st.integers(1, 40_000)).map(lambda t: t[0] * t[1])
reading = st.fixed_dictionaries({
    "min_count": st.integers(1, 3),
    "max_sentence": st.sampled_from([1, 2, 3, 10_000]),
    "lowercase": st.booleans(),
})


def expected_reading(text: str, min_count: int, max_sentence: int, lowercase: bool):
    """What read_corpus gives for decoded `text` (one block, under 4 M characters): an error
    message fragment, or (words, counts, sentences). Plain Python, no streaming."""
    if len(text) >= 65536 and text.count("\ufffd") > len(text) // 4:
        return "UTF-8"
    if lowercase:
        text = text.lower()
    lines = [TOKEN_RE.findall(line) for line in text.split("\n")]
    counts = Counter(t for line in lines for t in line)  # first-occurrence order
    if not counts:
        return "no words"
    words = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: -counts[w])
    if not words:
        return "min_count"
    keep = set(words)
    sentences = [s for line in lines for i in range(0, len(line), max_sentence)
                 if (s := [t for t in line[i:i + max_sentence] if t in keep])]
    return words, [counts[w] for w in words], sentences


def expected_file(data: bytes, **kw):
    """expected_reading for a plain file: NUL bytes up front mean binary; invalid UTF-8 is
    replaced; universal newlines (\\r\\n and \\r end lines), as the reader opens text files. None for
    a gzip magic number: the reader sniffs content, not names (test_fuzz_read_corpus_gz covers it)."""
    if data[:2] == b"\x1f\x8b":
        return None
    if b"\x00" in data[:8192]:
        return "binary"
    text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")
    return expected_reading(text, **kw)


def check_corpus(c: Corpus, fresh: bool = True) -> None:
    """The invariants of any corpus; `fresh` (read, not loaded): no empty sentence, counts = N."""
    assert c.tokens.dtype in (np.uint16, np.int32) and c.tokens.ndim == 1
    assert c.offsets.dtype == np.int64 and c.offsets.ndim == 1 and c.offsets.size >= 1
    assert c.offsets[0] == 0 and c.offsets[-1] == len(c)
    assert np.all(np.diff(c.offsets) > 0) if fresh else np.all(np.diff(c.offsets) >= 0)
    if len(c):
        assert c.tokens.min() >= 0 and c.tokens.max() < len(c.vocab)
    if fresh:
        assert c.vocab.total == len(c) and len(c.vocab) > 0


def assert_reads_as(out, expected) -> None:
    """`out` is what expected_* predicts: that error, that corpus, or (None) an error or any valid corpus."""
    if expected is None:
        if not isinstance(out, CorpusError):
            check_corpus(out)
        return
    if isinstance(expected, str):
        assert isinstance(out, CorpusError) and expected in str(out), (expected, out)
        return
    assert not isinstance(out, CorpusError), out
    check_corpus(out)
    words, counts, sentences = expected
    assert out.vocab.words == words and out.vocab.counts.tolist() == counts
    assert [out.sentence(s) for s in range(out.n_sentences)] == sentences


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=800)
@given(data=corpus_bytes, kw=reading)
def test_fuzz_read_corpus_txt(workdir, data, kw):
    path = workdir / "c.txt"
    put(path, data)
    out = bounded(lambda: read_corpus(path, **kw), CorpusError, len(data), CORPUS_BOUND)
    assert_reads_as(out, expected_file(data, **kw))


@settings(FUZZ, max_examples=60)
@given(data=repeated, kw=reading)
def test_fuzz_read_corpus_long_runs(workdir, data, kw):
    path = workdir / "c.txt"
    put(path, data)
    out = bounded(lambda: read_corpus(path, **kw), CorpusError, len(data), CORPUS_BOUND)
    assert_reads_as(out, expected_file(data, **kw))


def gzip_member(payload: bytes, name: str, level: int) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename=name, mode="wb", fileobj=buf, compresslevel=level, mtime=0) as g:
        g.write(payload)
    return buf.getvalue()


@st.composite
def gzip_files(draw) -> tuple[bytes, bytes, bool]:
    """(file, decompressed payload, intact): one or more members, then maybe a corruption."""
    payloads = draw(st.lists(text_like, min_size=1, max_size=3))
    data = b"".join(gzip_member(p, draw(st.sampled_from(["", "c.txt", "東京.txt"])), draw(st.integers(0, 9)))
                    for p in payloads)
    payload = b"".join(payloads)
    op = draw(st.sampled_from(["none", "zero padding", "cut", "edit", "append", "header + garbage"]))
    if op == "zero padding":
        data += b"\x00" * draw(st.integers(1, 64))
    elif op == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif op == "edit":
        data = draw(edited(data))
    elif op == "append":
        data += draw(st.binary(min_size=1, max_size=64))
    elif op == "header + garbage":
        data = data[:10] + draw(st.binary(max_size=300))
    return data, payload, op in ("none", "zero padding")


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=600)
@given(gz=gzip_files(), kw=reading)
def test_fuzz_read_corpus_gz(workdir, gz, kw):
    data, payload, intact = gz
    path = workdir / "c.gz"
    put(path, data)
    out = bounded(lambda: read_corpus(path, **kw), CorpusError, len(data) + len(payload), CORPUS_BOUND)
    if intact and b"\x00" not in payload:  # (a gzip peek may see fewer than 8192 bytes for the NUL test)
        assert_reads_as(out, expected_file(payload, **kw))
    elif not isinstance(out, CorpusError):
        check_corpus(out)


text_strings = st.lists(st.sampled_from([p.decode("utf-8", "replace") for p in PIECES] + ["\ud800", "\x00"])
                        | st.text(max_size=8), max_size=60).map("".join)


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=500)
@given(text=text_strings, kw=reading, save=st.booleans())
def test_fuzz_read_corpus_text_and_reload(workdir, text, kw, save):
    prefix = workdir / "enc"
    if save:
        for suffix in (".tokens.npy", ".offsets.npy", ".vocab.txt"):
            put(Path(str(prefix) + suffix), None)
    size = len(text.encode("utf-8", "surrogatepass"))
    out = bounded(lambda: read_corpus_text(text, out_prefix=prefix if save else None, **kw), CorpusError, size,
                  CORPUS_BOUND)
    assert_reads_as(out, expected_reading(text, **kw))  # a str is taken as is: no newline translation
    if save and not isinstance(out, CorpusError):
        back = Corpus.load(prefix, mmap=False)
        assert back.vocab.words == out.vocab.words and np.array_equal(back.tokens, out.tokens)
        assert np.array_equal(back.offsets, out.offsets)


BIG = 4_000_000  # bytes: just under one 4 Mi-character block, so expected_file applies


@pytest.mark.slow
@pytest.mark.parametrize("data", [pytest.param(data, id=name) for name, data in [
    ("one 4 MB word", b"a" * BIG),
    ("one 4 MB line of emoji", "😀".encode() * (BIG // 4)),
    ("4 MB of invalid UTF-8", b"\xff" * BIG),
    ("4 MB of spaces", b" " * BIG),
    ("4 MB of punctuation", b".,;!" * (BIG // 4)),
    ("1.5 MB line of two-letter words", b"ab " * (MB // 2)),
    ("128 KB of empty lines", b"\n" * (MB // 8)),
    ("128 KB of one-word lines ending in CR", b"cat\r" * (MB // 32)),
    ("1 MB of text then NUL garbage", b"the cat sat " * (MB // 12) + bytes(range(256)) * 1000),
]])
def test_enormous_inputs(workdir, data):
    for gz in (False, True):
        path = workdir / ("big.gz" if gz else "big.txt")
        put(path, gzip.compress(data, 1) if gz else data)
        size = path.stat().st_size + (len(data) if gz else 0)
        out = bounded(lambda p=path: read_corpus(p, min_count=1), CorpusError, size, CORPUS_BOUND)
        assert_reads_as(out, expected_file(data, min_count=1, max_sentence=10_000, lowercase=True))


# regression tests for the bugs the fuzzing found
def gzip_body_then(garbage: bytes, text: bytes) -> bytes:
    """A gzip header, a deflate stream of `text` flushed to a block boundary, then `garbage` where
    the next deflate block should start (no trailer)."""
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + co.compress(text) + co.flush(zlib.Z_FULL_FLUSH) + garbage


@pytest.mark.parametrize("data", [
    pytest.param(gzip_body_then(b"\xff" * 50, b""), id="in the first peek"),
    pytest.param(gzip_body_then(b"\xff" * 50, " ".join(f"w{i * 7919 % 100_003}" for i in range(60_000)).encode()),
                 id="in a later read"),
])
def test_gzip_header_over_corrupt_deflate_data_is_a_corpus_error(workdir, data):
    """Was: zlib.error ('invalid block type') escaped read_corpus."""
    path = workdir / "bad.gz"
    put(path, data)
    with pytest.raises(CorpusError, match="invalid block type"):
        read_corpus(path, min_count=1)


def test_one_word_lines_cost_bytes_per_line_not_a_numpy_array_each(workdir):
    """Was: one numpy array per line until the 2 M-token spill, ~110 bytes traced per input byte
    (22 MB for these 200 KB; 425 MB for 4 MB of 'a\\n')."""
    data = b"a\n" * 100_000
    path = workdir / "lines.txt"
    put(path, data)
    c = bounded(lambda: read_corpus(path, min_count=1), CorpusError, len(data), (4 * MB, 64))  # 4 MB: read buffer
    assert len(c) == c.n_sentences == 100_000


# -- saved corpora ------------------------------------------------------------------------------------
def npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def npy_header(descr: str, shape: tuple, fortran: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    return buf.getvalue()


SAVED_CORPUS = read_corpus_text("the cat sat on the mat\nthe dog\n\na cat and a dog sat on a mat\n" * 3, min_count=1)
SAVED = {
    "tokens": npy(SAVED_CORPUS.tokens.astype(np.int32)),  # what Corpus.save writes
    "offsets": npy(SAVED_CORPUS.offsets),
    "vocab": "".join(f"{w} {c}\n" for w, c in zip(SAVED_CORPUS.vocab.words, SAVED_CORPUS.vocab.counts.tolist(),
                                                  strict=True)).encode(),
}
SUFFIX = {"tokens": ".tokens.npy", "offsets": ".offsets.npy", "vocab": ".vocab.txt"}
DESCRS = ["<i4", "<i8", ">i4", ">i8", "<u4", "<f4", "<f8", "|O", "<U3", "|V8", "|S4", "|b1", "<i2"]
VOCAB_LINES = ["the 9", "cat 6", "sat 3", "dog -1", "mat 2.5", "on ²", "a ٣", "and 99999999999999999999",
               "x " + "9" * 5000, "a b c", "the 3", "solo", "", "   ", "\t1 2", "\x00 1", "é 0", "東京 1"]
HEADER_BITS = ["{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", "{'descr': ", "'<i4'", "(10**12,)",
               "(1000000000000,)", "(-1,)", "(2, 2)", "()", "{", "}", "'shape'", "None", "[", "((((", "\\x00",
               "'fortran_order': True", "1e400", "b'x'", "{'descr': [('a', '<i4')], 'fortran_order': False, "]


@st.composite
def corrupted_saved_corpus(draw) -> dict[str, bytes | None]:
    """The three files of a saved corpus after one to three corruptions (None: file deleted)."""
    files: dict[str, bytes | None] = dict(SAVED)
    for _ in range(draw(st.integers(1, 3))):
        which = draw(st.sampled_from(sorted(files)))
        arrays = which != "vocab"
        op = draw(st.sampled_from(["edit", "delete", "header", "raw header", "values"] if arrays else
                                  ["edit", "delete", "lines"]))
        old = files[which] or b""
        if op == "edit":
            files[which] = draw(edited(old))
        elif op == "delete":
            files[which] = None
        elif op == "header":
            shape = tuple(draw(st.lists(st.integers(0, 200) | st.sampled_from([-1, 10**8, 10**12, 2**62]),
                                        max_size=3)))
            data = draw(st.sampled_from([old[128:], b""]) | st.binary(max_size=64))
            files[which] = npy_header(draw(st.sampled_from(DESCRS)), shape, draw(st.booleans())) + data
        elif op == "raw header":
            text = "".join(draw(st.lists(st.sampled_from(HEADER_BITS), max_size=5))).encode()
            files[which] = b"\x93NUMPY" + bytes([draw(st.integers(1, 3)), 0]) + len(text).to_bytes(2, "little") \
                + text + draw(st.binary(max_size=32))
        elif op == "values" and which == "offsets":
            values = draw(st.lists(st.integers(-2, 50) | st.integers(-2**63, 2**63 - 1), max_size=12))
            files[which] = npy(np.array(values, dtype=np.int64))
        elif op == "values":
            values = draw(st.lists(st.integers(-3, 12) | st.integers(-2**31, 2**31 - 1), max_size=40))
            files[which] = npy(np.array(values, dtype=np.int32))
        else:
            lines = draw(st.lists(st.sampled_from(VOCAB_LINES) | st.text(max_size=12), max_size=12))
            files[which] = "\n".join(lines).encode("utf-8", "surrogatepass") + draw(st.sampled_from([b"", b"\xff\xfe"]))
    return files


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=600)
@given(files=corrupted_saved_corpus(), mmap=st.booleans())
def test_fuzz_corpus_load(workdir, files, mmap):
    prefix = workdir / "saved"
    for key, data in files.items():
        put(Path(str(prefix) + SUFFIX[key]), data)
    size = sum(len(d) for d in files.values() if d is not None)
    out = bounded(lambda: Corpus.load(prefix, mmap=mmap), CorpusError, size, LOAD_BOUND)
    if files == SAVED:
        assert not isinstance(out, CorpusError), out
    if not isinstance(out, CorpusError):
        check_corpus(out, fresh=False)
        assert all(isinstance(w, str) for s in range(out.n_sentences) for w in out.sentence(s))


@pytest.mark.parametrize("key, data, message", [
    ("offsets", npy_header("<i8", (10**12,)) + b"\x00" * 16, "header promises 1000000000000 values"),  # MemoryError
    ("offsets", npy_header("<i8", (10**8,)) + b"\x00" * 16, "header promises"),  # 800 MB traced, then ValueError
    ("tokens", npy_header("<i4", (10**8,)) + b"\x00" * 16, "header promises"),  # with mmap=False: 400 MB
    ("offsets", npy(np.zeros((2, 2), np.int64)), "1-D"),  # ValueError: truth value of an array is ambiguous
    ("offsets", npy(np.array([0, 40, 2, len(SAVED_CORPUS)], np.int64)), "offsets"),  # was accepted
    ("offsets", npy(np.array([0, -5, len(SAVED_CORPUS)], np.int64)), "offsets"),  # was accepted
    ("tokens", npy(np.array([0, 1, 99, -1] * (len(SAVED_CORPUS) // 4) + [0] * (len(SAVED_CORPUS) % 4), np.int32)),
     "outside the vocabulary"),  # was accepted: a kernel would index W_in[99] and W_in[-1]
    ("tokens", SAVED["tokens"][:-3], "header promises"),  # ValueError: mmap length is greater than file size
    ("offsets", b"", "not a readable .npy"),  # EOFError
    ("offsets", npy_header("|O", (1,)) + b"\x00" * 8, "1-D int64"),  # ValueError: object arrays
    ("vocab", "the ²\n".encode(), "expected 'word count'"),  # was a ValueError from int()
    ("vocab", b"the 99999999999999999999\n", "expected 'word count'"),  # was an OverflowError
    ("vocab", b"the " + b"9" * 5000 + b"\n", "expected 'word count'"),  # was int()'s 4300-digit limit
    ("vocab", b"the -3\n", "expected 'word count'"),  # VocabError
    ("vocab", None, "No such file"),  # FileNotFoundError
    ("offsets", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f" + SAVED["offsets"][12:], "not a readable .npy"),  # 2 GB read
], ids=["offsets 1e12", "offsets 1e8", "tokens 1e8", "offsets 2-D", "offsets not monotone", "offsets negative",
        "token ids out of range", "tokens truncated", "offsets empty", "offsets object", "vocab superscript count",
        "vocab count overflow", "vocab 5000-digit count", "vocab negative count", "vocab missing",
        "v2 header length 2 GB"])
@pytest.mark.parametrize("mmap", [True, False])
def test_corrupt_saved_corpus_is_a_corpus_error_before_any_large_allocation(workdir, key, data, message, mmap):
    """Was: MemoryError, numpy's ValueError, EOFError, OverflowError, FileNotFoundError, or a corpus
    with offsets or token ids that index outside their arrays."""
    prefix = workdir / "saved1"
    for k, d in SAVED.items():
        put(Path(str(prefix) + SUFFIX[k]), data if k == key else d)
    err = bounded(lambda: Corpus.load(prefix, mmap=mmap), CorpusError, 1000, LOAD_BOUND)
    assert isinstance(err, CorpusError) and message in str(err), err


# -- question and word-pair files ---------------------------------------------------------------------
Q_WORDS = ["athens", "Athens", "ATHENS", "greece", "Baghdad", "iraq", "café", "CAFÉ", "東京", "İstanbul", "ß", "SS",
           "#", "#x", ":", "::", "a:b", "x\u00a0y", "😀", "\ufeff", "\x00", "'", "3.5"]
HEADERS = [": capital-common-countries", ": gram1-adjective-to-adverb", ": GRAM2", ":Gram3", ":", ":   ", ": 名前",
           ": : nested", "\ufeff: bom"]
SEPS = st.sampled_from(["\n"] * 8 + ["\r\n", "\r", "\x0b", "\x0c", "\x1c", "\x85", "\u2028"])


@st.composite
def question_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["header", "question", "question", "question", "comment", "blank", "text"]))
        if kind == "header":
            lines.append(draw(st.sampled_from(HEADERS)))
        elif kind == "question":
            words = draw(st.lists(st.sampled_from(Q_WORDS), max_size=6))
            lines.append(draw(st.sampled_from([" ", "\t", "  ", "\u3000"])).join(words))
        elif kind == "comment":
            lines.append("#" + draw(st.text(max_size=10)))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t \t"])))
        else:
            lines.append(draw(st.text(max_size=20)))
    text = "".join(line + draw(SEPS) for line in lines)
    data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode("utf-8", "surrogatepass")
    return draw(edited(data, 2)) if draw(st.integers(0, 4)) == 0 else data


def line_number_ok(message: str, path: Path, text: str | None) -> None:
    """An EvalError names the file, and a line number that exists."""
    assert message.startswith(str(path)), message
    m = re.match(re.escape(str(path)) + r":(\d+):", message)
    if m and text is not None:
        assert 1 <= int(m.group(1)) <= len(text.splitlines())


def decoded(data: bytes) -> str | None:
    if b"\x00" in data[:8192]:
        return None
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None


def content_lines(text: str) -> list[str]:
    """Lines that are neither blank nor `#` comments, stripped."""
    return [s for line in text.splitlines() if (s := line.strip()) and not s.startswith("#")]


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=700)
@given(data=question_files() | st.binary(max_size=300), strict=st.booleans())
def test_fuzz_read_analogies(workdir, data, strict):
    path = workdir / "questions.txt"
    put(path, data)
    out = bounded(lambda: read_analogies(path, strict=strict), EvalError, len(data), EVAL_BOUND)
    text = decoded(data)
    if isinstance(out, EvalError):
        line_number_ok(str(out), path, text)
        return
    assert text is not None
    lines = content_lines(text)
    headers = [s for s in lines if s.startswith(":")]
    assert [s.name for s in out] == [s[1:].strip() for s in headers]
    assert all(s.name and s.name == s.name.strip() for s in out)
    questions = [q for s in out for q in s.questions]
    assert questions and all(len(q) == 4 and all(w and w == "".join(w.split()) for w in q) for q in questions)
    if strict:
        assert len(questions) == len(lines) - len(headers)  # no line is dropped silently
    else:
        assert questions == [tuple(s.split()) for s in lines if not s.startswith(":") and len(s.split()) == 4]


PAIR_WORDS = ["love", "sex", "Tiger", "café", "東京", "new york", "#", "x\u00a0y", "", " "]
SCORES = ["6.77", "-1", "0", "1e3", "nan", "inf", "-inf", "1e400", "1_0", "٣", "²", "0x10", "", "high", "1,5",
          "1" * 400, "0." + "1" * 400]


@st.composite
def pair_files(draw) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["pair", "pair", "pair", "comment", "blank", "text"]))
        if kind == "pair":
            fields = draw(st.lists(st.sampled_from(PAIR_WORDS), max_size=3)) + [draw(st.sampled_from(SCORES))]
            fields = draw(st.permutations(fields)) if draw(st.integers(0, 5)) == 0 else fields
            lines.append(draw(st.sampled_from(["\t", " ", "  \t"])).join(fields))
        elif kind == "comment":
            lines.append("#" + draw(st.text(max_size=10)))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
        else:
            lines.append(draw(st.text(max_size=20)))
    text = "".join(line + draw(SEPS) for line in lines)
    data = draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode("utf-8", "surrogatepass")
    return draw(edited(data, 2)) if draw(st.integers(0, 4)) == 0 else data


@pytest.mark.slow  # 500-800 examples: 15-35 s
@settings(FUZZ, max_examples=700)
@given(data=pair_files() | st.binary(max_size=300), strict=st.booleans())
def test_fuzz_read_word_pairs(workdir, data, strict):
    path = workdir / "pairs.txt"
    put(path, data)
    out = bounded(lambda: read_word_pairs(path, strict=strict), EvalError, len(data), EVAL_BOUND)
    text = decoded(data)
    if isinstance(out, EvalError):
        line_number_ok(str(out), path, text)
        return
    assert text is not None and out
    assert all(isinstance(s, float) and np.isfinite(s) and a and b and a == a.strip() and b == b.strip()
               and "\t" not in a + b for a, b, s in out)
    if strict:
        assert len(out) == len(content_lines(text))  # no line is dropped silently
    else:
        assert len(out) <= len(content_lines(text))


@pytest.mark.parametrize("reader, data, outcome", [
    ("analogies", b": s\n" + b"w" * (4 * MB) + b" b c d\n", 1),  # a 4 MB word
    ("analogies", b": s\n" + b"a b c " + b"d " * (2 * MB), "got 2097155"),  # a 4 MB line of words
    ("analogies", b": s\n" * (MB // 8), "no analogy questions"),  # 131,072 empty sections
    ("analogies", b": s\n" + "東京 café ß 😀\n".encode() * (MB // 20), 1),
    ("pairs", b"a b " + b"1" * (4 * MB) + b"\n", "expected 'word1 word2 score'"),  # float('1' * 4M) is inf
    ("pairs", b"a\tb\t0." + b"1" * (4 * MB) + b"\n", 1),
    ("pairs", b" \t \n" * (MB // 4), "no word pairs"),
], ids=["4 MB word", "4 MB line of words", "empty sections", "unicode questions", "4 MB score", "4 MB fraction",
        "whitespace lines"])
def test_enormous_question_and_pair_files(workdir, reader, data, outcome):
    path = workdir / "big-eval.txt"
    put(path, data)
    read = read_analogies if reader == "analogies" else read_word_pairs
    out = bounded(lambda: read(path), EvalError, len(data), EVAL_BOUND)
    if isinstance(outcome, str):
        assert isinstance(out, EvalError) and outcome in str(out), out
    else:
        assert not isinstance(out, EvalError) and len(out) == outcome, out


def test_byte_order_mark_is_not_part_of_the_first_line(workdir):
    """Was: '\\ufeff: s' (a UTF-8 file saved by a Windows editor) failed with 'expected 4 words, got
    2' at line 1, and a pair file's first word kept the BOM ('\\ufefflove'), so it was never found."""
    path = workdir / "bom.txt"
    put(path, b"\xef\xbb\xbf: capital\nathens greece baghdad iraq\n")
    assert [(s.name, s.questions) for s in read_analogies(path)] == [("capital", [("athens", "greece", "baghdad",
                                                                                   "iraq")])]
    put(path, b"\xef\xbb\xbflove\tsex\t6.77\n")
    assert read_word_pairs(path) == [("love", "sex", 6.77)]
