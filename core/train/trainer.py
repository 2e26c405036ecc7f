"""The trainer: Python owns time; compiled kernels do one chunk of sentences at a time.

Does: build the output-layer tables for a corpus and config, initialise W_in / W_out, run
epochs over `threads` contiguous corpus parts with one Python worker thread each, a worker that
finishes its part helping with the others' (chunks.py; Hogwild: the kernels release the GIL and
update shared matrices without locks), adapt chunk sizes to ~0.1 s,
emit the callback events of events.py, stop at the next chunk boundary on request, detect a
diverging loss (keeping the last good epoch's vectors) and return the vectors.
Does not: read files (corpus.py), or contain any per-example math (kernels.py, losses.py).

Determinism: with a seed and threads=1 a run is bit-identical run to run: initialisation and
every draw come from seeded generators, and the learning rate depends only on word counts, not
on chunk sizes or timing. With threads > 1, Hogwild races make runs differ slightly.
"""

from __future__ import annotations

import math
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np

from ..config import SOFTMAX_MAX_VOCAB, ConfigError, Loss, TrainConfig
from ..corpus import Corpus, TokenReader
from ..events import Callback, EpochEnd, Progress, TrainBegin, TrainEnd
from ..huffman import Huffman
from ..tables import WordTables, build_tables
from ..vectors.keyed import Vectors
from .chunks import ChunkQueue
from .hot_rows import buffered, most_used_rows
from .kernels import make_settings, make_tally, make_work, train_chunk

CHUNK_SECONDS = 0.1  # target duration of one kernel call: stop latency and progress granularity
MAX_CHUNK_WORDS = 1_000_000  # bounds a chunk's token buffer (4 MB) when the corpus is read from disk


class TrainingError(RuntimeError):
    """Training could not go on (e.g. the loss diverged); the message says why."""


@dataclass
class TrainResult:
    """What a finished (or stopped) run hands back."""

    vectors: Vectors  # the input vectors W_in with the vocabulary (shared, not copied)
    epochs_completed: int
    seconds: float
    words_per_sec: float
    stopped: bool
    error: str | None
    epochs: list[EpochEnd] = field(default_factory=list)  # per-epoch stats (arrays included)


