"""Evaluate: word analogies (3CosAdd, 3CosMul) and word-pair similarity against human judgements.

Does: read the Google analogy format (`: section` headers, then `a b c d` lines) and
WordSim-353 / SimLex-999 style pair files (`w1 w2 score`, `#` comments); score analogies in
batched matrix products over the `restrict_vocab` most frequent words (no Python loop per
question); report per-section, semantic (sections not named `gram*`), syntactic (`gram*`) and
total accuracy, coverage and the wrong answers; correlate model cosines with human scores
(Spearman, Pearson) and report the out-of-vocabulary ratio.
Does not: load vector files (vector_io.py), train, or print; the CLI (cli_eval.py) formats.

Conventions that decide the numbers, chosen to match word2vec.c's compute-accuracy and gensim's
`KeyedVectors.evaluate_word_analogies` / `evaluate_word_pairs` question by question:
- Only the first `restrict_vocab` rows (the most frequent words) are candidates, and a question
  is skipped (not counted wrong) unless all four of its words are among them.
- Case-insensitive by default: vocabulary words and questions are compared upper-cased (str.upper,
  as gensim does); where several casings share a key the most frequent (first) row stands for it,
  and every casing of a query word is excluded from the answers.
- Accuracies and coverage are fractions in [0, 1], never percentages. With no question evaluated
  every accuracy is 0.0 and coverage 0.0 (no division by zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .keyed import Vectors

ANALOGY_RESTRICT = 30_000  # word2vec.c compute-accuracy's threshold; gensim's default is 300,000
PAIRS_RESTRICT = 300_000  # gensim evaluate_word_pairs' default (the C tool has no pair evaluation)
MUL_EPS = 1e-3  # 3CosMul's epsilon (Levy & Goldberg 2014, section 3)
BATCH_ELEMENTS = 1 << 24  # batch size x restrict_vocab per score matrix: 64 MB of float32
MUL_TABLE_ELEMENTS = 1 << 26  # distinct query words x restrict_vocab cached for 3CosMul: 256 MB at most
METHODS = ("add", "mul")


class EvalError(ValueError):
    """An evaluation file or request that cannot be used; the message says why in one line."""


# -- reading files ------------------------------------------------------------------------------
def _read_lines(path: str | Path, what: str) -> list[str]:
    """Lines of a UTF-8 text file; EvalError for a missing, binary or non-UTF-8 file."""
    p = Path(path)
    if not p.is_file():
        raise EvalError(f"{p}: no such {what} file")
    data = p.read_bytes()
    if b"\x00" in data[:8192]:
        raise EvalError(f"{p}: looks like a binary file (NUL bytes), not a {what} text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise EvalError(f"{p}: not UTF-8 text (byte {e.start}): not a {what} file") from None
    return text.removeprefix("\ufeff").splitlines()  # a BOM (Windows editors) is not part of line 1


@dataclass
class AnalogySection:
    """One `: name` section of an analogy file and its questions (a, b, c, expected d)."""

    name: str
    questions: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def syntactic(self) -> bool:
        """Google's convention: section names starting with `gram` are syntactic."""
        return self.name.startswith("gram")


