"""Command-line interface: `python -m core <command> ...` (the contract benchmarks and scripts use).

Commands: train, similar, analogy (the C tool's word2vec, distance and word-analogy), plus
the commands of core/cli/evaluate.py (eval, phrases), download.py and prepare.py.
Bad input gives a one-line `error: ...` on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import dataclasses
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

from ..config import FORMULA_NAMES, LOSS_NAMES, Architecture, ConfigError, TrainConfig
from ..corpus import CorpusError, read_corpus
from ..events import Callback, EpochEnd, Progress, TrainBegin
from .common import fmt_duration, int_arg


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class ProgressBar(Callback):
    """A one-line progress bar on stderr: epoch, percent, words/s, loss, ETA."""

    def __init__(self, stream=None, enabled: bool = True):
        # subtle: sys.stderr looked up now, not bound at import (a test's or caller's redirect counts)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled and self.stream is not None
        self.epochs = 0

    def on_train_begin(self, event: TrainBegin) -> None:
        self.epochs = event.epochs
        if self.enabled:
            self.stream.write(f"training: {event.vocab_size:,} words in vocabulary, {event.corpus_words:,} tokens, "
                              f"{event.epochs} epochs, {event.threads} threads\n")

    def on_progress(self, p: Progress) -> None:
        if not self.enabled:
            return
        if p.words_done == 0:  # no chunk finished yet: on a first run Numba is compiling the kernels
            self.stream.write(f"\rpreparing the training kernels: {p.seconds:.0f} s (the first run compiles them, "
                              "~10-20 s; later runs load them from a cache)  ")
            self.stream.flush()
            return
        width = 30
        filled = int(width * p.fraction)
        loss = f"loss {p.loss:.4f}" if p.loss == p.loss else "loss off"
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {100 * p.fraction:5.1f}% "
                          f"epoch {p.epoch + 1}/{self.epochs} {p.words_per_sec / 1e3:,.0f}k words/s "
                          f"{loss} alpha {p.alpha:.5f} ETA {fmt_duration(p.eta_seconds)}  ")
        self.stream.flush()

    def on_epoch_end(self, e: EpochEnd) -> None:
        if self.enabled:
            loss = f"{e.loss:.4f}" if e.loss == e.loss else "off"
            self.stream.write(f"\repoch {e.epoch + 1}/{self.epochs}: loss {loss}, {e.words_per_sec / 1e3:,.0f}k "
                              f"words/s, {e.seconds:.1f} s{' ' * 40}\n")
            self.stream.flush()


def add_train(sub) -> None:
    p = sub.add_parser("train", help="train word vectors on a text corpus (.txt or .gz)")
    p.add_argument("corpus")
    p.add_argument("-o", "--output", required=True, help="vector file to write (word2vec format)")
    p.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    p.add_argument("--loss", choices=sorted(LOSS_NAMES), default="ns")
    p.add_argument("--size", type=int_arg(), default=100)
    p.add_argument("--window", type=int_arg(), default=5)
    p.add_argument("--negative", type=int_arg(), default=5)
    p.add_argument("--ns-exponent", type=float, default=0.75)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--subsample-formula", choices=sorted(FORMULA_NAMES), default="c")
    p.add_argument("--min-count", type=int_arg(), default=5)
    p.add_argument("--max-vocab", type=int_arg(), default=None)
    p.add_argument("--epochs", type=int_arg(), default=5)
    p.add_argument("--alpha", type=float, default=None, help="default 0.025 skip-gram, 0.05 CBOW")
    p.add_argument("--min-alpha", type=float, default=None, help="default alpha * 1e-4")
    p.add_argument("--threads", type=int_arg(), default=None, help="default: all cores")
    p.add_argument("--seed", type=int_arg(), default=1)
    p.add_argument("--shared-negatives", action="store_true", help="skip-gram: one noise draw per window")
    p.add_argument("--shared-pool", type=int, default=None, metavar="P",
                   help="with --shared-negatives: noise words drawn per window, each pair taking --negative of "
                        "them in turn (default: config.DEFAULT_SHARED_POOL x --negative)")
    p.add_argument("--no-loss", action="store_true", help="do not compute the loss (a little faster)")
    p.add_argument("--hot-rows", type=int_arg(0), default=None,
                   help="output rows each thread keeps its own copy of, the 256 most used merged every 1024 "
                        "positions (CBOW 512) and each further tier of twice as many half as often (default "
                        "with 2+ threads: 4096 for NS/NCE, 1024 for HS; 0: every thread writes the shared "
                        "matrix)")
    p.add_argument("--keep-case", action="store_true", help="do not lowercase the corpus")
    p.add_argument("--save-vocab", default=None, help="also write 'word count' lines here")
    p.add_argument("--binary", action="store_true", help="write the binary word2vec format")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    g = p.add_argument_group("Spark engine (--engine spark; README: running on a cluster)")
    g.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="local: threads in this process; spark: data-parallel rounds on Spark's executors")
    g.add_argument("--spark-master", default=None,
                   help="local[2], local-cluster[2,1,1024], spark://host:7077, yarn (default: local[*], "
                        "or the master spark-submit set)")
    g.add_argument("--partitions", type=int_arg(), default=2,
                   help="data partitions (with the peer exchange, task slot t trains partitions t, t + slots, ...: "
                        "--replicas)")
    g.add_argument("--sync-words", type=int_arg(), default=None,
                   help="words each partition trains between two merges (default: 100000 shared by the "
                        "partitions, at least 50000 each: core/spark/driver.py)")
    g.add_argument("--exchange", choices=("peer", "driver"), default="peer",
                   help="how the partitions share their changes each round: peer (default: one Spark barrier "
                        "stage an epoch, the tasks swap changed rows directly and each merges them; needs a "
                        "slot for every task, else partitions share tasks) or driver (a Spark job a round, "
                        "merged on the driver; works where barrier stages cannot run, e.g. dynamic allocation)")
    g.add_argument("--replicas", choices=("tasks", "partitions"), default="tasks",
                   help="model copies trained at once: tasks (default: with the peer exchange and more "
                        "partitions than task slots, a task trains its partitions one after another as one "
                        "copy; accuracy follows the number of copies) or partitions (one copy each: the "
                        "result depends on the partition count only, not on the cluster's slots)")
    g.add_argument("--task-threads", type=int_arg(1), default=1,
                   help="with --replicas tasks: partitions a task trains at once on its one copy, as Hogwild "
                        "threads (sets spark.task.cpus to match for a session this command starts, so every "
                        "executor needs at least N cores; fewer copies on many-core executors, but seeded "
                        "runs no longer repeat bit for bit)")
    g.add_argument("--deltas", choices=("float16", "int8", "float32"), default="float16",
                   help="how tasks ship their changed rows back: float16 (default) or int8 scaled per row, "
                        "or float32 (core/spark/deltas.py)")
    g.add_argument("--merge", default=None, help="how the partitions' changes of a row are combined: "
                   "auto (default: the measured best, core/spark/merge.py), capped, overlap, sum, mean "
                   "(MLlib's rule), sqrt, share (weighted by each partition's updates of the row), or "
                   "IN/OUT: one rule for W_in and one for W_out (e.g. capped/overlap)")
    g.add_argument("--text-column", default=None, help="the corpus is a Parquet dataset; train on this column")
    g.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting for a session this command starts, e.g. spark.driver.memory=4g (repeatable)")
    p.set_defaults(func=cmd_train)


def _glibc():
    """The C library when it is glibc (mallopt and malloc_trim exist), else None."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def _return_large_blocks_to_the_os() -> None:
    """glibc only: serve every allocation over 128 KiB by mmap, so numpy's large temporaries go
    back to the OS when freed. By default glibc raises that threshold after the first such free
    (up to 32 MiB), and the corpus reader's freed buffers then stay resident (~16 MB here)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(-3, 128 * 1024)  # -3: M_MMAP_THRESHOLD in malloc.h


def _trim_heap() -> None:
    """glibc only: hand back what the heap and the reader threads' arenas hold free (after
    reading: the reader's blocks stay under the mmap threshold, corpus.BLOCK_CHARS, so they are
    freed into the heap rather than unmapped)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def cmd_train(args) -> int:
    _return_large_blocks_to_the_os()
    cfg = TrainConfig(
        architecture=Architecture.CBOW if args.cbow else Architecture.SKIPGRAM,
        loss=LOSS_NAMES[args.loss], size=args.size, window=args.window, negative=args.negative,
        ns_exponent=args.ns_exponent, sample=args.sample, subsample_formula=FORMULA_NAMES[args.subsample_formula],
        min_count=args.min_count, max_vocab=args.max_vocab, epochs=args.epochs, alpha=args.alpha,
        min_alpha=args.min_alpha, threads=args.threads, seed=args.seed, shared_negatives=args.shared_negatives,
        shared_pool=args.shared_pool,
        compute_loss=not args.no_loss, hot_rows=args.hot_rows,
        track_counts=False,  # the per-word histograms are for the app; nothing here reads them
    )
    cfg = cfg.resolved()  # validate before reading a large corpus
    t0 = time.perf_counter()
    show = not args.quiet
    if args.engine == "spark":
        return _train_spark(args, cfg, t0)
    if args.text_column:
        raise UsageError("--text-column reads Parquet with the Spark engine: add --engine spark")
    _lean_start()

    def progress(chars: int, total: int) -> None:
        if show:
            sys.stderr.write(f"\rreading corpus: {chars / 1e6:,.0f}M characters")
            sys.stderr.flush()

    # the encoded corpus goes to a temporary file and is streamed from it every epoch (4 bytes a
    # token on disk, a few MB of buffers in memory); the folder is removed on exit
    spill_dir = tempfile.TemporaryDirectory(prefix="w2v-corpus-")
    atexit.register(spill_dir.cleanup)
    try:
        corpus = read_corpus(args.corpus, min_count=cfg.min_count, max_vocab=cfg.max_vocab,
                             lowercase=not args.keep_case, max_sentence=cfg.max_sentence, progress=progress,
                             out_prefix=Path(spill_dir.name) / "corpus")
    except OSError as e:
        if isinstance(e, FileNotFoundError) and e.filename == args.corpus:
            raise
        raise UsageError(f"cannot write the encoded corpus to {spill_dir.name} ({e.strerror or e}); "
                         "set TMPDIR to a folder with space") from None
    if show:
        sys.stderr.write("\n")
    if corpus.stats.replaced:
        sys.stderr.write(f"warning: {corpus.stats.replaced:,} invalid UTF-8 sequences were replaced by U+FFFD\n")
    if args.save_vocab:
        corpus.vocab.save(args.save_vocab)
    _trim_heap()
    # subtle: imported only now, so the corpus is read before Numba's ~90 MB join the process
    from ..train.trainer import Trainer
    from ..vectors.vector_io import save

    trainer = Trainer(corpus, cfg)
    result = trainer.train([ProgressBar(enabled=show)])
    if result.error:
        sys.stderr.write(f"error: {result.error}\n")
    save(result.vectors, args.output, "binary" if args.binary else "text")
    seconds = time.perf_counter() - t0
    if args.json:
        train_seconds = result.seconds
        words = len(corpus) * result.epochs_completed
        print(json.dumps({
            "words": len(corpus), "vocab_size": len(corpus.vocab), "seconds": round(seconds, 3),
            "train_seconds": round(train_seconds, 3),
            "words_per_sec": round(words / train_seconds, 1) if train_seconds > 0 else 0.0,
            "epochs": [{"loss": e.loss if e.loss == e.loss else None, "seconds": round(e.seconds, 3),
                        "words_per_sec": round(e.words_per_sec, 1)} for e in result.epochs],
        }))
    # subtle: the process ends next; with every object frozen (Numba's since _lean_start, ours
    # now), the full collections Python runs while finalising walk nothing (they took ~0.2 s)
    gc.freeze()
    return 2 if result.error else 0


