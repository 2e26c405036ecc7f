"""The corpus on Spark: documents in, a vocabulary counted on the executors, encoded partitions out.

Does: read a text file or folder (one document per line) or a Parquet dataset (one document per
row of `text_column`), cut it into `partitions` contiguous ranges of documents (so a partition
count gives one fixed split and seeded runs repeat), count words on the executors with this
package's tokeniser (corpus.tokenize), and encode every partition into (tokens (N,) int32,
offsets (S+1,) int64) with the vocabulary broadcast, kept in the executors' memory for the epochs.
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

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..corpus import CorpusError, tokenize
from ..vocab import Vocab

PIECE_CHARS = 1 << 15  # longest document kept whole (~6k words of English)


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
    indexed = docs.flatMap(pieces).zipWithIndex()
    n = indexed.count()
    if n == 0:
        raise CorpusError(f"{source}: no documents")
    p = partitions
    return indexed.map(lambda di: (di[1] * p // n, (di[1], di[0]))).partitionBy(p, lambda k: k)


def count_words(documents, lowercase: bool, min_count: int) -> tuple[list[str], np.ndarray]:
    """(words, counts) of the words seen at least min_count times, in word order (so that
    Vocab.from_counts breaks count ties alphabetically, the same whatever the partitioning).

    subtle: the min_count cut also happens on the executors, so the driver never receives the
    long tail of rare words (on web text, most distinct words)."""

    def count(part: Iterator) -> Iterator[tuple[str, int]]:
        c: Counter[str] = Counter()
        for _, (_, doc) in part:
            c.update(tokenize(doc, lowercase))
        return iter(c.items())

    pairs = (documents.mapPartitions(count).reduceByKey(lambda a, b: a + b)
             .filter(lambda wc: wc[1] >= min_count).collect())
    pairs.sort()
    return [w for w, _ in pairs], np.array([c for _, c in pairs], dtype=np.int64)


def encode(documents, vocab_bc, lowercase: bool, max_sentence: int):
    """RDD with one record per partition: (tokens (N,) int32, offsets (S+1,) int64)."""

    def enc(part: Iterator) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        index = vocab_bc.value
        ids: list[np.ndarray] = []
        ends = [0]
        n = 0
        for _, doc in sorted(d for _, d in part):  # subtle: document order, not shuffle arrival order
            seq = [i for i in map(index.get, tokenize(doc, lowercase)) if i is not None]
            if not seq:
                continue
            ids.append(np.array(seq, dtype=np.int32))
            for a in range(0, len(seq), max_sentence):
                n += min(max_sentence, len(seq) - a)
                ends.append(n)
        tokens = np.concatenate(ids) if ids else np.zeros(0, np.int32)
        yield tokens, np.array(ends, dtype=np.int64)

    return documents.mapPartitions(enc, preservesPartitioning=True)


def vocab_from_counts(words: list[str], counts: np.ndarray, min_count: int, max_vocab: int | None) -> Vocab:
    """The driver's cut and order (count descending, ties alphabetical)."""
    if not words:
        raise CorpusError(f"no word occurs at least min_count={min_count} times")
    return Vocab.from_counts(words, counts, min_count=min_count, max_vocab=max_vocab)


@dataclass
class SparkCorpus:
    """An encoded corpus held by the executors: what SparkTrainer trains on (reusable by several)."""

    vocab: Vocab
    encoded: object  # RDD, one record per partition: (tokens (N,) int32, offsets (S+1,) int64), cached
    partition_words: list[int]  # tokens per partition
    index_bc: object  # the broadcast word -> id map (the encoded RDD's lineage needs it)

    @property
    def partitions(self) -> int:
        return len(self.partition_words)

    def close(self) -> None:
        """Free the executors' copies."""
        self.encoded.unpersist()
        self.index_bc.unpersist()


def prepare_corpus(spark, source: str, partitions: int, min_count: int = 5, max_vocab: int | None = None,
                   max_sentence: int = 10_000, text_column: str | None = None, lowercase: bool = True) -> SparkCorpus:
    """Read, count and encode `source` in `partitions` partitions on Spark."""
    docs = read_documents(spark, source, partitions, text_column).persist()
    try:
        words, counts = count_words(docs, lowercase, min_count)
        vocab = vocab_from_counts(words, counts, min_count, max_vocab)
        # subtle: kept until close(): the encoded RDD's lineage (a lost partition is recomputed)
        # refers to it, and Spark refuses to ship a destroyed broadcast
        index_bc = spark.sparkContext.broadcast(vocab.index)
        encoded = encode(docs, index_bc, lowercase, max_sentence).persist()
        partition_words = [int(t.shape[0]) for t in encoded.map(lambda r: r[0]).collect()]
    finally:
        docs.unpersist()
    if sum(partition_words) == 0:
        raise CorpusError("the corpus has no words")
    return SparkCorpus(vocab, encoded, partition_words, index_bc)


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

    def cut(p, records):
        from .executor import slice_bounds

        for tokens, offsets in records:
            words = int(offsets[-1])
            for r in range(rounds):
                s0, s1 = slice_bounds(offsets, r, rounds)
                a, b = int(offsets[s0]), int(offsets[s1])
                yield p * groups + r // group, (p, r, a, words, tokens[a:b].copy(), offsets[s0:s1 + 1] - a)

    return (encoded.mapPartitionsWithIndex(cut).partitionBy(partitions * groups, _identity).values()
            .persist())


def _identity(key: int) -> int:
    return key


def split_sentences(offsets: np.ndarray, partitions: int) -> list[tuple[int, int]]:
    """Sentence ranges [s0, s1) of `partitions` contiguous parts with about equal word shares."""
    words = int(offsets[-1])
    cuts = [int(np.searchsorted(offsets, words * p // partitions, side="left")) for p in range(partitions + 1)]
    cuts[-1] = offsets.shape[0] - 1
    return [(cuts[p], cuts[p + 1]) for p in range(partitions)]


def from_corpus(spark, corpus, partitions: int) -> SparkCorpus:
    """A SparkCorpus holding `corpus` (a core.corpus.Corpus: tokens, offsets, vocab) in `partitions`
    contiguous parts; the vocabulary is the corpus's own (no count on Spark)."""
    if partitions < 1:
        raise ValueError(f"partitions must be >= 1 (got {partitions})")
    if len(corpus) == 0:
        raise CorpusError("the corpus has no words")
    parts = []
    for s0, s1 in split_sentences(corpus.offsets, partitions):
        a, b = int(corpus.offsets[s0]), int(corpus.offsets[s1])
        parts.append((corpus.tokens[a:b].copy(), corpus.offsets[s0:s1 + 1] - a))
    sc = spark.sparkContext
    encoded = sc.parallelize(parts, partitions).persist()
    index_bc = sc.broadcast({})  # subtle: nothing to tokenise with; kept so that close() is the same
    return SparkCorpus(corpus.vocab, encoded, [int(t.shape[0]) for t, _ in parts], index_bc)
