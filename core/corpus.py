"""Corpus: stream a text file into a contiguous int32 token array plus sentence offsets.

Does: read .txt / .gz of any size in blocks (text8 is one 100 MB line; a plain file of 8 MB or
more as byte ranges on up to four threads, corpus_parts.py, with the result of one pass),
tokenise (lowercased by default; word characters incl. Unicode letters, digits, underscores and
inner apostrophes), split sentences at line ends and every `max_sentence` tokens, count words,
build the Vocab and encode the corpus in a single pass (~4 bytes per token; no Python list per token is kept), and
optionally write the encoding to `.npy` files that are memory-mapped for training.
Does not: subsample (the kernels do that per epoch), detect phrases (phrases.py) or train.

Layout: `tokens` (N,) int32 word ids of in-vocabulary tokens; `offsets` (S+1,) int64 with sentence
s = tokens[offsets[s]:offsets[s+1]]. Out-of-vocabulary tokens are removed before sentences are
cut from the sequence, as gensim and word2vec.c do.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import string
import tempfile
import threading
import typing
import zlib
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from tokenize import TokenError

import numpy as np

from .corpus_parts import open_range, range_count, run_ranges, split_points
from .vocab import Vocab
from .word_table import WordTable

# a word: word characters (Unicode letters, digits, _) and combining marks (lowercased 'İ' is
# 'i' + U+0307), with inner apostrophes
TOKEN_RE = re.compile(r"\w[\w\u0300-\u036f]*(?:['\u2019]\w[\w\u0300-\u036f]*)*")
# The same tokens for an ASCII-only block, without the regex per token: in ASCII, TOKEN_RE is
# [A-Za-z0-9_]+(?:'[A-Za-z0-9_]+)*, i.e. a token is a maximal run of word characters and of the
# apostrophes that have a word character on both sides. So: map every other ASCII character
# except "\n" to " " (lowercasing in the same pass), turn the apostrophes without a word character
# on both sides into " " as well, and str.split() each line (~3x faster than findall on text8).
_ASCII_WORD = string.ascii_letters + string.digits + "_"  # what \w matches in an ASCII string
_ASCII_TABLES = {  # lowercase -> str.translate table
    lc: {c: " " for c in range(128) if chr(c) not in _ASCII_WORD + "'\n"}
    | (str.maketrans(string.ascii_uppercase, string.ascii_lowercase) if lc else {})
    for lc in (False, True)
}
# an apostrophe not preceded, or not followed, by a word character (literal first: fast search)
_LONE_APOSTROPHE_RE = re.compile(r"'(?:(?<![A-Za-z0-9_]')|(?![A-Za-z0-9_]))")
# 64K characters of text per block. subtle: every copy of a block (the decoded text, its cut,
# the translated text, its bytes) stays under glibc's mmap threshold (128 KiB, which the CLI
# sets), so it reuses freed heap memory; with 1M-character blocks each copy was a fresh mapping
# whose pages the kernel zeroed, and reading the 19M-word corpus on two threads took 1.35-1.46 s
# (404k page faults) instead of ~0.75 s.
BLOCK_CHARS = 1 << 16
MAX_TOKEN_CHARS = 64 << 20  # a "token" longer than this (no whitespace at all) is not text
SPILL_GROUP_TOKENS = 1 << 14  # provisional ids per step of the merge (~2 blocks, ~100 KB: heap, not mmap)


class CorpusError(ValueError):
    """A corpus that cannot be used; the message says why in one line."""


@dataclass
class ReadStats:
    """What reading the file saw."""

    chars: int = 0  # characters decoded
    raw_tokens: int = 0  # tokens before the vocabulary cut
    lines: int = 0  # newline-terminated lines (+1 for a last line without newline)
    replaced: int = 0  # invalid UTF-8 sequences decoded as U+FFFD


def _open_text(source: str | Path | io.TextIOBase) -> io.TextIOBase:
    if isinstance(source, io.TextIOBase):
        return source
    path = Path(source)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file")
    with open(path, "rb") as raw:
        head = raw.read(2)
    if head == b"\x1f\x8b":
        raw_stream = gzip.open(path, "rb")
    else:
        raw_stream = open(path, "rb")
    try:
        peek = raw_stream.peek(8192)[:8192] if hasattr(raw_stream, "peek") else b""
    except (OSError, EOFError, zlib.error) as e:  # zlib.error: a gzip header over corrupt data
        raw_stream.close()
        raise CorpusError(f"{path}: cannot read ({e})") from None
    if b"\x00" in peek:
        raw_stream.close()
        raise CorpusError(f"{path}: looks like a binary file (NUL bytes), not text")
    return io.TextIOWrapper(raw_stream, encoding="utf-8", errors="replace", newline=None)


def iter_blocks(source: str | Path | io.TextIOBase, stats: ReadStats | None = None,
                block_chars: int = BLOCK_CHARS) -> Iterator[str]:
    """Yield blocks of text that end on whitespace (a token never spans two blocks)."""
    stats = stats if stats is not None else ReadStats()
    f = _open_text(source)
    held: list[str] = []  # text since the last whitespace (no whitespace in it)
    held_chars = 0
    try:
        while True:
            try:
                text = f.read(block_chars)
            except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
                raise CorpusError(f"cannot read corpus: {e}") from None
            if not text:
                break
            stats.chars += len(text)
            stats.replaced += text.count("\ufffd")
            if stats.chars >= 65536 and stats.replaced > stats.chars // 4:
                raise CorpusError("does not look like UTF-8 text (over 25% undecodable bytes)")
            cut = max(text.rfind(" "), text.rfind("\n"), text.rfind("\t"))
            if cut < 0:  # subtle: kept as pieces and joined once, not re-copied block after block
                held.append(text)
                held_chars += len(text)
                if held_chars > MAX_TOKEN_CHARS:
                    raise CorpusError("no whitespace in 256 MB of text: not a text corpus")
                continue
            yield "".join([*held, text[: cut + 1]]) if held else text[: cut + 1]
            held = [text[cut + 1:]]
            held_chars = len(held[0])
        if held_chars:
            yield "".join(held)
    finally:
        if not isinstance(source, io.TextIOBase):
            f.close()


def _prepared(block: str, lowercase: bool) -> tuple[str, bool]:
    """(block, ascii_only). An ASCII block comes back with every character that is not part of a
    token turned into " " (except "\n"), lowercased if asked: its tokens are what str.split()
    gives. Any other block is only lowercased if asked: its tokens are what TOKEN_RE finds."""
    if block.isascii():  # O(1): CPython strings know their widest character
        block = block.translate(_ASCII_TABLES[bool(lowercase)])
        if "'" in block:
            block = _LONE_APOSTROPHE_RE.sub(" ", block)
        return block, True
    return (block.lower() if lowercase else block), False


def tokenize(line: str, lowercase: bool = True) -> list[str]:
    """The tokens of one line of text by the rules of this module (what read_corpus finds in it)."""
    block, ascii_only = _prepared(line, lowercase)
    return block.split() if ascii_only else TOKEN_RE.findall(block)


def iter_token_runs(source: str | Path | io.TextIOBase, lowercase: bool = True,
                    stats: ReadStats | None = None) -> Iterator[tuple[list[str], bool]]:
    """Yield (tokens, line_ends) runs in file order; `line_ends` marks the end of a line."""
    stats = stats if stats is not None else ReadStats()
    pending_line = False
    for block in iter_blocks(source, stats):
        block, ascii_only = _prepared(block, lowercase)
        tokenise = str.split if ascii_only else TOKEN_RE.findall  # split(): at whitespace runs, no empties
        segments = block.split("\n")
        for i, seg in enumerate(segments):
            last = i == len(segments) - 1
            toks = tokenise(seg) if seg else []
            stats.raw_tokens += len(toks)
            if toks or not last:
                pending_line = True
                yield toks, not last
                if not last:
                    stats.lines += 1
                    pending_line = False
    if pending_line:
        stats.lines += 1


def iter_encoded_blocks(source: str | Path | io.TextIOBase, table: WordTable, lowercase: bool = True,
                        stats: ReadStats | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The tokens of iter_token_runs as provisional ids of `table`, block by block: yields
    (ids (T,) int32, tokens per line segment), the segments being the block split at "\n" (all
    but the last end a line). No Python string is made per token on the ASCII path. Counts
    characters and tokens into `stats`, not lines: a byte range may end inside a line, so
    read_corpus counts lines from the segments of all ranges in file order."""
    stats = stats if stats is not None else ReadStats()
    for block in iter_blocks(source, stats):
        block, ascii_only = _prepared(block, lowercase)
        if ascii_only:  # the tokens are already the runs of characters other than " " and "\n"
            data = block.encode("ascii")
        else:
            data = "\n".join(" ".join(TOKEN_RE.findall(seg)) for seg in block.split("\n")).encode("utf-8")
        ids, segs = table.encode(data)
        stats.raw_tokens += ids.shape[0]
        yield ids, segs


