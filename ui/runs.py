"""A training run in a background thread, observed by polling (no Streamlit calls in the thread).

Does: wrap core.train.trainer.Trainer (or a trainer-like object: ui/spark_engine.py) in a thread
per run (or one thread for a sequence of runs); a Callback copies every event into plain lists on
the `Run` object, which pages read from `st.fragment(run_every=...)`; stop() ends the run within
a chunk (~0.1 s; a Spark run: after its round); the run's vectors, per-epoch stats and snapshots
stay available after it ends so runs can be compared. Errors
become `run.error` (a one-line message), never an exception in the page. `warm_up()` compiles
the kernels once per process.
Admission: every run passes through a `TrainingQueue` before it trains. The process-wide `QUEUE`
lets at most `limit` runs train at once (None: no limit); the others wait in arrival order with
status 'queued' and a 1-based `queue_position`. Stopping a queued run takes it out of the queue
at once (it ends 'stopped' without having trained).
Does not: import Streamlit (so tests drive it directly), read corpora, or draw figures.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.config import ConfigError, TrainConfig
from core.corpus import Corpus
from core.events import Callback, EpochEnd, Progress, TrainBegin, TrainEnd
from core.train.trainer import Trainer, TrainResult
from core.vectors.keyed import Vectors

# subtle: when a source file changes, Streamlit drops the app's modules from sys.modules and the
# next script run imports them afresh; process-wide state kept in this module would restart (run
# ids from #1 again, a second empty training queue). It lives in a module object of its own,
# which has no file and is never dropped, and survives such re-imports.
_PROCESS = sys.modules.setdefault("_w2v_explorer_process", types.ModuleType("_w2v_explorer_process"))
_ids = _PROCESS.__dict__.setdefault("run_ids", itertools.count(1))


class TrainingQueue:
    """FIFO admission of training runs: at most `limit` train at once, the rest wait their turn.

    Thread-safe. A run thread calls `acquire` (blocks until the run is first in line and a slot
    is free, or the run is stopped) and `release` when it ends. Pages read `position`/`waiting`.
    """

    def __init__(self, limit: int | None = None):
        self._cond = threading.Condition()
        self._limit = limit
        self._waiting: list[Run] = []  # in arrival order; index 0 is next
        self._active: set[int] = set()  # ids of runs holding a slot
        self.peak = 0  # most runs ever active at once (for tests and logs)

    @property
    def limit(self) -> int | None:
        return self._limit

    def set_limit(self, limit: int | None) -> None:
        """Change the number of slots (e.g. when the operator's settings change); wakes waiters."""
        with self._cond:
            if limit != self._limit:
                self._limit = limit
                self._cond.notify_all()

    def _room(self) -> bool:
        return self._limit is None or len(self._active) < self._limit

    def acquire(self, run: Run) -> bool:
        """Wait for `run`'s turn. True: it holds a slot (call `release` later). False: it was
        stopped while waiting and has left the queue."""
        with self._cond:
            self._waiting.append(run)
            try:
                while True:
                    if run.stop_requested:
                        return False
                    if self._waiting[0] is run and self._room():
                        self._active.add(run.id)
                        self.peak = max(self.peak, len(self._active))
                        return True
                    self._cond.wait(timeout=1.0)  # woken by release/cancel; the timeout is a safety net
            finally:
                self._waiting = [r for r in self._waiting if r is not run]  # by identity, not dataclass ==
                self._cond.notify_all()  # the next in line may go now, or its position changed

    def release(self, run: Run) -> None:
        with self._cond:
            self._active.discard(run.id)
            self._cond.notify_all()

    def cancel(self, run: Run) -> None:
        """Wake the waiters so a stopped queued run leaves the queue now (run.stop() calls this)."""
        with self._cond:
            self._cond.notify_all()

    def position(self, run: Run) -> int | None:
        """1-based place of a waiting run (1: next to start), or None when it is not waiting."""
        with self._cond:
            for i, r in enumerate(self._waiting):
                if r is run:
                    return i + 1
            return None

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)

    @property
    def active(self) -> int:
        with self._cond:
            return len(self._active)


QUEUE: TrainingQueue = _PROCESS.__dict__.setdefault("queue", TrainingQueue())  # process-wide; ui/presets.py
# sets its limit from ui/hosted.py's settings


@dataclass
class Run:
    """One training run. Written by its thread, read by pages; lists only grow while it runs."""

    name: str
    corpus_name: str
    config: TrainConfig  # as given (defaults unresolved); trainer.config is the resolved one
    trainer: Trainer | None = None
    id: int = field(default_factory=lambda: next(_ids))
    status: str = "queued"  # queued | running | done | stopped | error
    error: str | None = None
    begin: TrainBegin | None = None
    ticks: list[Progress] = field(default_factory=list)  # every on_progress event
    epochs: list[EpochEnd] = field(default_factory=list)  # every on_epoch_end event (with arrays)
    end: TrainEnd | None = None
    result: TrainResult | None = None
    started_at: float = 0.0
    thread: threading.Thread | None = None
    queue: TrainingQueue | None = None  # the queue it waits in (QUEUE unless a test gives its own)
    _stop_event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def stop_requested(self) -> bool:
        return self._stop_event.is_set()

    @property
    def queue_position(self) -> int | None:
        """1-based place in the training queue while waiting for a slot (1: next), else None.
        None too for the later runs of a sequence, which wait for the run before them."""
        if self.status != "queued" or self.queue is None:
            return None
        return self.queue.position(self)

    @property
    def queue_length(self) -> int:
        """How many runs of the whole process wait for a slot."""
        return self.queue.waiting if self.queue is not None else 0

    @property
    def vectors(self) -> Vectors | None:
        """The run's input vectors (live while training; final afterwards)."""
        return self.trainer.vectors if self.trainer is not None else None

    @property
    def version(self) -> str:
        """Changes whenever the vectors may have changed: a cache key for what pages derive from them."""
        tail = str(len(self.ticks)) if self.running else self.status
        return f"{len(self.epochs)}-{tail}"

    @property
    def latest(self) -> Progress | None:
        return self.ticks[-1] if self.ticks else None

    @property
    def snapshots(self) -> list[np.ndarray]:
        """Top-N input vectors before training and after each epoch (if snapshot_topn > 0)."""
        out = []
        if self.begin is not None and self.begin.snapshot is not None:
            out.append(self.begin.snapshot)
        out.extend(e.snapshot for e in self.epochs if e.snapshot is not None)
        return out

    def stop(self) -> None:
        """Stop training within a chunk, or leave the queue at once when still waiting."""
        self._stop_event.set()
        if self.trainer is not None:
            self.trainer.stop()
        if self.queue is not None:
            self.queue.cancel(self)

    def join(self, timeout: float | None = None) -> None:
        if self.thread is not None:
            self.thread.join(timeout)