def _lean_start() -> None:
    """Start-up of a local training process (measured in bench/README.md, "Start-up of the small
    job"): Numba's implementations loaded without SciPy's BLAS bindings and cffi, then every
    object made so far (~0.1M, mostly Numba's) moved out of the collector's sight, so no full
    collection while reading the corpus or training walks them again. Both only make sense in a
    process that ends after training; the app does neither."""
    from .._numba_setup import load_registries_lean

    load_registries_lean()
    gc.freeze()


def _train_spark(args, cfg: TrainConfig, t0: float) -> int:
    """cmd_train with the Spark engine: the corpus is read, counted and encoded on Spark."""
    from ..spark.session import check_master, check_requirements, get_session, running_session

    conf = dict(kv.split("=", 1) for kv in args.spark_conf if "=" in kv)
    if len(conf) != len(args.spark_conf):
        raise UsageError("--spark-conf takes KEY=VALUE")
    if args.task_threads > 1:  # one slot per task of that many cores (a session started already keeps its own)
        conf.setdefault("spark.task.cpus", str(args.task_threads))
    owned = running_session() is None  # started here: stopped here (a caller's session stays)
    if owned and not args.quiet:  # subtle: JVMs and executors take 10-15 s to come up: say so first,
        check_requirements()  # but after the checks that fail in one line (missing Java or pyspark,
        check_master(args.spark_master or "")  # a master that does not answer): nothing else is printed then
        sys.stderr.write(f"starting Spark on {args.spark_master or 'local[*]'}\n")
    spark = get_session(args.spark_master, conf=conf)
    try:
        return _train_on(spark, args, cfg, t0, session_seconds=time.perf_counter() - t0)
    finally:
        if owned:  # subtle: an orderly stop; left to the JVM's exit, local-cluster's workers print
            spark.stop()  # "Lost executor ... Worker shutting down" and a stack trace after a good run


