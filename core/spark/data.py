"""The corpus on Spark: documents in, a vocabulary counted on the executors, encoded partitions out.

Does: read a text file or folder (one document per line) or a Parquet dataset (one document per
row of `text_column`), cut it into `partitions` contiguous ranges of documents (so a partition
count gives one fixed split and seeded runs repeat), tokenise each partition once on the
executors by this package's rules (corpus.tokenize) into provisional ids of a compiled word
table, count words from those tables, and remap every partition into (tokens (N,) int32,
offsets (S+1,) int64) with the vocabulary broadcast, kept in the executors' memory for the epochs.
A plain text file on the local file system (what textFile would read from there: local masters,
or a file every worker has at that path) is instead cut into `partitions` byte ranges that end
on whitespace, each read and tokenised by its own task (`local_file`, `read_ranges`): Hadoop
splits a file only at line ends, so a corpus on one line (text8, the shared corpus) was read by
one task and shuffled to the others.
`from_corpus` instead ships a corpus already encoded in this process (the app's loaded corpus)
to the executors, cut into the same kind of contiguous ranges, keeping its vocabulary exactly.
Does not: build the vocabulary's order or cut it (the driver: Vocab.from_counts), or train.

Out-of-vocabulary words are dropped before sentences are cut every `max_sentence` tokens.
A document longer than PIECE_CHARS characters (text8 and the shared corpus are one 100 MB line)
is first cut at whitespace into pieces of at most that size, which then count as documents: so
partitions get equal shares of it, and no task holds a whole line's tokens. Sentences then end
at piece ends as well (~6k words apart instead of every max_sentence = 10k tokens).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from ..corpus import TOKEN_RE, CorpusError, _prepared, split_sentences
from ..vocab import Vocab

PIECE_CHARS = 1 << 15  # longest document kept whole (~6k words of English)
BATCH_CHARS = 1 << 20  # documents handed to the word table at once (table_partition)
READ_BYTES = 1 << 23  # read_ranges: a byte range is decoded and tokenised this much at a time
SEEK_BYTES = 1 << 20  # range_start: how far past a cut point a line end is looked for
SPACES = (b" ", b"\t", b"\n", b"\r", b"\f", b"\v")  # bytes no token contains (and no UTF-8 sequence)
WHITESPACE = re.compile(b"[" + re.escape(b"".join(SPACES)) + b"]")
COMPRESSED = (".gz", ".bz2", ".deflate", ".lz4", ".snappy", ".zst", ".zstd", ".xz")  # Hadoop's codecs: textFile


def pieces(doc: str, size: int = PIECE_CHARS) -> Iterator[str]:
    """`doc` cut at whitespace into pieces of at most `size` characters (a longer word stays whole)."""
    start, n = 0, len(doc)
    while n - start > size:
        cut = max(doc.rfind(" ", start, start + size), doc.rfind("\t", start, start + size))
        if cut <= start:  # no whitespace: cut after the word instead
            cut = min((i for i in (doc.find(" ", start + size), doc.find("\t", start + size)) if i >= 0),
                      default=n)
        yield doc[start:cut]
        start = cut + 1
    if start < n or n == 0:
        yield doc[start:]


def read_documents(spark, source: str, partitions: int, text_column: str | None = None):
    """RDD of (partition, (index, document)) with `partitions` contiguous ranges of documents."""
    if text_column:
        df = spark.read.parquet(source)
        if text_column not in df.columns:
            raise CorpusError(f"{source}: no column {text_column!r} (columns: {', '.join(df.columns)})")
        docs = df.select(text_column).rdd.map(lambda row: row[0] or "")
    else:
        docs = spark.sparkContext.textFile(source, minPartitions=partitions)
    docs = docs.flatMap(pieces)
    # subtle: RDD.zipWithIndex counts every partition in a job of its own; counting here instead
    # gives the total from that same pass (a second count() read the whole text again)
    sizes = docs.mapPartitions(lambda it: [sum(1 for _ in it)]).collect()
    n = sum(sizes)
    if n == 0:
        raise CorpusError(f"{source}: no documents")
    starts = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    p = partitions

    def index(k: int, it: Iterator[str]) -> Iterator[tuple[int, tuple[int, str]]]:
        for i, doc in enumerate(it, starts[k]):
            yield i * p // n, (i, doc)

    return docs.mapPartitionsWithIndex(index).partitionBy(p, _identity)


def local_file(spark, source: str) -> str | None:
    """The local path of `source` when Spark's textFile would read that one uncompressed file
    from the local file system (a file:// address, or a plain path while the default file system
    is file:///), else None (HDFS, S3, folders, globs, compressed files: textFile reads those)."""
    if source.startswith("file://"):
        path = source[len("file://"):]
    elif "://" in source:
        return None
    else:
        try:
            default_fs = spark.sparkContext._jsc.hadoopConfiguration().get("fs.defaultFS") or "file:///"
        except Exception:  # noqa: BLE001 (no JVM view: leave it to textFile)
            return None
        if not default_fs.startswith("file:"):
            return None
        path = source
    if not os.path.isfile(path) or path.lower().endswith(COMPRESSED):
        return None
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":  # gzip without the suffix
            return None
    return path


def range_start(f, size: int, k: int, parts: int) -> int:
    """Where byte range k of `parts` of the open file `f` (`size` bytes) starts: just after the
    first line end within SEEK_BYTES of byte size * k // parts, else just after the first
    whitespace from there (a token never spans two ranges; a range may be empty).
    Ranges k and k + 1 share this cut, so they tile the file, and cuts never decrease with k."""
    if k <= 0:
        return 0
    if k >= parts:
        return size
    at = size * k // parts
    f.seek(at)
    buf = f.read(SEEK_BYTES)
    line_end = buf.find(b"\n")
    if line_end >= 0:
        return at + line_end + 1
    while buf:
        m = WHITESPACE.search(buf)
        if m:
            return at + m.start() + 1
        at += len(buf)
        buf = f.read(SEEK_BYTES)
    return size


def range_documents(path: str, size: int, k: int, parts: int) -> Iterator[str]:
    """The documents of byte range k of `parts` of the file: its lines, cut into pieces (`pieces`),
    read READ_BYTES at a time. A read ends at its last line end (or, inside a longer line, its
    last whitespace, which then also ends a document: one more cut every 8 MB of one line)."""
    with open(path, "rb") as f:
        a, b = range_start(f, size, k, parts), range_start(f, size, k + 1, parts)
        f.seek(a)
        left, carry = b - a, b""
        while left > 0 or carry:
            chunk = f.read(min(READ_BYTES, left)) if left > 0 else b""
            if left > 0 and not chunk:
                raise CorpusError(f"{path}: the file shrank while it was read")
            left -= len(chunk)
            buf = carry + chunk
            if left > 0:
                cut = buf.rfind(b"\n")
                if cut < 0:
                    cut = max(buf.rfind(c) for c in SPACES)
                if cut < 0:
                    carry = buf
                    if len(carry) > 64 * READ_BYTES:
                        raise CorpusError(f"{path}: no whitespace in 512 MB of text: not a text corpus")
                    continue
                buf, carry = buf[:cut + 1], buf[cut + 1:]
            else:
                carry = b""
            for line in buf.decode("utf-8", errors="replace").split("\n"):
                yield from pieces(line[:-1] if line.endswith("\r") else line)


def read_ranges(spark, path: str, partitions: int, lowercase: bool, groups: int | None = None):
    """RDD of records (k, *table_partition of byte range k) of the local file `path`
    (local_file), each range read and tokenised by the task itself (no shuffle): one record per
    RDD partition, or with `groups` < `partitions`, `groups` RDD partitions, g holding ranges
    k = g, g + groups, ... (the peer exchange's tasks: gang.stage_records then needs no shuffle)."""
    size = os.path.getsize(path)
    if size == 0:
        raise CorpusError(f"{path}: no documents")
    slots = groups if groups and groups < partitions else partitions

    def table(g: int, _) -> Iterator[tuple]:
        for k in range(g, partitions, slots):
            yield (k, *table_partition(range_documents(path, size, k, partitions), lowercase))

    return spark.sparkContext.parallelize(range(slots), slots).mapPartitionsWithIndex(table)


def table_partition(docs: Iterable[str], lowercase: bool) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """One partition's documents, tokenised once: (its words in first-seen order, their counts
    (W,) int64, the provisional word id of every token (T,) int32, tokens per document (D,) int64).

    subtle: a compiled hash table (word_table.WordTable, as read_corpus does) instead of a Python
    string and dict lookup per token, and one tokenisation for both the count and the encoding
    (encode_partition remaps these ids): the 19M-word corpus took 12 s to count and encode on two
    executors by tokenising twice through a Counter and a dict"""
    from ..word_table import WordTable

    table = WordTable()
    ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    batch: list[str] = []
    size = 0

    def flush() -> None:
        nonlocal batch, size
        block_ids, segs = table.encode("\n".join(batch).encode("utf-8"))  # one segment a document
        ids.append(block_ids)
        lengths.append(segs)
        batch, size = [], 0

    for doc in docs:
        block, ascii_only = _prepared(doc, lowercase)
        # a document's tokens separated by " " on one line (a Parquet row may hold newlines)
        if ascii_only:
            text = block.replace("\n", " ") if "\n" in block else block
        else:
            text = " ".join(TOKEN_RE.findall(block))
        batch.append(text)
        size += len(text) + 1
        if size >= BATCH_CHARS:
            flush()
    if batch:
        flush()
    prov = np.concatenate(ids) if ids else np.zeros(0, np.int32)
    return table.words(), table.counts(), prov, (np.concatenate(lengths) if lengths else np.zeros(0, np.int64))


def encode_partition(words: list[str], prov: np.ndarray, lengths: np.ndarray, index: dict[str, int],
                     max_sentence: int) -> tuple[np.ndarray, np.ndarray]:
    """(tokens (N,) int32, offsets (S+1,) int64) of a table_partition: out-of-vocabulary tokens
    dropped, then every document's tokens cut into sentences of at most `max_sentence`."""
    remap = np.fromiter((index.get(w, -1) for w in words), dtype=np.int32, count=len(words))
    final = remap[prov]
    keep = final >= 0
    tokens = final[keep]
    kept_before = np.concatenate([[0], np.cumsum(keep, dtype=np.int64)])
    bounds = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
    kept = kept_before[bounds[1:]] - kept_before[bounds[:-1]]
    kept = kept[kept > 0]  # tokens per document that has any
    first = np.cumsum(kept) - kept
    sentences_per_doc = -(-kept // max_sentence)
    n = int(sentences_per_doc.sum())
    j = np.arange(n, dtype=np.int64) - np.repeat(np.cumsum(sentences_per_doc) - sentences_per_doc, sentences_per_doc)
    ends = np.repeat(first, sentences_per_doc) + np.minimum((j + 1) * max_sentence, np.repeat(kept, sentences_per_doc))
    return tokens, np.concatenate([[0], ends]).astype(np.int64)


def tabled(documents, lowercase: bool):
    """RDD with one record per partition: (partition, *table_partition of its documents in
    document order)."""

    def table(k: int, part: Iterator) -> Iterator[tuple]:
        # subtle: document order, not shuffle arrival order
        yield (k, *table_partition((doc for _, doc in sorted(d for _, d in part)), lowercase))

    return documents.mapPartitionsWithIndex(table, preservesPartitioning=True)


def count_words(tables, min_count: int) -> tuple[list[str], np.ndarray]:
    """(words, counts) of the words seen at least min_count times over every partition's table, in
    word order (so that Vocab.from_counts breaks count ties alphabetically, the same whatever the
    partitioning).

    subtle: the min_count cut also happens on the executors, so the driver never receives the
    long tail of rare words (on web text, most distinct words)."""
    pairs = (tables.flatMap(lambda t: zip(t[1], t[2].tolist(), strict=True)).reduceByKey(lambda a, b: a + b)
             .filter(lambda wc: wc[1] >= min_count).collect())
    pairs.sort()
    return [w for w, _ in pairs], np.array([c for _, c in pairs], dtype=np.int64)


def encode(tables, vocab_bc, max_sentence: int):
    """RDD of records (partition, tokens (N,) int32, offsets (S+1,) int64), laid out as `tables`."""

    def enc(part: Iterator) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for k, words, _, prov, lengths in part:
            yield (k, *encode_partition(words, prov, lengths, vocab_bc.value, max_sentence))

    return tables.mapPartitions(enc, preservesPartitioning=True)


def vocab_from_counts(words: list[str], counts: np.ndarray, min_count: int, max_vocab: int | None) -> Vocab:
    """The driver's cut and order (count descending, ties alphabetical)."""
    if not words:
        raise CorpusError(f"no word occurs at least min_count={min_count} times")
    return Vocab.from_counts(words, counts, min_count=min_count, max_vocab=max_vocab)


@dataclass
class SparkCorpus:
    """An encoded corpus held by the executors: what SparkTrainer trains on (reusable by several)."""

    vocab: Vocab
    # RDD of records (partition p, tokens (N,) int32, offsets (S+1,) int64), cached: record p in
    # RDD partition p, or with `groups`, in RDD partition p mod groups (read_ranges)
    encoded: object
    partition_words: list[int]  # tokens per partition
    index_bc: object  # the broadcast word -> id map (the encoded RDD's lineage needs it)
    groups: int | None = None

    @property
    def partitions(self) -> int:
        return len(self.partition_words)

    def close(self) -> None:
        """Free the executors' copies."""
        self.encoded.unpersist()
        self.index_bc.unpersist()


def prepare_corpus(spark, source: str, partitions: int, min_count: int = 5, max_vocab: int | None = None,
                   max_sentence: int = 10_000, text_column: str | None = None, lowercase: bool = True,
                   groups: int | None = None) -> SparkCorpus:
    """Read, count and encode `source` in `partitions` partitions on Spark; a local text file
    with `groups` < `partitions` is held in `groups` RDD partitions (read_ranges)."""
    path = None if text_column else local_file(spark, source)
    if path is None or not groups or groups >= partitions:
        groups = None
    if path is not None:
        tables = read_ranges(spark, path, partitions, lowercase, groups).persist()
    else:
        tables = tabled(read_documents(spark, source, partitions, text_column), lowercase).persist()
    try:
        words, counts = count_words(tables, min_count)
        vocab = vocab_from_counts(words, counts, min_count, max_vocab)
        # subtle: kept until close(): the encoded RDD's lineage (a lost partition is recomputed)
        # refers to it, and Spark refuses to ship a destroyed broadcast
        index_bc = spark.sparkContext.broadcast(vocab.index)
        encoded = encode(tables, index_bc, max_sentence).persist()
        # subtle: the lengths only (collecting the token arrays shipped the whole corpus to the driver)
        partition_words = [n for _, n in sorted(encoded.map(lambda r: (r[0], int(r[1].shape[0]))).collect())]
    finally:
        tables.unpersist()
    if sum(partition_words) == 0:
        raise CorpusError("the corpus has no words")
    return SparkCorpus(vocab, encoded, partition_words, index_bc, groups)


SLICE_GROUP = 8  # rounds' slices held in one cached partition (see round_slices)


def slice_partition(p: int, r: int, rounds: int, group: int = SLICE_GROUP) -> int:
    """The partition of round_slices' RDD that holds partition p's slice r."""
    return p * -(-rounds // group) + r // group


def round_slices(encoded, partitions: int, rounds: int, group: int = SLICE_GROUP):
    """The encoded partitions cut into their rounds' slices: an RDD in which partition p's slices
    r = g * group .. g * group + group - 1 (executor.slice_bounds) are partition
    slice_partition(p, r), one record (p, r, first word of the slice in partition p, words of
    partition p, tokens, offsets) a slice. A round then runs on only P partitions (SparkContext.
    runJob with a partition list), and a task reads `group` slices, not its whole partition.
    Built lazily (one shuffle of the corpus when first used) and persisted: the caller unpersists it.

    subtle: grouped because caching the RDD runs one Python task per partition: with one slice a
    partition, 380 tasks took 82 s of a 186 s run (19M words, 2 partitions, 190 rounds), while
    reading 8 slices of 50k words instead of one costs a round ~1.4 MB more."""
    groups = -(-rounds // group)

    def cut(records):
        from .executor import slice_bounds

        for p, tokens, offsets in records:
            words = int(offsets[-1])
            for r in range(rounds):
                s0, s1 = slice_bounds(offsets, r, rounds)
                a, b = int(offsets[s0]), int(offsets[s1])
                yield p * groups + r // group, (p, r, a, words, tokens[a:b].copy(), offsets[s0:s1 + 1] - a)

    return encoded.mapPartitions(cut).partitionBy(partitions * groups, _identity).values().persist()


def _identity(key: int) -> int:
    return key


def from_corpus(spark, corpus, partitions: int) -> SparkCorpus:
    """A SparkCorpus holding `corpus` (a core.corpus.Corpus: tokens, offsets, vocab) in `partitions`
    contiguous parts; the vocabulary is the corpus's own (no count on Spark)."""
    if partitions < 1:
        raise ValueError(f"partitions must be >= 1 (got {partitions})")
    if len(corpus) == 0:
        raise CorpusError("the corpus has no words")
    parts = []
    for p, (s0, s1) in enumerate(split_sentences(corpus.offsets, partitions)):
        a, b = int(corpus.offsets[s0]), int(corpus.offsets[s1])
        parts.append((p, corpus.tokens[a:b].astype(np.int32), corpus.offsets[s0:s1 + 1] - a))  # the kernels' type
    sc = spark.sparkContext
    encoded = sc.parallelize(parts, partitions).persist()
    index_bc = sc.broadcast({})  # subtle: nothing to tokenise with; kept so that close() is the same
    return SparkCorpus(corpus.vocab, encoded, [int(t.shape[0]) for _, t, _ in parts], index_bc)