class _Recorder(Callback):
    def __init__(self, run: Run):
        self.run = run

    def on_train_begin(self, event: TrainBegin) -> None:
        self.run.begin = event
        self.run.status = "running"

    def on_progress(self, event: Progress) -> None:
        self.run.ticks.append(event)

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.run.epochs.append(event)

    def on_train_end(self, event: TrainEnd) -> None:
        self.run.end = event


def _train(run: Run) -> None:
    """Wait for a slot, then train one prepared run on the calling thread, recording its outcome."""
    queue = run.queue or QUEUE
    if not queue.acquire(run):  # stopped while queued: it never trained
        run.status = "stopped"
        return
    try:
        run.started_at = time.time()
        run.result = run.trainer.train([_Recorder(run)])
        if run.result.error:
            run.status, run.error = "error", run.result.error
        else:
            run.status = "stopped" if run.result.stopped else "done"
    except Exception as e:  # noqa: BLE001 - a page must show a message, not a traceback
        run.status, run.error = "error", f"training failed: {type(e).__name__}: {e}"
    finally:
        queue.release(run)


def _prepare(corpus: Corpus, config: TrainConfig, name: str, corpus_name: str,
             queue: TrainingQueue | None = None, make_trainer: Callable[..., Any] = Trainer) -> Run:
    run = Run(name=name, corpus_name=corpus_name, config=config, queue=queue or QUEUE)
    try:
        run.trainer = make_trainer(corpus, config)
    except (ConfigError, ValueError) as e:
        run.status, run.error = "error", str(e)
    return run


def start_run(corpus: Corpus, config: TrainConfig, name: str, corpus_name: str = "",
              queue: TrainingQueue | None = None, make_trainer: Callable[..., Any] = Trainer) -> Run:
    """Build the trainer (validating the config) and start a daemon thread that waits for a
    training slot in `queue` (default: the process-wide QUEUE) and then trains.

    `make_trainer(corpus, config)` builds it: Trainer, or anything with its train(callbacks),
    stop() and vectors (ui/spark_engine.SparkRun).
    A config the trainer rejects gives a Run with status 'error' and a one-line message.
    """
    run = _prepare(corpus, config, name, corpus_name, queue, make_trainer)
    if run.status == "error":
        return run
    run.started_at = time.time()
    run.thread = threading.Thread(target=_train, args=(run,), name=f"w2v-run-{run.id}", daemon=True)
    run.thread.start()
    return run


def start_sequence(corpus: Corpus, items: list[tuple[str, TrainConfig]], corpus_name: str = "",
                   queue: TrainingQueue | None = None) -> list[Run]:
    """Start several runs one after another on one daemon thread (e.g. the objectives race), so
    each has the machine to itself and their times per epoch compare. Every config is validated
    first; rejected ones come back with status 'error' and are skipped. The others are 'queued'
    until their turn (each takes its own place in the training queue when the run before it
    ends); stopping a queued run makes it end at once when its turn comes.
    """
    prepared = [_prepare(corpus, cfg, name, corpus_name, queue) for name, cfg in items]
    todo = [r for r in prepared if r.status != "error"]

    def target() -> None:
        for r in todo:
            _train(r)

    if todo:
        thread = threading.Thread(target=target, name=f"w2v-seq-{todo[0].id}", daemon=True)
        for r in todo:
            r.thread = thread
        todo[0].started_at = time.time()
        thread.start()
    return prepared


def warm_up() -> float:
    """Compile (or load from Numba's disk cache) every kernel the app uses, on a few hundred
    words, so the first real run and the first step-by-step call do not wait. Returns seconds.

    Covers: the training kernel (one compiled function serves every architecture and loss),
    the Huffman and alias-table builders, and the Python-callable loss steps core.train.step uses.
    """
    from core.config import Loss
    from core.corpus import read_corpus_text

    t0 = time.perf_counter()
    text = "the king and the queen went to paris with the prince and the princess\n" * 40
    corpus = read_corpus_text(text, min_count=1)
    trainer = Trainer(corpus, TrainConfig(size=8, epochs=1, loss=Loss.HS, threads=1, window=2))
    trainer.train()
    from core.train.step import one_example

    one_example(trainer.W_in.copy(), trainer.W_out.copy(), trainer.tables, Loss.HS, 1, 2)
    return time.perf_counter() - t0
