"""A training run in a background thread, observed by polling (no Streamlit calls in the thread).

Does: wrap core.trainer.Trainer in a thread per run (or one thread for a sequence of runs); a
Callback copies every event into plain lists on the `Run` object, which pages read from
`st.fragment(run_every=...)`; stop() ends the run within a chunk (~0.1 s); the run's vectors,
per-epoch stats and snapshots stay available after it ends so runs can be compared. Errors
become `run.error` (a one-line message), never an exception in the page. `warm_up()` compiles
the kernels once per process.
Does not: import Streamlit (so tests drive it directly), read corpora, or draw figures.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from core.config import ConfigError, TrainConfig
from core.corpus import Corpus
from core.events import Callback, EpochEnd, Progress, TrainBegin, TrainEnd
from core.trainer import Trainer, TrainResult
from core.vectors import Vectors

_ids = itertools.count(1)


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

    @property
    def running(self) -> bool:
        return self.status in ("queued", "running")

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
        if self.trainer is not None:
            self.trainer.stop()

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
    """Train one prepared run on the calling thread, recording its outcome on the Run."""
    try:
        run.started_at = time.time()
        run.result = run.trainer.train([_Recorder(run)])
        if run.result.error:
            run.status, run.error = "error", run.result.error
        else:
            run.status = "stopped" if run.result.stopped else "done"
    except Exception as e:  # noqa: BLE001 - a page must show a message, not a traceback
        run.status, run.error = "error", f"training failed: {type(e).__name__}: {e}"


def _prepare(corpus: Corpus, config: TrainConfig, name: str, corpus_name: str) -> Run:
    run = Run(name=name, corpus_name=corpus_name, config=config)
    try:
        run.trainer = Trainer(corpus, config)
    except (ConfigError, ValueError) as e:
        run.status, run.error = "error", str(e)
    return run


def start_run(corpus: Corpus, config: TrainConfig, name: str, corpus_name: str = "") -> Run:
    """Build the trainer (validating the config) and start training in a daemon thread.

    A config the trainer rejects gives a Run with status 'error' and a one-line message.
    """
    run = _prepare(corpus, config, name, corpus_name)
    if run.status == "error":
        return run
    run.started_at = time.time()
    run.thread = threading.Thread(target=_train, args=(run,), name=f"w2v-run-{run.id}", daemon=True)
    run.thread.start()
    return run


def start_sequence(corpus: Corpus, items: list[tuple[str, TrainConfig]], corpus_name: str = "") -> list[Run]:
    """Start several runs one after another on one daemon thread (e.g. the objectives race), so
    each has the machine to itself and their times per epoch compare. Every config is validated
    first; rejected ones come back with status 'error' and are skipped. The others are 'queued'
    until their turn; stopping a queued run makes it end at once when its turn comes.
    """
    prepared = [_prepare(corpus, cfg, name, corpus_name) for name, cfg in items]
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
    the Huffman and alias-table builders, and the Python-callable loss steps core.step uses.
    """
    from core.config import Loss
    from core.corpus import read_corpus_text

    t0 = time.perf_counter()
    text = "the king and the queen went to paris with the prince and the princess\n" * 40
    corpus = read_corpus_text(text, min_count=1)
    trainer = Trainer(corpus, TrainConfig(size=8, epochs=1, loss=Loss.HS, threads=1, window=2))
    trainer.train()
    try:
        from core.step import one_example

        one_example(trainer.W_in.copy(), trainer.W_out.copy(), trainer.tables, Loss.HS, 1, 2)
    except ImportError:  # step-by-step module not present: nothing more to warm
        pass
    return time.perf_counter() - t0
