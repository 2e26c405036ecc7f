"""The trainer's callback protocol: what the app and the CLI observe while a model trains.

Does: define the event records (plain dataclasses of numbers and arrays) and the Callback base.
Does not: compute anything; the trainer fills these in. Callbacks run on the thread that called
`Trainer.train` (the app's background thread), never on a Numba worker.

Order of calls: on_train_begin; on_progress with 0 words done while the kernels are compiled or
loaded (a first run takes ~10 s; not counted in any epoch's seconds); then per epoch any number
of on_progress (at most every `progress_interval` seconds, ~0.25 s) and one on_epoch_end, then
on_train_end exactly once
(also after a stop, an error or divergence). Any method returning True asks training to stop;
it then ends at the next chunk boundary with consistent vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class TrainBegin:
    """Sent once before the first epoch."""

    vocab_size: int  # V
    corpus_words: int  # in-vocabulary tokens per epoch (before subsampling)
    epochs: int
    threads: int
    config: object  # the resolved TrainConfig
    snapshot: np.ndarray | None = None  # (N, D) float32 top-N input vectors before training, if asked


@dataclass
class Progress:
    """A throttled progress tick (at most every ~0.25 s)."""

    epoch: int  # 0-based epoch in progress
    words_done: int  # corpus words processed so far, over all epochs
    words_total: int  # corpus words * epochs
    alpha: float  # current learning rate (of the slowest worker)
    loss: float  # running mean loss per example in this epoch so far (nan when loss is off)
    words_per_sec: float  # over the whole run so far
    seconds: float  # since training began

    @property
    def fraction(self) -> float:
        return self.words_done / self.words_total if self.words_total else 1.0

    @property
    def eta_seconds(self) -> float:
        remaining = self.words_total - self.words_done
        return remaining / self.words_per_sec if self.words_per_sec > 0 else float("nan")


@dataclass
class EpochEnd:
    """Sent after every completed epoch, with everything measured during that epoch."""

    epoch: int  # 0-based
    loss: float  # exact mean loss per training example (float64 sums; nan when loss is off)
    examples: int  # training examples (skip-gram: (context, centre) pairs; CBOW: windows)
    words: int  # corpus words processed in this epoch (before subsampling)
    words_per_sec: float
    seconds: float
    alpha: float  # learning rate at the end of the epoch
    # the three counts are None when the config's track_counts is off
    seen: np.ndarray | None  # (V,) int64 occurrences of each word read this epoch
    kept: np.ndarray | None  # (V,) int64 occurrences that survived subsampling
    negatives: np.ndarray | None  # (V,) int64 times each word was drawn as a noise sample (NS/NCE)
    snapshot: np.ndarray | None = None  # (N, D) float32 copy of the top-N input vectors, if asked


@dataclass
class TrainEnd:
    """Sent exactly once when training is over, whatever the reason."""

    epochs_completed: int
    seconds: float
    words_per_sec: float
    stopped: bool  # a callback or stop() ended training early
    error: str | None = None  # e.g. divergence: the message; vectors are the last good epoch's
    epoch_losses: list[float] = field(default_factory=list)


class Callback:
    """Base class: override what you need. Return True from any method to stop training."""

    def on_train_begin(self, event: TrainBegin) -> bool | None:
        return None

    def on_progress(self, event: Progress) -> bool | None:
        return None

    def on_epoch_end(self, event: EpochEnd) -> bool | None:
        return None

    def on_train_end(self, event: TrainEnd) -> bool | None:
        return None
