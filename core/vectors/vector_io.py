"""Vector files: word2vec text and binary, our .npz, the Embedding Projector's TSV pair, and
memory-mapped .npy directories for vector sets too large to load.

Does:
- word2vec C formats, both ways, as the C tool and gensim write and read them.
  text:   a `V D` header line, then `word v1 .. vD` per line (trailing spaces and CRLF tolerated).
  binary: a `V D\\n` header, then per word its UTF-8 bytes, a space, D little-endian float32, and
          the '\\n' the C tool writes after each vector (gensim writes none; both are read).
  Words are UTF-8; invalid bytes are decoded as U+FFFD and counted in the load report.
- `.npz`, our own: `words` (V,) unicode (never object dtype), `vectors` (V, D) float32, optional
  `counts` (V,) int64. Read with allow_pickle=False, after checking every member's dtype, shape
  and declared size in the zip and .npy headers (a zip bomb is rejected before it inflates).
- TensorFlow Embedding Projector export: `vectors.tsv` + `metadata.tsv`, as files or strings.
- `convert_to_npy` streams a huge word2vec file once into `vectors.npy` + `unit.npy` + `vocab.txt`
  (a "prepared" folder; `python -m core prepare`, which also puts its approximate index in the
  folder's `ann/`); `open_mmap` opens that folder memory-mapped in well under a second.
- Hostile files (the app is hosted): sizes in headers are checked against the file before
  anything is allocated; every problem in a file is one `VectorFileError` (a ValueError) with a
  one-line message; no other exception escapes the loaders for any input bytes.
- `limit` reads only the first N rows and never touches the rest of the file.

Does not: read compressed word2vec files (.gz/.bz2), GloVe files without a header line, fastText
.bin models, or words containing spaces; build neighbour indexes (core/vectors/ann.py does).
Shapes: vectors (V, D) float32, row i is words[i]; counts (V,) int64 or None.
"""

from __future__ import annotations

import codecs
import io
import lzma
import math
import os
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .keyed import Vectors

__all__ = [
    "INDEX_DIR", "MAX_DIM", "MAX_NPZ_MEMBER_BYTES", "MAX_WORD_BYTES", "PREPARED_FILES", "LoadReport",
    "VectorFileError", "VectorFileWarning", "convert_to_npy", "is_prepared", "load", "load_with_report",
    "open_mmap",
    "read_projector_tsv", "save", "save_projector", "to_npz_bytes", "to_projector_tsv",
    "to_word2vec_bytes",
]

MAX_DIM = 10_000                    # largest D accepted in any header
MAX_WORD_BYTES = 4096               # longest word accepted (the C tool itself stops at 100)
MAX_NPZ_MEMBER_BYTES = 2 << 30      # largest uncompressed .npz member (zip-bomb cap), 2 GiB
SNIFF_BYTES = 4096                  # bytes after the header inspected to tell text from binary
BLOCK_BYTES = 4 << 20               # rows are parsed and written in blocks of about this size
READ_CHUNK = 1 << 20                # bytes per read() from the underlying stream
FORMATS = ("auto", "text", "binary", "npz")
EXTENSIONS = {".bin": "binary", ".txt": "text", ".vec": "text", ".npz": "npz"}
PREPARED_FILES = ("vectors.npy", "unit.npy", "vocab.txt")  # what convert_to_npy writes into its folder
INDEX_DIR = "ann"  # a prepared folder's approximate-index cache (core/cli/prepare.py, ui/vector_sets.py)
_BOM = codecs.BOM_UTF8
_ASCII_SPACE = " \t\n\r\x0b\x0c"

# Everything a hostile file can make the standard library or numpy raise while we read it.
# Deliberately not Exception: a TypeError or IndexError here is our bug and must stay visible.
_READ_ERRORS = (OSError, EOFError, ValueError, OverflowError, MemoryError, NotImplementedError,
                struct.error, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, lzma.LZMAError)


