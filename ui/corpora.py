"""Corpus choice and cached loading for the app: the sample corpora, uploads and local paths.

Does: list the sample corpora; validate an upload (empty, oversize, binary, not UTF-8, broken
gzip) with a one-line message; keep uploads as files named by their content hash so a later
re-read (another min_count) needs no new upload; read corpora through `st.cache_data` keyed by
the file's content hash and the reading parameters (min_count, max_vocab, head_words), so
switching back and forth is instant; run phrase detection on a corpus and cache its output on
disk by the same kind of key; compute the statistics Home shows; find a downloaded text8.
Does not: train, draw widgets (pages and ui/widgets.py do) or download anything.

Hosted mode (ui/hosted.py, e.g. `W2V_HOSTED=1`): local paths are refused, because a hosted
server's files are not the visitor's; an upload over the size limit is refused from its declared
size, before its bytes are read; a corpus file is read up to the word cap (the name then says
"first N words") and its vocabulary is cut to the vocabulary cap. The caps apply whenever they
are set, hosted or not; locally none is set by default.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from core import download
from core.corpus import Corpus, CorpusError, read_corpus, read_corpus_text

from . import hosted as _hosted


@dataclass
class LoadedCorpus:
    """A corpus the session is working with."""

    name: str  # shown in the sidebar, e.g. "small_world (sample)"
    corpus: Corpus
    source: str  # "sample:<file>", "upload:<name>" or "path:<path>"
    path: str | None = None  # a local file that can be re-read (other min_count), None for test texts
    digest: str = ""  # content hash of that file: the cache key of every re-read
    min_count: int | None = None  # the min_count the vocabulary was cut with (None: unknown)
    max_vocab: int | None = None  # the max_vocab it was cut with
    head_words: int | None = None  # only the first ~N words of the file were read (race preset)



ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DIR = ROOT / "sample_corpora"
# The upload limit as configured when the app started (labels read it); checks ask settings() again.
MAX_UPLOAD_MB = _hosted.upload_limit_mb()
MAX_UPLOAD_BYTES = _hosted.server_upload_mb() * 1024 * 1024  # server.maxUploadSize: the hard ceiling
HEAD_BLOCK_CHARS = 1 << 20  # a line longer than this is read in pieces (text8 is one 100 MB line)
UPLOAD_DIR = Path(tempfile.gettempdir()) / "w2v-explorer-uploads"


@dataclass(frozen=True)
class Sample:
    """One corpus shipped in sample_corpora/."""

    key: str
    file: str
    title: str
    blurb: str
    min_count: int  # the min_count that suits it


SAMPLES: dict[str, Sample] = {
    "small_world": Sample(
        "small_world", "small_world.txt", "Small world (1.15 M words)",
        "Generated facts about 61 countries, families, plurals and verb tenses in varied sentences: "
        "trains in seconds and analogies work.", 5),
    "tiny": Sample(
        "tiny", "tiny.txt", "Tiny (259 words)",
        "42 short sentences about kings, queens, cats and dogs: for following single updates.", 1),
}


class UploadError(ValueError):
    """An upload that cannot be a corpus; the message says why in one line."""


def hosted() -> bool:
    """True when the app is served to the public (see ui/hosted.py): no local paths then."""
    return _hosted.hosted()


def upload_limit_bytes() -> int:
    """The largest upload accepted now: the configured limit, never above the server's ceiling."""
    return min(MAX_UPLOAD_BYTES, _hosted.upload_limit_bytes())


def upload_limit_mb() -> int:
    return upload_limit_bytes() // (1024 * 1024)


def sample_path(key: str) -> Path:
    return SAMPLE_DIR / SAMPLES[key].file


def available_samples() -> list[Sample]:
    return [s for s in SAMPLES.values() if (SAMPLE_DIR / s.file).is_file()]


