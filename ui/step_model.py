"""The Step-by-step page's model: the tiny teaching text and a warm start bounded by a stated cap.

Does: read sample_corpora/tiny.txt (shipped with the app; every word kept); offer the warm starts
("train N epochs first") that this server's limits allow; build a fresh Trainer for the page and,
for a warm start, train it on the caller's thread only when epochs x words stays within
WARM_WORD_CAP, after the same hosted checks as the Train page (ui/presets.within_limits).
Does not: train anything but the tiny text, queue, or apply the page's single steps
(core/train/step.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from core.config import ConfigError, TrainConfig
from core.corpus import Corpus, read_corpus
from core.train.trainer import Trainer

from . import hosted, presets

TINY = Path(__file__).resolve().parents[1] / "sample_corpora" / "tiny.txt"
WARM_EPOCHS = (0, 5, 50)  # the page's "start from" choices: initial weights, or after N epochs
# subtle: the warm start trains on the page's own thread (outside the training queue), so it is capped in
# words trained: 50 epochs of tiny.txt's 259 words are 12,950, a few milliseconds once the kernels are compiled
WARM_WORD_CAP = 20_000


def tiny_corpus() -> Corpus:
    """The tiny teaching text, every word kept (CorpusError / OSError when the install lacks it)."""
    return read_corpus(TINY, min_count=1)


def warm_choices(limits: hosted.HostedLimits | None = None) -> list[int]:
    """The warm starts this server allows (a hosted epoch cap removes the longer ones)."""
    limits = limits or hosted.settings()
    return [e for e in WARM_EPOCHS if limits.max_epochs is None or e <= limits.max_epochs]


def warm_trainer(corpus: Corpus, cfg: TrainConfig, warm: int,
                 limits: hosted.HostedLimits | None = None) -> Trainer:
    """A Trainer for `cfg` on `corpus` (cfg's epochs replaced by `warm`), trained `warm` epochs first
    (0: the initial weights, W_in random and W_out zero).

    Raises ConfigError when the warm start is above this server's caps or above WARM_WORD_CAP."""
    cfg = presets.within_limits(dataclasses.replace(cfg, epochs=max(1, warm)), limits)
    if warm * len(corpus) > WARM_WORD_CAP:
        raise ConfigError(f"a warm start of {warm} epochs x {len(corpus):,} words is above this page's cap of "
                          f"{WARM_WORD_CAP:,} words")
    trainer = Trainer(corpus, cfg)
    if warm:
        trainer.train()
    return trainer