def _train_on(spark, args, cfg: TrainConfig, t0: float, session_seconds: float) -> int:
    from ..spark import MERGE_DEFAULT, SparkTrainer
    from ..vectors.vector_io import save

    show = not args.quiet
    spark.sparkContext.setLogLevel("ERROR")
    if show:
        sys.stderr.write(f"Spark {spark.version} on {spark.sparkContext.master}: counting and encoding "
                         f"the corpus in {args.partitions} partitions\n")
    trainer = SparkTrainer(args.corpus, cfg, spark=spark, partitions=args.partitions,
                           sync_words=args.sync_words, merge_rule=args.merge or MERGE_DEFAULT,
                           text_column=args.text_column, lowercase=not args.keep_case, deltas=args.deltas,
                           exchange=args.exchange, replicas=args.replicas, task_threads=args.task_threads)
    ready = time.perf_counter() - t0
    if show:
        sys.stderr.write(f"{sum(trainer.partition_words):,} words, a vocabulary of {len(trainer.vocab):,}, "
                         f"ready after {ready:.1f} s; changes merged by {trainer.merge_rule}\n")
    if show and trainer.chain:
        threads = f" of {trainer.task_threads} threads" if trainer.task_threads > 1 else ""
        sys.stderr.write(f"{args.partitions} partitions on {trainer.tasks} task slots: {trainer.replicas} model "
                         f"replica(s){threads}, {trainer.sync_words} words a partition a round "
                         "(--replicas partitions for one each)\n")
    if args.save_vocab:
        trainer.vocab.save(args.save_vocab)
    try:
        result = trainer.train([ProgressBar(enabled=show)])
    finally:
        trainer.close()
    if result.error:
        sys.stderr.write(f"error: {result.error}\n")
    save(result.vectors, args.output, "binary" if args.binary else "text")
    if args.json:
        words = sum(trainer.partition_words)
        print(json.dumps({
            "words": words, "vocab_size": len(trainer.vocab), "seconds": round(time.perf_counter() - t0, 3),
            "train_seconds": round(result.seconds, 3), "words_per_sec": round(result.words_per_sec, 1),
            # before training: the session up (0 for a running one), the corpus read, counted and encoded
            "session_seconds": round(session_seconds, 3), "ready_seconds": round(ready, 3),
            "partitions": args.partitions, "master": spark.sparkContext.master,
            "replicas": trainer.replicas, "sync_words": trainer.sync_words, "merge": trainer.merge_rule,
            "rounds": [dataclasses.asdict(t) for t in trainer.timings], "exchange": trainer.exchange,
            "stages": [{"startup": round(a, 3), "wind_down": round(b, 3)} for a, b in trainer.stage_seconds],
            "epochs": [{"loss": e.loss if e.loss == e.loss else None, "seconds": round(e.seconds, 3),
                        "words_per_sec": round(e.words_per_sec, 1)} for e in result.epochs],
        }))
    return 2 if result.error else 0