class VectorFileError(ValueError):
    """A vector file that cannot be read. The message is one line, fit to show to a user."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).splitlines()))


class VectorFileWarning(UserWarning):
    """Something a load repaired (duplicate words, invalid UTF-8): the vectors are usable."""


@dataclass
class LoadReport:
    """What a load found besides the vectors; never fatal."""

    fmt: str                 # 'text', 'binary' or 'npz'
    declared_words: int      # V in the header (rows in an .npz)
    read_words: int = 0      # rows read: min(V, limit)
    duplicates: int = 0      # later rows of a word already seen; dropped, the first one wins
    replaced_utf8: int = 0   # words that were not valid UTF-8, decoded with U+FFFD

    def notes(self) -> list[str]:
        """One sentence per repair, for a warning or a status line."""
        out = []
        if self.duplicates:
            out.append(f"{self.duplicates} duplicate word(s) dropped (the first occurrence was kept)")
        if self.replaced_utf8:
            out.append(f"{self.replaced_utf8} word(s) were not valid UTF-8; bad bytes became U+FFFD")
        return out


# -- sources ---------------------------------------------------------------------------------
def _remaining_bytes(stream: BinaryIO) -> int | None:
    """Bytes from the current position to the end, or None for a stream that cannot seek."""
    try:
        if not stream.seekable():
            return None
        pos = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(pos)
        return end - pos
    except (OSError, ValueError, AttributeError):
        return None


@contextmanager
def _opened(src: str | os.PathLike | BinaryIO) -> Iterator[tuple[BinaryIO, str]]:
    """(binary stream, name) for a path or an open binary file-like object (an upload)."""
    if isinstance(src, str | os.PathLike):
        try:
            f = open(src, "rb")
        except OSError as e:
            raise VectorFileError(f"cannot open {os.fspath(src)}: {e.strerror or e}") from e
        with f:
            yield f, os.fspath(src)
        return
    if isinstance(src, io.TextIOBase) or not hasattr(src, "read"):
        raise TypeError("pass a path or a file object opened in binary mode")
    name = getattr(src, "name", "")
    yield src, name if isinstance(name, str) else ""


class _Cursor:
    """Buffered reads over a binary stream. Memory stays bounded: no call buffers more than it
    asked for plus one READ_CHUNK."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._buf = b""
        self._pos = 0
        self.consumed = 0  # bytes handed out so far (the offset in the stream)

    def _fill(self, n: int) -> bool:
        """Make n bytes available; False when the stream ends first."""
        while len(self._buf) - self._pos < n:
            more = self._stream.read(max(READ_CHUNK, n - (len(self._buf) - self._pos)))
            if not more:
                return False
            self._buf = self._buf[self._pos:] + more
            self._pos = 0
        return True

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self._buf[self._pos:self._pos + n]

    def take(self, n: int) -> bytes:
        """n bytes, or fewer at the end of the stream."""
        self._fill(n)
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        self.consumed += len(out)
        return out

    def skip(self, byte: int) -> None:
        """Skip any run of one byte value (the C tool's newline before each binary word)."""
        while self._fill(1) and self._buf[self._pos] == byte:
            self._pos += 1
            self.consumed += 1

    def until(self, sep: bytes, max_len: int) -> tuple[bytes, bool]:
        """(bytes before sep, True) consuming sep; or (what is there, False) when the stream ends
        or max_len bytes pass without sep (then nothing is consumed)."""
        while True:
            i = self._buf.find(sep, self._pos, self._pos + max_len + 1)
            if i >= 0:
                out = self._buf[self._pos:i]
                self.consumed += i + 1 - self._pos
                self._pos = i + 1
                return out, True
            have = len(self._buf) - self._pos
            if have > max_len or not self._fill(have + 1):
                return self._buf[self._pos:self._pos + max_len + 1], False


# -- format detection and the word2vec header --------------------------------------------------
def _format_from_name(name: str) -> str | None:
    return EXTENSIONS.get(Path(name).suffix.lower()) if name else None


