"""Compare two vector sets over the words they share: how much each word's neighbourhood changed.

Does: find the shared vocabulary (in the first set's order, so most frequent first when it is
frequency-ordered), align the second set onto the first with orthogonal Procrustes (the rotation R
minimising ||B R - A||_F, from the SVD of B^T A; Schönemann 1966, as used for diachronic embeddings
by Hamilton et al. 2016), and report per word
- `overlap`: the fraction of its top-k neighbours (within the shared words) that both sets agree on.
  Rotation-free: it needs no alignment, so it is the measure to trust;
- `cosine`: the cosine between its aligned vectors (1: the same place after the best rotation).
Also the two neighbour lists of one word side by side.
Does not: load files, or compare more than `limit` words (k-NN over n words costs n^2 D
multiply-adds; 5,000 x 300 is about 7.5e9, a second or two here). Shapes: A, B (n, D_a), (n, D_b).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .keyed import UnknownWordError, Vectors

DEFAULT_LIMIT = 5_000  # shared words compared by default (the most frequent of the first set)
MAX_LIMIT = 20_000  # hard cap on what one comparison may cost (20,000^2 x D)
BLOCK = 1_024  # rows of the similarity matrix computed at once (bounded memory: BLOCK x n floats)


class CompareError(ValueError):
    """Two sets that cannot be compared; the message says why in one line."""


@dataclass(frozen=True)
class Comparison:
    """Per shared word (row i is `words[i]`): neighbour overlap in [0, 1] and aligned cosine."""

    words: list[str]
    overlap: np.ndarray  # (n,) float32: |N_a(w) ∩ N_b(w)| / k
    cosine: np.ndarray  # (n,) float32: cos(a_w, R b_w) after Procrustes
    k: int
    shared_total: int  # words in both sets (before the limit)

    def most_changed(self, n: int = 20) -> list[tuple[str, float, float]]:
        """The n words whose neighbourhoods changed most: (word, overlap, cosine), lowest overlap first,
        ties broken by the lower aligned cosine."""
        order = np.lexsort((self.cosine, self.overlap))[:n]
        return [(self.words[i], float(self.overlap[i]), float(self.cosine[i])) for i in order]

    @property
    def mean_overlap(self) -> float:
        return float(self.overlap.mean()) if len(self.words) else 0.0


def shared_words(a: Vectors, b: Vectors, limit: int | None = DEFAULT_LIMIT) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Words in both sets in a's order, at most `limit`; their row ids in a and in b."""
    words, ia, ib = [], [], []
    for i, w in enumerate(a.words):
        j = b.index.get(w)
        if j is not None and a.index[w] == i:  # a's first occurrence of a duplicated word only
            words.append(w)
            ia.append(i)
            ib.append(j)
            if limit is not None and len(words) >= limit:
                break
    return words, np.asarray(ia, dtype=np.int64), np.asarray(ib, dtype=np.int64)


def procrustes(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """The orthogonal (D_b, D_a) matrix R minimising ||B R - A||_F (A: (n, D_a), B: (n, D_b)).
    With D_a != D_b, R has orthonormal rows or columns (the semi-orthogonal solution)."""
    u, _, vt = np.linalg.svd(B.astype(np.float64).T @ A.astype(np.float64), full_matrices=False)
    return (u @ vt).astype(np.float32)


def _unit(M: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(M, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (M / norms).astype(np.float32)


def knn(U: np.ndarray, k: int) -> np.ndarray:
    """(n, k) int64: each unit row's k most similar other rows, most similar first (self excluded)."""
    n = len(U)
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for s in range(0, n, BLOCK):
        sims = U[s:s + BLOCK] @ U.T
        rows = np.arange(sims.shape[0])
        sims[rows, s + rows] = -np.inf  # not its own neighbour
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        out[s:s + BLOCK] = np.take_along_axis(part, order, axis=1)
    return out


def compare(a: Vectors, b: Vectors, k: int = 10, limit: int = DEFAULT_LIMIT) -> Comparison:
    """Compare b with a over their shared words (at most `limit`, a's most frequent first)."""
    if not 1 <= k <= 100:
        raise CompareError(f"k must be in 1..100 (got {k})")
    if not 2 <= limit <= MAX_LIMIT:
        raise CompareError(f"the word limit must be in 2..{MAX_LIMIT:,} (got {limit:,})")
    total = len(shared_words(a, b, limit=None)[0])
    words, ia, ib = shared_words(a, b, limit)
    if len(words) <= k:
        raise CompareError(f"the two sets share {total:,} words; comparing top-{k} neighbours needs more than {k}")
    A, B = _unit(a.vectors[ia]), _unit(b.vectors[ib])
    R = procrustes(A, B)
    aligned = _unit(B @ R)
    cosine = np.einsum("ij,ij->i", A, aligned).astype(np.float32)
    na, nb = knn(A, k), knn(B, k)
    same = (na[:, :, None] == nb[:, None, :]).any(axis=2).sum(axis=1)
    overlap = (same / na.shape[1]).astype(np.float32)
    return Comparison(words, overlap, cosine, int(na.shape[1]), total)


def side_by_side(a: Vectors, b: Vectors, word: str, k: int = 10) -> tuple[list[tuple[str, float]],
                                                                          list[tuple[str, float]]]:
    """The word's k nearest neighbours in a and in b (each over its whole vocabulary). Raises
    UnknownWordError naming the word when either set lacks it."""
    for v in (a, b):
        if word not in v:
            raise UnknownWordError(word)
    return a.most_similar(word, topn=k), b.most_similar(word, topn=k)