def iter_sentences(source: str | Path | io.TextIOBase, lowercase: bool = True,
                   max_sentence: int = 10_000) -> Iterator[list[str]]:
    """Yield sentences as token lists: one per line, long lines cut every `max_sentence` tokens."""
    cur: list[str] = []
    for toks, ends in iter_token_runs(source, lowercase):
        pos = 0
        while pos < len(toks):
            take = min(max_sentence - len(cur), len(toks) - pos)
            cur.extend(toks[pos: pos + take])
            pos += take
            if len(cur) >= max_sentence:
                yield cur
                cur = []
        if ends and cur:
            yield cur
            cur = []
    if cur:
        yield cur


def token_dtype(n_words: int) -> np.dtype:
    """The narrowest id type for a vocabulary of `n_words`: uint16 up to 65,536 words (half the
    memory: 38 MB less for the 19M-word corpus, whose 49,531 words fit), else int32."""
    return np.dtype(np.uint16) if n_words <= 1 << 16 else np.dtype(np.int32)


class Corpus:
    """An encoded corpus: `tokens` (N,) word ids, `offsets` (S+1,) int64, its `vocab` and read stats.

    `tokens` is uint16 when read into memory with a vocabulary of up to 65,536 words (token_dtype),
    int32 otherwise and in saved files; the kernels take int32, so trainers read it through
    TokenReader, which widens a chunk at a time.
    """

    def __init__(self, tokens: np.ndarray, offsets: np.ndarray, vocab: Vocab,
                 stats: ReadStats | None = None):
        self.tokens = tokens
        self.offsets = offsets
        self.vocab = vocab
        self.stats = stats or ReadStats()

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    @property
    def n_sentences(self) -> int:
        return int(self.offsets.shape[0] - 1)

    def sentence(self, s: int) -> list[str]:
        w = self.vocab.words
        return [w[i] for i in self.tokens[self.offsets[s]: self.offsets[s + 1]].tolist()]

    def save(self, prefix: str | Path) -> None:
        """Write `{prefix}.tokens.npy`, `{prefix}.offsets.npy` and `{prefix}.vocab.txt`."""
        prefix = str(prefix)
        np.save(prefix + ".tokens.npy", np.asarray(self.tokens, dtype=np.int32), allow_pickle=False)
        np.save(prefix + ".offsets.npy", np.asarray(self.offsets, dtype=np.int64), allow_pickle=False)
        self.vocab.save(prefix + ".vocab.txt")

    @classmethod
    def load(cls, prefix: str | Path, mmap: bool = True) -> Corpus:
        """Open a saved corpus; with mmap the token array stays on disk (bounded memory).

        Raises CorpusError (one line) for a missing or corrupted file: each .npy header is checked
        against its file's size before any array is read (a header claiming 10^12 tokens allocates
        nothing), offsets must rise from 0 to N and token ids must lie in [0, V).
        """
        prefix = str(prefix)
        _check_npy(prefix + ".tokens.npy", np.int32)
        _check_npy(prefix + ".offsets.npy", np.int64)
        try:
            tokens = np.load(prefix + ".tokens.npy", mmap_mode="r" if mmap else None, allow_pickle=False)
            offsets = np.load(prefix + ".offsets.npy", allow_pickle=False)
            vocab = Vocab.load(prefix + ".vocab.txt")
        except (OSError, ValueError, OverflowError) as e:  # VocabError is a ValueError
            raise CorpusError(f"{prefix}: cannot load saved corpus: {' '.join(str(e).split())[:200]}") from None
        if offsets.size < 1 or offsets[0] != 0 or offsets[-1] != tokens.shape[0] or np.any(np.diff(offsets) < 0):
            raise CorpusError(f"{prefix}: offsets do not match tokens")
        if not _ids_in_range(tokens, len(vocab)):
            raise CorpusError(f"{prefix}: token ids outside the vocabulary of {len(vocab)} words")
        return cls(tokens, offsets, vocab)