def _looks_like_text(sample: bytes) -> bool:
    """UTF-8 (a sequence cut at the end is fine) with no control bytes except tab, CR and LF."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return not sample.translate(None, b"\t\n\r").translate(None, bytes(range(32, 256)))


def _sniff(cur: _Cursor) -> str:
    """'npz', 'text' or 'binary' from the first bytes: binary when what follows the header
    line is not text."""
    head = cur.peek(128 + SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    _, newline, rest = head.partition(b"\n")
    return "text" if not newline or _looks_like_text(rest[:SNIFF_BYTES]) else "binary"


def _read_header(cur: _Cursor) -> tuple[int, int]:
    """(V, D) from the `V D` first line, validated: V >= 1, 1 <= D <= MAX_DIM."""
    line, found = cur.until(b"\n", 128)
    parts = line.removeprefix(_BOM).split()
    if not found or len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:40].decode("utf-8", "replace")
        raise VectorFileError(f"the first line must be 'V D' (word count and dimension), got {shown!r}")
    n_words, dim = int(parts[0]), int(parts[1])
    if n_words < 1:
        raise VectorFileError("the header declares 0 words")
    if not 1 <= dim <= MAX_DIM:
        raise VectorFileError(f"the header declares dimension {dim}; expected 1..{MAX_DIM}")
    return n_words, dim


def _check_capacity(n_rows: int, dim: int, declared: int, remaining: int | None, binary: bool) -> None:
    """Reject a header that claims more rows than the bytes after it can hold, before any
    allocation. Smallest row: a 1-byte word, a space and 4D bytes (binary); or a 1-byte word and
    D one-digit values with their separators (text)."""
    if remaining is None:
        return  # a pipe: rows are then read block by block and memory follows the data
    min_row = 4 * dim + 2 if binary else 2 * dim + 1
    if n_rows * min_row > remaining + 1:
        raise VectorFileError(
            f"the header declares {declared} words of dimension {dim}, but the {remaining} bytes after "
            f"it hold at most {remaining // min_row} such rows (truncated file or wrong header)")


def _block_rows(dim: int) -> int:
    return max(1, BLOCK_BYTES // (4 * dim))


# -- word2vec rows ----------------------------------------------------------------------------
_RawBlocks = Iterator[tuple[list[bytes], np.ndarray]]


def _binary_rows(cur: _Cursor, n_rows: int, dim: int, declared: int) -> _RawBlocks:
    """Blocks of (raw words, (rows, D) float32) from the binary body."""
    nbytes = 4 * dim
    step = _block_rows(dim)
    for start in range(0, n_rows, step):
        rows = min(step, n_rows - start)
        block = np.empty((rows, dim), dtype=np.float32)
        words: list[bytes] = []
        for j in range(rows):
            i = start + j
            cur.skip(0x0A)  # the C tool ends each vector with '\n'; gensim's writer does not
            word, found = cur.until(b" ", MAX_WORD_BYTES)
            if not found:
                if not word:
                    raise VectorFileError(f"binary file ends after {i} of {declared} words")
                if len(word) <= MAX_WORD_BYTES:
                    raise VectorFileError(f"binary file ends inside word index {i}")
                raise VectorFileError(f"word index {i} is longer than {MAX_WORD_BYTES} bytes "
                                      f"(not a word2vec binary file?)")
            if not word or b"\n" in word:
                raise VectorFileError(f"word index {i} is empty or contains a newline")
            data = cur.take(nbytes)
            if len(data) < nbytes:
                shown = word[:40].decode("utf-8", "replace")
                raise VectorFileError(f"binary file ends inside the vector of word index {i} ({shown!r}): "
                                      f"{len(data)} of {nbytes} bytes")
            block[j] = np.frombuffer(data, dtype="<f4")
            words.append(word)
        yield words, block


def _bad_token(tokens: list[bytes]) -> bytes:
    for t in tokens:
        try:
            float(t)
        except ValueError:
            return t
    return b"?"


def _text_rows(cur: _Cursor, n_rows: int, dim: int, declared: int) -> _RawBlocks:
    """Blocks of (raw words, (rows, D) float32) from the text body; line numbers count the header."""
    max_line = MAX_WORD_BYTES + 64 * (dim + 1)
    step = _block_rows(dim)
    for start in range(0, n_rows, step):
        rows = min(step, n_rows - start)
        block = np.empty((rows, dim), dtype=np.float32)
        words: list[bytes] = []
        for j in range(rows):
            lineno = start + j + 2
            line, found = cur.until(b"\n", max_line)
            if not found and len(line) > max_line:
                raise VectorFileError(f"line {lineno} is longer than {max_line} bytes")
            if not found and not line:
                raise VectorFileError(f"text file ends after {start + j} of {declared} words")
            parts = line.split()
            if not parts:
                raise VectorFileError(f"line {lineno} is blank")
            word = parts[0][:40].decode("utf-8", "replace")
            if len(parts) != dim + 1:
                raise VectorFileError(f"line {lineno} ({word!r}): expected {dim} values after the word, got "
                                      f"{len(parts) - 1} (words cannot contain spaces)")
            try:
                block[j] = parts[1:]  # numpy parses ASCII decimals straight from bytes
            except ValueError:
                bad = _bad_token(parts[1:])[:40].decode("utf-8", "replace")
                raise VectorFileError(f"line {lineno} ({word!r}): {bad!r} is not a number") from None
            words.append(parts[0])
        yield words, block


class _Rows:
    """Turns raw blocks into clean ones: decodes words, drops later duplicates, rejects NaN/inf."""

    def __init__(self, report: LoadReport, where: str):
        self.report = report
        self.where = where  # "line": messages give text line numbers (the header is line 1)
        self.seen: set[str] = set()
        self.row = 0

    def _locate(self, i: int) -> str:
        return f"line {i + 2}" if self.where == "line" else f"word index {i}"

    def _decode(self, raw: bytes | str) -> str:
        if isinstance(raw, str):
            if raw.isascii():
                return raw
            try:
                raw.encode("utf-8")  # lone surrogates (possible in an .npz) cannot be written later
                return raw
            except UnicodeEncodeError:
                raw = raw.encode("utf-8", "surrogatepass")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.report.replaced_utf8 += 1
            return raw.decode("utf-8", "replace")

    def accept(self, raw_words: list[bytes] | list[str],
               block: np.ndarray) -> tuple[list[str], np.ndarray, list[int] | None]:
        """(words, rows, kept row indices or None when all were kept)."""
        finite = np.isfinite(block).all(axis=1)
        if not finite.all():
            k = int(np.argmin(finite))
            shown = self._decode(raw_words[k])[:40]
            raise VectorFileError(f"{self._locate(self.row + k)} ({shown!r}) has a NaN or infinite value")
        words, keep = [], []
        for j, raw in enumerate(raw_words):
            w = self._decode(raw)
            if w in self.seen:
                self.report.duplicates += 1
                continue
            self.seen.add(w)
            words.append(w)
            keep.append(j)
        self.row += len(raw_words)
        self.report.read_words += len(raw_words)
        if len(keep) == len(raw_words):
            return words, block, None
        return words, block[keep], keep


def _word2vec_blocks(cur: _Cursor, kind: str, limit: int | None, remaining: int | None,
                     ) -> tuple[LoadReport, int, int, Iterator[tuple[list[str], np.ndarray]]]:
    """Validate the header against the file size (`remaining`: bytes from the cursor's start,
    None if unknown) and return (report, rows to read, D, clean blocks)."""
    declared, dim = _read_header(cur)
    n_rows = declared if limit is None else min(declared, limit)
    binary = kind == "binary"
    looks_text = _looks_like_text(cur.peek(SNIFF_BYTES))
    hint = (" (the data looks like text: try fmt='text')" if binary and looks_text else
            " (the data looks binary: try fmt='binary')" if not binary and not looks_text else "")
    if remaining is not None:
        remaining -= cur.consumed
    try:
        _check_capacity(n_rows, dim, declared, remaining, binary)
    except VectorFileError as e:
        raise VectorFileError(f"{e}{hint}") from None
    report = LoadReport(kind, declared)
    rows = _Rows(report, "word" if binary else "line")
    raw = (_binary_rows if binary else _text_rows)(cur, n_rows, dim, declared)

    def clean() -> Iterator[tuple[list[str], np.ndarray]]:
        try:
            for words, block in raw:
                kept_words, kept_block, _ = rows.accept(words, block)
                yield kept_words, kept_block
        except VectorFileError as e:
            raise VectorFileError(f"{e}{hint}") from None

    return report, n_rows, dim, clean()


def _gather(blocks: Iterator[tuple[list[str], np.ndarray]], n_rows: int, dim: int,
            preallocate: bool) -> tuple[list[str], np.ndarray]:
    """Concatenate blocks into (words, (kept, D) float32). Preallocate only when n_rows was
    checked against the file size; otherwise memory grows with the data actually read."""
    words: list[str] = []
    if preallocate:
        out = np.empty((n_rows, dim), dtype=np.float32)
        k = 0
        for w, block in blocks:
            out[k:k + len(w)] = block
            words += w
            k += len(w)
        return words, out[:k]
    parts = []
    for w, block in blocks:
        parts.append(block)
        words += w
    return words, np.concatenate(parts) if parts else np.empty((0, dim), np.float32)


# -- .npz ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Member:
    name: str
    kinds: str    # allowed dtype kinds ('U', 'f', 'i')
    itemsize: int | None
    ndim: int


_NPZ_MEMBERS = {
    "words": _Member("words.npy", "U", None, 1),
    "vectors": _Member("vectors.npy", "f", 4, 2),
    "counts": _Member("counts.npy", "i", 8, 1),
}


def _npy_header(f: BinaryIO, name: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, fortran_order, dtype) of a .npy stream, read by numpy's own header parser."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(f)
    except (ValueError, TypeError, SyntaxError, OverflowError, KeyError) as e:
        raise VectorFileError(f"{name}: bad .npy header ({e})") from None
    raise VectorFileError(f"{name}: unsupported .npy version {version}")


def _check_member(spec: _Member, shape: tuple[int, ...], fortran: bool, dtype: np.dtype) -> None:
    if dtype.hasobject or dtype.kind not in spec.kinds or dtype.fields is not None or dtype.subdtype:
        raise VectorFileError(f"{spec.name}: dtype {dtype.str} is not allowed (expected kind {spec.kinds!r};"
                              f" object arrays are never loaded)")
    if dtype.byteorder == ">" or (spec.itemsize is not None and dtype.itemsize != spec.itemsize):
        raise VectorFileError(f"{spec.name}: dtype {dtype.str} is not allowed")
    if fortran:
        raise VectorFileError(f"{spec.name}: Fortran-ordered arrays are not supported")
    if len(shape) != spec.ndim or any(s < 1 for s in shape):
        raise VectorFileError(f"{spec.name}: shape {shape} is not a non-empty {spec.ndim}-D array")
    if spec.ndim == 2 and shape[1] > MAX_DIM:
        raise VectorFileError(f"{spec.name}: dimension {shape[1]} exceeds {MAX_DIM}")


def _read_member(zf: zipfile.ZipFile, spec: _Member, limit: int | None, max_bytes: int) -> np.ndarray:
    """The first min(rows, limit) rows of one member, after validating its headers."""
    info = zf.getinfo(spec.name)
    if info.flag_bits & 0x1:
        raise VectorFileError(f"{spec.name}: encrypted members are not supported")
    if info.file_size > max_bytes:
        raise VectorFileError(f"{spec.name}: {info.file_size} bytes uncompressed exceeds the "
                              f"{max_bytes}-byte limit")
    with zf.open(info) as f:
        shape, fortran, dtype = _npy_header(f, spec.name)
        _check_member(spec, shape, fortran, dtype)
        expected = f.tell() + math.prod(shape) * dtype.itemsize
        if info.file_size != expected:
            raise VectorFileError(f"{spec.name}: the zip declares {info.file_size} bytes but the .npy header "
                                  f"implies {expected}")
        rows = shape[0] if limit is None else min(shape[0], limit)
        out = np.empty((rows, *shape[1:]), dtype=dtype)
        view = memoryview(out.reshape(-1).view(np.uint8))
        got = 0
        while got < len(view):
            n = f.readinto(view[got:])
            if not n:
                raise VectorFileError(f"{spec.name}: data ends after {got} of {len(view)} bytes")
            got += n
        if rows == shape[0]:
            f.read(1)  # reach the end of the member so zipfile checks its CRC
    return out


def _npz_words(words: np.ndarray) -> list[str]:
    """Words from a (V,) unicode array; code points beyond U+10FFFF would crash numpy's tolist."""
    codes = words.view(np.uint32) if words.dtype.itemsize else np.zeros(0, np.uint32)
    if codes.size and int(codes.max()) > 0x10FFFF:
        raise VectorFileError("words.npy holds characters beyond U+10FFFF")
    return words.tolist()


