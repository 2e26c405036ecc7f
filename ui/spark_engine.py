"""The Train page's Spark engine: whether it can run here, and a run that trains on Spark.

Does: say in one line why the Spark engine is off (hosted server, no pyspark, no Java), and wrap
core.spark.SparkTrainer in a trainer-like object for ui/runs.py: it validates the config and
builds the tables at once (like Trainer, so a bad config fails at Start), and starts Spark
(local[2]) and ships the loaded corpus to it only inside the run's thread, so the page never
waits for a JVM. Pages read it like a Trainer (vocab, config, corpus, huffman, W_in, W_out,
vectors); the matrices are the Spark driver's merged ones once training has begun.
Does not: import pyspark before a run starts (core.spark.session does), or import Streamlit.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence

from core.config import ConfigError, Loss, TrainConfig
from core.corpus import Corpus
from core.events import Callback
from core.train.trainer import Trainer, TrainResult

from . import hosted

MASTER = "local[2]"  # this machine's cores, in separate Python workers (the laptop case)
PARTITIONS = 2
ROUNDS_PER_EPOCH = 20  # the app's corpora are small: merge often, so progress ticks and accuracy holds
MIN_SYNC_WORDS = 5_000  # below this a round is mostly Spark's scheduling


def unavailable(limits: hosted.HostedLimits | None = None) -> str | None:
    """None when the Spark engine can be offered, else one line saying why not."""
    limits = limits or hosted.settings()
    if limits.hosted:
        return "Spark is off on this hosted server: it would start Java processes beyond the server's limits."
    from core.spark.session import SparkUnavailable, check_requirements

    try:
        check_requirements()
    except SparkUnavailable as e:
        return f"Spark is not available: {e}."
    return None


def sync_words(partition_words: int) -> int:
    """Words each partition trains between two merges for a partition of `partition_words` words."""
    return max(MIN_SYNC_WORDS, -(-partition_words // ROUNDS_PER_EPOCH))


class SparkRun:
    """A trainer-like object (ui/runs.py's Run.trainer) that trains `corpus` on Spark."""

    def __init__(self, corpus: Corpus, config: TrainConfig, master: str = MASTER, partitions: int = PARTITIONS):
        if config.resolved().loss == Loss.SOFTMAX:
            raise ConfigError("the Spark engine does not train the full softmax: choose NS, HS or NCE, "
                              "or train in this process")
        # subtle: the same tables and initial matrices the Spark driver builds (one thread, no
        # buffered rows), so pages can show this run before Spark has started
        self._local = Trainer(corpus, dataclasses.replace(config, threads=1, hot_rows=0))
        self.master, self.partitions = master, partitions
        self._spark = None
        self._stop = threading.Event()

    def __getattr__(self, name: str):  # vocab, config, corpus, huffman, tables...: the local Trainer's
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._local, name)

    @property
    def W_in(self):
        return (self._spark or self._local).W_in

    @property
    def W_out(self):
        return (self._spark or self._local).W_out

    @property
    def vectors(self):
        return (self._spark or self._local).vectors

    def stop(self) -> None:
        """End training after the current round (before Spark starts: at once)."""
        self._stop.set()
        if self._spark is not None:
            self._spark.stop()

    def train(self, callbacks: Sequence[Callback] = ()) -> TrainResult:
        """Start (or reuse) Spark, ship the corpus, train; raises SparkUnavailable in one line."""
        from core.spark import SparkTrainer
        from core.spark.data import from_corpus
        from core.spark.session import get_session, running_session

        corpus = self._local.corpus
        spark = running_session() or get_session(self.master)
        spark.sparkContext.setLogLevel("ERROR")
        held = from_corpus(spark, corpus, self.partitions)
        try:
            trainer = SparkTrainer(held, self._local.config, spark=spark,
                                   sync_words=sync_words(max(held.partition_words)))
            self._spark = trainer
            if self._stop.is_set():
                trainer.stop()
            try:
                return trainer.train(callbacks)
            finally:
                trainer.close()
        finally:
            held.close()