def _check_npy(path: str, dtype: type) -> None:
    """CorpusError unless `path` is a .npy file of a 1-D `dtype` array whose data fills the file exactly."""
    try:
        with open(path, "rb") as f:
            # subtle: numpy reads as many bytes as the header's length field says (up to 4 GB in a
            # version 2 header) before it checks that length; from a BytesIO it gets only what is there
            head = io.BytesIO(f.read(1 << 16))
        version = np.lib.format.read_magic(head)
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"unsupported .npy version {version}")
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, _, descr = read_header(head)
        data_start = head.tell()
    except (OSError, ValueError, SyntaxError, RecursionError, TokenError) as e:  # numpy's header parser raises all
        raise CorpusError(f"{path}: not a readable .npy file: {' '.join(str(e).split())[:200]}") from None
    if descr != np.dtype(dtype) or len(shape) != 1:
        raise CorpusError(f"{path}: expected a 1-D {np.dtype(dtype)} array, got {descr.str} of shape {shape}")
    expected = data_start + shape[0] * descr.itemsize
    if expected != os.path.getsize(path):
        raise CorpusError(f"{path}: the header promises {shape[0]} values ({expected} bytes with the header) "
                          f"but the file has {os.path.getsize(path)} bytes")


def _ids_in_range(tokens: np.ndarray, n_words: int, chunk: int = 1 << 20) -> bool:
    """Every id in [0, n_words). A memory map is scanned with read() a chunk at a time, not through
    the mapping, so the check leaves no pages of the token file resident (see TokenReader)."""
    if not isinstance(tokens, np.memmap):
        return tokens.size == 0 or (int(tokens.min()) >= 0 and int(tokens.max()) < n_words)
    with open(tokens.filename, "rb") as f:
        f.seek(tokens.offset)
        for start in range(0, tokens.shape[0], chunk):
            part = np.frombuffer(f.read(4 * min(chunk, tokens.shape[0] - start)), dtype=np.int32)
            if part.size and (int(part.min()) < 0 or int(part.max()) >= n_words):
                return False
    return True


