"""CLI command `replicate` (`table1`, `phrases`): the paper's experiments on your corpus.

Does: `register(subparsers)` adds `replicate table1 CORPUS` and `replicate phrases CORPUS`;
reads the corpus once, runs core/replicate.py's plan with a progress line per row and overall on
stderr, prints the table next to the paper's and the verdicts (or JSON with --json), writes the
JSON to --output after every row, keeps vectors with --keep DIR. Ctrl-C ends the current row
(dropped), prints the rows done and exits 130; a second Ctrl-C aborts at once.
Does not: train, score or judge anything itself (core/replicate.py does).
"""

from __future__ import annotations

import json
import signal
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

from ..corpus import CorpusError, read_corpus
from ..events import Progress
from ..phrases import PhraseError
from ..replicate import (
    PAPER,
    PAPER_SETUP,
    PAPER_TABLE1,
    PAPER_TABLE3,
    PHRASE_BEST,
    PHRASE_THRESHOLDS,
    TABLE1_PLAN,
    TABLE3_PLAN,
    Row,
    Settings,
    Table1Result,
    claims,
    config_for,
    describe,
    run_phrases,
    run_rows,
)
from ..vectors.evaluate import ANALOGY_RESTRICT, EvalError, read_analogies
from .common import CliError, fmt_duration, guard, int_arg

_guard = partial(guard, expected=(EvalError, PhraseError, CorpusError))


def register(subparsers) -> None:
    """Add `replicate` with its two experiments to an argparse subparsers object."""
    p = subparsers.add_parser("replicate", help="reproduce the paper's Table 1 or Table 3 on a corpus",
                              description=f"The experiments of {PAPER}, on your corpus, next to the "
                                          "published numbers, with a verdict per claim.")
    sub = p.add_subparsers(dest="experiment", required=True)
    t1 = sub.add_parser("table1", help="NEG-5, NEG-15, HS-Huffman, NCE-5, with and without t=1e-5 (7 rows)")
    t3 = sub.add_parser("phrases", help="two word2phrase passes, skip-gram, phrase analogies (Table 3)")
    for q in (t1, t3):
        q.add_argument("corpus", help="text corpus (.txt or .gz)")
        q.add_argument("--epochs", type=int_arg(1), default=1, help="passes over the corpus (default 1)")
        q.add_argument("--size", type=int_arg(1), default=100, help="vector size D (default 100; paper 300)")
        q.add_argument("--window", type=int_arg(1), default=5, help="maximum window (default 5, as the paper)")
        q.add_argument("--min-count", type=int_arg(1), default=5, help="default 5, as the paper")
        q.add_argument("--threads", type=int_arg(1), default=None, help="default: all cores")
        q.add_argument("--seed", type=int_arg(0), default=1)
        q.add_argument("--restrict", type=int_arg(1), default=ANALOGY_RESTRICT,
                       help=f"answer among the N most frequent words (default {ANALOGY_RESTRICT:,})")
        q.add_argument("--keep", metavar="DIR", default=None, help="keep every row's vectors (word2vec binary)")
        q.add_argument("-o", "--output", metavar="FILE", default=None,
                       help="also write the JSON here, rewritten after every row")
        q.add_argument("--json", action="store_true", help="print JSON on stdout instead of the table")
        q.add_argument("--quiet", action="store_true", help="no progress line")
    t1.add_argument("--analogies", metavar="FILE", required=True, help="questions-words format")
    t3.add_argument("--analogies", metavar="FILE", required=True,
                    help="phrase questions (questions-phrases.txt format)")
    t3.add_argument("--all", action="store_true",
                    help="all six cells of Table 3 (default: its best cell, HS-Huffman with t=1e-5)")
    t3.add_argument("--phrased", metavar="FILE", default=None,
                    help="where to write the phrased corpus (default: a temporary file)")
    t1.set_defaults(func=cmd_table1)
    t3.set_defaults(func=cmd_phrases)