def _seed_state(seed: int, worker: int) -> np.ndarray:
    """A non-zero xorshift state per worker from (seed, worker) via splitmix64."""
    x = (seed * 0x9E3779B97F4A7C15 + (worker + 1) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x ^= x >> 31
    x = (x * 0x94D049BB133111EB) & (2**64 - 1)
    x ^= x >> 29
    return np.array([x or 0x2545F4914F6CDD1D], dtype=np.uint64)


class _Checkpoint:
    """A copy of (W_in, W_out) kept in a temporary file, so keeping the last good epoch's vectors
    costs no resident memory (57 MB on the 19M-word corpus); in memory if no file can be made."""

    def __init__(self, *arrays: np.ndarray):
        self.arrays = arrays
        try:
            self._file = tempfile.TemporaryFile(prefix="w2v-checkpoint-")
        except OSError:
            self._file = None
        self._copies: list[np.ndarray] | None = None
        self.save()

    def save(self) -> None:
        if self._file is not None:
            try:
                self._file.seek(0)
                for a in self.arrays:
                    a.tofile(self._file)
                self._file.flush()
                return
            except OSError:  # disk full: fall back to memory
                self._file.close()
                self._file = None
        self._copies = [a.copy() for a in self.arrays]

    def restore(self) -> None:
        if self._copies is not None:
            for a, c in zip(self.arrays, self._copies, strict=True):
                a[:] = c
            return
        self._file.seek(0)
        for a in self.arrays:
            a[:] = np.fromfile(self._file, dtype=a.dtype, count=a.size).reshape(a.shape)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Trainer:
    """Trains word vectors on an encoded corpus. Build once, call `train()` once.

    Public, read-only for observers: `config` (resolved), `vocab`, `word_tables` (tables.build_tables's
    result) and from it `keep_prob` (V,) float64, `noise_probs` (V,) float64 (Pn), `huffman` (HS
    only, else None) and `tables` (the kernels' packed tables), `W_in` (V, D) float32,
    `W_out` ((V, D), or (V-1, D) for HS) float32.
    """

    def __init__(self, corpus: Corpus, config: TrainConfig | None = None):
        cfg = (config or TrainConfig()).resolved()
        self.config = cfg
        self.corpus = corpus
        self.vocab = corpus.vocab
        v = len(self.vocab)
        if v < 2:
            raise ConfigError(f"the vocabulary has {v} word(s); training needs at least 2")
        if cfg.loss == Loss.SOFTMAX and v > SOFTMAX_MAX_VOCAB:
            raise ConfigError(
                f"full softmax costs O(V) per example; vocabulary {v} > {SOFTMAX_MAX_VOCAB}: "
                "raise min_count, set max_vocab, or use ns/hs"
            )
        # the one place the per-word tables are built: the pages and figures call the same function
        self.word_tables: WordTables = build_tables(self.vocab.counts, cfg)
        self.keep_prob = self.word_tables.keep_prob
        self.noise_probs = self.word_tables.noise_probs
        self.huffman: Huffman | None = self.word_tables.huffman
        self.tables = self.word_tables.kernel
        rng = np.random.default_rng(cfg.seed)
        d = cfg.size
        # word2vec.c: W_in uniform in [-0.5/D, 0.5/D), W_out zero.
        self.W_in = rng.random((v, d), dtype=np.float32)  # in place below: no (V, D) temporaries
        self.W_in -= np.float32(0.5)
        self.W_in /= np.float32(d)
        self.W_out = np.zeros((v - 1 if cfg.loss == Loss.HS else v, d), dtype=np.float32)
        self._stop = threading.Event()
        self._trained = False
        self.progress: Progress | None = None  # the latest tick, for pollers that prefer reading

    # -- control ------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask training to end at the next chunk boundary (thread-safe, returns at once)."""
        self._stop.set()

    @property
    def vectors(self) -> Vectors:
        return Vectors(self.vocab.words, self.W_in, self.vocab.counts)

    # -- the run ------------------------------------------------------------------------------
    def train(self, callbacks: Sequence[Callback] = (), progress_interval: float = 0.25) -> TrainResult:
        """Train for `config.epochs` epochs, calling the callbacks; returns the result.

        Blocking: the app calls it from a background thread. Raises only for programming errors;
        divergence and stops are reported in the result (and in on_train_end).
        """
        if self._trained:
            raise RuntimeError("a Trainer trains once; build a new one")
        self._trained = True
        cfg = self.config
        threads = cfg.threads
        v, dim = self.W_in.shape
        n_words = len(self.corpus)
        total_words = n_words * cfg.epochs
        max_targets = max(cfg.negative + 1, self.tables.points.shape[1], 1)
        settings = make_settings(cfg.architecture, cfg.loss, cfg.window, cfg.negative, cfg.shared_negatives,
                                 cfg.compute_loss, cfg.alpha, cfg.min_alpha, cfg.shared_pool, cfg.size, threads)
        softmax = cfg.loss == Loss.SOFTMAX
        works = [make_work(cfg.max_sentence, cfg.window, max_targets, dim, self.W_out.shape[0], softmax,
                           settings.pool)
                 for _ in range(threads)]
        hot = most_used_rows(cfg.loss, self.W_out.shape[0], cfg.hot_rows)
        out_rows = [buffered(self.W_out, hot) for _ in range(threads)]
        nc = v if cfg.track_counts else 0  # (0,) arrays tell the kernel not to count
        tallies = [make_tally(_seed_state(cfg.seed, t), nc) for t in range(threads)]
        outs = [t.totals for t in tallies]
        seen = [t.seen for t in tallies]
        kept = [t.kept for t in tallies]
        negs = [t.negatives for t in tallies]
        chunk_words = [20_000] * threads
        diverged = threading.Event()
        offsets = self.corpus.offsets
        readers = [TokenReader(self.corpus.tokens) for _ in range(threads)]

        def work(t: int, epoch: int, queue: ChunkQueue) -> None:
            while not self._stop.is_set() and not diverged.is_set():
                chunk = queue.take(t, chunk_words[t])
                if chunk is None:
                    return
                # the learning rate follows the chunk's place in its part, whichever worker trains it
                part_words = queue.part_words(chunk.part)
                base = epoch * part_words + queue.words_before(chunk)
                t0 = time.perf_counter()
                a, b = int(offsets[chunk.s]), int(offsets[chunk.e])
                # the chunk's own tokens and offsets: a view when the corpus is in memory, a read
                # into a reused buffer when it is a file (never a mapping that grows the RSS)
                tokens = readers[t].read(a, b)
                train_chunk(settings, self.tables, tokens, offsets[chunk.s:chunk.e + 1] - a, self.W_in, out_rows[t],
                            base, 1.0 / (part_words * cfg.epochs), tallies[t], works[t])
                dt = time.perf_counter() - t0
                words = b - a
                if dt > 0:
                    chunk_words[t] = int(min(MAX_CHUNK_WORDS, max(1_000, words * CHUNK_SECONDS / dt)))
                if cfg.compute_loss and not math.isfinite(outs[t][0]):
                    diverged.set()

        def notify(method: str, event) -> None:
            for cb in callbacks:
                if getattr(cb, method)(event):
                    self._stop.set()

        good = _Checkpoint(self.W_in, self.W_out)  # the last good epoch's vectors, for divergence
        snap_n = min(cfg.snapshot_topn, v)
        start = time.perf_counter()
        notify("on_train_begin", TrainBegin(v, n_words, cfg.epochs, threads, cfg,
                                            self.W_in[:snap_n].copy() if snap_n else None))
        epochs: list[EpochEnd] = []
        error: str | None = None
        last_tick = 0.0

        def prepare() -> None:
            """Compile (first run) or load the kernels with an empty chunk: no sentence, no change."""
            empty = readers[0].read(0, 0)
            train_chunk(settings, self.tables, empty, offsets[:1] - offsets[0], self.W_in, out_rows[0], 0, 1.0,
                        tallies[0], works[0])

        def run_all(futures: list, epoch: int) -> None:
            """Wait for the futures, reporting progress every progress_interval; re-raise a bug."""
            nonlocal last_tick
            while True:
                done, pending = wait(futures, timeout=progress_interval, return_when=FIRST_EXCEPTION)
                now = time.perf_counter()
                if pending and now - last_tick >= progress_interval * 0.99:
                    last_tick = now
                    self.progress = self._tick(epoch, n_words, total_words, outs, start)
                    notify("on_progress", self.progress)
                if not pending or any(f.exception() for f in done):
                    break
            for f in futures:
                f.result()  # re-raise a worker's exception (a bug), after all have stopped

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="w2v-worker") as pool:
            # subtle: before the first epoch's clock starts, so its seconds and words/s (and the
            # first chunk's size) do not include the ~10 s a first run spends compiling
            run_all([pool.submit(prepare)], 0)
            for epoch in range(cfg.epochs):
                if self._stop.is_set():
                    break
                for a in (*outs, *seen, *kept, *negs):
                    a[:] = 0
                outs_alpha = [float(cfg.alpha)] * threads
                for o, a in zip(outs, outs_alpha, strict=True):
                    o[3] = a
                ep_start = time.perf_counter()
                queue = ChunkQueue(offsets, threads)
                run_all([pool.submit(work, t, epoch, queue) for t in range(threads)], epoch)
                ep_seconds = time.perf_counter() - ep_start
                loss_sum = sum(o[0] for o in outs)
                examples = int(sum(o[1] for o in outs))
                words = int(sum(o[2] for o in outs))
                finite = math.isfinite(loss_sum) if cfg.compute_loss else True
                # every row finite, without a (V, D) bool temporary: a float64 sum of float32 values
                # cannot overflow, so it is finite exactly when every value is
                if diverged.is_set() or not finite or not math.isfinite(float(self.W_in.sum(dtype=np.float64))):
                    good.restore()
                    error = (
                        f"training diverged in epoch {epoch + 1} (loss became {loss_sum:.3g}): "
                        f"alpha={cfg.alpha} is too large; kept the vectors of epoch {epoch}"
                    )
                    break
                if words < n_words:  # stopped inside this epoch: vectors are consistent, epoch partial
                    break
                if epoch + 1 < cfg.epochs:  # a copy after the last epoch would protect nothing
                    good.save()  # (~40 MB written a time for the 19M-word corpus)
                mean_loss = loss_sum / examples if (cfg.compute_loss and examples) else float("nan")
                ev = EpochEnd(
                    epoch=epoch, loss=mean_loss, examples=examples, words=words,
                    words_per_sec=words / ep_seconds if ep_seconds > 0 else 0.0, seconds=ep_seconds,
                    alpha=min(o[3] for o in outs),
                    seen=np.sum(seen, axis=0) if nc else None, kept=np.sum(kept, axis=0) if nc else None,
                    negatives=np.sum(negs, axis=0) if nc else None,
                    snapshot=self.W_in[:snap_n].copy() if snap_n else None,
                )
                epochs.append(ev)
                notify("on_epoch_end", ev)
        for r in readers:
            r.close()
        good.close()
        seconds = time.perf_counter() - start
        done_words = sum(e.words for e in epochs)
        result = TrainResult(
            vectors=self.vectors, epochs_completed=len(epochs), seconds=seconds,
            words_per_sec=done_words / seconds if seconds > 0 else 0.0,
            stopped=self._stop.is_set() and error is None and len(epochs) < cfg.epochs,
            error=error, epochs=epochs,
        )
        notify("on_train_end", TrainEnd(result.epochs_completed, seconds, result.words_per_sec,
                                        result.stopped, error, [e.loss for e in epochs]))
        return result

    def _tick(self, epoch: int, n_words: int, total_words: int, outs: list[np.ndarray],
              start: float) -> Progress:
        words = int(sum(o[2] for o in outs))
        examples = sum(o[1] for o in outs)
        loss = sum(o[0] for o in outs) / examples if (self.config.compute_loss and examples) else float("nan")
        done = epoch * n_words + words
        elapsed = time.perf_counter() - start
        return Progress(epoch=epoch, words_done=done, words_total=total_words,
                        alpha=float(min(o[3] for o in outs)), loss=float(loss),
                        words_per_sec=done / elapsed if elapsed > 0 else 0.0, seconds=elapsed)


def train(corpus: Corpus, config: TrainConfig | None = None, callbacks: Sequence[Callback] = ()) -> TrainResult:
    """Convenience: build a Trainer and train it."""
    return Trainer(corpus, config).train(callbacks)
