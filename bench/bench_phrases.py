"""Phrase detection, ours vs gensim 4.4.0 `Phrases`: one pass over the full shared corpus, side by side.

Does: run each implementation in its own child process (so peak RSS is per process, read with
os.wait4) on the same text with the same sentences (lines cut every 10,000 tokens, read by our
corpus reader for both, so neither pays a different tokeniser), learn one pass of phrases and
write the rewritten corpus; report wall time, peak RSS, phrase count and the ratios. gensim's
default scorer multiplies by len(vocab) where word2phrase multiplies by the word count N, so its
threshold is set to ours * len(vocab) / N after learning: both then pick the same phrases and
write byte-identical corpora (checked). With --two-pass it also runs our default two passes
(thresholds 200, 100) and prints the top phrases by score and by count.
Does not: compare against numbers from another day (shared, noisy machine: read the ratios).

    python bench/bench_phrases.py                 # ~3-4 minutes, most of it gensim
    python bench/bench_phrases.py --two-pass --skip-gensim
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_NAME = "corpora/gutenberg-100m.txt.gz"


def shared_dir() -> Path:
    env = os.environ.get("W2V_SHARED")
    return Path(env) if env else REPO.parent / "shared"


# -- children ---------------------------------------------------------------------------------------
def child_ours(corpus: str, out: str, thresholds: list[float], table: str | None) -> dict:
    from core.phrases import PhraseConfig, detect_phrases

    t0 = time.perf_counter()
    model = detect_phrases(corpus, out, PhraseConfig(thresholds=tuple(thresholds)))
    seconds = time.perf_counter() - t0
    if table:
        model.save_table(table)
    return {"seconds": seconds, "phrases": len(model.phrases), "tokens": model.passes[0].tokens_in,
            "passes": [vars(p) for p in model.passes]}


class Sentences:
    """A restartable iterable over our reader's sentences (gensim iterates twice)."""

    def __init__(self, path: str):
        self.path = path

    def __iter__(self):
        from core.corpus import iter_sentences

        return iter_sentences(self.path)


def child_gensim(corpus: str, out: str, thresholds: list[float], table: str | None) -> dict:
    from gensim.models.phrases import Phrases

    sentences = Sentences(corpus)
    t0 = time.perf_counter()
    model = Phrases(sentences, min_count=5, threshold=1.0)
    learn = time.perf_counter() - t0
    # gensim's original_scorer: (ab - min_count) / (a b) * len(vocab); ours: ... * N
    model.threshold = thresholds[0] * len(model.vocab) / model.corpus_word_count
    frozen = model.freeze()
    with open(out, "w", encoding="utf-8") as f:
        for s in sentences:
            f.write(" ".join(frozen[s]))
            f.write("\n")
    return {"seconds": time.perf_counter() - t0, "learn_seconds": learn, "phrases": len(frozen.phrasegrams),
            "tokens": model.corpus_word_count, "vocab_entries": len(model.vocab),
            "gensim_threshold": model.threshold}


def run_child(which: str, corpus: str, out: str, thresholds: list[float], table: str | None = None) -> dict:
    """Run one child; return its report plus wall seconds and peak RSS (MB) from wait4."""
    cmd = [sys.executable, __file__, "--child", which, "--corpus", corpus, "--out", out,
           "--thresholds", ",".join(map(str, thresholds))] + (["--table", table] if table else [])
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as stdout:
        proc = subprocess.Popen(cmd, stdout=stdout, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        stdout.seek(0)
        text = stdout.read().decode()
    if status != 0:
        raise SystemExit(f"{which} child failed (status {status})")
    report = json.loads(text.strip().splitlines()[-1])
    report.update(wall=wall, rss_mb=usage.ru_maxrss / 1024)
    return report


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def print_top(table: str, n: int = 20) -> None:
    rows = [line.split("\t") for line in Path(table).read_text().splitlines()[1:]]
    by_score = sorted(rows, key=lambda r: -float(r[2]))[:n]
    by_count = sorted(rows, key=lambda r: -int(r[1]))[:n]
    print(f"\ntop {n} phrases by score (phrase, count, score, pass):")
    for r in by_score:
        print(f"  {r[0]:<40} {int(r[1]):>7,} {float(r[2]):>12,.1f}  {r[3]}")
    print(f"\ntop {n} phrases by count:")
    for r in by_count:
        print(f"  {r[0]:<40} {int(r[1]):>7,} {float(r[2]):>12,.1f}  {r[3]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(shared_dir() / CORPUS_NAME))
    ap.add_argument("--threshold", type=float, default=100.0, help="word2phrase threshold of the one pass")
    ap.add_argument("--skip-gensim", action="store_true")
    ap.add_argument("--two-pass", action="store_true", help="also run ours with thresholds 200,100")
    ap.add_argument("--keep", default=None, help="directory for the outputs (default: a temp dir)")
    ap.add_argument("--child", choices=("ours", "gensim"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--thresholds", help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child:
        sys.path.insert(0, str(REPO))
        fn = child_ours if args.child == "ours" else child_gensim
        thresholds = [float(t) for t in args.thresholds.split(",")]
        print(json.dumps(fn(args.corpus, args.out, thresholds, args.table)))
        return 0
    if not Path(args.corpus).exists():
        print(f"SKIP: corpus not found at {args.corpus} (set W2V_SHARED)")
        return 0

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.keep or tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(f"one pass, word2phrase threshold {args.threshold:g}, min_count 5, delta 5 on {args.corpus}")
        ours = run_child("ours", args.corpus, str(work / "ours.txt"), [args.threshold])
        print(f"  ours:   {ours['wall']:7.1f} s wall ({ours['seconds']:.1f} s in detect_phrases), "
              f"peak RSS {ours['rss_mb']:7.0f} MB, {ours['phrases']:,} phrases, {ours['tokens']:,} tokens")
        if not args.skip_gensim:
            ref = run_child("gensim", args.corpus, str(work / "gensim.txt"), [args.threshold])
            print(f"  gensim: {ref['wall']:7.1f} s wall ({ref['learn_seconds']:.1f} s learning, "
                  f"{ref['seconds'] - ref['learn_seconds']:.1f} s rewriting), "
                  f"peak RSS {ref['rss_mb']:7.0f} MB, "
                  f"{ref['phrases']:,} phrases (threshold {ref['gensim_threshold']:.4g} on len(vocab) = "
                  f"{ref['vocab_entries']:,})")
            same = sha256(str(work / "ours.txt")) == sha256(str(work / "gensim.txt"))
            print(f"  ratios: time gensim/ours {ref['wall'] / ours['wall']:.1f}x, "
                  f"peak RSS ours/gensim {ours['rss_mb'] / ref['rss_mb']:.2f}; "
                  f"rewritten corpora {'identical' if same else 'DIFFERENT'}")
        if args.two_pass:
            table = str(work / "two_pass.phrases.tsv")
            two = run_child("ours", args.corpus, str(work / "two_pass.txt"), [200.0, 100.0], table)
            print(f"\ntwo passes (200, 100): {two['wall']:.1f} s wall, peak RSS {two['rss_mb']:.0f} MB, "
                  f"{two['phrases']:,} phrases")
            for p in two["passes"]:
                print(f"  pass {p['pass_no']}: {p['phrase_types']:,} phrases, {p['merges']:,} merges, "
                      f"{p['tokens_in']:,} -> {p['tokens_out']:,} tokens")
            print_top(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
