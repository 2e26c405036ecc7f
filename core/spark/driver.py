"""The Spark engine's driver: data-parallel training in rounds with our kernels on the executors.

Does: count the vocabulary on Spark and encode the partitions (data.py); build the tables and the
initial matrices on the driver with the same Trainer code as one process, and broadcast the tables
once; then train in rounds, every partition its next slice of about `sync_words` words from the
same model, the changed rows merged (merge.py) before the next round. Two ways to exchange them
(`exchange`): "peer" (the default, gang.py) runs an epoch as one barrier stage whose tasks keep the
model and swap their changed rows directly, reporting each round here; "driver" runs a Spark job
a round: broadcast the current (W_in, W_out), train (executor.py; the job reads only that round's
slices, data.round_slices), collect the changed rows and merge them here. Records where each
round's time went (RoundTiming). With the peer exchange and more partitions than task slots,
a task's partitions train one after another as one model replica (`replicas="tasks"`, the
default) or each from the round's model (`replicas="partitions"`). One learning-rate schedule:
every partition is at the same fraction of its words after each round. Sends the events of
core/events.py (one progress tick per round, one EpochEnd per epoch), so the CLI's progress bar
and the app follow a Spark run; a callback or stop() ends it after the round (peer: after the
round under way).
Does not: tokenise or train on the driver, or keep executor state between stages (a task is a
pure function of its inputs, so retried tasks and rerun stages are harmless).

Determinism: for a given seed, input and partition count (and, with replicas="tasks" and more
partitions than slots, task slot count) a run is bit-identical, and with one replica per
partition the same for both exchanges: documents are cut into contiguous ranges, the
vocabulary's ties are broken alphabetically, every slice's random stream continues from round to
round, and changes are merged in partition (chained: task) order. One partition with one round
per epoch trains exactly what Trainer does with one thread.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import ConfigError, Loss, TrainConfig
from ..corpus import Corpus
from ..events import Callback, EpochEnd, Progress, TrainBegin, TrainEnd
from .deltas import DELTA_DEFAULT, DELTA_FORMATS, decode
from .merge import MERGE_DEFAULT, NEEDS_COUNTS, merge, momentum_step, rule_parts, run_rule
from .session import get_session


@dataclass
class RoundTiming:
    """Where one round's time went (README's scaling statement is built from these)."""

    seconds: float  # the whole round on the driver: broadcast, tasks, collect, merge
    compute: float  # the slowest task's kernel time
    merge: float  # the driver's merge
    bytes_out: int  # the model broadcast to every executor (W_in and W_out)
    bytes_back: int  # ids + deltas returned by all partitions
    rows_back: int  # changed rows returned by all partitions (W_in and W_out)
    broadcast: float = 0.0  # the driver's sc.broadcast of the model (pickling, handing it to the JVM)
    job: float = 0.0  # the Spark job: from submitting the tasks to holding every result on the driver
    load: float = 0.0  # the slowest task's reading of the broadcast model
    task: float = 0.0  # the slowest task from reading the model to returning its result (not shipping it)
    launch: float = 0.0  # submitting the job to the first task's start (wall clocks: one machine only)
    ship: float = 0.0  # the last task's end to the driver holding every result (pickling, JVM, collect)
    exchange: float = 0.0  # peer exchange: sending this task's changes and receiving every other's

EXCHANGES = ("peer", "driver")
EXCHANGE_DEFAULT = "peer"  # gang.py: one barrier stage an epoch, the tasks swap their changes
ROUND_WORDS = 100_000  # default words trained per round over all partitions, down to MIN_SYNC_WORDS each
# subtle: 50k words per partition a round is the measured trade-off (README, 19M-word corpus, 2
# partitions, one epoch against one process's 20.45 %: 200k words 17.94 %, 100k 19.12 %, 50k
# 19.94 %, at about 2.5x the rounds' time of 200k); below it a round's fixed cost (broadcast,
# launch, shipping, merge: ~0.3-0.4 s here) outweighs its kernel, so 8 partitions keep 50k each
MIN_SYNC_WORDS = 50_000  # the default never cuts a partition's share of a round below this


REPLICAS = ("tasks", "partitions")
# "tasks" (default): with the peer exchange, a task holding several partitions (more partitions
# than task slots) trains them one after another as one model replica, so a run has as many
# replicas as tasks run at once, and its result depends on that number too. "partitions": every
# partition is its own replica whatever the slots (the result depends on the partition count only).
# subtle: accuracy follows the number of replicas, not of partitions (README: 8 partitions on
# 2 executors, 8 replicas 10.8 %, 2 replicas 20.1 %; MLlib's tasks in one JVM share one model too)
REPLICAS_DEFAULT = "tasks"


def default_sync_words(partitions: int, replicas: int | None = None) -> int:
    """Words per partition per round by default: ROUND_WORDS shared by the replicas (so the
    staleness of a round, words trained from the same model, does not grow with their count), but
    at least MIN_SYNC_WORDS a replica: 100k with one, 50k from two on. A replica of several
    partitions (`replicas` < `partitions`) trains that share over its partitions together."""
    r = max(1, replicas or partitions)
    return max(1, max(MIN_SYNC_WORDS, ROUND_WORDS // r) * r // max(1, partitions))


class SparkTrainer:
    """Trains word vectors on Spark. Build once (reads and encodes the corpus), call `train()` once.

    `source`: a text file or folder (one document per line; .gz too), with `text_column` a Parquet
    dataset, or a data.SparkCorpus already prepared (then `partitions` is its own; it stays open).
    `spark`: a SparkSession to use; else one is started on `master`.
    `replicas`: "tasks" (default) or "partitions", see REPLICAS; `task_threads`: with "tasks", how
    many of a task's partitions train at once on its copy (set spark.task.cpus to match).
    Read-only for observers after construction: `config`, `vocab`, `partition_words`, `tasks` (task
    slots used), `replicas` (model copies trained at once), `chain`, `task_threads`, `sync_words`,
    `merge_rule` (the rule used: merge.run_rule of the one given).
    """

    def __init__(self, source, config: TrainConfig | None = None, *, master: str | None = None,
                 partitions: int = 2, sync_words: int | None = None, merge_rule: str = MERGE_DEFAULT,
                 text_column: str | None = None, lowercase: bool = True, spark=None, fail_partition: int = -1,
                 block_momentum: float = 0.0, deltas: str = DELTA_DEFAULT, exchange: str = EXCHANGE_DEFAULT,
                 replicas: str = REPLICAS_DEFAULT, task_threads: int = 1):
        import dataclasses

        cfg = (config or TrainConfig()).resolved()
        if cfg.loss == Loss.SOFTMAX:
            raise ConfigError("the Spark engine does not train full softmax (every example changes all "
                              "V output rows, so every round would ship the whole matrix): use ns, hs or nce")
        if partitions < 1:
            raise ConfigError(f"partitions must be >= 1 (got {partitions})")
        if sync_words is not None and sync_words < 1:
            raise ConfigError(f"sync_words must be >= 1 (got {sync_words})")
        try:
            rule_parts(merge_rule)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        # subtle: one thread per task (Spark's cores are the parallelism) and no buffered rows
        self.config = dataclasses.replace(cfg, threads=1, hot_rows=0)
        if not 0.0 <= block_momentum < 1.0:
            raise ConfigError(f"block momentum must be in [0, 1) (got {block_momentum})")
        # experimental, off by default: block momentum over the merged rounds (BMUF, Chen & Huo 2016)
        self.block_momentum = block_momentum
        self.fail_partition = fail_partition
        self.injected_failures = 0  # peer exchange, tests: stages that failed on purpose (and were rerun)
        if exchange not in EXCHANGES:
            raise ConfigError(f"unknown exchange {exchange!r}; one of {', '.join(EXCHANGES)}")
        if exchange == "peer" and block_momentum:
            raise ConfigError("block momentum needs the driver exchange (exchange='driver')")
        self.exchange = exchange
        if replicas not in REPLICAS:
            raise ConfigError(f"unknown replicas {replicas!r}; one of {', '.join(REPLICAS)}")
        if task_threads < 1:
            raise ConfigError(f"task threads must be >= 1 (got {task_threads})")
        if task_threads > 1 and (exchange != "peer" or replicas != "tasks"):
            raise ConfigError("task threads train a task's partitions on one copy: they need the peer "
                              "exchange and replicas='tasks'")
        # Hogwild threads in a task, on its one copy: fewer replicas on many-core executors, but a
        # seeded run no longer repeats bit for bit (as one process with several threads)
        self.task_threads = task_threads
        self._velocity = None  # block momentum's last step per matrix
        self._stage_rdd, self._stage_persisted = None, False  # the peer exchange's stage input (gang.py)
        if deltas not in DELTA_FORMATS:
            raise ConfigError(f"unknown delta format {deltas!r}; one of {', '.join(DELTA_FORMATS)}")
        self.deltas = deltas  # how the tasks ship their changed rows back (deltas.py)
        self._stop = threading.Event()
        self._trained = False
        self.timings: list[RoundTiming] = []  # one per round, filled by train()
        self.stage_seconds: list[tuple[float, float]] = []  # peer exchange: (start-up, wind-down) per epoch
        self._last_split = (0.0, 0.0, 0.0, 0.0)  # (broadcast, job, launch, ship) seconds of the last round
        self.spark = spark if spark is not None else get_session(master)
        from ..train.slices import slice_model
        from ..train.trainer import Trainer
        from .data import SparkCorpus, prepare_corpus

        self._owns_corpus = not isinstance(source, SparkCorpus)
        # the peer exchange's barrier stage runs one task per slot (spark.task.cpus cores each),
        # holding partitions p mod tasks
        cpus = max(1, int(self.spark.sparkContext.getConf().get("spark.task.cpus", "1")))
        slots = max(1, self.spark.sparkContext.defaultParallelism // cpus)
        if isinstance(source, SparkCorpus):
            self.corpus = source
        else:  # read straight into the stage's layout when the tasks will hold several partitions
            self.corpus = prepare_corpus(self.spark, source, partitions, cfg.min_count, cfg.max_vocab,
                                         cfg.max_sentence, text_column, lowercase,
                                         groups=slots if exchange == "peer" else None)
        self.partitions = self.corpus.partitions
        self.tasks = min(self.partitions, slots) if exchange == "peer" else self.partitions
        self.chain = replicas == "tasks" and self.tasks < self.partitions
        self.replicas = self.tasks if self.chain else self.partitions  # model copies trained at once
        self.merge_rule = run_rule(merge_rule, cfg.loss == Loss.HS, self.chain)
        self.sync_words = sync_words or default_sync_words(self.partitions, self.replicas)
        self.vocab = self.corpus.vocab
        self.encoded = self.corpus.encoded
        self.partition_words = self.corpus.partition_words
        # the same tables and initial matrices as one process (Trainer needs only the vocabulary)
        empty = Corpus(np.zeros(0, np.int32), np.zeros(1, np.int64), self.vocab)
        trainer = Trainer(empty, self.config)
        self.W_in, self.W_out = trainer.W_in, trainer.W_out
        self._model_bc = self.spark.sparkContext.broadcast(slice_model(trainer))
        self._slices = None  # the corpus cut into the rounds' slices (data.round_slices), made by train()
        self._rounds = 0

    def stop(self) -> None:
        """Ask training to end after the current round (thread-safe)."""
        self._stop.set()

    @property
    def vectors(self):
        from ..vectors.keyed import Vectors

        return Vectors(self.vocab.words, self.W_in, self.vocab.counts)

    def close(self) -> None:
        """Free the executors' copies of the corpus and the tables (the session stays)."""
        self._model_bc.unpersist()
        if self._slices is not None:
            self._slices.unpersist()
        if self._stage_persisted:
            self._stage_rdd.unpersist()
        if self._owns_corpus:
            self.corpus.close()

    def _round(self, plan) -> list:
        from .data import slice_partition
        from .executor import train_round

        sc = self.spark.sparkContext
        t0 = time.perf_counter()
        mats = sc.broadcast((self.W_in, self.W_out))
        model_bc = self._model_bc

        def task(part):
            started = time.time()
            for p, r, start, words, tokens, offsets in part:
                if r != plan.index:  # the group's other rounds' slices
                    continue
                t = time.perf_counter()
                W_in, W_out = mats.value
                load = time.perf_counter() - t
                res = train_round(plan, model_bc.value, W_in, W_out, p, tokens, offsets, start, words)
                res.load_seconds, res.started, res.ended = load, started, time.time()
                yield res

        t1, submitted = time.perf_counter(), time.time()
        try:
            # subtle: only the partitions holding this round's slices are read (data.slice_partition)
            results = sc.runJob(self._slices, task, [slice_partition(p, plan.index, self._rounds)
                                                     for p in range(self.partitions)])
        finally:
            mats.destroy()
        t2, collected = time.perf_counter(), time.time()
        self._last_split = (t1 - t0, t2 - t1, min(x.started for x in results) - submitted,
                            collected - max(x.ended for x in results))
        return results

    def _warm_up(self, rdd) -> None:
        """Compile (or load from the cache) the kernels on every executor with an empty slice,
        over every record of `rdd` (the driver exchange's slices or the peer exchange's stage
        input: both records end with (tokens, offsets)), which also fills its cache.

        subtle: over every slice, so that the corpus is cut (the shuffle) and every slice cached
        now: a round that read its slices from the shuffle files instead would run a second
        Python stage per task (measured: 0.15 s more task launch a round)"""
        model_bc = self._model_bc
        seed = self.config.seed
        from ..train.slices import slice_rng, train_slice

        def task(part):
            for record in part:
                tokens, offsets = record[-2], record[-1]
                train_slice(model_bc.value, np.zeros((2, 1), np.float32), np.zeros((2, 1), np.float32),
                            tokens[:0], offsets[:1] * 0, 0, 0, 0, 1.0, slice_rng(seed, 0))
                yield record[0]

        rdd.mapPartitions(task).count()

    # -- the run ------------------------------------------------------------------------------
    def train(self, callbacks: Sequence[Callback] = ()):
        """Train for config.epochs epochs in rounds; returns a trainer.TrainResult."""
        from ..train.slices import slice_rng
        from ..train.trainer import TrainResult

        if self._trained:
            raise RuntimeError("a SparkTrainer trains once; build a new one")
        self._trained = True
        cfg = self.config
        n_words = sum(self.partition_words)
        total_words = n_words * cfg.epochs
        rounds = max(1, math.ceil(max(self.partition_words) / self.sync_words))
        self._rounds = rounds
        v = len(self.vocab)
        nc = v if cfg.track_counts else 0
        snap_n = min(cfg.snapshot_topn, v)

        def notify(method: str, event) -> None:
            for cb in callbacks:
                if getattr(cb, method)(event):
                    self._stop.set()

        start = time.perf_counter()
        notify("on_train_begin", TrainBegin(v, n_words, cfg.epochs, self.partitions, cfg,
                                            self.W_in[:snap_n].copy() if snap_n else None))
        notify("on_progress", Progress(0, 0, total_words, cfg.alpha, float("nan"), 0.0, 0.0))
        if self.exchange == "peer":
            from .gang import stage_records

            self._stage_rdd, self._stage_persisted = stage_records(self.encoded, self.partitions, self.tasks,
                                                                   self.corpus.groups)
            self._warm_up(self._stage_rdd)
        else:
            from .data import round_slices

            self._slices = round_slices(self.encoded, self.partitions, rounds)
            self._warm_up(self._slices)
            if self._owns_corpus:  # the slices hold it now (a lost slice is recomputed from the source)
                self.encoded.unpersist()
        train_start = time.perf_counter()
        good = (self.W_in.copy(), self.W_out.copy())
        epochs: list[EpochEnd] = []
        error: str | None = None
        done_words = 0
        # partition p's random stream starts where Trainer's worker p starts, and continues
        rng_states = [int(slice_rng(cfg.seed, p)[0]) for p in range(self.partitions)]
        for epoch in range(cfg.epochs):
            if self._stop.is_set():
                break
            ep_start = time.perf_counter()
            sums = _EpochSums(nc, cfg.alpha)

            def progress(sums=sums, epoch=epoch, base=done_words) -> None:
                elapsed = time.perf_counter() - train_start
                done = base + sums.words
                notify("on_progress", Progress(
                    epoch, done, total_words, sums.alpha,
                    sums.loss / sums.examples if (cfg.compute_loss and sums.examples) else float("nan"),
                    done / elapsed if elapsed > 0 else 0.0, time.perf_counter() - start))

            run = self._peer_epoch if self.exchange == "peer" else self._driver_epoch
            rng_states = run(epoch, rounds, rng_states, sums, progress)
            if sums.diverged:
                error = (f"training diverged in epoch {epoch + 1} (loss became {sums.loss:.3g}): "
                         f"alpha={cfg.alpha} is too large; kept the vectors of epoch {epoch}")
                self.W_in[:], self.W_out[:] = good
                break
            if sums.words < n_words:  # stopped inside the epoch
                break
            ep_seconds = time.perf_counter() - ep_start
            done_words += sums.words
            good[0][:], good[1][:] = self.W_in, self.W_out
            mean_loss = sums.loss / sums.examples if (cfg.compute_loss and sums.examples) else float("nan")
            ev = EpochEnd(epoch=epoch, loss=mean_loss, examples=sums.examples, words=sums.words,
                          words_per_sec=sums.words / ep_seconds if ep_seconds > 0 else 0.0,
                          seconds=ep_seconds, alpha=sums.alpha, seen=sums.seen if nc else None,
                          kept=sums.kept if nc else None, negatives=sums.negs if nc else None,
                          snapshot=self.W_in[:snap_n].copy() if snap_n else None)
            epochs.append(ev)
            notify("on_epoch_end", ev)
        seconds = time.perf_counter() - start
        result = TrainResult(
            vectors=self.vectors, epochs_completed=len(epochs), seconds=seconds,
            words_per_sec=done_words / seconds if seconds > 0 else 0.0,
            stopped=self._stop.is_set() and error is None and len(epochs) < cfg.epochs, error=error, epochs=epochs)
        notify("on_train_end", TrainEnd(result.epochs_completed, seconds, result.words_per_sec, result.stopped,
                                        error, [e.loss for e in epochs]))
        return result

    def _driver_epoch(self, epoch: int, rounds: int, rng_states: list[int], sums: _EpochSums,
                      progress) -> list[int]:
        """One epoch with the "driver" exchange: a Spark job a round, merged on the driver."""
        from .executor import RoundPlan

        cfg = self.config
        velocity = self._velocity
        for r in range(rounds):
            if self._stop.is_set():
                break
            plan = RoundPlan(epoch, r, rounds, cfg.epochs, self.partitions, tuple(rng_states),
                             self.fail_partition, any(r in NEEDS_COUNTS for r in rule_parts(self.merge_rule)),
                             self.deltas)
            t_round = time.perf_counter()
            results = sorted(self._round(plan), key=lambda res: res.partition)
            rng_states = [x.rng_state for x in results]
            t_merge = time.perf_counter()
            if self.block_momentum:
                before = (self.W_in.copy(), self.W_out.copy())
            merge(self.W_in, ((*decode(x.in_rows), x.in_counts) for x in results), self.merge_rule)
            merge(self.W_out, ((*decode(x.out_rows), x.out_counts) for x in results), self.merge_rule,
                  output=True)
            if self.block_momentum:
                if velocity is None:
                    velocity = self._velocity = (np.zeros_like(self.W_in), np.zeros_like(self.W_out))
                for W, W0, v in zip((self.W_in, self.W_out), before, velocity, strict=True):
                    momentum_step(W, W0, v, self.block_momentum)
            now = time.perf_counter()
            self.timings.append(RoundTiming(
                now - t_round, max(x.seconds for x in results), now - t_merge,
                self.W_in.nbytes + self.W_out.nbytes, sum(x.nbytes for x in results),
                sum(len(x.in_rows) + len(x.out_rows) for x in results), *self._last_split[:2],
                max(x.load_seconds for x in results),
                max(x.load_seconds + x.copy_seconds + x.seconds + x.diff_seconds for x in results),
                *self._last_split[2:]))
            for x in results:
                sums.add(x.stats.loss, x.stats.examples, x.stats.words, x.stats.alpha,
                         (x.stats.seen, x.stats.kept, x.stats.negatives))
            if not math.isfinite(sums.loss) or not np.isfinite(self.W_in).all():
                sums.diverged = True
                break
            progress()
        return rng_states

    def _peer_epoch(self, epoch: int, rounds: int, rng_states: list[int], sums: _EpochSums,
                    progress) -> list[int]:
        """One epoch with the "peer" exchange: one barrier stage whose tasks swap their changes."""
        import tempfile

        from .gang import StagePlan, StageServer

        cfg = self.config
        marker = ""
        if self.fail_partition >= 0:  # tests: the stage fails once and is rerun whole
            marker = tempfile.mktemp(prefix=f"w2v-fail-e{epoch}-")
        plan = StagePlan(epoch, rounds, cfg.epochs, self.partitions, tuple(self.partition_words),
                         tuple(rng_states), self.merge_rule, self.deltas,
                         any(r in NEEDS_COUNTS for r in rule_parts(self.merge_rule)), bool(cfg.track_counts),
                         fail_partition=self.fail_partition, fail_marker=marker, chain=self.chain,
                         threads=self.task_threads)
        seen_rounds = [-1]
        live = _EpochSums(0, cfg.alpha)  # the reports' running sums, for progress only

        def on_round(report: dict) -> bool:
            r = int(report["round"])
            if r <= seen_rounds[0]:  # a rerun stage reports its rounds again
                return self._stop.is_set()
            seen_rounds[0] = r
            self.timings.append(RoundTiming(
                report["seconds"], report["compute"], report["merge"], 0, report["bytes"], report["rows"],
                exchange=report["exchange"], task=report["seconds"]))
            live.add(report["loss"], report["examples"], report["words"], report["alpha"], None)
            if math.isfinite(report["loss"]):
                progress(live)
            return self._stop.is_set()

        server = StageServer(self.spark)
        try:
            rows = server.run(self._stage_rdd, plan, self._model_bc, self.W_in, self.W_out, on_round)
            self.stage_seconds.append((server.startup, server.wind_down))
        finally:
            if marker:
                import os

                self.injected_failures += os.path.exists(marker)
                with contextlib.suppress(OSError):
                    os.remove(marker)
        states = list(rng_states)
        for row in sorted(rows, key=lambda x: x["rank"]):
            if "model" in row:
                self.W_in[:], self.W_out[:] = row["model"]
            sums.diverged |= row["diverged"]
            for p, t in sorted(row["partitions"].items()):
                states[p] = t["rng_state"]
                sums.add(t["loss"], t["examples"], t["words"], t["alpha"], t["tallies"])
        if not math.isfinite(sums.loss) or not np.isfinite(self.W_in).all():
            sums.diverged = True
        return states


class _EpochSums:
    """The totals of one epoch over every partition's rounds."""

    def __init__(self, nc: int, alpha: float):
        self.loss, self.examples, self.words, self.alpha = 0.0, 0, 0, alpha
        self.nc = nc
        self.seen, self.kept, self.negs = (np.zeros(nc, np.int64) for _ in range(3))
        self.diverged = False

    def add(self, loss: float, examples: int, words: int, alpha: float, tallies) -> None:
        self.loss += loss
        self.examples += examples
        self.words += words
        if words and math.isfinite(alpha):
            self.alpha = alpha
        if self.nc and tallies is not None and tallies[0] is not None:
            self.seen += tallies[0]
            self.kept += tallies[1]
            self.negs += tallies[2]


def train_spark(source: str, config: TrainConfig | None = None, callbacks: Sequence[Callback] = (), **kwargs):
    """Convenience: build a SparkTrainer (keyword arguments as SparkTrainer's), train it, free it."""
    trainer = SparkTrainer(source, config, **kwargs)
    try:
        return trainer.train(callbacks)
    finally:
        trainer.close()