@dataclass
class _Part:
    """One byte range of the text, encoded: provisional ids of its own table, spilled to a
    temporary file group by group, with each block's line segments and the table's word counts."""

    table: WordTable
    spill: typing.BinaryIO
    groups: list[tuple[int, list[np.ndarray]]]  # (tokens, each block's tokens per line segment)
    counts: np.ndarray  # (len(table),) int64
    stats: ReadStats


def _encode_part(text: io.TextIOBase | str | Path, lowercase: bool, stats: ReadStats, stop: threading.Event) -> _Part:
    """Encode one range into a new table; each block's ids go straight to the spill, grouped
    into runs of whole blocks of at least SPILL_GROUP_TOKENS ids for the merge to read back."""
    table = WordTable()
    # subtle: provisional ids go to an anonymous temporary file, not a list of arrays, so the peak
    # is the final token array plus one block instead of two full copies of the corpus
    part = _Part(table, tempfile.TemporaryFile(), [], np.zeros(0, dtype=np.int64), stats)
    segs_parts: list[np.ndarray] = []
    buffered = 0
    try:
        for ids_block, segs in iter_encoded_blocks(text, table, lowercase, stats):
            if stop.is_set():
                break
            part.spill.write(ids_block)  # subtle: the array's buffer as it is, no bytes copy
            segs_parts.append(segs)
            buffered += ids_block.shape[0]
            if buffered >= SPILL_GROUP_TOKENS:
                part.groups.append((buffered, segs_parts))
                segs_parts, buffered = [], 0
        if segs_parts:
            part.groups.append((buffered, segs_parts))
        part.counts = table.counts()  # the table counts as it encodes: no (words,) array per group
    except BaseException:
        part.spill.close()
        raise
    return part