def _load_npz(stream: BinaryIO, limit: int | None, max_bytes: int) -> tuple[Vectors, LoadReport]:
    with zipfile.ZipFile(stream) as zf:
        names = set(zf.namelist())
        for key in ("words", "vectors"):
            if _NPZ_MEMBERS[key].name not in names:
                have = ", ".join(sorted(names))[:200]
                raise VectorFileError(f"the .npz has no {key!r} array (it has: {have})")
        arrays = {key: _read_member(zf, spec, limit, max_bytes) for key, spec in _NPZ_MEMBERS.items()
                  if spec.name in names}
    lengths = {key: a.shape[0] for key, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise VectorFileError(f"the .npz arrays disagree on the number of words: {lengths}")
    report = LoadReport("npz", declared_words=lengths["words"])
    rows = _Rows(report, "word")
    words, vectors, keep = rows.accept(_npz_words(arrays["words"]), arrays["vectors"])
    counts = arrays.get("counts")
    if counts is not None and keep is not None:
        counts = counts[keep]
    return Vectors(words, vectors, None if counts is None else counts.astype(np.int64)), report


# -- loading ---------------------------------------------------------------------------------
def _check_args(fmt: str, limit: int | None) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS} (got {fmt!r})")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None (got {limit!r})")


def _load(src: str | os.PathLike | BinaryIO, fmt: str, limit: int | None,
          max_member_bytes: int) -> tuple[Vectors, LoadReport]:
    with _opened(src) as (stream, name):
        remaining = _remaining_bytes(stream)
        start = None if remaining is None else stream.tell()
        kind = fmt if fmt != "auto" else _format_from_name(name)
        cur = _Cursor(stream)
        if kind is None:
            kind = _sniff(cur)
        if kind == "npz":
            if start is None:
                raise VectorFileError("an .npz must be read from a seekable file")
            stream.seek(start)
            return _load_npz(stream, limit, max_member_bytes)
        report, n_rows, dim, blocks = _word2vec_blocks(cur, kind, limit, remaining)
        words, vectors = _gather(blocks, n_rows, dim, preallocate=remaining is not None)
        return Vectors(words, vectors), report


