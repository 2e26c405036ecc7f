"""CLI commands `eval` (analogies, word-pair similarity) and `phrases` (word2phrase).

Does: `register(subparsers)` adds both subcommands to the main CLI (core/__main__.py), each with
`func(args) -> exit code`; `main(argv)` runs them standalone. Prints human-readable tables or
JSON on stdout, a plain-text progress bar on stderr, and for bad input one `error: ...` line on
stderr with exit code 2, never a traceback.
Does not: compute anything itself (evaluate.py, phrases.py do) or read vector files (vector_io.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

from ..corpus import CorpusError
from ..phrases import CONNECTOR_WORDS, PhraseConfig, PhraseError, PhraseModel, detect_phrases
from ..vectors.evaluate import (
    ANALOGY_RESTRICT,
    AnalogyResult,
    EvalError,
    SimilarityResult,
    evaluate_analogies,
    evaluate_word_pairs,
    read_analogies,
    read_word_pairs,
)
from .common import CliError, guard, int_arg

# the errors of these commands' handlers that are the user's input, not a bug
_guard = partial(guard, expected=(EvalError, PhraseError, CorpusError))

DEFAULT_THRESHOLDS = {"word2phrase": "200,100", "npmi": "0.5"}  # word2vec's demo-phrases; gensim docs
TSV_SUFFIX = ".phrases.tsv"


def register(subparsers) -> None:
    """Add `eval` and `phrases` to an argparse subparsers object (handlers in `func`)."""
    p = subparsers.add_parser(
        "eval", help="analogy accuracy and word-pair similarity of a vector file",
        description="Analogy accuracy (3CosAdd or 3CosMul over the most frequent words) and "
                    "Spearman/Pearson correlation with human similarity scores.")
    p.add_argument("vectors", help="vector file (word2vec text or binary, or .npz)")
    p.add_argument("--analogies", metavar="FILE", help="questions-words format: ': section' then 'a b c d'")
    p.add_argument("--method", choices=("add", "mul"), default="add", help="3CosAdd (default) or 3CosMul")
    p.add_argument("--restrict", type=int_arg(1), default=ANALOGY_RESTRICT, metavar="N",
                   help=f"analogies: answer among the N most frequent words (default {ANALOGY_RESTRICT:,}, "
                        "as the C tool's compute-accuracy; gensim uses 300,000); similarity always "
                        "uses 300,000 like gensim")
    p.add_argument("--similarity", nargs="+", metavar="FILE", default=[],
                   help="word-pair files ('w1 w2 score', # comments), e.g. WordSim-353, SimLex-999")
    p.add_argument("--case-sensitive", action="store_true",
                   help="compare words exactly (default: ignore case)")
    p.add_argument("--json", action="store_true", help="print JSON instead of tables")
    p.set_defaults(func=cmd_eval)

    q = subparsers.add_parser(
        "phrases", help="join frequent word pairs into phrase tokens (word2phrase)",
        description="Detect phrases over several passes and write the corpus with a_b tokens, "
                    "plus the phrase table as OUT.phrases.tsv.")
    q.add_argument("corpus", help="text corpus (.txt or .gz)")
    q.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="rewritten corpus, one sentence per line")
    q.add_argument("--passes", type=int_arg(1), default=2, help="passes, 1-4 (default 2)")
    q.add_argument("--threshold", default=None, metavar="T1,T2,...",
                   help="score threshold per pass; the last repeats (default 200,100; npmi 0.5)")
    q.add_argument("--delta", type=float, default=5.0, help="discount delta in the score (default 5)")
    q.add_argument("--scoring", choices=("word2phrase", "npmi"), default="word2phrase")
    q.add_argument("--min-count", type=int_arg(1), default=5,
                   help="words and pairs rarer than this never form phrases (default 5)")
    q.add_argument("--connectors", action="store_true",
                   help="let English function words (of, the, ...) sit inside phrases: bank_of_america")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=cmd_phrases)


def _load_vectors(path: str):
    """vector_io.load with every failure as a one-line CliError."""
    from ..vectors import vector_io

    if not Path(path).is_file():
        raise CliError(f"{path}: no such vector file")
    try:
        vectors = vector_io.load(path)
    except Exception as e:  # noqa: BLE001 - any failure to read is a bad file to the user
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        msg = "".join(c if c.isprintable() else "?" for c in msg)[:200]  # a binary file's bytes may be quoted
        raise CliError(f"cannot load vectors from {path}: {msg}") from None
    if len(vectors) == 0:
        raise CliError(f"{path}: no vectors in file")
    return vectors


def _pct(x: float) -> str:
    return f"{100 * x:6.2f}%"


def format_analogies(result: AnalogyResult, source: str) -> str:
    """A plain-text table of per-section and summary accuracy."""
    name = "3CosAdd" if result.method == "add" else "3CosMul"
    lines = [f"analogies: {source} ({name}, {result.restrict_vocab:,} candidate words, "
             f"{'case-insensitive' if result.case_insensitive else 'case-sensitive'})",
             f"  {'section':<30} {'correct':>8} {'total':>7} {'accuracy':>9} {'skipped':>8}"]
    for s in result.sections:
        lines.append(f"  {s.name:<30} {s.correct:>8} {s.total:>7} {_pct(s.accuracy):>9} {s.skipped:>8}")
    lines.append(f"  {'semantic':<30} {'':>8} {'':>7} {_pct(result.semantic):>9}")
    lines.append(f"  {'syntactic':<30} {'':>8} {'':>7} {_pct(result.syntactic):>9}")
    lines.append(f"  {'total':<30} {result.n_correct:>8} {result.n_evaluated:>7} {_pct(result.total):>9}")
    lines.append(f"  coverage {_pct(result.coverage).strip()} ({result.n_evaluated:,} of "
                 f"{result.n_questions:,} questions have all four words among the candidates)")
    return "\n".join(lines)


def format_similarity(results: dict[str, SimilarityResult]) -> str:
    lines = ["similarity:", f"  {'file':<40} {'spearman':>9} {'pearson':>9} {'oov':>8} {'pairs':>7}"]
    for path, r in results.items():
        lines.append(f"  {Path(path).name:<40} {r.spearman:>9.4f} {r.pearson:>9.4f} {_pct(r.oov):>8} "
                     f"{r.n_used:>7}")
    return "\n".join(lines)


@_guard
def cmd_eval(args) -> int:
    """`eval VECTORS`: analogy accuracy and/or similarity correlations; exit 2 on zero coverage."""
    if not args.analogies and not args.similarity:
        raise CliError("nothing to evaluate: give --analogies FILE and/or --similarity FILE ...")
    case_insensitive = not args.case_sensitive
    # read the question files first: a bad file fails fast, before a large vector file loads
    sections = read_analogies(args.analogies) if args.analogies else None
    pairs = {path: read_word_pairs(path) for path in args.similarity}
    vectors = _load_vectors(args.vectors)
    analogies = None
    if sections is not None:
        analogies = evaluate_analogies(vectors, sections, method=args.method, restrict_vocab=args.restrict,
                                       case_insensitive=case_insensitive)
    similarity = {path: evaluate_word_pairs(vectors, items, case_insensitive=case_insensitive)
                  for path, items in pairs.items()}
    if args.json:
        print(json.dumps({
            "analogies": analogies.to_json() if analogies is not None else None,
            "similarity": {path: r.to_json() for path, r in similarity.items()},
        }, indent=2))
    else:
        blocks = [format_analogies(analogies, args.analogies)] if analogies is not None else []
        if similarity:
            blocks.append(format_similarity(similarity))
        print("\n\n".join(blocks))
    if analogies is not None and analogies.n_evaluated == 0:
        sys.stderr.write(f"error: no analogy question has all four words among the "
                         f"{analogies.restrict_vocab:,} most frequent words (coverage 0%)\n")
        return 2
    return 0


# -- phrases --------------------------------------------------------------------------------------
def parse_thresholds(text: str | None, passes: int, scoring: str) -> tuple[float, ...]:
    """'200,100' -> (200.0, 100.0); fewer values than passes repeat the last, more is an error."""
    text = text if text is not None else DEFAULT_THRESHOLDS[scoring]
    try:
        values = [float(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise CliError(f"--threshold must be numbers separated by commas (got {text!r})") from None
    if not values:
        raise CliError("--threshold needs at least one number")
    if len(values) > passes:
        raise CliError(f"{len(values)} thresholds given for {passes} pass(es): give one per pass or fewer")
    return tuple(values + [values[-1]] * (passes - len(values)))


class ProgressLine:
    """`\\r`-updated progress bar on stderr, at most 10 updates per second."""

    def __init__(self, label: str, stream=None, enabled: bool = True, width: int = 30):
        self.label, self.enabled, self.width = label, enabled, width
        self.stream = stream if stream is not None else sys.stderr
        self.t0 = time.perf_counter()
        self.last = -1.0
        self.shown = -1.0  # last fraction drawn

    def __call__(self, fraction: float) -> None:
        now = time.perf_counter()
        if not self.enabled or fraction == self.shown or (now - self.last < 0.1 and fraction < 1.0):
            return
        self.last, self.shown = now, fraction
        filled = int(self.width * max(0.0, min(1.0, fraction)))
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] "
                          f"{100 * fraction:5.1f}% {now - self.t0:6.1f} s")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self.last >= 0:
            self.stream.write("\n")
            self.stream.flush()


def format_phrases(model: PhraseModel, out: str, tsv: str, seconds: float, top: int = 10) -> str:
    lines = [f"  {'pass':>4} {'threshold':>10} {'phrases':>8} {'merges':>9} {'tokens in':>12} "
             f"{'tokens out':>12}"]
    for p in model.passes:
        lines.append(f"  {p.pass_no:>4} {p.threshold:>10g} {p.phrase_types:>8,} {p.merges:>9,} "
                     f"{p.tokens_in:>12,} {p.tokens_out:>12,}")
    if any(p.pruned for p in model.passes):
        lines.append("  note: rare bigrams were pruned to bound memory; counts are lower bounds")
    best = sorted(model.phrases, key=lambda p: -p.count)[:top]
    lines.append(f"  most frequent phrases: {', '.join(f'{p.phrase} ({p.count:,})' for p in best)}")
    lines.append(f"wrote {out} and {tsv} ({len(model.phrases):,} phrases) in {seconds:.1f} s")
    return "\n".join(lines)


@_guard
def cmd_phrases(args) -> int:
    """`phrases CORPUS -o OUT`: rewrite the corpus with phrase tokens and write OUT.phrases.tsv."""
    thresholds = parse_thresholds(args.threshold, args.passes, args.scoring)
    out = Path(args.output)
    if not Path(args.corpus).is_file():
        raise CliError(f"{args.corpus}: no such corpus file")
    if out.resolve() == Path(args.corpus).resolve():
        raise CliError("the output would overwrite the corpus: choose another -o path")
    if not out.parent.is_dir():
        raise CliError(f"{out.parent}: output directory does not exist")
    cfg = PhraseConfig(thresholds=thresholds, delta=args.delta, min_count=args.min_count,
                       scoring=args.scoring, connectors=CONNECTOR_WORDS if args.connectors else frozenset())
    cfg.validate()
    bar = ProgressLine("phrases", enabled=not args.quiet)
    t0 = time.perf_counter()
    try:
        model = detect_phrases(args.corpus, out, cfg, progress=bar)
    finally:
        bar.done()
    tsv = str(out) + TSV_SUFFIX
    model.save_table(tsv)
    print(format_phrases(model, str(out), tsv, time.perf_counter() - t0))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Standalone entry: `python -c 'from core.cli.evaluate import main; main([...])'`."""
    parser = argparse.ArgumentParser(prog="python -m core", description="evaluation and phrase commands")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