def read_corpus(
    source: str | Path | io.TextIOBase,
    min_count: int = 5,
    max_vocab: int | None = None,
    lowercase: bool = True,
    max_sentence: int = 10_000,
    out_prefix: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    threads: int | None = None,
) -> Corpus:
    """Read, count and encode a corpus in one pass over the text.

    Words get provisional ids in first-seen order while the file streams; after the pass the
    vocabulary is cut and sorted and the provisional ids are remapped block by block. A plain
    file of 8 MB or more is read as byte ranges on `threads` threads (default: the CPUs, at most
    4; corpus_parts.py), each with its own table; merging the tables in file order gives every
    word the provisional id a single pass gives it, so the result is the same to the bit. With
    `out_prefix`, the provisional ids go to temporary files and the result is written to
    `{out_prefix}.tokens.npy` (memory-mapped), so memory stays bounded by the vocabulary size.
    `progress(chars_read, total_bytes_or_0)` is called every ~0.25 s and at the end.
    """
    is_file = isinstance(source, str | Path) and Path(source).is_file()
    total_bytes = os.path.getsize(source) if is_file else 0
    ranges = range_count(total_bytes, threads) if is_file else 1
    if ranges > 1:
        with open(source, "rb") as f:
            ranges = 1 if f.read(2) == b"\x1f\x8b" else ranges  # gzip: one range, checked as it is read
    if ranges > 1:
        _open_text(source).close()  # the checks on the file's head (binary) that one range gets from iter_blocks
    cuts = split_points(source, ranges) if ranges > 1 else [0, total_bytes]
    texts = [open_range(source, a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)] if ranges > 1 \
        else [source]
    part_stats = [ReadStats() for _ in texts]
    try:
        parts = run_ranges(
            list(zip(texts, part_stats, strict=True)),
            lambda job, stop: _encode_part(job[0], lowercase, job[1], stop),
            poll=(lambda: progress(sum(st.chars for st in part_stats), total_bytes)) if progress else None,
        )
    finally:
        for t in texts:
            if isinstance(t, io.TextIOBase) and t is not source:
                t.close()
    try:
        return _merged(parts, min_count, max_vocab, max_sentence, out_prefix)
    finally:
        for part in parts:
            part.spill.close()
        if progress is not None:
            progress(sum(st.chars for st in part_stats), total_bytes)