def load_with_report(src: str | os.PathLike | BinaryIO, fmt: str = "auto", limit: int | None = None, *,
                     max_member_bytes: int = MAX_NPZ_MEMBER_BYTES) -> tuple[Vectors, LoadReport]:
    """Read vectors from a path or a binary file object; also say what was repaired.

    fmt: 'auto' (by extension: .bin binary, .txt/.vec text, .npz; otherwise sniffed from the
    bytes), 'text', 'binary' or 'npz'. limit: read only the first N rows (before duplicates are
    dropped). max_member_bytes: cap on any uncompressed .npz member.
    Raises VectorFileError for anything wrong with the file, ValueError/TypeError for bad arguments.
    """
    _check_args(fmt, limit)
    try:
        return _load(src, fmt, limit, max_member_bytes)
    except VectorFileError:
        raise
    except MemoryError as e:
        raise VectorFileError("not enough memory to load these vectors (use convert_to_npy for very large "
                              "files)") from e
    except _READ_ERRORS as e:
        raise VectorFileError(f"cannot read the vector file: {type(e).__name__}: {e}") from e


def load(src: str | os.PathLike | BinaryIO, fmt: str = "auto", limit: int | None = None, *,
         max_member_bytes: int = MAX_NPZ_MEMBER_BYTES) -> Vectors:
    """`load_with_report` that turns the report's notes into VectorFileWarnings."""
    vectors, report = load_with_report(src, fmt, limit, max_member_bytes=max_member_bytes)
    for note in report.notes():
        warnings.warn(note, VectorFileWarning, stacklevel=2)
    return vectors