def _load_vectors(path: str):
    from ..vectors.vector_io import load

    return load(path)


def add_similar(sub) -> None:
    p = sub.add_parser("similar", help="nearest words by cosine (the C tool's distance)")
    p.add_argument("vectors")
    p.add_argument("words", nargs="+", help="several words are summed, as in the C tool")
    p.add_argument("-n", "--topn", type=int_arg(), default=10)
    p.set_defaults(func=cmd_similar)


def cmd_similar(args) -> int:
    kv = _load_vectors(args.vectors)
    for word, score in kv.most_similar(args.words, topn=args.topn):
        print(f"{word}\t{score:.4f}")
    return 0


def add_analogy(sub) -> None:
    p = sub.add_parser("analogy", help="a : b :: c : ? by 3CosAdd or 3CosMul (the C tool's word-analogy)")
    p.add_argument("vectors")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("c")
    p.add_argument("-n", "--topn", type=int_arg(), default=10)
    p.add_argument("--method", choices=("add", "mul"), default="add")
    p.set_defaults(func=cmd_analogy)


def cmd_analogy(args) -> int:
    kv = _load_vectors(args.vectors)
    for word, score in kv.analogy(args.a, args.b, args.c, topn=args.topn, method=args.method):
        print(f"{word}\t{score:.4f}")
    return 0


