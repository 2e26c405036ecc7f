"""The paper reproduced: Table 1 and Table 3 of Mikolov et al. (2013b) run on your corpus, with verdicts.

Does: hold the paper's published numbers (the ONE place they are cited, by table, row and
column); plan the seven skip-gram runs of Table 1 (NEG-5, NEG-15, HS-Huffman, NCE-5 without
subsampling; NEG-5, NEG-15, HS-Huffman with t = 1e-5); score each run's vectors on the analogy
questions (semantic, syntactic, total, coverage); decide the paper's claims from a table of rows
(`claims`, a pure function: the same code judges our rows and the paper's own); run the whole
experiment through the Trainer's public API (`run_table1`, `run_phrases`) with a per-row
callback, a stop flag that keeps the rows done, and optional kept vector files.
Does not: parse arguments or print (core/cli/replicate.py), touch the kernels, or know Streamlit
(pages/paper.py runs the same plan through the app's training queue).

Source: T. Mikolov, I. Sutskever, K. Chen, G. Corrado, J. Dean. "Distributed Representations of
Words and Phrases and their Compositionality". NIPS 2013 (arXiv:1310.4546).

Which subsampling formula: the paper's. Section 2.3, eq. (5) discards each occurrence of w with
P(w) = 1 - sqrt(t / f(w)), i.e. keeps it with sqrt(t / f(w)) (SubsampleFormula.PAPER), and the
t = 1e-5 rows of Table 1 are stated for that formula. word2vec.c and gensim keep with
sqrt(t/f) + t/f (SubsampleFormula.C), which keeps more of every frequent word; we do not use it here.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .config import Architecture, Loss, SubsampleFormula, TrainConfig
from .corpus import Corpus
from .events import Callback, Progress
from .vectors.evaluate import ANALOGY_RESTRICT, AnalogySection, evaluate_analogies
from .vectors.keyed import Vectors

PAPER = ("Mikolov, Sutskever, Chen, Corrado, Dean (2013). Distributed Representations of Words and "
         "Phrases and their Compositionality. NIPS 2013, arXiv:1310.4546")
SUBSAMPLE_T = 1e-5  # the threshold of Table 1's lower half and Table 3's right column
SUBSAMPLE_FORMULA = SubsampleFormula.PAPER  # section 2.3, eq. (5); see the module docstring
FORMULA_NOTE = "the paper's eq. (5): keep with probability sqrt(t/f) (not word2vec.c's sqrt(t/f) + t/f)"

# The paper's training set-up (section 3, first paragraph, and the captions of Tables 1 and 3).
PAPER_SETUP = {
    "corpus": "internal Google News data set, about 1 billion words (section 3)",
    "vocabulary": 692_000,  # "words that occurred less than 5 times ... vocabulary of size 692K" (section 3)
    "min_count": 5,
    "size": 300,  # "Skip-gram 300-dimensional models" (Table 1 caption); Table 3's "Dimensionality" column
    "window": 5,  # context size 5 (section 3)
    "epochs": None,  # not stated in the paper
}

# Each method's output layer: (loss, negative samples). HS uses no noise samples (word2vec.c -hs 1 -negative 0).
METHODS: dict[str, tuple[Loss, int]] = {
    "NEG-5": (Loss.NS, 5),
    "NEG-15": (Loss.NS, 15),
    "HS-Huffman": (Loss.HS, 0),
    "NCE-5": (Loss.NCE, 5),
}


@dataclass(frozen=True)
class PaperRow:
    """One row of the paper's Table 1, exactly as printed (minutes and whole percent)."""

    method: str
    sample: float  # 0 (upper half) or 1e-5 (lower half, "The following results use 10^-5 subsampling")
    minutes: int  # column "Time [min]"
    syntactic: int  # column "Syntactic [%]"
    semantic: int  # column "Semantic [%]"
    total: int  # column "Total accuracy [%]"
    cite: str


def _t1(row: int, method: str, sample: float, minutes: int, syn: int, sem: int, total: int) -> PaperRow:
    half = "no subsampling" if sample == 0 else "10^-5 subsampling"
    return PaperRow(method, sample, minutes, syn, sem, total,
                    f"Table 1, row {row} ({method}, {half}), columns Time [min], Syntactic [%], Semantic [%], "
                    "Total accuracy [%]")