# -- writing ---------------------------------------------------------------------------------
def _word_bytes(word: str) -> bytes:
    if not word or any(c in _ASCII_SPACE for c in word):
        raise ValueError(f"word {word!r} cannot be written in word2vec format (empty or contains whitespace)")
    return word.encode("utf-8")


def _finite_block(vectors: Vectors, start: int, stop: int) -> np.ndarray:
    block = np.ascontiguousarray(vectors.vectors[start:stop], dtype="<f4")
    finite = np.isfinite(block).all(axis=1)
    if not finite.all():
        i = start + int(np.argmin(finite))
        raise ValueError(f"the vector of {vectors.words[i]!r} (row {i}) has NaN or inf; refusing to write it")
    return block


def _write_word2vec(vectors: Vectors, out: BinaryIO, binary: bool, precision: int) -> None:
    """The C tool's layout: binary rows end with '\\n' as word2vec.c writes them (gensim reads
    that too). Text values use `precision` significant digits; 9 round-trips float32 exactly."""
    n, dim = vectors.vectors.shape
    if n == 0:
        raise ValueError("cannot write an empty vector set")
    out.write(f"{n} {dim}\n".encode("ascii"))
    row_fmt = " ".join([f"%.{precision}g"] * dim)
    # subtle: 1 MB blocks handed to writelines, not 4 MB joined into one bytes: the save is the
    # last thing a training run does, and its temporaries were the run's peak memory (+7 MiB over
    # training's plateau for the 19M-word corpus; now ~+2)
    step = max(1, _block_rows(dim) // 4)
    for start in range(0, n, step):
        block = _finite_block(vectors, start, start + step)
        words = vectors.words[start:start + step]
        if binary:
            lines = [_word_bytes(w) + b" " + row.tobytes() + b"\n"
                     for w, row in zip(words, block, strict=True)]
        else:
            lines = [_word_bytes(w) + b" " + (row_fmt % tuple(row.tolist())).encode("ascii") + b"\n"
                     for w, row in zip(words, block, strict=True)]
        out.writelines(lines)


def _write_npz(vectors: Vectors, out: BinaryIO) -> None:
    """words and counts deflated (unicode arrays are mostly padding); vectors stored."""
    members = [("words.npy", np.array(vectors.words, dtype=str), zipfile.ZIP_DEFLATED),
               ("vectors.npy", np.ascontiguousarray(vectors.vectors, dtype="<f4"), zipfile.ZIP_STORED)]
    if vectors.counts is not None:
        members.append(("counts.npy", np.asarray(vectors.counts, dtype="<i8"), zipfile.ZIP_DEFLATED))
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        for name, array, method in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)


def to_word2vec_bytes(vectors: Vectors, binary: bool, *, precision: int = 9) -> bytes:
    """The whole word2vec file as bytes (for a download button)."""
    buf = io.BytesIO()
    _write_word2vec(vectors, buf, binary, precision)
    return buf.getvalue()


def to_npz_bytes(vectors: Vectors) -> bytes:
    buf = io.BytesIO()
    _write_npz(vectors, buf)
    return buf.getvalue()


def _projector_label(word: str) -> str:
    """The Projector splits metadata on tabs and newlines and skips blank lines: keep every
    label on one non-blank line, or the rows would no longer line up with the vectors."""
    label = word.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return label if label.replace("\ufeff", "").strip() else repr(word)


def to_projector_tsv(vectors: Vectors, *, precision: int = 6) -> tuple[str, str]:
    """(vectors.tsv, metadata.tsv) for projector.tensorflow.org.

    vectors.tsv: V lines of D tab-separated values, no header.
    metadata.tsv: the Projector's rule is that single-column metadata has no header and
    multi-column metadata must have one; so one word per line, or a `word\\tcount` header and
    `word\\tcount` lines when counts are known. Precision is for display (6 significant digits).
    """
    n, dim = vectors.vectors.shape
    if dim < 2:
        raise ValueError("the Embedding Projector needs at least 2 dimensions")
    row_fmt = "\t".join([f"%.{precision}g"] * dim)
    step = _block_rows(dim)
    rows = []
    for start in range(0, n, step):
        rows += [row_fmt % tuple(r.tolist()) for r in _finite_block(vectors, start, start + step)]
    labels = [_projector_label(w) for w in vectors.words]
    if vectors.counts is None:
        meta = labels
    else:
        meta = ["word\tcount"] + [f"{w}\t{int(c)}" for w, c in zip(labels, vectors.counts, strict=True)]
    return "\n".join(rows) + "\n", "\n".join(meta) + "\n"