def read_analogies(path: str | Path, strict: bool = True) -> list[AnalogySection]:
    """Read a questions-words style file into its sections, in file order.

    Blank lines and `#` comment lines are skipped. A question line must have exactly four words;
    with `strict` another count raises EvalError naming the line, otherwise the line is skipped
    (gensim skips such lines silently). A question before the first `: section` header is an error.
    """
    sections: list[AnalogySection] = []
    for lineno, raw in enumerate(_read_lines(path, "analogy"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(":"):
            name = line[1:].strip()
            if not name:
                raise EvalError(f"{path}:{lineno}: section header without a name")
            sections.append(AnalogySection(name))
            continue
        words = line.split()
        if len(words) != 4:
            if strict:
                raise EvalError(f"{path}:{lineno}: expected 4 words 'a b c d', "
                                f"got {len(words)}: {line[:60]!r}")
            continue
        if not sections:
            raise EvalError(f"{path}:{lineno}: question before the first ': section' header")
        sections[-1].questions.append((words[0], words[1], words[2], words[3]))
    if not any(s.questions for s in sections):
        raise EvalError(f"{path}: no analogy questions (expected ': section' lines, then 'a b c d' lines)")
    return sections


def read_word_pairs(path: str | Path, strict: bool = True) -> list[tuple[str, str, float]]:
    """Read `w1 w2 score` lines (tab- or space-separated; blank and `#` lines skipped).

    With `strict` a line that is not two words and a number raises EvalError naming the line;
    otherwise it is skipped (as gensim does).
    """
    pairs: list[tuple[str, str, float]] = []
    for lineno, raw in enumerate(_read_lines(path, "word-pair"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t") if "\t" in line else line.split()
        parts = [p.strip() for p in parts]
        try:
            if len(parts) != 3 or not parts[0] or not parts[1]:
                raise ValueError
            score = float(parts[2])
            if not math.isfinite(score):
                raise ValueError
        except ValueError:
            if strict:
                raise EvalError(f"{path}:{lineno}: expected 'word1 word2 score', got {line[:60]!r}") from None
            continue
        pairs.append((parts[0], parts[1], score))
    if not pairs:
        raise EvalError(f"{path}: no word pairs (expected 'word1 word2 score' lines)")
    return pairs


# -- the restricted, case-folded vocabulary -----------------------------------------------------
class _Lookup:
    """The candidate rows and the key -> representative-row map both evaluations share.

    `rep[r]` is the representative row of candidate row r: the first (most frequent) row whose
    key (the word, upper-cased when case-insensitive) equals r's key. Two rows with the same
    representative are the same word for scoring and for excluding query words.
    """

    def __init__(self, vectors: Vectors, restrict_vocab: int | None, case_insensitive: bool):
        n = len(vectors) if restrict_vocab is None else max(0, min(int(restrict_vocab), len(vectors)))
        self.n = n
        self.case_insensitive = case_insensitive
        self.row: dict[str, int] = {}
        rep = np.empty(n, dtype=np.int64)
        for i, w in enumerate(vectors.words[:n]):
            rep[i] = self.row.setdefault(self.key(w), i)
        self.rep = rep
        self.has_aliases = bool(np.any(rep != np.arange(n)))

    def key(self, word: str) -> str:
        return word.upper() if self.case_insensitive else word

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """Representative row of each word, -1 where the word is not a candidate."""
        get = self.row.get
        return np.array([get(self.key(w), -1) for w in words], dtype=np.int64)


# -- analogies ----------------------------------------------------------------------------------
@dataclass
class SectionScore:
    """Counts for one section: `total` questions evaluated, `skipped` for out-of-vocabulary words."""

    name: str
    correct: int
    total: int
    skipped: int

    @property
    def syntactic(self) -> bool:
        return self.name.startswith("gram")

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True)
class WrongAnswer:
    """A question answered wrongly: a : b :: c : expected, but the model said `predicted`."""

    a: str
    b: str
    c: str
    expected: str
    predicted: str


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


@dataclass
class AnalogyResult:
    """Accuracy per section and overall. `to_json()` is what the CLI prints under "analogies"."""

    method: str  # "add" (3CosAdd) or "mul" (3CosMul)
    restrict_vocab: int  # candidate rows actually used (min(restrict_vocab, V))
    case_insensitive: bool
    sections: list[SectionScore]
    wrong: list[WrongAnswer]  # in file order, for the app's table of mistakes

    def _acc(self, keep) -> float:
        chosen = [s for s in self.sections if keep(s)]
        return _ratio(sum(s.correct for s in chosen), sum(s.total for s in chosen))

    @property
    def total(self) -> float:
        """Accuracy over every evaluated question."""
        return self._acc(lambda s: True)

    @property
    def semantic(self) -> float:
        return self._acc(lambda s: not s.syntactic)

    @property
    def syntactic(self) -> float:
        return self._acc(lambda s: s.syntactic)

    @property
    def n_questions(self) -> int:
        return sum(s.total + s.skipped for s in self.sections)

    @property
    def n_evaluated(self) -> int:
        return sum(s.total for s in self.sections)

    @property
    def n_correct(self) -> int:
        return sum(s.correct for s in self.sections)

    @property
    def coverage(self) -> float:
        """Fraction of questions evaluated (the rest had a word outside the candidate rows)."""
        return _ratio(self.n_evaluated, self.n_questions)

    def to_json(self) -> dict:
        """A JSON-ready dict: {"total", "semantic", "syntactic", "coverage", "sections": {name:
        {"correct", "total"}}} (fractions in [0, 1]; a section's "total" counts evaluated questions)."""
        return {
            "total": self.total,
            "semantic": self.semantic,
            "syntactic": self.syntactic,
            "coverage": self.coverage,
            "sections": {s.name: {"correct": s.correct, "total": s.total} for s in self.sections},
        }


def _mask_rows(scores: np.ndarray, rows: np.ndarray) -> None:
    """scores[q, rows[q, k]] = -inf for every k: the query words are never answers."""
    q = np.arange(scores.shape[0])[:, None]
    scores[q, rows] = -np.inf


class _Scorer:
    """(B, R) float32 scores of every candidate row for B questions a : b :: c : ?.

    add (3CosAdd; Mikolov et al. 2013, "Linguistic Regularities", section 3; Levy & Goldberg 2014
    eq. 3): cos(x, b - a + c) with the query normalised; ranks equal cos(x,b) - cos(x,a) + cos(x,c)
    since the unit-vector sum only rescales. Summed as (b + c) - a and normalised like gensim, one
    (B, D) x (D, R) product per batch.
    mul (3CosMul; Levy & Goldberg 2014 eq. 4): cos'(x,b) cos'(x,c) / (cos'(x,a) + 1e-3) with
    cos' = (cos + 1) / 2 shifting cosines into [0, 1] (the paper's footnote). Three products per
    batch would triple the cost, but the questions reuse few words (905 in the Google set), so the
    (cos + 1) of every distinct query word against every candidate is computed once, (U, R), and
    each batch only gathers rows, when that table fits MUL_TABLE_ELEMENTS.
    """

    def __init__(self, unit: np.ndarray, cand: np.ndarray, method: str, query_rows: np.ndarray):
        self.unit, self.cand, self.method = unit, cand, method
        self.table: np.ndarray | None = None
        if method == "mul" and query_rows.size:
            rows = np.unique(query_rows)
            if rows.size * cand.shape[0] <= MUL_TABLE_ELEMENTS:
                self.slot = np.full(unit.shape[0], -1, dtype=np.int64)
                self.slot[rows] = np.arange(rows.size)
                self.table = unit[rows] @ cand.T
                self.table += 1.0

    def _shifted(self, rows: np.ndarray) -> np.ndarray:
        """cos(x, row) + 1 for every candidate x: (B, R), a fresh array."""
        if self.table is not None:
            return self.table[self.slot[rows]]
        out = self.unit[rows] @ self.cand.T
        out += 1.0
        return out

    def __call__(self, ia: np.ndarray, ib: np.ndarray, ic: np.ndarray) -> np.ndarray:
        if self.method == "add":
            q = (self.unit[ib] + self.unit[ic]) - self.unit[ia]
            norms = np.linalg.norm(q, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            return (q / norms) @ self.cand.T
        # subtle: cos'b cos'c / (cos'a + eps) = (cb + 1)(cc + 1) / (2 (ca + 1 + 2 eps)); dropping
        # the constant 1/2 keeps the argmax and saves passes over the (B, R) matrices.
        scores = self._shifted(ib)
        scores *= self._shifted(ic)
        denom = self._shifted(ia)
        denom += 2.0 * MUL_EPS
        scores /= denom
        return scores


def _predict(scores: np.ndarray, query: np.ndarray, lookup: _Lookup) -> np.ndarray:
    """Best candidate row per question, skipping every casing of a query word."""
    _mask_rows(scores, query)
    pred = scores.argmax(axis=1)
    if not lookup.has_aliases:
        return pred
    # subtle: another casing of a query word (e.g. "Paris" for "paris") shares its representative
    # row and must not win either; such hits are rare, so mask them one round at a time.
    while True:
        clash = np.flatnonzero((lookup.rep[pred][:, None] == query).any(axis=1))
        if clash.size == 0:
            return pred
        scores[clash, pred[clash]] = -np.inf
        pred[clash] = scores[clash].argmax(axis=1)


def evaluate_analogies(
    vectors: Vectors,
    questions: str | Path | Sequence[AnalogySection],
    method: str = "add",
    restrict_vocab: int | None = ANALOGY_RESTRICT,
    case_insensitive: bool = True,
    batch_size: int | None = None,
) -> AnalogyResult:
    """Answer every analogy question a : b :: c : ? and count the correct ones per section.

    `questions` is a path (read with `read_analogies`) or sections already read. Candidates are
    the first `restrict_vocab` rows of `vectors` (None: all rows). The default 30,000 is the value
    word2vec.c's compute-accuracy uses; gensim's `evaluate_word_analogies` defaults to 300,000, so
    pass `restrict_vocab=300_000` to compare with gensim's defaults. `method` is "add" (3CosAdd)
    or "mul" (3CosMul). Questions are scored `batch_size` at a time as (B, R) score matrices
    (default: as many as fit 64 MB), never one question at a time; see _Scorer.
    """
    if method not in METHODS:
        raise EvalError(f"method must be 'add' or 'mul' (got {method!r})")
    if restrict_vocab is not None and restrict_vocab < 1:
        raise EvalError(f"restrict_vocab must be >= 1 (got {restrict_vocab})")
    sections = read_analogies(questions) if isinstance(questions, str | Path) else list(questions)
    lookup = _Lookup(vectors, restrict_vocab, case_insensitive)
    unit = vectors.unit
    cand = unit[: lookup.n]

    flat = [(si, q) for si, s in enumerate(sections) for q in s.questions]
    words = [w for _, q in flat for w in q]
    ids = lookup.ids(words).reshape(-1, 4) if flat else np.zeros((0, 4), np.int64)
    sec_of = np.array([si for si, _ in flat], dtype=np.int64)
    ok = (ids >= 0).all(axis=1)
    todo = np.flatnonzero(ok)

    correct = np.zeros(len(flat), dtype=bool)
    predicted = np.full(len(flat), -1, dtype=np.int64)
    scorer = _Scorer(unit, cand, method, ids[todo, :3])
    batch = batch_size or max(1, min(4096, BATCH_ELEMENTS // max(1, lookup.n)))
    for start in range(0, todo.size, batch):
        qi = todo[start: start + batch]
        ia, ib, ic, idd = ids[qi].T
        scores = scorer(ia, ib, ic)
        pred = _predict(scores, ids[qi, :3], lookup)
        predicted[qi] = pred
        correct[qi] = lookup.rep[pred] == idd

    wrong = [
        WrongAnswer(*flat[i][1], predicted=vectors.words[int(predicted[i])])
        for i in np.flatnonzero(ok & ~correct).tolist()
    ]
    return AnalogyResult(method, lookup.n, case_insensitive, _section_scores(sections, sec_of, ok, correct),
                         wrong)


def _section_scores(sections: Sequence[AnalogySection], sec_of: np.ndarray, ok: np.ndarray,
                    correct: np.ndarray) -> list[SectionScore]:
    """Per-section counts from per-question flags (`sec_of` is each question's section index)."""
    n = len(sections)
    return [
        SectionScore(s.name, int(c), int(t), int(k))
        for s, c, t, k in zip(sections, np.bincount(sec_of[correct], minlength=n),
                              np.bincount(sec_of[ok], minlength=n), np.bincount(sec_of[~ok], minlength=n),
                              strict=True)
    ]


# -- word-pair similarity -----------------------------------------------------------------------
@dataclass
class SimilarityResult:
    """Correlation of model cosines with human scores over the pairs with both words known."""

    spearman: float  # Spearman's rho (scipy.stats.spearmanr)
    pearson: float  # Pearson's r (scipy.stats.pearsonr)
    oov: float  # fraction of pairs skipped for an unknown word, in [0, 1] (gensim reports percent)
    n_pairs: int  # pairs in the file
    n_used: int  # pairs evaluated

    def to_json(self) -> dict:
        """{"spearman", "pearson", "oov"}; an undefined correlation (constant input) is null."""
        def clean(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {"spearman": clean(self.spearman), "pearson": clean(self.pearson), "oov": self.oov}


def evaluate_word_pairs(
    vectors: Vectors,
    pairs: str | Path | Sequence[tuple[str, str, float]],
    restrict_vocab: int | None = PAIRS_RESTRICT,
    case_insensitive: bool = True,
) -> SimilarityResult:
    """Spearman and Pearson correlation between cos(w1, w2) and the human score of each pair.

    A pair with a word outside the first `restrict_vocab` rows is skipped and counted in `oov`
    (gensim skips them too unless `dummy4unknown`). Case handling is the analogies' rule.
    Raises EvalError when fewer than two pairs remain (no correlation is defined).
    """
    items = read_word_pairs(pairs) if isinstance(pairs, str | Path) else list(pairs)
    lookup = _Lookup(vectors, restrict_vocab, case_insensitive)
    ia = lookup.ids([p[0] for p in items])
    ib = lookup.ids([p[1] for p in items])
    ok = (ia >= 0) & (ib >= 0)
    n_used = int(np.count_nonzero(ok))
    if n_used < 2:
        raise EvalError(
            f"only {n_used} of {len(items)} word pairs have both words in the vocabulary: "
            "no correlation can be computed"
        )
    unit = vectors.unit
    model = np.einsum("ij,ij->i", unit[ia[ok]], unit[ib[ok]])
    gold = np.array([p[2] for p in items], dtype=np.float64)[ok]
    with np.errstate(all="ignore"):
        constant = np.ptp(model) == 0 or np.ptp(gold) == 0
        model64 = model.astype(np.float64)
        from scipy import stats  # subtle: imported here; at module level it costs every CLI command ~80 MB

        spearman = float("nan") if constant else float(stats.spearmanr(gold, model64).statistic)
        pearson = float("nan") if constant else float(stats.pearsonr(gold, model64).statistic)
    return SimilarityResult(spearman, pearson, 1.0 - n_used / len(items), len(items), n_used)