# Table 1: "Accuracy of various Skip-gram 300-dimensional models on the analogical reasoning task".
PAPER_TABLE1: tuple[PaperRow, ...] = (
    _t1(1, "NEG-5", 0.0, 38, 63, 54, 59),
    _t1(2, "NEG-15", 0.0, 97, 63, 58, 61),
    _t1(3, "HS-Huffman", 0.0, 41, 53, 40, 47),
    _t1(4, "NCE-5", 0.0, 38, 60, 45, 53),
    _t1(5, "NEG-5", SUBSAMPLE_T, 14, 61, 58, 60),
    _t1(6, "NEG-15", SUBSAMPLE_T, 36, 61, 61, 61),
    _t1(7, "HS-Huffman", SUBSAMPLE_T, 21, 52, 59, 55),
)


@dataclass(frozen=True)
class PaperPhraseRow:
    """One row of the paper's Table 3 (phrase analogies), as printed (whole percent)."""

    method: str
    size: int  # column "Dimensionality"
    no_subsampling: int  # column "No subsampling [%]"
    subsampling: int  # column "10^-5 subsampling [%]"
    cite: str


# Table 3: "Accuracies of the Skip-gram models on the phrase analogy dataset. The models were trained on
# approximately one billion words from the news dataset."
PAPER_TABLE3: tuple[PaperPhraseRow, ...] = tuple(
    PaperPhraseRow(m, 300, a, b, f"Table 3, row {i} ({m}), columns Dimensionality, No subsampling [%], "
                                 "10^-5 subsampling [%]")
    for i, (m, a, b) in enumerate((("NEG-5", 24, 27), ("NEG-15", 27, 42), ("HS-Huffman", 19, 47)), 1)
)

TABLE1_PLAN: tuple[tuple[str, float], ...] = tuple((r.method, r.sample) for r in PAPER_TABLE1)
TABLE3_PLAN: tuple[tuple[str, float], ...] = tuple(
    (r.method, s) for s in (0.0, SUBSAMPLE_T) for r in PAPER_TABLE3)
PHRASE_BEST = ("HS-Huffman", SUBSAMPLE_T)  # Table 3's best cell (47 %), the default of `replicate phrases`


@dataclass(frozen=True)
class Settings:
    """What every row of one experiment shares (only the method and the threshold vary)."""

    epochs: int = 1  # passes over the corpus (the paper does not state its number)
    size: int = 100  # D (paper: 300)
    window: int = 5  # paper: 5
    min_count: int = 5  # paper: 5
    threads: int | None = None  # None: all cores
    seed: int = 1
    restrict: int = ANALOGY_RESTRICT  # analogy candidates: the N most frequent words (word2vec.c's 30,000)


def config_for(method: str, sample: float, settings: Settings) -> TrainConfig:
    """The skip-gram TrainConfig of one row (raises KeyError for an unknown method)."""
    loss, negative = METHODS[method]
    return TrainConfig(
        architecture=Architecture.SKIPGRAM, loss=loss, negative=negative, size=settings.size,
        window=settings.window, sample=sample, subsample_formula=SUBSAMPLE_FORMULA,
        min_count=settings.min_count, epochs=settings.epochs, threads=settings.threads, seed=settings.seed,
        track_counts=False,  # the per-word histograms are for the app's other pages
    )


@dataclass
class Row:
    """One trained row: the JSON schema of issue 18 (fractions in [0, 1], seconds of training)."""

    method: str
    sample: float
    seconds: float
    syntactic: float
    semantic: float
    total: float
    coverage: float
    vectors: str | None = None  # the kept word2vec binary file, if any
    evaluated: int = 0  # questions with all four words among the candidates
    questions: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> Row:
        return cls(method=str(d["method"]), sample=float(d["sample"]), seconds=float(d["seconds"]),
                   syntactic=float(d["syntactic"]), semantic=float(d["semantic"]), total=float(d["total"]),
                   coverage=float(d["coverage"]), vectors=d.get("vectors"),
                   evaluated=int(d.get("evaluated", 0)), questions=int(d.get("questions", 0)))


def paper_rows() -> list[Row]:
    """Table 1 as Rows (minutes -> seconds, percent -> fractions), so `claims` can judge the paper too."""
    return [Row(r.method, r.sample, 60.0 * r.minutes, r.syntactic / 100, r.semantic / 100, r.total / 100, 1.0)
            for r in PAPER_TABLE1]


def score_row(method: str, sample: float, vectors: Vectors, seconds: float,
              questions: Sequence[AnalogySection], restrict: int = ANALOGY_RESTRICT,
              path: str | None = None) -> Row:
    """Evaluate one row's vectors (3CosAdd, case-insensitive, `restrict` candidates) into a Row."""
    r = evaluate_analogies(vectors, questions, method="add", restrict_vocab=restrict)
    return Row(method, sample, float(seconds), r.syntactic, r.semantic, r.total, r.coverage, path,
               r.n_evaluated, r.n_questions)


