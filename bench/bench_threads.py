"""Thread scaling of the trainer on one checkout: 1 vs 2 (or more) threads, interleaved.

Does: cut the first --words words of the shared corpus once, then for each of --rounds rounds
run one bench_ab.py child per thread count (the order reverses every round): it trains one
epoch with bench_train.py's settings after an untimed warm-up and reports words/s of the epoch
(wall) and words per CPU second of the training call. Prints the medians and, per thread count,
the speed-up over the first count: wall (what a user sees: needs a quiet machine) and CPU
efficiency (words per CPU second against the first count's: < 1 is work the extra threads add,
such as cache-line traffic on shared rows and hot-row merges; steadier on a busy machine).
Does not: compare checkouts (bench_ab.py does) or check quality (tests/test_threads.py does).

    python bench/bench_threads.py --threads 1,2 --words 4000000 --rounds 3
    python bench/bench_threads.py --threads 1,2 --archs SKIPGRAM,CBOW
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from bench_ab import cut_slice, run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkout", type=Path, default=REPO)
    ap.add_argument("--words", type=int, default=4_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2", help="thread counts, the first is the baseline")
    ap.add_argument("--archs", default="SKIPGRAM", help="bench_ab.py modes, e.g. SKIPGRAM,CBOW,SKIPGRAM+hs")
    args = ap.parse_args()
    counts = [int(t) for t in args.threads.split(",")]
    archs = args.archs.split(",")
    checkout = args.checkout.resolve()
    wall: dict[tuple[str, int], list[float]] = {}
    cpu: dict[tuple[str, int], list[float]] = {}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "slice.txt"
        cut_slice(args.words, corpus)
        for r in range(args.rounds):
            order = counts if r % 2 == 0 else counts[::-1]
            for arch in archs:
                for t in order:
                    got = run(checkout, corpus, arch, t)
                    loads.append(os.getloadavg()[0])
                    wall.setdefault((arch, t), []).append(got["words_per_sec"])
                    cpu.setdefault((arch, t), []).append(got["words_per_cpu_sec"])
                    print(f"round {r + 1} {arch} {t} threads: {got['words_per_sec'] / 1e6:.3f} M words/s, "
                          f"{got['words_per_cpu_sec'] / 1e6:.3f} M words/CPU s, loss {got['loss']:.4f}, "
                          f"load {loads[-1]:.1f}", flush=True)
    print(f"\n{checkout}\n{args.words:,} words, 1 epoch, {args.rounds} rounds, medians; load average during "
          f"the runs {min(loads):.1f}-{max(loads):.1f}")
    print("| mode | threads | M words/s | x first (wall) | M words/CPU s | CPU efficiency |\n|---|---|---|---|---|---|")
    for arch in archs:
        w0, c0 = statistics.median(wall[(arch, counts[0])]), statistics.median(cpu[(arch, counts[0])])
        for t in counts:
            w, c = statistics.median(wall[(arch, t)]), statistics.median(cpu[(arch, t)])
            print(f"| {arch} | {t} | {w / 1e6:.3f} | {w / w0:.2f} | {c / 1e6:.3f} | {c / c0:.2f} |")


if __name__ == "__main__":
    main()