def _merged(parts: list[_Part], min_count: int, max_vocab: int | None, max_sentence: int,
            out_prefix: str | Path | None) -> Corpus:
    """The corpus of the parts' text in order: one table, sentence cuts, the vocabulary and the
    final ids."""
    table = parts[0].table
    into = [None] + [table.absorb(part.table) for part in parts[1:]]  # part k's ids -> table's
    counts = np.zeros(len(table), dtype=np.int64)
    stats = ReadStats()
    for part, ids_map in zip(parts, into, strict=True):
        if ids_map is None:
            counts[: part.counts.shape[0]] += part.counts
        else:
            counts[ids_map] += part.counts  # ids_map is one-to-one
        stats.chars += part.stats.chars
        stats.replaced += part.stats.replaced
        stats.raw_tokens += part.stats.raw_tokens
    # sentence ends, in raw token positions, per spilled group; lines as the text has them
    in_sentence = 0  # raw tokens in the current sentence so far
    pos = 0  # raw tokens so far
    pending_line = False  # tokens after the last line end
    group_ends: list[list[np.ndarray]] = []
    for part in parts:
        per_part = []
        for _, group in part.groups:
            # subtle: flat typed buffers, not one numpy array per line: a file of one-word lines cost
            # ~200 bytes per token that way (425 MB traced for 4 MB of 'a\n'); now 8 per line
            ends_buf = array("q")
            for segs in group:
                last = segs.shape[0] - 1
                stats.lines += last
                if last:
                    pending_line = False
                pending_line = pending_line or bool(segs[-1])
                for si, n_toks in enumerate(segs.tolist()):
                    if n_toks:
                        # subtle: cut long lines every max_sentence raw tokens, continuing across blocks
                        start = pos
                        first_cut = max_sentence - in_sentence
                        if first_cut <= n_toks:
                            ends_buf.extend(range(start + first_cut, start + n_toks + 1, max_sentence))
                            in_sentence = (n_toks - first_cut) % max_sentence
                        else:
                            in_sentence += n_toks
                        pos += n_toks
                    if si < last and in_sentence:  # a line ends here
                        ends_buf.append(pos)
                        in_sentence = 0
            per_part.append(np.array(ends_buf, dtype=np.int64))
        group_ends.append(per_part)
    if in_sentence:
        group_ends[-1].append(np.array([pos], dtype=np.int64))
        parts[-1].groups.append((0, []))
    stats.lines += pending_line

    if pos == 0:
        raise CorpusError("the corpus has no words")
    words = table.words()
    vocab = Vocab.from_counts(words, counts, min_count=min_count, max_vocab=max_vocab)
    if len(vocab) == 0:
        top = int(counts.argmax())
        raise CorpusError(
            f"no word occurs at least min_count={min_count} times "
            f"(the most frequent, {words[top]!r}, occurs {int(counts[top])} times)"
        )
    # provisional id -> final id (-1: cut by min_count / max_vocab)
    remap = np.fromiter((vocab.index.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    del words  # subtle: every distinct word's string goes before the token array is made
    n_out = vocab.total
    sink = None
    if out_prefix is not None:
        # subtle: written through a file, not a writable memmap, whose dirty pages would count
        # in the process's resident memory until the end
        tokens_path = str(out_prefix) + ".tokens.npy"
        sink = open(tokens_path, "wb")  # noqa: SIM115 (closed below)
        np.lib.format.write_array_header_1_0(sink, {"descr": np.dtype(np.int32).str, "fortran_order": False,
                                                    "shape": (n_out,)})
    else:
        tokens = np.empty(n_out, dtype=token_dtype(len(vocab)))
    offsets_parts = [np.zeros(1, np.int64)]
    out_pos = 0
    raw_pos = 0
    for part, ids_map, per_part in zip(parts, into, group_ends, strict=True):
        final = remap if ids_map is None else remap[ids_map]
        part.spill.seek(0)
        for (n_ids, _), ends in zip(part.groups, per_part, strict=True):
            prov = np.frombuffer(part.spill.read(n_ids * 4), dtype=np.int32)
            fin = final[prov]
            keep = fin >= 0
            kept = fin[keep]
            if sink is not None:
                sink.write(kept)  # the array's buffer: no bytes copy
            else:
                tokens[out_pos: out_pos + kept.shape[0]] = kept
            if ends.size:
                before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
                offsets_parts.append(out_pos + before[ends - raw_pos])
            out_pos += kept.shape[0]
            raw_pos += prov.shape[0]
    offsets = np.unique(np.concatenate(offsets_parts + [np.array([out_pos], np.int64)]))
    if sink is not None:
        sink.close()
        np.save(str(out_prefix) + ".offsets.npy", offsets, allow_pickle=False)
        vocab.save(str(out_prefix) + ".vocab.txt")
        tokens = np.load(tokens_path, mmap_mode="r")  # trainers read it through TokenReader
    return Corpus(tokens, offsets, _compacted(vocab), stats)


def _compacted(vocab: Vocab) -> Vocab:
    """The same vocabulary with its word strings made afresh, side by side.

    subtle: on the non-ASCII path the kept words may be strings made while tokenising, scattered
    across the allocator's arenas among freed token strings; each one pins its arena (this kept
    ~45 MB resident after reading the 19M-word corpus when every token was a string). Fresh copies
    side by side free those arenas.
    """
    blob = "\n".join(vocab.words)  # one large allocation outside the small-object arenas
    counts = vocab.counts
    vocab.words, vocab.index = [], {}  # drop the old strings before making the new ones
    return Vocab(blob.split("\n"), counts)


def split_sentences(offsets: np.ndarray, partitions: int) -> list[tuple[int, int]]:
    """Sentence ranges [s0, s1) of `partitions` contiguous parts with about equal word shares
    (`offsets` (n_sentences + 1,) the sentence start offsets in tokens). The trainer's workers
    (train/chunks.py) and Spark's partitions (spark/data.py) cut the corpus this way."""
    words = int(offsets[-1])
    cuts = [int(np.searchsorted(offsets, words * p // partitions, side="left")) for p in range(partitions + 1)]
    cuts[-1] = offsets.shape[0] - 1
    return [(cuts[p], cuts[p + 1]) for p in range(partitions)]


def read_corpus_text(text: str, **kwargs) -> Corpus:
    """Convenience for tests and small inputs: encode a string."""
    return read_corpus(io.StringIO(text), **kwargs)


class TokenReader:
    """Reads token ranges [a, b) of a corpus for one worker as int32 (what the kernels take),
    without mapping the whole file.

    In-memory int32 tokens: `read` returns a view (no copy). In-memory uint16 tokens (token_dtype):
    `read` widens the range into a reused buffer (~0.2 ms for a 0.1 s chunk). A memory-mapped
    `.tokens.npy` (Corpus.load with mmap=True): `read` copies the range from the file into a reused
    buffer, so the process's resident memory stays at the buffer size however large the corpus is
    (reading through the mapping would leave every page touched counted as resident). Buffers grow
    to the largest range read, not to the most a caller might ask for: NumPy gives arrays of 4 MB
    and more transparent huge pages, so an untouched tail of a large buffer still counted.
    """

    def __init__(self, tokens: np.ndarray):
        self.tokens = tokens
        self._file = None
        self._base = 0
        self._buf = np.zeros(0, np.int32)
        self._widen = tokens.dtype != np.int32 and not isinstance(tokens, np.memmap)
        if isinstance(tokens, np.memmap) and tokens.filename is not None:
            self._file = open(tokens.filename, "rb", buffering=0)  # noqa: SIM115 (closed by close())
            self._base = int(tokens.offset)

    def read(self, a: int, b: int) -> np.ndarray:
        """Tokens a..b-1 as a 1-D int32 array (valid until the next call)."""
        n = b - a
        if self._file is None and not self._widen:
            return self.tokens[a:b]
        if n > self._buf.shape[0]:
            self._buf = np.empty(-(-n // 65536) * 65536, np.int32)  # whole 256 KB steps: few regrowths
        if self._file is None:
            out = self._buf[:n]
            out[:] = self.tokens[a:b]
            return out
        view = memoryview(self._buf[:n]).cast("B")
        self._file.seek(self._base + 4 * a)
        got = 0
        while got < view.nbytes:  # readinto may return less than asked
            k = self._file.readinto(view[got:])
            if not k:
                raise CorpusError(f"{self.tokens.filename}: token file ended early (truncated?)")
            got += k
        return self._buf[:n]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
