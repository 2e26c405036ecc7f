"""Vectors: a KeyedVectors-like read-only view of trained word vectors, and its queries.

Does: word lookup, unit-normalised cache, cosine `most_similar` (query words excluded),
`similarity`, analogies by 3CosAdd and 3CosMul (Levy & Goldberg 2014), `doesnt_match`.
Exact search is one matrix-vector product over the unit rows ((V,) scores in memory, nothing
larger). Above EXACT_MAX words, `most_similar`, `similar_by_vector` and `analogy` use an attached
approximate index (ann.AnnIndex: `build_index` or `use_index`) when there is one; the
`approximate` argument forces either path.
Does not: read or write files (vector_io.py's load and save do) or train.
Shapes: `vectors` (V, D) float32, row i is `words[i]`; words ordered most frequent first when known.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .ann import AnnIndex

EXACT_MAX = 300_000   # above this many words an attached AnnIndex answers by default (approximate=None)
MUL_CANDIDATES = 200  # approximate 3CosMul reranks this many 3CosAdd candidates from the index
# subtle: a sum of several words' rows (a - b + c, u + v) lies away from every word, where HNSW's
# default candidate list misses much more than for a word's own row: on 1,000,000 x 300 synthetic
# clustered rows (bench/bench_focus_analogy.py) the index's 3CosAdd top answer was the exact one for
# 21 of 30 questions at 256 candidates, 28 at 1,024 and 30 at 2,048 (about 7, 10 and 27 ms per query
# at load ~14), against 0.5 s for the exact scan. A word's own neighbours keep ann.DEFAULT_EF.
COMPOSED_EF = 2048


class UnknownWordError(KeyError):
    """A query word that is not in the vocabulary; `str()` names it."""

    def __init__(self, word: str):
        super().__init__(word)
        self.word = word

    def __str__(self) -> str:
        return f"word {self.word!r} is not in the vocabulary"


class Vectors:
    """Words and their vectors. `counts` (V,) int64 is optional (None when a file has none).
    `unit` (V, D) float32, optional: precomputed unit-length rows (e.g. a memory-mapped unit.npy
    from vector_io.convert_to_npy), used as given instead of computing `unit` on first use."""

    def __init__(self, words: Sequence[str], vectors: np.ndarray, counts: np.ndarray | None = None,
                 *, unit: np.ndarray | None = None):
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(words):
            raise ValueError(f"expected ({len(words)}, D) vectors, got shape {vectors.shape}")
        if vectors.dtype != np.float32:
            vectors = vectors.astype(np.float32)
        self.words: list[str] = list(words)
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        n = len(self.words)
        # first (most frequent) wins on duplicates: later entries are overwritten by earlier ones
        self.index: dict[str, int] = dict(zip(reversed(self.words), range(n - 1, -1, -1), strict=True))
        if unit is not None and np.shape(unit) != vectors.shape:
            raise ValueError(f"unit rows have shape {np.shape(unit)}, vectors {vectors.shape}")
        self._unit: np.ndarray | None = None if unit is None else np.asarray(unit, dtype=np.float32)
        self._lower: dict[str, int] | None = None
        self._ann: AnnIndex | None = None
        self._ann_problem = ""

    # -- lookup -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def __getitem__(self, word: str) -> np.ndarray:
        return self.vectors[self.id(word)]

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def id(self, word: str) -> int:
        i = self.index.get(word)
        if i is None:
            raise UnknownWordError(word)
        return i

    def id_ci(self, word: str) -> int:
        """Case-insensitive lookup: exact match first, else the most frequent casing."""
        i = self.index.get(word)
        if i is not None:
            return i
        if self._lower is None:
            lower: dict[str, int] = {}
            for j, w in enumerate(self.words):
                lower.setdefault(w.lower(), j)
            self._lower = lower
        i = self._lower.get(word.lower())
        if i is None:
            raise UnknownWordError(word)
        return i

    @property
    def unit(self) -> np.ndarray:
        """(V, D) float32 rows scaled to unit length (zero rows stay zero). Computed once."""
        if self._unit is None:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._unit = (self.vectors / norms).astype(np.float32)
        return self._unit

    # -- approximate index ------------------------------------------------------------------
    def use_index(self, index: AnnIndex | None, problem: str = "") -> None:
        """Attach an ann.AnnIndex built over these unit rows (None detaches it). `problem`: with
        None, one line saying why an index that exists was not attached (stale, damaged)."""
        if index is not None and (index.n != len(self) or index.dim != self.dim):
            raise ValueError(f"index is over ({index.n}, {index.dim}) rows, vectors are ({len(self)}, {self.dim})")
        self._ann = index
        self._ann_problem = "" if index is not None else problem

    @property
    def ann_problem(self) -> str:
        """Why an existing index was not attached ("" when none was refused)."""
        return self._ann_problem

    @property
    def ann_index(self) -> AnnIndex | None:
        """The attached approximate index, or None."""
        return self._ann

    def build_index(self, cache_dir: str | os.PathLike | None = None,
                    progress: Callable[[str], None] | None = None, **params: int | str) -> AnnIndex:
        """Build (or read from cache_dir) an ann.AnnIndex over the unit rows and attach it.
        `params`: AnnIndex.build's connectivity, expansion_add, dtype."""
        from .ann import AnnIndex

        index = AnnIndex.build(self.unit, cache_dir=cache_dir, progress=progress, **params)
        self.use_index(index)
        return index

    def _use_ann(self, approximate: bool | None, restrict: int | None) -> bool:
        """Whether a query goes to the index: None means "an index is attached, the whole
        vocabulary is searched and it has more than EXACT_MAX words"."""
        whole = restrict is None or restrict >= len(self)
        if approximate is None:
            return self._ann is not None and whole and len(self) > EXACT_MAX
        if not approximate:
            return False
        if self._ann is None:
            raise ValueError("approximate=True needs an index: call build_index() or use_index() first")
        if not whole:
            raise ValueError("approximate search covers the whole vocabulary; drop restrict or use approximate=False")
        return True

    def _ann_top(self, query: np.ndarray, exclude: Sequence[int], topn: int,
                 scale: float = 1.0, ef: int | None = None) -> list[tuple[str, float]]:
        """The index's topn rows for a unit query, excluded rows dropped; scores times scale.
        `ef`: the index's candidate list (None: its default)."""
        assert self._ann is not None
        ex = set(exclude)
        topn = max(0, min(topn, len(self) - len(ex)))
        if topn == 0:
            return []
        ids, sims = self._ann.query(query, topn + len(ex), ef=ef)
        return [(self.words[i], float(s) * scale) for i, s in zip(ids.tolist(), sims.tolist(), strict=True)
                if i >= 0 and i not in ex][:topn]

    # -- queries ----------------------------------------------------------------------------
    def _top(self, scores: np.ndarray, exclude: Sequence[int], topn: int) -> list[tuple[str, float]]:
        scores = scores.copy()
        scores[list(exclude)] = -np.inf
        topn = max(0, min(topn, scores.shape[0] - len(set(exclude))))
        if topn == 0:
            return []
        idx = np.argpartition(-scores, topn - 1)[:topn]
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in idx]

    def most_similar(self, positive: Sequence[str] | str = (), negative: Sequence[str] | str = (),
                     topn: int = 10, restrict: int | None = None,
                     approximate: bool | None = None) -> list[tuple[str, float]]:
        """Nearest words by cosine to mean(unit(positive)) - mean(unit(negative)) (gensim's rule),
        the query words excluded. `restrict` searches only the first N (most frequent) words.
        `approximate`: None = the attached index above EXACT_MAX words, else exact; True = the
        index (it must exist); False = exact."""
        positive = [positive] if isinstance(positive, str) else list(positive)
        negative = [negative] if isinstance(negative, str) else list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one word")
        pos = [self.id(w) for w in positive]
        neg = [self.id(w) for w in negative]
        q = np.zeros(self.dim, dtype=np.float32)
        for i in pos:
            q += self.unit[i]
        for i in neg:
            q -= self.unit[i]
        n = np.linalg.norm(q)
        if n > 0:
            q /= n
        if self._use_ann(approximate, restrict):
            return self._ann_top(q, pos + neg, topn, ef=COMPOSED_EF if len(pos) + len(neg) > 1 else None)
        unit = self.unit if restrict is None else self.unit[:restrict]
        exclude = [i for i in pos + neg if i < unit.shape[0]]
        return self._top(unit @ q, exclude, topn)

    def similar_by_vector(self, vector: np.ndarray, topn: int = 10, exclude: Sequence[str] = (),
                          approximate: bool | None = None) -> list[tuple[str, float]]:
        """Nearest words by cosine to an arbitrary vector (`approximate` as in most_similar)."""
        v = np.asarray(vector, dtype=np.float32)
        n = np.linalg.norm(v)
        v = v / n if n > 0 else v
        ex = [self.id(w) for w in exclude]
        if self._use_ann(approximate, None):
            return self._ann_top(v, ex, topn)
        return self._top(self.unit @ v, ex, topn)

    def similarity(self, a: str, b: str) -> float:
        return float(self.unit[self.id(a)] @ self.unit[self.id(b)])

    def analogy(self, a: str, b: str, c: str, topn: int = 1, method: str = "add",
                restrict: int | None = None, approximate: bool | None = None) -> list[tuple[str, float]]:
        """Solve a : b :: c : ?  (b - a + c), e.g. man : king :: woman : queen.

        add: argmax cos(x, b) - cos(x, a) + cos(x, c)        (3CosAdd, paper section 3)
        mul: argmax cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-3), cos' = (cos + 1) / 2  (3CosMul)
        The three query words are never answers. `approximate` as in most_similar: 3CosAdd is
        then the index's search for b - a + c (re-scored exactly: the exact path's scores, to
        float rounding); 3CosMul reranks the index's MUL_CANDIDATES best 3CosAdd rows exactly.
        """
        ia, ib, ic = self.id(a), self.id(b), self.id(c)
        if method not in ("add", "mul"):
            raise ValueError(f"method must be 'add' or 'mul' (got {method!r})")
        if self._use_ann(approximate, restrict):
            return self._ann_analogy(ia, ib, ic, topn, method)
        unit = self.unit if restrict is None else self.unit[:restrict]
        if method == "add":
            scores = unit @ (self.unit[ib] - self.unit[ia] + self.unit[ic])
        else:
            sa, sb, sc = ((unit @ self.unit[i] + 1.0) / 2.0 for i in (ia, ib, ic))
            scores = sb * sc / (sa + 1e-3)
        exclude = [i for i in (ia, ib, ic) if i < unit.shape[0]]
        return self._top(scores, exclude, topn)

    def _ann_analogy(self, ia: int, ib: int, ic: int, topn: int, method: str) -> list[tuple[str, float]]:
        v = self.unit[ib] - self.unit[ia] + self.unit[ic]
        norm = float(np.linalg.norm(v))
        q = v / norm if norm > 0 else v
        if method == "add":
            # the index ranks by cos(x, v / |v|); times |v| is the exact path's unit @ v (to rounding)
            return self._ann_top(q, (ia, ib, ic), topn, scale=norm, ef=COMPOSED_EF)
        assert self._ann is not None
        ids, _ = self._ann.query(q, max(MUL_CANDIDATES, topn + 3), ef=COMPOSED_EF)
        cand = ids[ids >= 0].astype(np.int64)
        # einsum, not @: a small product on all OpenBLAS threads can stall for ms on a busy machine
        cos = np.einsum("cd,kd->kc", self.unit[cand], self.unit[[ia, ib, ic]])
        sa, sb, sc = (cos + 1.0) / 2.0
        scores = sb * sc / (sa + 1e-3)
        scores[np.isin(cand, (ia, ib, ic))] = -np.inf
        order = np.argsort(-scores, kind="stable")[:max(0, min(topn, int(np.isfinite(scores).sum())))]
        return [(self.words[int(cand[j])], float(scores[j])) for j in order]

    def doesnt_match(self, words: Sequence[str]) -> str:
        """The word furthest (by cosine) from the mean of the others' unit vectors."""
        known = [w for w in words if w in self.index]
        if len(known) < 2:
            raise ValueError("doesnt_match needs at least two known words")
        m = self.unit[[self.index[w] for w in known]]
        mean = m.mean(axis=0)
        mean /= np.linalg.norm(mean) or 1.0
        return known[int(np.argmin(m @ mean))]