# -- claims -------------------------------------------------------------------------------------------
@dataclass
class Claim:
    claim: str
    replicates: bool
    evidence: str

    def to_json(self) -> dict:
        return asdict(self)


SPEEDUP_NEEDED = 2.0  # "several times" (section 3): we ask a geometric mean of at least 2x (paper: 2.4x)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _label(sample: float) -> str:
    return "no subsampling" if sample == 0 else f"t={sample:g}"


def claims(rows: Sequence[Row]) -> list[Claim]:
    """The paper's claims about Table 1, each judged on `rows`. A claim whose rows are missing (an
    interrupted run) is left out, never guessed. Pure: the paper's own rows make every claim true."""
    at = {(r.method, r.sample): r for r in rows}
    out: list[Claim] = []

    def both(a: tuple[str, float], b: tuple[str, float]) -> bool:
        return a in at and b in at

    # section 3: "Negative Sampling outperforms the Hierarchical Softmax on the analogical reasoning task"
    pairs = [s for s in (0.0, SUBSAMPLE_T) if both(("NEG-5", s), ("HS-Huffman", s))]
    if pairs:
        ok = all(at["NEG-5", s].total > at["HS-Huffman", s].total for s in pairs)
        ev = "; ".join(f"{_label(s)}: NEG-5 {_pct(at['NEG-5', s].total)} vs HS-Huffman "
                       f"{_pct(at['HS-Huffman', s].total)}" for s in pairs)
        out.append(Claim("Negative sampling beats hierarchical softmax (total accuracy, NEG-5 vs HS-Huffman)",
                         ok, ev))
    # section 3: "... and has even slightly better performance than the Noise Contrastive Estimation"
    if both(("NEG-5", 0.0), ("NCE-5", 0.0)):
        a, b = at["NEG-5", 0.0].total, at["NCE-5", 0.0].total
        out.append(Claim("Negative sampling beats NCE (total accuracy, NEG-5 vs NCE-5, no subsampling)",
                         a > b, f"NEG-5 {_pct(a)} vs NCE-5 {_pct(b)}"))
    # Table 1: NEG-15 is above NEG-5 in both halves
    pairs = [s for s in (0.0, SUBSAMPLE_T) if both(("NEG-15", s), ("NEG-5", s))]
    if pairs:
        ok = all(at["NEG-15", s].total > at["NEG-5", s].total for s in pairs)
        ev = "; ".join(f"{_label(s)}: NEG-15 {_pct(at['NEG-15', s].total)} vs NEG-5 "
                       f"{_pct(at['NEG-5', s].total)}" for s in pairs)
        out.append(Claim("More negative samples help (total accuracy, NEG-15 vs NEG-5)", ok, ev))
    sub = [m for m in ("NEG-5", "NEG-15", "HS-Huffman") if both((m, 0.0), (m, SUBSAMPLE_T))]
    if sub:
        # section 3: "the subsampling of the frequent words improves the training speed several times"
        speed = {m: at[m, 0.0].seconds / max(at[m, SUBSAMPLE_T].seconds, 1e-9) for m in sub}
        mean = math.exp(sum(math.log(max(v, 1e-9)) for v in speed.values()) / len(speed))
        out.append(Claim(
            f"Subsampling (t=1e-5) speeds training several-fold (geometric mean speed-up >= {SPEEDUP_NEEDED:g}x)",
            mean >= SPEEDUP_NEEDED,
            f"geometric mean {mean:.2f}x; " + ", ".join(f"{m} {v:.2f}x" for m, v in speed.items())))
        # section 3: "... and makes the word representations significantly more accurate"
        gain = {m: at[m, SUBSAMPLE_T].total - at[m, 0.0].total for m in sub}
        out.append(Claim(
            "Subsampling does not lower accuracy for any method (total, t=1e-5 vs none)",
            all(g >= 0 for g in gain.values()),
            ", ".join(f"{m} {_pct(at[m, 0.0].total)} -> {_pct(at[m, SUBSAMPLE_T].total)}" for m in sub)))
        # Table 1: HS gains 8 points, NEG-5 1, NEG-15 0. subtle: a gain must be positive, or "smallest
        # loss" would count as "helps most" when subsampling hurts every method
        if "HS-Huffman" in gain and len(gain) > 1:
            others = {m: g for m, g in gain.items() if m != "HS-Huffman"}
            out.append(Claim(
                "Subsampling helps hierarchical softmax most (a gain in total accuracy, the largest)",
                gain["HS-Huffman"] > 0 and all(gain["HS-Huffman"] > g for g in others.values()),
                ", ".join(f"{m} {100 * g:+.1f} points" for m, g in gain.items())))
    return out