def read_projector_tsv(vectors_tsv: str, metadata_tsv: str | None = None) -> Vectors:
    """Vectors back from a Projector pair (blank lines skipped and the header detected by the
    Projector's own rule: a tab in the first line). Without metadata, words are '0', '1', ..."""
    try:
        rows = [line.split("\t") for line in vectors_tsv.split("\n") if line.strip()]
        if not rows:
            raise VectorFileError("vectors.tsv has no rows")
        dim = len(rows[0])
        if not 1 <= dim <= MAX_DIM or any(len(r) != dim for r in rows):
            raise VectorFileError("vectors.tsv rows do not all have the same number (1..10000) of values")
        vectors = np.array(rows, dtype=np.float32)
        if not np.isfinite(vectors).all():
            raise VectorFileError("vectors.tsv has NaN or infinite values")
        if metadata_tsv is None:
            return Vectors([str(i) for i in range(len(rows))], vectors)
        lines = [line for line in metadata_tsv.split("\n") if line.strip()]
        columns = lines[0].split("\t") if lines and "\t" in lines[0] else ["word"]
        body = [line.split("\t") for line in lines[1:]] if len(columns) > 1 else [[x] for x in lines]
        if len(body) != len(rows):
            raise VectorFileError(f"metadata.tsv has {len(body)} rows for {len(rows)} vectors")
        col = columns.index("word") if "word" in columns else 0
        counts = None
        if "count" in columns:
            counts = np.array([r[columns.index("count")] for r in body], dtype=np.int64)
        return Vectors([r[col] if col < len(r) else "" for r in body], vectors, counts)
    except VectorFileError:
        raise
    except (ValueError, IndexError, OverflowError) as e:
        raise VectorFileError(f"cannot read the Projector files: {e}") from e


@contextmanager
def _atomic(path: Path) -> Iterator[BinaryIO]:
    """Write to path.part, then rename: a failed save never leaves half a file under `path`."""
    tmp = path.with_name(path.name + ".part")
    try:
        with open(tmp, "wb") as f:
            yield f
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def save_projector(vectors: Vectors, out_dir: str | os.PathLike, *, precision: int = 6) -> tuple[Path, Path]:
    """Write out_dir/vectors.tsv and out_dir/metadata.tsv; returns their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = out / "vectors.tsv", out / "metadata.tsv"
    for path, text in zip(paths, to_projector_tsv(vectors, precision=precision), strict=True):
        with _atomic(path) as f:
            f.write(text.encode("utf-8"))
    return paths


def save(vectors: Vectors, path: str | os.PathLike, fmt: str = "auto", *, precision: int = 9) -> None:
    """Write vectors. fmt: 'auto' (by extension: .bin, .txt/.vec, .npz), 'binary', 'text', 'npz',
    or 'projector' (path is then a directory for vectors.tsv and metadata.tsv)."""
    path = Path(path)
    kind = _format_from_name(path.name) if fmt == "auto" else fmt
    if kind == "projector":
        save_projector(vectors, path)
        return
    if kind not in ("text", "binary", "npz"):
        raise ValueError(f"cannot tell the format of {path.name!r}: pass fmt='binary', 'text', 'npz' "
                         f"or 'projector'")
    with _atomic(path) as f:
        if kind == "npz":
            _write_npz(vectors, f)
        else:
            _write_word2vec(vectors, f, kind == "binary", precision)


# -- large vector sets: memory-mapped .npy ---------------------------------------------------
def _unit_rows(block: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, zero rows kept: the same arithmetic as Vectors.unit, so the
    stored unit.npy equals what Vectors would compute."""
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (block / norms).astype(np.float32)


class _NpyWriter:
    """A (rows, D) float32 .npy filled block by block. The file is created by open_memmap; each
    block is written through its own short-lived map, so resident memory stays about one block
    (one map of the whole file would keep every written page resident until it is closed)."""

    def __init__(self, path: Path, rows: int, dim: int):
        self.path, self.rows, self.dim = path, rows, dim
        mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, dim))
        self.offset = mm.offset
        del mm
        self.written = 0

    def write(self, block: np.ndarray) -> None:
        if not len(block):
            return
        mm = np.memmap(self.path, dtype=np.float32, mode="r+", shape=block.shape,
                       offset=self.offset + self.written * self.dim * 4)
        mm[:] = block
        del mm
        self.written += len(block)

    def finish(self) -> None:
        """Shrink the file when duplicates made it shorter than planned: rewrite the shape in the
        version 1.0 header in place (padded to the same length) and truncate the data."""
        if self.written == self.rows:
            return
        header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({self.written}, {self.dim}), }}"
        body = header.ljust(self.offset - 11).encode("latin1") + b"\n"
        with open(self.path, "r+b") as f:
            if np.lib.format.read_magic(f) != (1, 0):
                raise OSError(f"{self.path}: unexpected .npy version")
            f.seek(10)
            f.write(body)
            f.truncate(self.offset + self.written * self.dim * 4)