class RowProgress:
    """One `\\r` line on stderr: this row's bar and the whole run's, at most 5 updates a second."""

    def __init__(self, plan, stream=None, enabled: bool = True, width: int = 20):
        self.plan, self.enabled, self.width = list(plan), enabled, width
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()
        self.last = 0.0

    def _bar(self, f: float) -> str:
        n = int(self.width * max(0.0, min(1.0, f)))
        return "#" * n + "." * (self.width - n)

    def __call__(self, index: int, p: Progress) -> None:
        now = time.perf_counter()
        if not self.enabled or now - self.last < 0.2:
            return
        self.last = now
        method, sample = self.plan[index]
        overall = (index + p.fraction) / len(self.plan)
        self.stream.write(f"\rrow {index + 1}/{len(self.plan)} {method:<10} t={sample:<6g} [{self._bar(p.fraction)}] "
                          f"{100 * p.fraction:5.1f}% | all [{self._bar(overall)}] {100 * overall:5.1f}% "
                          f"{fmt_duration(now - self.t0)}  ")
        self.stream.flush()

    def row_done(self, row: Row) -> None:
        if self.enabled:
            self.stream.write(f"\rrow {row.method} t={row.sample:g}: {row.seconds:.1f} s, total "
                              f"{100 * row.total:.1f}% (coverage {100 * row.coverage:.1f}%){' ' * 50}\n")
            self.stream.flush()


class _Interrupt:
    """First Ctrl-C sets `stop` (the current row ends at its next chunk); the second aborts."""

    def __init__(self, stop: threading.Event):
        self.stop = stop
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.stop.is_set():
            raise KeyboardInterrupt
        self.stop.set()
        sys.stderr.write("\ninterrupted: ending this row; the rows done are kept (Ctrl-C again to abort)\n")

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _settings(args) -> Settings:
    return Settings(epochs=args.epochs, size=args.size, window=args.window, min_count=args.min_count,
                    threads=args.threads, seed=args.seed, restrict=args.restrict)


def _check_paths(args) -> None:
    if not Path(args.corpus).is_file():
        raise CliError(f"{args.corpus}: no such corpus file")
    if args.keep is not None:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    if args.output is not None and not Path(args.output).resolve().parent.is_dir():
        raise CliError(f"{Path(args.output).parent}: output directory does not exist")