# -- the whole result -----------------------------------------------------------------------------------
@dataclass
class Table1Result:
    """Rows done so far, the paper's table, the claims; JSON per issue 18 plus `settings`."""

    rows: list[Row] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    interrupted: bool = False

    def to_json(self) -> dict:
        return {
            "rows": [r.to_json() for r in self.rows],
            "paper": [dict(asdict(p), syntactic=p.syntactic / 100, semantic=p.semantic / 100,
                           total=p.total / 100) for p in PAPER_TABLE1],
            "claims": [c.to_json() for c in claims(self.rows)],
            "settings": self.settings,
            "interrupted": self.interrupted,
        }

    @classmethod
    def from_json(cls, d: dict) -> Table1Result:
        """Read back what `to_json` wrote (e.g. a kept result); raises KeyError/TypeError/ValueError."""
        return cls([Row.from_json(r) for r in d["rows"]], dict(d.get("settings") or {}),
                   bool(d.get("interrupted", False)))


def describe(settings: Settings, corpus: Corpus, corpus_name: str) -> dict:
    """The `settings` block of a result: what differs from the paper, stated."""
    return {
        "corpus": corpus_name, "words": len(corpus), "vocabulary": len(corpus.vocab),
        "epochs": settings.epochs, "size": settings.size, "window": settings.window,
        "min_count": settings.min_count, "threads": settings.threads, "seed": settings.seed,
        "restrict": settings.restrict, "architecture": "skip-gram",
        "subsample_formula": "paper", "subsample_formula_note": FORMULA_NOTE,
        "paper_setup": PAPER_SETUP,
    }


class _RowProgress(Callback):
    """Forwards progress ticks with the row index, and stops training when `stop` is set."""

    def __init__(self, index: int, on_progress: Callable[[int, Progress], None] | None,
                 stop: threading.Event):
        # subtle: not named on_progress, which would shadow the method the trainer calls
        self.index, self.forward, self.stop = index, on_progress, stop

    def on_progress(self, event: Progress) -> bool:
        if self.forward is not None:
            self.forward(self.index, event)
        return self.stop.is_set()

    def on_epoch_end(self, event) -> bool:
        return self.stop.is_set()


def keep_name(method: str, sample: float) -> str:
    """The kept vector file of a row, e.g. 'NEG-5_t0.bin', 'HS-Huffman_t1e-05.bin'."""
    return f"{method}_t{sample:g}.bin"


def run_rows(corpus: Corpus, questions: Sequence[AnalogySection], plan: Sequence[tuple[str, float]],
             settings: Settings, *, keep_dir: str | Path | None = None,
             on_progress: Callable[[int, Progress], None] | None = None,
             on_row: Callable[[Row], None] | None = None,
             stop: threading.Event | None = None) -> tuple[list[Row], bool]:
    """Train and score each (method, sample) of `plan` in order on `corpus`, one Trainer each.

    Returns (rows done, interrupted). Setting `stop` ends the current row at its next chunk; that
    row is dropped (a half-trained row is not a result) and the rows before it are returned.
    A row whose training diverges is reported with the last good epoch's vectors, like `train`.
    """
    from .train.trainer import Trainer  # subtle: Numba's ~90 MB load only when a row actually trains
    from .vectors.vector_io import save

    stop = stop or threading.Event()
    rows: list[Row] = []
    for i, (method, sample) in enumerate(plan):
        if stop.is_set():
            return rows, True
        trainer = Trainer(corpus, config_for(method, sample, settings))
        result = trainer.train([_RowProgress(i, on_progress, stop)])
        if stop.is_set() or result.stopped:
            return rows, True
        path = None
        if keep_dir is not None:
            path = str(Path(keep_dir) / keep_name(method, sample))
            save(result.vectors, path, "binary")
        # subtle: the epochs' own seconds, not result.seconds, which also counts a first run's kernel compile
        seconds = sum(e.seconds for e in result.epochs) if result.epochs else result.seconds
        row = score_row(method, sample, result.vectors, seconds, questions, settings.restrict, path)
        rows.append(row)
        if on_row is not None:
            on_row(row)
    return rows, False


# -- Table 3: phrases ---------------------------------------------------------------------------------
PHRASE_THRESHOLDS = (200.0, 100.0)  # two word2phrase passes, decreasing (section 4; word2vec's demo-phrases.sh)


