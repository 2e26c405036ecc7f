"""Train one slice of sentences from given matrices: the unit of work of a remote (Spark) worker.

Does: package what a worker needs besides the matrices and the tokens (`SliceModel`: the resolved
config, the output-layer tables and the keep probabilities of a `Trainer`; plain arrays and
namedtuples, so it pickles), and `train_slice`, which trains sentences [s_begin, s_end) of a
token array into the given W_in / W_out with one call of the compiled kernel and returns the
slice's loss, counts and last learning rate.
Does not: split a corpus, run epochs, merge the work of several workers or talk to Spark
(core/spark/ does), or buffer output rows (one thread per slice: every write goes to W_out).

subtle: this is the one place core/spark/ reaches the kernels, so a change of the kernel
signatures (train_chunk's arguments) is absorbed here and in trainer.py, nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Loss, TrainConfig
from ..tables import Tables
from .hot_rows import unbuffered
from .kernels import make_settings, make_tally, make_work, train_chunk


@dataclass(frozen=True)
class SliceModel:
    """The read-only part of a model that every slice of a run shares (picklable)."""

    config: TrainConfig  # resolved
    tables: Tables  # the kernels' tables (tables.py): noise alias table, Huffman codes, keep probabilities


@dataclass
class SliceStats:
    """What one slice measured (the counts are None when the config's track_counts is off)."""

    loss: float  # float64 sum of the loss over the slice's examples
    examples: int
    words: int  # corpus words read (before subsampling)
    alpha: float  # learning rate at the slice's last sentence
    seen: np.ndarray | None  # (V,) int64
    kept: np.ndarray | None  # (V,) int64
    negatives: np.ndarray | None  # (V,) int64


def slice_model(trainer) -> SliceModel:
    """The shareable part of a built `Trainer` (its kernel tables; not its matrices)."""
    return SliceModel(trainer.config, trainer.tables)


def train_slice(model: SliceModel, W_in: np.ndarray, W_out: np.ndarray, tokens: np.ndarray,
                offsets: np.ndarray, s_begin: int, s_end: int, base_words: int, inv_total: float,
                rng_state: np.ndarray, count: bool | None = None) -> SliceStats:
    """Train sentences [s_begin, s_end) of (tokens (N,) int32 or uint16, offsets (S+1,) int64) in place
    into W_in (V, D) and W_out ((V, D), (V-1, D) for HS) float32.

    The learning rate at a sentence is alpha0 - (alpha0 - min_alpha) (base_words + words read
    in this slice) inv_total, as in Trainer. rng_state (1,) uint64 is advanced in place.
    `count`: tally the per-word counts (None: as the config's track_counts says).
    """
    cfg = model.config
    v, dim = W_in.shape
    max_targets = max(cfg.negative + 1, model.tables.points.shape[1], 1)
    settings = make_settings(cfg.architecture, cfg.loss, cfg.window, cfg.negative, cfg.shared_negatives,
                             cfg.compute_loss, cfg.alpha, cfg.min_alpha, cfg.shared_pool, dim)
    work = make_work(cfg.max_sentence, cfg.window, max_targets, dim, W_out.shape[0], cfg.loss == Loss.SOFTMAX,
                     settings.pool)
    nc = v if (cfg.track_counts if count is None else count) else 0
    tally = make_tally(rng_state, nc)
    tally.totals[3] = cfg.alpha
    a, b = int(offsets[s_begin]), int(offsets[s_end])
    # the kernels take int32 ids: a view for int32 tokens, a widened copy of the slice for uint16
    ids = np.ascontiguousarray(tokens[a:b], dtype=np.int32)
    train_chunk(settings, model.tables, ids, offsets[s_begin:s_end + 1] - a, W_in, unbuffered(W_out),
                base_words, inv_total, tally, work)
    t = tally.totals
    return SliceStats(float(t[0]), int(t[1]), int(t[2]), float(t[3]),
                      tally.seen if nc else None, tally.kept if nc else None, tally.negatives if nc else None)

def slice_rng(seed: int, stream: int) -> np.ndarray:
    """The (1,) uint64 xorshift state of random stream `stream` of a seeded run (as Trainer's workers)."""
    from .trainer import _seed_state  # subtle: one derivation of per-worker states for both engines

    return _seed_state(seed, stream)