# -- hashing and cached reading -----------------------------------------------------------------
def _hash_file(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


@st.cache_data(show_spinner=False, max_entries=64)
def _digest_cached(path: str, size: int, mtime_ns: int) -> str:
    return _hash_file(Path(path))


def file_digest(path: str | Path) -> str:
    """Content hash of a file (cached per path, size and modification time)."""
    p = Path(path)
    st_ = p.stat()
    return _digest_cached(str(p.resolve()), st_.st_size, st_.st_mtime_ns)


def _head(path: Path, head_words: int) -> tuple[str, bool]:
    """(the first lines of a text file holding about `head_words` whitespace words, whether
    anything was left unread). A line longer than HEAD_BLOCK_CHARS is taken in pieces cut at
    whitespace, so one huge line (text8) is never read whole."""
    parts, words, carry = [], 0, ""
    with open(path, "rb") as raw:
        opener = gzip.open if raw.read(2) == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        while words < head_words:
            chunk = f.readline(HEAD_BLOCK_CHARS)
            if not chunk:
                parts.append(carry)
                return "".join(parts), False
            text, carry = carry + chunk, ""
            if len(chunk) == HEAD_BLOCK_CHARS and not chunk.endswith("\n"):  # inside a long line
                cut = max(text.rfind(" "), text.rfind("\t")) + 1
                if cut > 0:  # keep whole words; the partial last one starts the next piece
                    text, carry = text[:cut], text[cut:]
            parts.append(text)
            words += len(text.split())
        left = bool(carry.strip()) or bool(f.read(HEAD_BLOCK_CHARS).strip())
    return "".join(parts), left


def _head_text(path: Path, head_words: int) -> str:
    """The first lines of a text file holding about `head_words` whitespace words."""
    return _head(path, head_words)[0]


@st.cache_data(show_spinner="Reading the corpus…", max_entries=12)
def _read_cached(_path: str, digest: str, min_count: int, max_vocab: int | None,
                 head_words: int | None) -> tuple[Corpus, bool]:
    """Read and encode a corpus file: (corpus, whether part of the file was left unread).
    The cache key is the content digest plus the parameters."""
    if head_words:
        try:
            text, left = _head(Path(_path), head_words)
        except (OSError, EOFError, zlib.error) as e:  # e.g. a gzip file cut short after its first MB
            raise CorpusError(f"cannot read corpus: {e}") from None
        return read_corpus_text(text, min_count=min_count, max_vocab=max_vocab), left
    return read_corpus(_path, min_count=min_count, max_vocab=max_vocab), False


def _may_exceed(path: Path, words: int) -> bool:
    """Whether a file can hold more than `words` words (a word and its separator take >= 2 bytes)."""
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            return True
    return path.stat().st_size > 2 * words


def _smaller(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def load_file(path: str | Path, name: str, source: str, min_count: int = 5, max_vocab: int | None = None,
              head_words: int | None = None) -> LoadedCorpus:
    """Read a local corpus file through the cache, within the server's word and vocabulary caps.
    Raises CorpusError with a one-line message."""
    p = Path(path)
    if not p.is_file():
        raise CorpusError(f"{p}: no such file")
    limits = _hosted.settings()
    cap = limits.max_tokens
    if cap is not None and (head_words is None or head_words > cap) and _may_exceed(p, cap):
        head_words = cap
    max_vocab = _smaller(max_vocab, limits.max_vocab)
    corpus, left = _read_cached(str(p), file_digest(p), int(min_count), max_vocab, head_words)
    if cap is not None and left and head_words == cap:
        note = f", first {cap:,} words (this server's limit)"
        if not name.endswith(note):  # a re-read keeps the name it had
            name += note
    return LoadedCorpus(name=name, corpus=corpus, source=source, path=str(p), digest=file_digest(p),
                        min_count=int(min_count), max_vocab=max_vocab, head_words=head_words)


def load_sample(key: str, min_count: int | None = None, head_words: int | None = None) -> LoadedCorpus:
    """One of the sample corpora (min_count defaults to the one that suits it)."""
    if key not in SAMPLES:
        raise CorpusError(f"unknown sample corpus {key!r}")
    s = SAMPLES[key]
    path = sample_path(key)
    if not path.is_file():
        raise CorpusError(f"sample corpus {s.file} is missing from {SAMPLE_DIR}")
    label = f"{key} (first {head_words:,} words)" if head_words else f"{key} (sample)"
    return load_file(path, label, f"sample:{s.file}", s.min_count if min_count is None else min_count,
                     head_words=head_words)


def reload(loaded: LoadedCorpus, min_count: int, max_vocab: int | None = None) -> LoadedCorpus:
    """The same corpus with another vocabulary cut (re-read through the cache)."""
    if loaded.min_count == min_count and loaded.max_vocab == max_vocab:  # nothing to do
        return loaded
    if loaded.path is None:
        raise CorpusError("this corpus cannot be re-read with another min count (load it again from Home)")
    again = load_file(loaded.path, loaded.name, loaded.source, min_count, max_vocab, loaded.head_words)
    return again


# -- uploads --------------------------------------------------------------------------------------
def check_upload_size(name: str, size: int) -> None:
    """Raise UploadError for an empty upload or one over the size limit (from its declared size,
    so an over-size file is refused before its bytes are read)."""
    if size == 0:
        raise UploadError(f"{name} is empty")
    message = _hosted.too_large(name, size, upload_limit_bytes())
    if message:
        raise UploadError(message)


def check_upload(name: str, data: bytes) -> None:
    """Raise UploadError for an upload that cannot be a text corpus."""
    check_upload_size(name, len(data))
    head = data[: 1 << 20]
    if data[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[: 1 << 20], 1 << 20)
        except zlib.error:
            raise UploadError(f"{name} starts like gzip but is not a valid gzip file") from None
        if not head:
            raise UploadError(f"{name} is an empty gzip file")
    if b"\x00" in head[:65536]:
        raise UploadError(f"{name} looks like a binary file (it contains NUL bytes), not text")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # a character cut at the 1 MB boundary is fine
            raise UploadError(
                f"{name} is not UTF-8 text (byte 0x{head[e.start]:02x} at offset {e.start}); save it as UTF-8"
            ) from None
    if not head.strip():
        raise UploadError(f"{name} contains only whitespace")


def save_upload(name: str, data: bytes) -> Path:
    """Keep an upload as a file named by its content hash (so re-reads need no new upload)."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    UPLOAD_DIR.mkdir(parents=True, exist_ok=True)
    suffix = ".txt.gz" if data[:2] == b"\x1f\x8b" else ".txt"
    path = UPLOAD_DIR / f"{digest}{suffix}"
    if not path.is_file() or path.stat().st_size != len(data):
        tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def load_upload(name: str, data: bytes, min_count: int = 5) -> LoadedCorpus:
    """Validate, store and read an uploaded .txt/.gz. Raises UploadError or CorpusError."""
    check_upload(name, data)
    path = save_upload(name, data)
    return load_file(path, f"{name} (upload)", f"upload:{name}", min_count)


def load_uploaded(upload, min_count: int = 5) -> LoadedCorpus:
    """`load_upload` for a Streamlit UploadedFile: its declared `.size` is checked before
    `.getvalue()` copies its bytes. Raises UploadError or CorpusError."""
    check_upload_size(upload.name, int(upload.size))
    return load_upload(upload.name, upload.getvalue(), min_count)


def load_path(text: str, min_count: int = 5) -> LoadedCorpus:
    """Read a corpus from a local path typed by the user (refused when hosted)."""
    if hosted():
        raise CorpusError("reading files from the server's disk is disabled here; upload the file instead")
    text = text.strip().strip('"').strip("'")
    if not text:
        raise CorpusError("type the path of a .txt or .gz file")
    p = Path(text).expanduser()
    if p.is_dir():
        raise CorpusError(f"{p} is a folder; give the path of a .txt or .gz file")
    if not p.is_file():
        raise CorpusError(f"{p}: no such file")
    return load_file(p, f"{p.name} (file)", f"path:{p}", min_count)


# -- statistics -----------------------------------------------------------------------------------
def corpus_stats(corpus: Corpus) -> dict[str, int | float]:
    """Numbers for Home: tokens before/after the vocabulary cut, vocabulary, sentences."""
    counts = corpus.vocab.counts
    raw = int(corpus.stats.raw_tokens) or len(corpus)
    return {
        "tokens": len(corpus),
        "raw_tokens": raw,
        "dropped_tokens": max(0, raw - len(corpus)),
        "vocabulary": len(corpus.vocab),
        "sentences": corpus.n_sentences,
        "top_share": float(counts[:10].sum() / counts.sum()) if counts.size else 0.0,
        "singleton_share": float((counts <= 5).sum() / counts.size) if counts.size else 0.0,
    }


# -- text8 (downloaded by `python -m core download text8`) -------------------------
def text8_path() -> Path | None:
    """A downloaded text8 file, or None. Looks where the downloader puts it."""
    candidates: list[Path] = []
    if os.environ.get("W2V_TEXT8"):
        candidates.append(Path(os.environ["W2V_TEXT8"]))
    found = download.text8_path()  # where `python -m core download text8` puts it
    if found is not None:
        candidates.append(found)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    candidates += [cache / "w2v-explorer" / "text8", cache / "w2v-explorer" / "text8" / "text8"]
    for c in candidates:
        if c.is_file() and c.stat().st_size > 1_000_000:
            return c
    return None


# -- phrases ----------------------------------------------------------------------------------------
@dataclass
class PhraseResult:
    """A phrased corpus and the phrase table that made it."""

    loaded: LoadedCorpus
    table: list[tuple[str, int, float, int]]  # (phrase, count, score, pass), pass then score descending


def phrased(loaded: LoadedCorpus, thresholds: tuple[float, ...] = (200.0, 100.0), delta: float = 5.0,
            min_count: int = 5) -> PhraseResult:
    """Run phrase detection on a corpus file and read the rewritten text (cached on disk by the
    source's content hash and the settings). Raises CorpusError when it finds nothing."""
    if loaded.path is None:
        raise CorpusError("phrase detection needs a corpus file (load one from Home)")
    from core.phrases import PhraseConfig, PhraseError, detect_phrases
    key = hashlib.blake2b(json.dumps([loaded.digest, list(thresholds), delta, min_count, loaded.head_words])
                          .encode(), digest_size=12).hexdigest()
    out_dir = UPLOAD_DIR / "phrased"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{key}.txt"
    table_path = out_dir / f"{key}.json"
    if not (out.is_file() and table_path.is_file()):
        cfg = PhraseConfig(thresholds=tuple(float(t) for t in thresholds), delta=float(delta), min_count=int(min_count))
        src: str | io.StringIO = loaded.path
        if loaded.head_words:
            src = io.StringIO(_head_text(Path(loaded.path), loaded.head_words))
        try:
            part = f"{out}.{os.getpid()}.part"
            model = detect_phrases(src, part, cfg)
        except PhraseError as e:
            raise CorpusError(str(e)) from None
        Path(part).replace(out)
        table = [(p.phrase, p.count, p.score, p.pass_no) for p in model.table()]
        table_path.write_text(json.dumps(table), encoding="utf-8")
    table = [tuple(r) for r in json.loads(table_path.read_text(encoding="utf-8"))]
    base = loaded.name.replace(" (sample)", "")
    again = load_file(out, f"{base} + phrases", f"phrases:{loaded.source}", loaded.min_count)
    return PhraseResult(again, table)  # type: ignore[arg-type]


def zipf_arrays(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """(ranks, counts) of the vocabulary, 1-based ranks, counts descending."""
    counts = corpus.vocab.counts
    return np.arange(1, counts.shape[0] + 1), counts
