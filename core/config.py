"""Training configuration: one frozen dataclass with a comment on every field, and its validation.

Does: hold and validate every trainer parameter, resolve architecture-dependent defaults.
Does not: read files or touch arrays.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from enum import IntEnum


class Architecture(IntEnum):
    """Which input rows form the hidden vector (the integer is what the kernels see)."""

    SKIPGRAM = 0
    CBOW = 1


class Loss(IntEnum):
    """Which output layer scores the target (the integer code the loss step dispatches on)."""

    NS = 0  # negative sampling (paper eq. 4)
    HS = 1  # hierarchical softmax over a Huffman tree (paper eq. 3)
    SOFTMAX = 2  # the full softmax the paper replaces (eq. 2), O(V) per example
    NCE = 3  # noise-contrastive estimation with k noise samples (Gutmann & Hyvarinen; paper 2.2)


class SubsampleFormula(IntEnum):
    """How frequent words are dropped (paper section 2.3 vs word2vec.c)."""

    PAPER = 0  # P_keep = sqrt(t / f)                (paper eq. 5: P_drop = 1 - sqrt(t/f))
    C = 1  # P_keep = sqrt(t / f) + t / f          (word2vec.c and gensim)


class ConfigError(ValueError):
    """A parameter the trainer cannot use; the message names it and says why."""


# The one place names meet enums: short keys (CLI flags, URL values, the app's parameter dicts) and labels.
ARCHITECTURE_NAMES = {"skipgram": Architecture.SKIPGRAM, "cbow": Architecture.CBOW}
LOSS_NAMES = {"ns": Loss.NS, "hs": Loss.HS, "softmax": Loss.SOFTMAX, "nce": Loss.NCE}
FORMULA_NAMES = {"paper": SubsampleFormula.PAPER, "c": SubsampleFormula.C}
ARCHITECTURE_LABELS = {Architecture.SKIPGRAM: "skip-gram", Architecture.CBOW: "CBOW"}
LOSS_LABELS = {Loss.NS: "negative sampling", Loss.HS: "hierarchical softmax", Loss.SOFTMAX: "full softmax",
               Loss.NCE: "NCE"}
LOSS_ABBREVIATIONS = {Loss.NS: "NS", Loss.HS: "HS", Loss.SOFTMAX: "softmax", Loss.NCE: "NCE"}  # tight spaces
SOFTMAX_MAX_VOCAB = 50_000  # full softmax costs O(V*D) per example; beyond this it is pointless
# output rows buffered per worker with 2+ threads, by loss (hot_rows.py measures why). History:
# 4096 on a Xeon (2.53 vs 2048's 2.50 M words/s); skip-gram 1024 and CBOW 256 from 2026-12-02 (Zen 5,
# L2 1 MB a core: 1024 rows 2.26 / 2.44 M words/s against 4096's 2.10 / 2.23). Since 2026-12-04 (Zen 4,
# also 1 MB of L2, on a host where a cache line crossing between the two vCPUs often takes 230-320
# ns instead of 60) a shared output row costs more than the copies' cache space: NS/NCE 4096 for both
# architectures (CBOW merging every 512 positions), while HS keeps 1024: its nodes below depth ~10
# are visited by few examples, and merging them cost more than sharing them (4096: 1.06-1.17x slower).
DEFAULT_HOT_ROWS = {Loss.NS: 4096, Loss.NCE: 4096, Loss.HS: 1024, Loss.SOFTMAX: 0}
DEFAULT_SHARED_POOL = 1  # shared negatives: noise words per window, in units of k (measured in bench/README.md)


@dataclass(frozen=True)
class TrainConfig:
    """Every parameter of one training run. `resolved()` fills the architecture-dependent defaults."""

    architecture: Architecture = Architecture.SKIPGRAM  # skip-gram or CBOW (paper section 2)
    loss: Loss = Loss.NS  # output layer: NS, HS, full softmax or NCE
    size: int = 100  # D, the vector dimension
    window: int = 5  # maximum window; each position draws its effective window in 1..window
    negative: int = 5  # k, noise samples per example for NS and NCE (paper: 5-20 small, 2-5 large data)
    ns_exponent: float = 0.75  # p in Pn(w) = U(w)^p / Z (paper: 3/4 beat unigram and uniform)
    sample: float = 1e-3  # subsampling threshold t; 0 disables (paper used 1e-5, word2vec.c default 1e-3)
    subsample_formula: SubsampleFormula = SubsampleFormula.C  # paper's or word2vec.c's keep probability
    min_count: int = 5  # words rarer than this are dropped from the vocabulary
    max_vocab: int | None = None  # keep at most this many most frequent words (None: no cap)
    epochs: int = 5  # passes over the corpus
    alpha: float | None = None  # start learning rate; None: 0.025 skip-gram, 0.05 CBOW (word2vec.c)
    min_alpha: float | None = None  # final learning rate; None: alpha * 1e-4 (word2vec.c's floor)
    threads: int | None = None  # worker threads; None: all cores. A seed with threads=1 is bit-exact
    seed: int = 1  # seeds initialisation and every random draw
    shared_negatives: bool = False  # skip-gram: draw the k negatives once per window (pWord2Vec), not per pair
    shared_pool: int | None = None  # with shared_negatives: noise words drawn per window, each pair taking k
    # of them in turn (kernels._pool_targets); None: DEFAULT_SHARED_POOL x k; k: every pair the same k
    compute_loss: bool = True  # accumulate the exact float64 loss (costs some speed)
    track_counts: bool = True  # count per word, each epoch, occurrences seen/kept and noise draws (~15% of SG time)
    hot_rows: int | None = None  # output rows each worker buffers, merged in tiers by use (hot_rows.py);
    # None: DEFAULT_HOT_ROWS (4096 for NS/NCE, 1024 for HS) with two or more threads, shared_negatives included
    # (since 2026-12-05: whole corpus, 3 seeds, epochs ~8 % faster in the host's fast phase and ~35 % in its
    # slow one, the loss 0.1 % higher, analogies 40.3 against 40.2 %); 0 with one thread (where it would
    # change nothing but exactness)
    snapshot_topn: int = 0  # keep a copy of the top-N input vectors after every epoch (0: none)
    max_sentence: int = 10_000  # sentences longer than this are split (gensim's limit)

    def resolved(self) -> TrainConfig:
        """Return a copy with defaults filled in and every field validated (raises ConfigError)."""
        alpha = self.alpha
        if alpha is None:
            alpha = 0.05 if self.architecture == Architecture.CBOW else 0.025
        min_alpha = self.min_alpha if self.min_alpha is not None else alpha * 1e-4
        threads = self.threads if self.threads is not None else (os.cpu_count() or 1)
        cfg = dataclasses.replace(
            self,
            architecture=Architecture(self.architecture),
            loss=Loss(self.loss),
            subsample_formula=SubsampleFormula(self.subsample_formula),
            alpha=float(alpha),
            min_alpha=float(min_alpha),
            threads=int(threads),
            shared_pool=int(self.shared_pool if self.shared_pool is not None
                            else DEFAULT_SHARED_POOL * self.negative),
            hot_rows=int(self.hot_rows if self.hot_rows is not None
                         else DEFAULT_HOT_ROWS[Loss(self.loss)]
                         if threads > 1 else 0),
        )
        cfg.validate()
        return cfg

    def validate(self) -> None:
        """Raise ConfigError with a one-line reason for the first invalid field."""
        checks = [
            (self.size > 0, f"size must be > 0 (got {self.size})"),
            (self.size <= 10_000, f"size must be <= 10000 (got {self.size})"),
            (self.window > 0, f"window must be > 0 (got {self.window})"),
            (self.epochs > 0, f"epochs must be > 0 (got {self.epochs})"),
            (self.min_count >= 1, f"min_count must be >= 1 (got {self.min_count})"),
            (self.max_vocab is None or self.max_vocab >= 2, f"max_vocab must be >= 2 (got {self.max_vocab})"),
            (self.sample >= 0, f"sample must be >= 0 (got {self.sample})"),
            (self.negative >= 0, f"negative must be >= 0 (got {self.negative})"),
            (self.negative <= 1000, f"negative must be <= 1000 (got {self.negative})"),
            (
                self.negative > 0 or self.loss not in (Loss.NS, Loss.NCE),
                f"loss {Loss(self.loss).name.lower()} needs negative >= 1 (got 0)",
            ),
            (0 <= self.ns_exponent <= 2, f"ns_exponent must be in [0, 2] (got {self.ns_exponent})"),
            (self.alpha is None or 0 < self.alpha < 10, f"alpha must be in (0, 10) (got {self.alpha})"),
            (self.min_alpha is None or self.min_alpha >= 0, f"min_alpha must be >= 0 (got {self.min_alpha})"),
            (self.threads is None or 1 <= self.threads <= 256, f"threads must be in 1..256 (got {self.threads})"),
            (self.snapshot_topn >= 0, f"snapshot_topn must be >= 0 (got {self.snapshot_topn})"),
            (self.hot_rows is None or 0 <= self.hot_rows <= 100_000,
             f"hot_rows must be in 0..100000 (got {self.hot_rows})"),
            (self.shared_pool is None or self.negative <= self.shared_pool <= 1000,
             f"shared_pool must be in negative..1000 (got {self.shared_pool})"),
            (self.max_sentence >= 2, f"max_sentence must be >= 2 (got {self.max_sentence})"),
            (0 <= self.seed < 2**63, f"seed must be in [0, 2^63) (got {self.seed})"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