def _write(path: str | None, data: dict) -> None:
    if path is None:
        return
    tmp = Path(str(path) + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def _p(x: float) -> str:
    return f"{100 * x:5.1f}"


def format_table1(result: Table1Result) -> str:
    """Our rows next to the paper's, then the verdicts."""
    ours = {(r.method, r.sample): r for r in result.rows}
    s = result.settings
    lines = [f"Table 1 on {s.get('corpus', '?')} ({s.get('words', 0):,} words, vocabulary "
             f"{s.get('vocabulary', 0):,}; skip-gram D={s.get('size')}, window {s.get('window')}, "
             f"{s.get('epochs')} epoch(s); paper: ~1B words, vocabulary "
             f"{PAPER_SETUP['vocabulary']:,}, D={PAPER_SETUP['size']})",
             f"  {'method':<11} {'t':>6} | {'seconds':>8} {'syn%':>5} {'sem%':>5} {'total%':>6} {'cover%':>6} | "
             f"paper: {'min':>4} {'syn%':>5} {'sem%':>5} {'total%':>6}"]
    for p in PAPER_TABLE1:
        r = ours.get((p.method, p.sample))
        mine = (f"{r.seconds:>8.1f} {_p(r.syntactic)} {_p(r.semantic)} {_p(r.total):>6} {_p(r.coverage):>6}"
                if r else f"{'(not run)':>8} {'':>5} {'':>5} {'':>6} {'':>6}")
        lines.append(f"  {p.method:<11} {p.sample:>6g} | {mine} | paper: {p.minutes:>4} {p.syntactic:>5} "
                     f"{p.semantic:>5} {p.total:>6}")
    lines.append("claims:")
    for c in claims(result.rows):
        lines.append(f"  [{'replicates' if c.replicates else 'does NOT replicate'}] {c.claim}: {c.evidence}")
    if result.interrupted:
        lines.append("(interrupted: the rows not run are missing, and so are the claims that need them)")
    return "\n".join(lines)


@_guard
def cmd_table1(args) -> int:
    """`replicate table1 CORPUS --analogies FILE`: the seven rows of Table 1 and the verdicts."""
    _check_paths(args)
    questions = read_analogies(args.analogies)
    settings = _settings(args)
    resolved = config_for(*TABLE1_PLAN[0], settings).resolved()  # bad settings fail now, before reading
    t0 = time.perf_counter()
    show = not args.quiet
    if show:
        sys.stderr.write(f"reading {args.corpus} ...\n")
    corpus = read_corpus(args.corpus, min_count=settings.min_count)
    result = Table1Result(settings=dict(describe(settings, corpus, Path(args.corpus).name),
                                        threads=resolved.threads, questions=Path(args.analogies).name))
    bar = RowProgress(TABLE1_PLAN, enabled=show)

    def on_row(row: Row) -> None:
        bar.row_done(row)
        result.rows.append(row)
        _write(args.output, result.to_json())

    stop = threading.Event()
    with _Interrupt(stop):
        _, result.interrupted = run_rows(corpus, questions, TABLE1_PLAN, settings, keep_dir=args.keep,
                                         on_progress=bar, on_row=on_row, stop=stop)
    result.settings["wall_seconds"] = round(time.perf_counter() - t0, 1)
    data = result.to_json()
    _write(args.output, data)
    print(json.dumps(data, indent=1) if args.json else format_table1(result))
    if show:
        sys.stderr.write(f"whole run: {fmt_duration(time.perf_counter() - t0)} (m:ss)\n")
    return 130 if result.interrupted else 0


def format_phrases(data: dict) -> str:
    paper = {p.method: p for p in PAPER_TABLE3}
    lines = [f"Table 3 (phrase analogies) on {data['settings'].get('corpus')}: {data['phrase_types']:,} phrases "
             f"learned in {len(data['passes'])} passes",
             f"  {'method':<11} {'t':>6} | {'seconds':>8} {'total%':>6} {'cover%':>6} | paper total%"]
    for r in data["rows"]:
        p = paper[r["method"]]
        ref = p.no_subsampling if r["sample"] == 0 else p.subsampling
        lines.append(f"  {r['method']:<11} {r['sample']:>6g} | {r['seconds']:>8.1f} {_p(r['total']):>6} "
                     f"{_p(r['coverage']):>6} | {ref}")
    lines.append(f"coverage: {data['coverage_note']}")
    return "\n".join(lines)


@_guard
def cmd_phrases(args) -> int:
    """`replicate phrases CORPUS --analogies FILE`: word2phrase x2, skip-gram, phrase analogies."""
    _check_paths(args)
    questions = read_analogies(args.analogies)
    settings = _settings(args)
    plan = TABLE3_PLAN if args.all else (PHRASE_BEST,)
    t0 = time.perf_counter()
    show = not args.quiet
    tmp = None
    if args.phrased is None:
        tmp = tempfile.TemporaryDirectory(prefix="w2v-phrased-")
        phrased = Path(tmp.name) / "phrased.txt"
    else:
        phrased = Path(args.phrased)
    bar = RowProgress(plan, enabled=show)

    def stage(name: str) -> None:
        if show:
            sys.stderr.write(f"\n{name} ...\n")

    stop = threading.Event()
    try:
        with _Interrupt(stop):
            result = run_phrases(args.corpus, phrased, questions, plan, settings, thresholds=PHRASE_THRESHOLDS,
                                 corpus_name=Path(args.corpus).name, keep_dir=args.keep, on_stage=stage,
                                 on_progress=bar, on_row=bar.row_done, stop=stop)
    finally:
        if tmp is not None:
            tmp.cleanup()
    result.settings["wall_seconds"] = round(time.perf_counter() - t0, 1)
    data = result.to_json()
    _write(args.output, data)
    print(json.dumps(data, indent=1) if args.json else format_phrases(data))
    return 130 if result.interrupted else 0
