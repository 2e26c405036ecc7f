"""Phrases: detect multi-word expressions (word2phrase) and rewrite a corpus with `a_b` tokens.

Paper section 4 ("Learning Phrases"): a bigram a b becomes one token when

    score(a, b) = (count(ab) - delta) / (count(a) * count(b))  >  threshold,

delta discounting rare pairs. Scaled by the total word count N as word2vec.c's word2phrase does
(`score = (pab - min_count) / pa / pb * train_words`), the threshold is a ratio of observed to
chance co-occurrence: N * count(ab) / (count(a) count(b)) = P(ab) / (P(a) P(b)). Running 2-4
passes with decreasing thresholds (the C tool's demo: 200, then 100) lets longer phrases form:
`new york` -> `new_york` in pass 1, `new_york times` -> `new_york_times` in pass 2.

Does: stream any .txt/.gz corpus once into int32 ids (a temporary file, so memory stays bounded by
the vocabulary and the bigram table, not the corpus), count unigrams and bigrams per block with
NumPy (a bigram is one int64 key; per-block `np.unique` counts merged into a sorted table), score
every bigram at once, and merge greedily left to right; write the rewritten corpus (one sentence
per line) and a table of (phrase, count, score, pass). Optional NPMI scoring and connector words.
Does not: train vectors, keep the corpus in memory, or cross sentence boundaries (a sentence is a
line, cut every `max_sentence` tokens like corpus.iter_sentences).

Deliberate differences from the references (each has a test or a note):
- word2phrase.c counts bigrams across line ends while learning (its `start` flag is reset before
  it is read) and scores in float32; we never pair across sentences and score in float64.
- gensim's default `original_scorer` (gensim/models/phrases.py) scales by `len_vocab`, the number
  of entries in its count dictionary (unigram *and* bigram types), not by the corpus word count:
  gensim's threshold t equals our word2phrase threshold t * N / len_vocab. Its `npmi_scorer` is
  the same as ours (threshold in [-1, 1]).
- `min_count` applies to both unigrams and the bigram, as word2phrase.c's SortVocab discards both
  (gensim applies it only through the scorer); `delta` is separate (word2phrase uses min_count).
- With connector words, a run of at most `max_connectors` connectors may sit inside a phrase
  (gensim allows any number; the limit keeps the bigram key one int64).
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .corpus import TOKEN_RE, ReadStats, iter_token_runs

# Articles, prepositions and conjunctions that may sit inside a phrase (bank_of_america) but never
# start or end one. The same 15 words as gensim's ENGLISH_CONNECTOR_WORDS, so results compare.
CONNECTOR_WORDS = frozenset(
    "a an the for of with without at from to in on by and or".split()
)
SCORINGS = ("word2phrase", "npmi")
CHUNK_TOKENS = 1 << 20  # tokens per block: the unit of counting and rewriting (4 MB of int32)
SEP = -1  # sentence separator in the id stream
MIN_ELIGIBLE_FOR_ALL = 10  # below this many eligible bigrams, "every one merged" is not an error


class PhraseError(ValueError):
    """Phrase detection that cannot run or gives a useless result; one-line message."""


@dataclass(frozen=True)
class PhraseConfig:
    """Parameters of phrase detection (defaults: word2phrase.c's and its demo-phrases.sh)."""

    thresholds: tuple[float, ...] = (200.0, 100.0)  # one per pass; word2phrase default 100, demo 200
    delta: float = 5.0  # discount in the numerator (paper section 4); word2phrase uses min_count
    min_count: int = 5  # unigrams and bigrams rarer than this never form phrases (word2phrase -min-count)
    scoring: str = "word2phrase"  # "word2phrase" (scaled by N) or "npmi" (threshold in [-1, 1])
    connectors: frozenset[str] = frozenset()  # words allowed inside but not at the ends of a phrase
    max_connectors: int = 3  # longest run of connectors inside one phrase
    delimiter: str = "_"  # joins the parts of a phrase token
    lowercase: bool = True  # lowercase while reading (corpus.iter_token_runs)
    max_sentence: int = 10_000  # sentences longer than this are cut (gensim's and the trainer's limit)
    max_pairs: int = 20_000_000  # bigram types kept while counting; beyond, prune rare ones (C/gensim)

    @property
    def passes(self) -> int:
        return len(self.thresholds)

    def validate(self) -> None:
        """Raise PhraseError with a one-line reason for the first invalid field."""
        if self.scoring not in SCORINGS:
            raise PhraseError(f"scoring must be one of {', '.join(SCORINGS)} (got {self.scoring!r})")
        if not 1 <= self.passes <= 4:
            raise PhraseError(f"passes must be 1..4 (got {self.passes})")
        for t in self.thresholds:
            if not math.isfinite(t):
                raise PhraseError(f"threshold must be a finite number (got {t})")
            if self.scoring == "npmi" and not -1.0 <= t <= 1.0:
                raise PhraseError(f"npmi threshold must be in [-1, 1] (got {t})")
        if self.min_count < 1:
            raise PhraseError(f"min_count must be >= 1 (got {self.min_count})")
        if not 0 <= self.delta < 1e9:
            raise PhraseError(f"delta must be >= 0 (got {self.delta})")
        if not 0 <= self.max_connectors <= 8:
            raise PhraseError(f"max_connectors must be 0..8 (got {self.max_connectors})")
        if self.max_sentence < 2:
            raise PhraseError(f"max_sentence must be >= 2 (got {self.max_sentence})")
        if self.max_pairs < 1000:
            raise PhraseError(f"max_pairs must be >= 1000 (got {self.max_pairs})")
        if not self.delimiter or any(c.isspace() for c in self.delimiter):
            raise PhraseError(f"delimiter must be non-empty without spaces (got {self.delimiter!r})")


# -- scores -------------------------------------------------------------------------------------
def score_word2phrase(count_ab: np.ndarray, count_a: np.ndarray, count_b: np.ndarray, total: int,
                      delta: float) -> np.ndarray:
    """(count(ab) - delta) / (count(a) count(b)) * N, float64 (paper eq. 6; word2phrase.c TrainModel).

    N is the number of tokens in the corpus (word2phrase's `train_words`). gensim's
    `original_scorer` multiplies by its `len_vocab` (unigram + bigram types) instead.
    Subtle: for a pair that only ever occurs together (count(a) = count(b) = count(ab) = c) the
    score (c - delta) N / c^2 peaks at c = 2 delta, so the very top of a table sorted by score is
    rare names seen ~10 times (delta 5); frequent expressions (new_york) score lower but pass.
    """
    ab = np.asarray(count_ab, dtype=np.float64)
    return (ab - delta) / (np.asarray(count_a, np.float64) * np.asarray(count_b, np.float64)) * float(total)


def score_npmi(count_ab: np.ndarray, count_a: np.ndarray, count_b: np.ndarray, total: int) -> np.ndarray:
    """Normalised PMI, ln(P(ab) / (P(a) P(b))) / -ln P(ab) with P(x) = count(x) / N, in [-1, 1].

    Bouma 2009, "Normalized (pointwise) mutual information in collocation extraction"; the same
    value as gensim's `npmi_scorer`. 1 means the two words only ever occur together.
    """
    n = float(total)
    pab = np.asarray(count_ab, np.float64) / n
    pa = np.asarray(count_a, np.float64) / n
    pb = np.asarray(count_b, np.float64) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(pab / (pa * pb)) / -np.log(pab)


# -- the encoded corpus: int32 ids with SEP after every sentence, in blocks on disk --------------
class _Stream:
    """Blocks of int32 ids spilled to a temporary file; each block ends with a SEP."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self.sizes: list[int] = []

    def append(self, ids: np.ndarray) -> None:
        self._file.write(np.ascontiguousarray(ids, dtype=np.int32).tobytes())
        self.sizes.append(int(ids.shape[0]))

    def __iter__(self) -> Iterator[np.ndarray]:
        self._file.seek(0)
        for n in self.sizes:
            yield np.fromfile(self._file, dtype=np.int32, count=n)

    def __len__(self) -> int:
        return len(self.sizes)

    def close(self) -> None:
        self._file.close()


def _text_size(source: str | Path | io.TextIOBase) -> int:
    """Approximate characters in the source (for progress); 0 when unknown."""
    if not isinstance(source, str | Path) or not Path(source).is_file():
        return 0
    size = os.path.getsize(source)
    with open(source, "rb") as f:
        if f.read(2) != b"\x1f\x8b" or size < 18:
            return size
        f.seek(-4, os.SEEK_END)
        isize = int.from_bytes(f.read(4), "little")  # gzip trailer: uncompressed size mod 2^32
    return isize if isize >= size else size * 4


def _flush_sentences(buf: list[np.ndarray], stream: _Stream) -> tuple[list[np.ndarray], int]:
    """Append the complete sentences of `buf` to the stream as one block; keep the unfinished tail."""
    x = np.concatenate(buf)
    seps = np.flatnonzero(x == SEP)
    if seps.size == 0:
        return [x], x.shape[0]
    cut = int(seps[-1]) + 1
    stream.append(x[:cut])
    return [x[cut:]], x.shape[0] - cut


def _encode(source: str | Path | io.TextIOBase, cfg: PhraseConfig, stream: _Stream,
            progress: Callable[[float], None] | None) -> tuple[dict[str, int], int]:
    """Stream the text into `stream` as provisional ids; return (word -> id, token count).

    Sentences are lines cut every `max_sentence` tokens, exactly as corpus.iter_sentences cuts.
    """
    stats = ReadStats()
    total_chars = _text_size(source)
    index: dict[str, int] = {}
    buf: list[np.ndarray] = []
    buffered = 0
    in_sentence = 0
    n_tokens = 0
    sep = np.array([SEP], dtype=np.int32)
    for toks, line_end in iter_token_runs(source, cfg.lowercase, stats):
        if toks:
            setdefault = index.setdefault
            ids = np.array([setdefault(t, len(index)) for t in toks], dtype=np.int32)
            n = ids.shape[0]
            first_cut = cfg.max_sentence - in_sentence
            if first_cut <= n:
                # subtle: np.insert places SEP before position `cut`, i.e. after token cut - 1
                ids = np.insert(ids, np.arange(first_cut, n + 1, cfg.max_sentence), SEP)
                in_sentence = (n - first_cut) % cfg.max_sentence
            else:
                in_sentence += n
            n_tokens += n
            buf.append(ids)
            buffered += ids.shape[0]
        if line_end and in_sentence:
            buf.append(sep)
            in_sentence = 0
        if buffered >= CHUNK_TOKENS:
            buf, buffered = _flush_sentences(buf, stream)
            if progress is not None and total_chars:
                progress(min(1.0, stats.chars / total_chars))
    if in_sentence:
        buf.append(sep)
    if buf:
        stream.append(np.concatenate(buf))
    if n_tokens == 0:
        raise PhraseError("the corpus has no words")
    return index, n_tokens


# -- candidates: consecutive non-connector tokens of a sentence, connectors between --------------
@dataclass
class _KeyLayout:
    """How a candidate (a, connector run m, b) packs into one int64: ((a << ib) | b) << mb | m.

    m numbers connector runs of length L = 0..max_len in base C (C connector words): run
    (c_1..c_L) has code offset[L] + sum c_k C^(L-k), offset[L] = 1 + C + ... + C^(L-1).
    """

    id_bits: int
    m_bits: int
    n_conn: int  # C
    max_len: int  # longest connector run that fits (<= cfg.max_connectors)
    offsets: np.ndarray  # (max_len + 2,) int64 first code of each run length

    @classmethod
    def build(cls, n_types: int, n_conn: int, max_connectors: int) -> _KeyLayout:
        id_bits = max(1, int(n_types - 1).bit_length())
        if 2 * id_bits > 62:
            raise PhraseError(f"{n_types} distinct tokens: too many for 64-bit bigram keys")
        m_bits = min(48, 63 - 2 * id_bits) if n_conn else 0
        offsets = [0, 1]  # offsets[L]: first code of a run of L connectors
        while n_conn and len(offsets) - 1 <= max_connectors:
            end = offsets[-1] + n_conn ** (len(offsets) - 1)  # one past the last code of this length
            if end > 1 << m_bits:
                break
            offsets.append(end)
        return cls(id_bits, m_bits, n_conn, len(offsets) - 2, np.array(offsets, dtype=np.int64))

    def pack(self, a: np.ndarray, b: np.ndarray, m: np.ndarray) -> np.ndarray:
        return ((a.astype(np.int64) << self.id_bits | b) << self.m_bits) | m

    def unpack(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m = keys & ((1 << self.m_bits) - 1)
        ab = keys >> self.m_bits
        return ab >> self.id_bits, ab & ((1 << self.id_bits) - 1), m

    def run(self, m: int) -> list[int]:
        """Connector indices of run code m (inverse of the numbering)."""
        length = int(np.searchsorted(self.offsets, m, side="right")) - 1
        digits, rest = [], int(m - self.offsets[length])
        for _ in range(length):
            rest, d = divmod(rest, self.n_conn)
            digits.append(d)
        return digits[::-1]


@dataclass
class _Tables:
    """Per-pass lookup arrays over the current id space."""

    conn_index: np.ndarray  # (T,) int64 connector number 0..C-1, or -1 for a normal token
    layout: _KeyLayout


def _candidates(x: np.ndarray, tab: _Tables) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (pa, pb) of consecutive non-connectors in x and their keys; -1 key = no candidate.

    A candidate never crosses a SEP and has at most `layout.max_len` connectors between.
    """
    lay = tab.layout
    tok = x >= 0
    conn = np.zeros(x.shape[0], dtype=bool)
    conn[tok] = tab.conn_index[x[tok]] >= 0
    p = np.flatnonzero(tok & ~conn)
    pa, pb = p[:-1], p[1:]
    sent = np.cumsum(~tok)
    gap = pb - pa - 1
    valid = (sent[pa] == sent[pb]) & (gap <= lay.max_len)
    m = np.zeros(pa.shape[0], dtype=np.int64)
    if lay.n_conn and pa.size:
        q = np.flatnonzero(conn)
        j = np.searchsorted(p, q) - 1  # the candidate each connector sits inside
        inside = (j >= 0) & (j < pa.shape[0])
        q, j = q[inside], j[inside]
        inside = valid[j]
        q, j = q[inside], j[inside]
        power = gap[j] - (q - pa[j])  # L - k for the k-th connector (1-based) of a run of L
        digit = tab.conn_index[x[q]].astype(np.float64) * np.power(float(lay.n_conn), power)
        # exact: codes stay below 2^48 (m_bits <= 48), well inside float64's 53-bit mantissa
        m = np.bincount(j, weights=digit, minlength=pa.shape[0]).astype(np.int64)
        m += lay.offsets[np.minimum(gap, lay.max_len)]
    keys = np.where(valid, lay.pack(x[pa], x[pb], m), -1)
    return pa, pb, keys


# -- counting -----------------------------------------------------------------------------------
class _PairCounts:
    """A sorted table of bigram keys with int64 counts, merged block by block, pruned when large."""

    def __init__(self, max_pairs: int):
        self.keys = np.zeros(0, dtype=np.int64)
        self.counts = np.zeros(0, dtype=np.int64)
        self.max_pairs = max_pairs
        self.min_reduce = 1
        self.pruned = 0  # bigram types dropped by pruning (their counts are then lower bounds)

    def add(self, block_keys: np.ndarray) -> None:
        k, c = np.unique(block_keys[block_keys >= 0], return_counts=True)
        pos = np.searchsorted(self.keys, k)
        found = pos < self.keys.shape[0]
        found[found] = self.keys[pos[found]] == k[found]
        self.counts[pos[found]] += c[found]
        new = ~found
        self.keys = np.insert(self.keys, pos[new], k[new])
        self.counts = np.insert(self.counts, pos[new], c[new])
        while self.keys.shape[0] > self.max_pairs:
            # word2phrase.c ReduceVocab / gensim prune_vocab: drop counts <= min_reduce, then raise it
            keep = self.counts > self.min_reduce
            self.pruned += int(self.keys.shape[0] - np.count_nonzero(keep))
            self.keys, self.counts = self.keys[keep], self.counts[keep]
            self.min_reduce += 1


# -- results ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Phrase:
    """One row of the phrase table."""

    phrase: str  # the joined token, e.g. "new_york"
    count: int  # occurrences of the candidate when it was scored
    score: float  # its score in that pass
    pass_no: int  # 1-based pass that formed it


@dataclass
class PassStats:
    """What one pass saw and did."""

    pass_no: int
    threshold: float
    tokens_in: int  # tokens entering the pass
    tokens_out: int  # tokens after merging
    bigram_types: int  # distinct candidates counted
    eligible: int  # candidates with count(ab), count(a), count(b) >= min_count
    phrase_types: int  # candidates above the threshold
    merges: int  # phrase tokens written (each replaces 2+ tokens)
    max_score: float  # best eligible score (-inf when none)
    pruned: int  # bigram types dropped to bound memory (0: counts are exact)


@dataclass
class PhraseModel:
    """Learned phrases: the table, per-pass statistics and per-pass lookups for `apply`."""

    config: PhraseConfig
    phrases: list[Phrase] = field(default_factory=list)
    passes: list[PassStats] = field(default_factory=list)
    # per pass: (first word, *connectors, last word) -> joined phrase token
    lookups: list[dict[tuple[str, ...], str]] = field(default_factory=list)

    def apply(self, tokens: Sequence[str] | str) -> list[str]:
        """Rewrite one sentence with every pass's phrases (a string is tokenised first)."""
        return apply_phrases(self, tokens)

    def table(self) -> list[Phrase]:
        """Phrases by pass, then score descending."""
        return sorted(self.phrases, key=lambda p: (p.pass_no, -p.score, p.phrase))

    def save_table(self, path: str | Path) -> None:
        """Write the table as TSV: phrase, count, score, pass (header line first)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write("phrase\tcount\tscore\tpass\n")
            for p in self.table():
                f.write(f"{p.phrase}\t{p.count}\t{p.score:.6g}\t{p.pass_no}\n")


def apply_phrases(model: PhraseModel, tokens: Sequence[str] | str) -> list[str]:
    """Rewrite one sentence as detect_phrases rewrites the corpus (for the app's before/after view).

    Greedy left to right, pass by pass: a candidate (a, connectors..., b) in the pass's table
    becomes one token, and its last word cannot start the next candidate (word2phrase.c sets
    `pb = 0` after a merge; gensim's analyze_sentence resets its start token).
    """
    cfg = model.config
    if isinstance(tokens, str):
        text = tokens.lower() if cfg.lowercase else tokens
        tokens = TOKEN_RE.findall(text)
    out = list(tokens)
    for lookup in model.lookups:
        out = _apply_one_pass(out, lookup, cfg.connectors)
    return out


def _apply_one_pass(tokens: list[str], lookup: dict[tuple[str, ...], str],
                    connectors: frozenset[str]) -> list[str]:
    out: list[str] = []
    start: str | None = None
    between: list[str] = []
    for w in tokens:
        if w in connectors:
            if start is None:
                out.append(w)
            else:
                between.append(w)
            continue
        if start is not None:
            joined = lookup.get((start, *between, w))
            if joined is not None:
                out.append(joined)
                start, between = None, []
                continue
            out.append(start)
            out.extend(between)
        start, between = w, []
    if start is not None:
        out.append(start)
        out.extend(between)
    return out


# -- one pass over the id stream ------------------------------------------------------------------
def _count(stream: _Stream, n_types: int, tab: _Tables, cfg: PhraseConfig,
           tick: Callable[[], None]) -> tuple[np.ndarray, _PairCounts]:
    unigrams = np.zeros(n_types, dtype=np.int64)
    pairs = _PairCounts(cfg.max_pairs)
    for x in stream:
        unigrams += np.bincount(x[x >= 0], minlength=n_types)
        pairs.add(_candidates(x, tab)[2])
        tick()
    return unigrams, pairs


def _select(unigrams: np.ndarray, pairs: _PairCounts, tab: _Tables, cfg: PhraseConfig,
            threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, float]:
    """Score every counted bigram; return (keys, counts, scores) above threshold, eligible, max."""
    a, b, _ = tab.layout.unpack(pairs.keys)
    ca, cb, cab = unigrams[a], unigrams[b], pairs.counts
    ok = (ca >= cfg.min_count) & (cb >= cfg.min_count) & (cab >= cfg.min_count)
    total = int(unigrams.sum())
    if cfg.scoring == "npmi":
        score = score_npmi(cab[ok], ca[ok], cb[ok], total)
    else:
        score = score_word2phrase(cab[ok], ca[ok], cb[ok], total, cfg.delta)
    hit = score > threshold
    best = float(score.max()) if score.size else -math.inf
    return pairs.keys[ok][hit], cab[ok][hit], score[hit], int(np.count_nonzero(ok)), best


def _apply_block(x: np.ndarray, tab: _Tables, keys: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Merge the candidates of x whose keys are in sorted `keys` (new token `ids`); greedy.

    In a run of consecutive hits j, j+1, ... the first merges, the next cannot (its first word
    was consumed), the one after merges again: merge where (j - run start) is even. This is
    word2phrase.c's left-to-right scan, vectorised.
    """
    if keys.size == 0:
        return x, 0
    pa, pb, cand = _candidates(x, tab)
    pos = np.minimum(np.searchsorted(keys, cand), keys.shape[0] - 1)
    hit = (cand >= 0) & (keys[pos] == cand)
    j = np.arange(hit.shape[0])
    starts = hit & ~np.concatenate([[False], hit[:-1]])
    run_start = np.maximum.accumulate(np.where(starts, j, -1))
    merge = np.flatnonzero(hit & ((j - run_start) % 2 == 0))
    out = x.copy()
    out[pa[merge]] = ids[pos[merge]]
    drop = np.zeros(x.shape[0] + 1, dtype=np.int32)
    drop[pa[merge] + 1] += 1  # absorb everything after a up to and including b
    drop[pb[merge] + 1] -= 1
    return out[np.cumsum(drop[:-1]) == 0], int(merge.shape[0])


def _write_text(f, x: np.ndarray, words: np.ndarray) -> None:
    """Write one line per sentence of the id block x."""
    seps = np.flatnonzero(x < 0)
    toks = words[x[x >= 0]].tolist()
    lines, start = [], 0
    for n in np.diff(np.concatenate([[-1], seps])) - 1:
        lines.append(" ".join(toks[start: start + n]))
        start += n
    f.write("\n".join(lines))
    f.write("\n")


def _tables(words: list[str], index: dict[str, int], cfg: PhraseConfig) -> _Tables:
    conn_list = sorted(cfg.connectors)
    conn_index = np.full(len(words), -1, dtype=np.int64)
    for c, w in enumerate(conn_list):
        if w in index:  # connectors absent from the corpus need no id
            conn_index[index[w]] = c
    layout = _KeyLayout.build(len(words), len(conn_list), cfg.max_connectors)
    return _Tables(conn_index, layout)


def detect_phrases(
    source: str | Path | io.TextIOBase,
    out: str | Path | None = None,
    config: PhraseConfig | None = None,
    progress: Callable[[float], None] | None = None,
) -> PhraseModel:
    """Learn phrases over `len(config.thresholds)` passes and write the rewritten corpus to `out`.

    Each pass counts unigrams and candidate bigrams over the current token stream, keeps those
    whose score exceeds that pass's threshold, and rewrites the stream with them; the next pass
    sees `new_york` as one token. `out` (optional) receives the final text, one sentence per line.
    `progress(fraction)` is called as blocks finish (reading ~ first half, passes the rest).
    Raises PhraseError when no bigram passes any threshold, or when one pass merges every
    eligible bigram (a threshold below every score does not detect anything).
    """
    cfg = config or PhraseConfig()
    cfg.validate()
    report = progress or (lambda f: None)
    stream = _Stream()
    try:
        index, n_tokens = _encode(source, cfg, stream, lambda f: report(0.5 * f))
        words = list(index)
        model = PhraseModel(cfg)
        steps = 2 * cfg.passes * len(stream)
        done = [0]

        def tick() -> None:
            done[0] += 1
            report(0.5 + 0.5 * done[0] / max(1, steps))

        for k, threshold in enumerate(cfg.thresholds, 1):
            last = k == cfg.passes
            stream = _run_pass(k, threshold, stream, words, index, model, cfg, tick, last, out)
        report(1.0)
        return model
    finally:
        if stream is not None:
            stream.close()


def _check(k: int, threshold: float, n_selected: int, eligible: int, best: float, last: bool,
           model: PhraseModel, cfg: PhraseConfig) -> None:
    """Refuse a threshold that merges every eligible bigram, or (by the last pass) none at all."""
    if eligible >= MIN_ELIGIBLE_FOR_ALL and n_selected == eligible:
        raise PhraseError(
            f"pass {k}: threshold {threshold:g} merges all {eligible} eligible bigrams "
            f"(every {cfg.scoring} score is above it): that detects nothing; raise the threshold"
        )
    if last and n_selected == 0 and not model.phrases:
        best = max([best] + [p.max_score for p in model.passes])
        raise PhraseError(
            f"no phrase found: no bigram scored above threshold {min(cfg.thresholds):g} "
            f"(best {cfg.scoring} score {best:.4g}); lower the threshold or min_count"
        )


def _run_pass(k: int, threshold: float, stream: _Stream, words: list[str], index: dict[str, int],
              model: PhraseModel, cfg: PhraseConfig, tick: Callable[[], None], last: bool,
              out: str | Path | None) -> _Stream | None:
    """Count, select and rewrite once. Returns the rewritten stream, or None when the last pass
    wrote to `out` (or had no `out`: then the result is only the model)."""
    tab = _tables(words, index, cfg)
    unigrams, pairs = _count(stream, len(words), tab, cfg, tick)
    keys, counts, scores, eligible, best = _select(unigrams, pairs, tab, cfg, threshold)
    _check(k, threshold, keys.shape[0], eligible, best, last, model, cfg)
    ids = _register(k, keys, counts, scores, tab, words, index, model, cfg)
    merges = 0
    tokens_in = int(unigrams.sum())
    tokens_out = 0
    new_stream = None if last else _Stream()
    writing = last and out is not None
    words_arr = np.array(words, dtype=object) if writing else None
    f = open(out, "w", encoding="utf-8") if writing else None
    try:
        for x in stream:
            y, n = _apply_block(x, tab, keys, ids)
            merges += n
            tokens_out += int(np.count_nonzero(y >= 0))
            if f is not None:
                _write_text(f, y, words_arr)
            elif new_stream is not None:
                new_stream.append(y)
            tick()
    except BaseException:
        if new_stream is not None:
            new_stream.close()
        raise
    finally:
        if f is not None:
            f.close()
        stream.close()
    model.passes.append(PassStats(k, threshold, tokens_in, tokens_out, int(pairs.keys.shape[0]), eligible,
                                  int(keys.shape[0]), merges, best, pairs.pruned))
    return new_stream


def _register(k: int, keys: np.ndarray, counts: np.ndarray, scores: np.ndarray, tab: _Tables,
              words: list[str], index: dict[str, int], model: PhraseModel, cfg: PhraseConfig) -> np.ndarray:
    """Name the selected candidates, give them token ids (reusing an existing equal token), and add
    them to the model's table and the pass's lookup. Returns the id per key."""
    conn_list = sorted(cfg.connectors)
    a, b, m = tab.layout.unpack(keys)
    ids = np.empty(keys.shape[0], dtype=np.int32)
    lookup: dict[tuple[str, ...], str] = {}
    for i, (ia, ib, im) in enumerate(zip(a.tolist(), b.tolist(), m.tolist(), strict=True)):
        parts = (words[ia], *(conn_list[c] for c in tab.layout.run(im)), words[ib])
        joined = cfg.delimiter.join(parts)
        ids[i] = index.setdefault(joined, len(index))
        if ids[i] == len(words):
            words.append(joined)
        lookup[parts] = joined
        model.phrases.append(Phrase(joined, int(counts[i]), float(scores[i]), k))
    model.lookups.append(lookup)
    return ids


def learn_from_sentences(sentences: Iterable[Sequence[str]],
                         config: PhraseConfig | None = None) -> PhraseModel:
    """Convenience for small inputs (the app's samples, tests): sentences given as token lists.

    The tokens are joined and re-read by the corpus tokeniser (lowercased unless configured not
    to), so the model sees exactly what `detect_phrases` would see in a file of those lines.
    """
    text = "\n".join(" ".join(s) for s in sentences)
    return detect_phrases(io.StringIO(text), None, config)


__all__ = [
    "CONNECTOR_WORDS", "Phrase", "PhraseConfig", "PhraseError", "PhraseModel", "PassStats",
    "apply_phrases", "detect_phrases", "learn_from_sentences", "score_npmi", "score_word2phrase",
]
