"""Interleaved A/B speed comparison of two checkouts of this repository (e.g. before/after a change).

Does: cut the first --words words of the shared corpus into a temporary file once, then for each
of --rounds rounds run, alternating A and B (the order flips every round), one child process per
(checkout, mode) that reads the slice and trains one epoch with --threads threads (the settings
of bench_train.py), and report each side's words/s of the epoch (wall) and words per CPU second
of the training call (CPU time of the whole process during train(), after an untimed warm-up
run that loads or compiles the kernels), the medians and the ratios B / A. On a busy machine the
CPU ratio is the steadier one. A mode is an architecture with optional +flags: SKIPGRAM,
CBOW, SKIPGRAM+shared (--shared-negatives), SKIPGRAM+hs (hierarchical softmax), +noloss
(compute_loss off).
Does not: compare quality, assert anything, or compare figures from different runs (the machine
is shared and noisy: only the interleaved ratio means something).

    python bench/bench_ab.py --a /tmp/ref --b . --words 3000000 --rounds 3
    python bench/bench_ab.py --a /tmp/ref --b . --words 2000000 --threads 1 --archs SKIPGRAM,SKIPGRAM+shared
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
import json, os, sys, tempfile, time
from core.config import Architecture, Loss, TrainConfig
from core.corpus import read_corpus
from core.train.trainer import Trainer
arch, *flags = sys.argv[2].split("+")
kw = {"shared_negatives": "shared" in flags, "compute_loss": "noloss" not in flags}
if "hs" in flags:
    kw["loss"] = Loss.HS
def config():
    return TrainConfig(architecture=Architecture[arch], size=100, window=5, negative=5, sample=1e-4,
                       epochs=1, threads=int(sys.argv[3]), seed=1, **kw)
tiny = os.path.join(tempfile.mkdtemp(), "warm.txt")
with open(tiny, "w") as f:
    f.write(" ".join(f"w{i % 97} w{i % 13}" for i in range(20000)))
Trainer(read_corpus(tiny, min_count=1), config()).train()  # load or compile the kernels, untimed
corpus = read_corpus(sys.argv[1], min_count=5)
trainer = Trainer(corpus, config())
t0 = time.process_time()
result = trainer.train()
cpu = time.process_time() - t0
print(json.dumps({"words_per_sec": result.epochs[0].words_per_sec, "loss": result.epochs[0].loss,
                  "words_per_cpu_sec": len(corpus) / cpu}))
"""


def cut_words(src: Path, words: int, path: Path, block: int = 1 << 20) -> None:
    """The first `words` whitespace-separated words of the gzipped text `src` into `path`, one
    word per space and a newline per `block` characters read (the shared corpus is one line of
    ~17M words, so it cannot be cut by lines)."""
    n, carry = 0, ""
    with gzip.open(src, "rt", encoding="utf-8") as f, open(path, "w", encoding="utf-8") as dst:
        while n < words:
            text = f.read(block)
            if not text:
                tokens, carry = carry.split(), ""
            else:
                text = carry + text
                cut = len(text) if text[-1].isspace() else max(text.rfind(" "), text.rfind("\n")) + 1
                tokens, carry = text[:cut].split(), text[cut:]
            tokens = tokens[:words - n]
            if tokens:
                dst.write(" ".join(tokens) + "\n")
            n += len(tokens)
            if not text:
                break


def cut_slice(words: int, path: Path) -> None:
    """The first `words` words of the shared corpus into `path`."""
    cut_words(shared_dir() / "corpora" / "gutenberg-100m.txt.gz", words, path)


def run(checkout: Path, corpus: Path, arch: str, threads: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(corpus), arch, str(threads)], cwd=checkout,
                          capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(checkout)), timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{checkout} {arch}: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", type=Path, required=True, help="checkout A (before)")
    ap.add_argument("--b", type=Path, default=REPO, help="checkout B (after; default this one)")
    ap.add_argument("--words", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--archs", default="SKIPGRAM,CBOW", help="modes, e.g. SKIPGRAM,SKIPGRAM+shared,CBOW")
    ap.add_argument("--threads", type=int, default=2, help="1 is the least noisy on a shared machine")
    args = ap.parse_args()
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "slice.txt"
        cut_slice(args.words, corpus)
        for arch in args.archs.split(","):  # warm the Numba caches of both checkouts (not timed)
            for side in sides.values():
                run(side, corpus, arch, args.threads)
        speeds: dict[tuple[str, str], list[float]] = {}
        cpu: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds):
            order = ("A", "B") if r % 2 == 0 else ("B", "A")
            for arch in args.archs.split(","):
                for name in order:
                    got = run(sides[name], corpus, arch, args.threads)
                    speeds.setdefault((arch, name), []).append(got["words_per_sec"])
                    cpu.setdefault((arch, name), []).append(got["words_per_cpu_sec"])
                    print(f"round {r + 1} {arch:8s} {name}: {got['words_per_sec'] / 1e6:.3f} M words/s "
                          f"{got['words_per_cpu_sec'] / 1e6:.3f} M words/CPU s loss {got['loss']:.4f}", flush=True)
    print(f"\nA = {sides['A']}\nB = {sides['B']}\n{args.words:,} words, 1 epoch, {args.threads} threads, "
          f"{args.rounds} rounds; load average {os.getloadavg()[0]:.1f}")
    print("| mode | A M words/s | B M words/s | B / A | A M words/CPU s | B M words/CPU s | B / A (CPU) |\n"
          "|---|---|---|---|---|---|---|")
    for arch in args.archs.split(","):
        a, b = statistics.median(speeds[(arch, "A")]), statistics.median(speeds[(arch, "B")])
        ca, cb = statistics.median(cpu[(arch, "A")]), statistics.median(cpu[(arch, "B")])
        print(f"| {arch} | {a / 1e6:.3f} | {b / 1e6:.3f} | {b / a:.3f} | {ca / 1e6:.3f} | {cb / 1e6:.3f} | "
              f"{cb / ca:.3f} |")


if __name__ == "__main__":
    main()
