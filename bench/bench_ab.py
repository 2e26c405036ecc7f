"""Interleaved A/B speed comparison of two checkouts of this repository (e.g. before/after a change).

Does: cut the first --words words of the shared corpus into a temporary file once, then for each
of --rounds rounds run, alternating A and B (the order flips every round), one child process per
(checkout, architecture) that reads the slice and trains one epoch with --threads threads (otherwise
the settings of bench_train.py), and report each side's words/s of the epoch (compilation excluded: the trainer
compiles before the epoch's clock starts), the medians and the ratio B / A.
Does not: compare quality, assert anything, or compare figures from different runs (the machine
is shared and noisy: only the interleaved ratio means something).

    python bench/bench_ab.py --a /tmp/ref --b . --words 3000000 --rounds 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_train import shared_dir  # noqa: E402

CHILD = """
import json, sys
from core.config import Architecture, TrainConfig
from core.corpus import read_corpus
from core.train.trainer import Trainer
corpus = read_corpus(sys.argv[1], min_count=5)
cfg = TrainConfig(architecture=Architecture[sys.argv[2]], size=100, window=5, negative=5, sample=1e-4,
                  epochs=1, threads=int(sys.argv[3]))
result = Trainer(corpus, cfg).train()
print(json.dumps({"words_per_sec": result.epochs[0].words_per_sec, "loss": result.epochs[0].loss}))
"""


def cut_slice(words: int, path: Path) -> None:
    """The first `words` words of the shared corpus, whole lines, into `path`."""
    n = 0
    with gzip.open(shared_dir() / "corpora" / "gutenberg-100m.txt.gz", "rt", encoding="utf-8") as src, \
            open(path, "w", encoding="utf-8") as dst:
        for line in src:
            dst.write(line)
            n += len(line.split())
            if n >= words:
                break


def run(checkout: Path, corpus: Path, arch: str, threads: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), arch, str(threads)], cwd=checkout,
                          capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(checkout)), timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{checkout} {arch}: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", type=Path, required=True, help="checkout A (before)")
    ap.add_argument("--b", type=Path, default=REPO, help="checkout B (after; default this one)")
    ap.add_argument("--words", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--archs", default="SKIPGRAM,CBOW")
    ap.add_argument("--threads", type=int, default=2, help="worker threads (1 is the least noisy)")
    args = ap.parse_args()
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "slice.txt"
        cut_slice(args.words, corpus)
        for arch in args.archs.split(","):  # warm the Numba caches of both checkouts (not timed)
            for side in sides.values():
                run(side, corpus, arch, args.threads)
        speeds: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds):
            order = ("A", "B") if r % 2 == 0 else ("B", "A")
            for arch in args.archs.split(","):
                for name in order:
                    got = run(sides[name], corpus, arch, args.threads)
                    speeds.setdefault((arch, name), []).append(got["words_per_sec"])
                    print(f"round {r + 1} {arch:8s} {name}: {got['words_per_sec'] / 1e6:.3f} M words/s "
                          f"loss {got['loss']:.4f}", flush=True)
    print(f"\nA = {sides['A']}\nB = {sides['B']}\n{args.words:,} words, 1 epoch, {args.threads} threads, "
          f"{args.rounds} rounds")
    print("| arch | A median M words/s | B median M words/s | B / A |\n|---|---|---|---|")
    for arch in args.archs.split(","):
        a, b = statistics.median(speeds[(arch, "A")]), statistics.median(speeds[(arch, "B")])
        print(f"| {arch} | {a / 1e6:.3f} | {b / 1e6:.3f} | {b / a:.3f} |")


if __name__ == "__main__":
    main()