OWN_COMMANDS = ("train", "similar", "analogy")  # defined in this module


def build_parser(only_own: bool = False) -> argparse.ArgumentParser:
    """Every command's parser; with `only_own`, just this module's commands (the other modules are
    then not imported: ~35 ms CPU of a short training run's start-up)."""
    parser = argparse.ArgumentParser(prog="python -m core", description="word2vec explorer command line")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train(sub)
    add_similar(sub)
    add_analogy(sub)
    if not only_own:
        from . import download as cli_download
        from . import evaluate as cli_evaluate
        from . import prepare as cli_prepare
        from . import replicate as cli_replicate

        for module in (cli_evaluate, cli_download, cli_prepare, cli_replicate):  # each adds its commands
            module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    first = (sys.argv[1:] if argv is None else argv)[:1]
    parser = build_parser(only_own=bool(first) and first[0] in OWN_COMMANDS)
    args = parser.parse_args(argv)
    from ..spark.session import SparkUnavailable
    from ..vectors.keyed import UnknownWordError
    from ..vectors.vector_io import VectorFileError

    known: tuple[type[BaseException], ...] = (ConfigError, CorpusError, UsageError, UnknownWordError, SparkUnavailable,
                                              VectorFileError, FileNotFoundError, IsADirectoryError,
                                              PermissionError)
    try:
        return int(args.func(args) or 0)
    except known as e:
        sys.stderr.write(f"\nerror: {e}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