def convert_to_npy(src: str | os.PathLike | BinaryIO, out_dir: str | os.PathLike,
                   limit: int | None = None, progress: Callable[[int, int], None] | None = None) -> Path:
    """Stream a word2vec file (text or binary) once into out_dir: `vectors.npy` (V, D) float32,
    `unit.npy` (V, D) float32 rows of unit length, `vocab.txt` one UTF-8 word per line.
    Memory stays about one block plus the vocabulary (a set of the words, to drop duplicates).
    An .npz is read whole first (it cannot be streamed), then written the same way.
    Files are written under .part names and renamed at the end. `progress(rows done, rows
    planned)` is called after each block. Returns out_dir."""
    _check_args("auto", limit)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    finals = [out / name for name in PREPARED_FILES]
    parts = [p.with_name(p.name + ".part") for p in finals]
    try:
        report = _convert(src, parts, limit, progress or (lambda done, total: None))
        for part, final in zip(parts, finals, strict=True):
            os.replace(part, final)
    except VectorFileError:
        raise
    except MemoryError as e:
        raise VectorFileError("not enough memory to convert this file") from e
    except _READ_ERRORS as e:
        raise VectorFileError(f"cannot convert the vector file: {type(e).__name__}: {e}") from e
    finally:
        for part in parts:
            part.unlink(missing_ok=True)
    for note in report.notes():
        warnings.warn(note, VectorFileWarning, stacklevel=2)
    return out


def _npz_blocks(stream: BinaryIO, limit: int | None,
                ) -> tuple[LoadReport, int, int, Iterator[tuple[list[str], np.ndarray]]]:
    """An .npz read whole, then handed out in blocks like the word2vec readers' ones."""
    vectors, report = _load_npz(stream, limit, MAX_NPZ_MEMBER_BYTES)
    bad = next((w for w in vectors.words if "\n" in w), None)
    if bad is not None:
        raise VectorFileError(f"word {bad[:40]!r} contains a newline, which vocab.txt cannot hold")
    n_rows, dim = vectors.vectors.shape
    step = _block_rows(dim)
    return report, n_rows, dim, ((vectors.words[i:i + step], vectors.vectors[i:i + step])
                                 for i in range(0, n_rows, step))


def _convert(src: str | os.PathLike | BinaryIO, parts: list[Path], limit: int | None,
             progress: Callable[[int, int], None]) -> LoadReport:
    with _opened(src) as (stream, name):
        remaining = _remaining_bytes(stream)
        if remaining is None:
            raise VectorFileError("convert_to_npy needs a file of known size (a path or a seekable file)")
        start = stream.tell()
        cur = _Cursor(stream)
        kind = _format_from_name(name) or _sniff(cur)
        if kind == "npz":
            stream.seek(start)
            report, n_rows, dim, blocks = _npz_blocks(stream, limit)
        else:
            report, n_rows, dim, blocks = _word2vec_blocks(cur, kind, limit, remaining)
        vec, unit = _NpyWriter(parts[0], n_rows, dim), _NpyWriter(parts[1], n_rows, dim)
        done = 0
        with open(parts[2], "wb") as vocab:
            for words, block in blocks:
                vec.write(block)
                unit.write(_unit_rows(block))
                vocab.write(b"".join(w.encode("utf-8") + b"\n" for w in words))
                done += len(words)
                progress(done, n_rows)
        vec.finish()
        unit.finish()
        return report


def is_prepared(path: str | os.PathLike) -> bool:
    """True for a folder holding the three files convert_to_npy writes (a "prepared" set)."""
    d = Path(path)
    return d.is_dir() and all((d / name).is_file() for name in PREPARED_FILES)


def open_mmap(out_dir: str | os.PathLike) -> Vectors:
    """Vectors over a convert_to_npy directory, memory-mapped read-only (vectors and the
    precomputed unit rows); only vocab.txt is read into memory."""
    d = Path(out_dir)
    try:
        words = (d / "vocab.txt").read_bytes().decode("utf-8", "replace").split("\n")
        if words and words[-1] == "":
            words.pop()
        vectors = np.load(d / "vectors.npy", mmap_mode="r", allow_pickle=False)
        unit_path = d / "unit.npy"
        unit = np.load(unit_path, mmap_mode="r", allow_pickle=False) if unit_path.exists() else None
    except _READ_ERRORS as e:
        raise VectorFileError(f"cannot open {d}: {type(e).__name__}: {e}") from e
    if vectors.dtype != np.float32 or vectors.ndim != 2 or vectors.shape[0] != len(words):
        raise VectorFileError(f"{d}: vectors.npy {vectors.dtype} {vectors.shape} does not match "
                              f"{len(words)} words in vocab.txt")
    if unit is not None and (unit.dtype != np.float32 or unit.shape != vectors.shape):
        raise VectorFileError(f"{d}: unit.npy {unit.dtype} {unit.shape} does not match vectors.npy")
    return Vectors(words, vectors, unit=unit)
