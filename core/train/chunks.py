"""Hand out one epoch's sentences to the worker threads, a chunk at a time.

Does: cut the corpus into one contiguous part per worker with about equal token counts
(`ChunkQueue`), give each worker the next chunk of its own part (`take`), and once its own part
is used up, the next chunk of the part with the most words left, so no worker waits at the
end of an epoch while another still has a part's tail to train. A chunk carries its part, so the
caller computes the learning rate from the chunk's place in that part: the schedule depends on
word counts only, whichever worker trains the chunk.
Does not: time anything or size chunks (the caller passes the words it wants), train, or
know about epochs (one queue per epoch).

Why: with a fixed half per worker, the epoch ends when the slower half ends. Measured (whole
corpus, skip-gram, 2 threads, quiet host): the two halves finished 0.15-0.27 s apart in ~6.1 s
epochs, one core idle for that long; the host's slow phases (bench/README.md) widen it.
Thread safety: `take` holds a lock for a binary search; a chunk lasts ~0.1 s.
"""

from __future__ import annotations

import threading
from typing import NamedTuple

import numpy as np

from ..corpus import split_sentences


class Chunk(NamedTuple):
    """Sentences [s, e) of part `part`."""

    part: int
    s: int
    e: int


class ChunkQueue:
    """One epoch's sentences as `workers` parts; `take(worker, words)` hands out chunks."""

    def __init__(self, offsets: np.ndarray, workers: int) -> None:
        """`offsets` (n_sentences + 1,) the corpus's sentence start offsets in tokens."""
        self.offsets = offsets
        self.parts = split_sentences(offsets, workers)
        self._next = [s for s, _ in self.parts]
        self._lock = threading.Lock()

    def part_words(self, part: int) -> int:
        """Tokens in part `part`."""
        s0, s1 = self.parts[part]
        return int(self.offsets[s1] - self.offsets[s0])

    def words_before(self, chunk: Chunk) -> int:
        """Tokens of the chunk's part that come before it."""
        return int(self.offsets[chunk.s] - self.offsets[self.parts[chunk.part][0]])

    def take(self, worker: int, words: int) -> Chunk | None:
        """The next chunk of about `words` tokens (at least one sentence) for `worker`: from its
        own part while that lasts, then from the part with the most tokens left; None when
        every part is used up."""
        off = self.offsets
        with self._lock:
            part = worker
            if self._next[part] >= self.parts[part][1]:
                left = [int(off[self.parts[p][1]] - off[self._next[p]]) for p in range(len(self.parts))]
                part = int(np.argmax(left))
                if self._next[part] >= self.parts[part][1]:
                    return None
            s, s1 = self._next[part], self.parts[part][1]
            e = min(s1, max(s + 1, int(np.searchsorted(off, int(off[s]) + words, side="left"))))
            self._next[part] = e
            return Chunk(part, s, e)