@dataclass
class PhraseCoverage:
    """How much of the phrase question set the corpus can answer at all, stated plainly."""

    questions: int  # questions in the file
    evaluated: int  # with all four tokens among the `restrict` most frequent tokens
    distinct: int  # distinct (lower-cased) tokens the questions name
    in_vocabulary: int  # of those, tokens in the trained vocabulary at any rank
    in_candidates: int  # of those, tokens among the `restrict` most frequent
    answerable: int  # questions with all four tokens in the vocabulary at any rank

    def sentence(self) -> str:
        q = max(self.questions, 1)
        return (f"{self.evaluated:,} of {self.questions:,} phrase questions ({100 * self.evaluated / q:.1f}%) "
                f"could be asked: the corpus has {self.in_vocabulary:,} of the {self.distinct:,} words and "
                f"phrases they name ({self.in_candidates:,} among the candidate words); "
                f"{self.answerable:,} questions have all four anywhere in the vocabulary.")


def phrase_coverage(vocab_words: Sequence[str], questions: Sequence[AnalogySection], restrict: int,
                    evaluated: int) -> PhraseCoverage:
    """Count which question tokens the corpus knows (case-insensitive, like the evaluation)."""
    rank: dict[str, int] = {}
    for i, w in enumerate(vocab_words):
        rank.setdefault(w.upper(), i)
    qs = [tuple(w.upper() for w in q) for s in questions for q in s.questions]
    distinct = {w for q in qs for w in q}
    known = {w for w in distinct if w in rank}
    return PhraseCoverage(
        questions=len(qs), evaluated=evaluated, distinct=len(distinct), in_vocabulary=len(known),
        in_candidates=sum(1 for w in known if rank[w] < restrict),
        answerable=sum(1 for q in qs if all(w in rank for w in q)))


@dataclass
class PhraseResult:
    rows: list[Row]
    coverage: PhraseCoverage | None
    phrase_types: int
    passes: list[dict]
    settings: dict
    interrupted: bool = False

    def to_json(self) -> dict:
        return {
            "rows": [r.to_json() for r in self.rows],
            "paper": [dict(asdict(p), no_subsampling=p.no_subsampling / 100, subsampling=p.subsampling / 100)
                      for p in PAPER_TABLE3],
            "coverage": asdict(self.coverage) if self.coverage else None,
            "coverage_note": self.coverage.sentence() if self.coverage else None,
            "phrase_types": self.phrase_types, "passes": self.passes,
            "settings": self.settings, "interrupted": self.interrupted,
        }


def run_phrases(source: str | Path, phrased_out: str | Path, questions: Sequence[AnalogySection],
                plan: Sequence[tuple[str, float]], settings: Settings, *,
                thresholds: tuple[float, ...] = PHRASE_THRESHOLDS, corpus_name: str = "",
                keep_dir: str | Path | None = None,
                on_stage: Callable[[str], None] | None = None,
                on_phrase_progress: Callable[[float], None] | None = None,
                on_progress: Callable[[int, Progress], None] | None = None,
                on_row: Callable[[Row], None] | None = None,
                stop: threading.Event | None = None) -> PhraseResult:
    """Two (or more) word2phrase passes over `source` into `phrased_out`, then the rows of `plan`
    (skip-gram on the phrased corpus), each scored on the phrase analogy `questions`."""
    from .corpus import read_corpus
    from .phrases import PhraseConfig, detect_phrases

    stage = on_stage or (lambda s: None)
    stage("phrases")
    model = detect_phrases(source, phrased_out, PhraseConfig(thresholds=tuple(thresholds),
                                                           min_count=settings.min_count),
                           progress=on_phrase_progress)
    stage("reading")
    corpus = read_corpus(phrased_out, min_count=settings.min_count)
    stage("training")
    rows, interrupted = run_rows(corpus, questions, plan, settings, keep_dir=keep_dir,
                                 on_progress=on_progress, on_row=on_row, stop=stop)
    evaluated = max((r.evaluated for r in rows), default=0)
    cov = phrase_coverage(corpus.vocab.words, questions, settings.restrict, evaluated)
    info = describe(settings, corpus, corpus_name)
    info["phrase_thresholds"] = list(thresholds)
    passes = [{"pass": p.pass_no, "threshold": p.threshold, "phrase_types": p.phrase_types, "merges": p.merges}
              for p in model.passes]
    return PhraseResult(rows, cov, len(model.phrases), passes, info, interrupted)
