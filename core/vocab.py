"""Vocabulary: words with counts in frequency order, id <-> word, save/load.

Does: order words by count descending (ties: first occurrence in the corpus, so the order is
deterministic and equals gensim's), apply min_count and max_vocab, save/load the C tool's
`-save-vocab` format (`word count` per line).
Does not: read corpora (see corpus.py) or build output-layer tables (huffman.py, sampling.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class VocabError(ValueError):
    """A vocabulary that cannot be built or read; the message says why."""


class Vocab:
    """Words sorted by count descending. `counts` is (V,) int64; id i is `words[i]`."""

    def __init__(self, words: Sequence[str], counts: np.ndarray):
        counts = np.asarray(counts, dtype=np.int64)
        if len(words) != counts.shape[0]:
            raise VocabError(f"{len(words)} words but {counts.shape[0]} counts")
        if counts.size and np.any(np.diff(counts) > 0):
            raise VocabError("counts must be sorted in descending order")
        self.words: list[str] = list(words)
        self.counts = counts
        self.index: dict[str, int] = {w: i for i, w in enumerate(self.words)}
        if len(self.index) != len(self.words):
            raise VocabError("duplicate words in vocabulary")

    @classmethod
    def from_counts(
        cls,
        words: Sequence[str],
        counts: np.ndarray,
        min_count: int = 5,
        max_vocab: int | None = None,
    ) -> Vocab:
        """Build from raw words/counts given in first-occurrence order.

        Sorted by count descending; ties keep first-occurrence order (a stable sort).
        """
        counts = np.asarray(counts, dtype=np.int64)
        keep = np.flatnonzero(counts >= min_count)
        order = keep[np.argsort(-counts[keep], kind="stable")]
        if max_vocab is not None:
            order = order[:max_vocab]
        return cls([words[i] for i in order], counts[order])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @property
    def total(self) -> int:
        """Sum of counts: the number of in-vocabulary tokens in the corpus."""
        return int(self.counts.sum())

    def id(self, word: str) -> int:
        try:
            return self.index[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def save(self, path: str | Path) -> None:
        """Write `word count` lines, most frequent first (word2vec.c -save-vocab)."""
        with open(path, "w", encoding="utf-8") as f:
            for w, c in zip(self.words, self.counts.tolist(), strict=True):
                f.write(f"{w} {c}\n")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read `word count` lines (word2vec.c -read-vocab). Re-sorts stably by count."""
        words: list[str] = []
        counts: list[int] = []
        with open(path, encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                count = parts[1] if len(parts) == 2 else ""
                # subtle: isdigit alone accepts '²' and 5000-digit numbers (int() then fails)
                if not (count.isascii() and count.isdigit() and len(count) <= 18):
                    raise VocabError(f"{path}:{lineno}: expected 'word count', got {line.strip()[:60]!r}")
                words.append(parts[0])
                counts.append(int(parts[1]))
        if not words:
            raise VocabError(f"{path}: no words")
        return cls.from_counts(words, np.array(counts, dtype=np.int64), min_count=1)
