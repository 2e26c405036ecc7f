"""How much of a trainer's peak RSS is there before any data: the fixed cost of each stack.

Does: run small fresh processes, each measured like bench_train.py measures a trainer (ru_maxrss
through GNU time), from a bare interpreter up to a complete training run on the 8-line tiny
corpus (vectors and corpus negligible), for ours and for gensim; then add the one thing a trainer
cannot avoid holding, its two (V, D) float32 matrices for the benchmark's vocabulary, to get a
lower bound on our peak for the full benchmark, and set it beside gensim's measured peak from
the latest `bench/results/train.json`.
Does not: train on the full corpus (bench_train.py does) or change anything it measures.

    python bench/bench_memory_floor.py [--vocab V] [--size D] [--results bench/results/train.json]

Why: the benchmark's peak-RSS ratio against gensim's streamed mode is above 1 while our private
memory is not; this shows where the difference comes from (importing Numba maps its LLVM library,
and loading the first compiled kernel initialises LLVM's JIT), with numbers anyone can rerun.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import REPO, run_child  # noqa: E402

TINY = REPO / "sample_corpora" / "tiny.txt"
VOCAB_DEFAULT = 49_531  # vocab_size of our CLI --json on the full benchmark corpus at min-count 5
OURS_TINY = "ours: whole CLI run on tiny.txt"


def stages(tmp: Path) -> list[tuple[str, list[str]]]:
    py = sys.executable
    ours_train = [py, "-m", "core", "train", str(TINY), "-o", str(tmp / "ours.bin"), "--min-count", "1",
                  "--size", "100", "--epochs", "1", "--threads", "2", "--binary", "--quiet"]
    gensim_train = [py, str(REPO / "bench" / "_gensim_train.py"), str(TINY), str(tmp / "gensim.bin"),
                    "--min-count", "1", "--epochs", "1", "--workers", "2", "--binary"]
    return [
        ("python (empty program)", [py, "-c", "pass"]),
        ("+ import numpy", [py, "-c", "import numpy"]),
        ("+ import numba", [py, "-c", "import numba"]),
        ("+ one cached @njit call (LLVM JIT set up)",
         [py, "-c", "from core.corpus import read_corpus_text; read_corpus_text('a b a\\n', min_count=1)"]),
        (OURS_TINY, ours_train),
        ("gensim: import gensim.models.word2vec", [py, "-c", "import gensim.models.word2vec"]),
        ("gensim: whole run on tiny.txt", gensim_train),
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab", type=int, default=VOCAB_DEFAULT,
                    help=f"V for the matrices (default {VOCAB_DEFAULT:,}, the benchmark corpus at min-count 5)")
    ap.add_argument("--size", type=int, default=100, help="D, the vector size (default 100)")
    ap.add_argument("--results", type=Path, default=REPO / "bench" / "results" / "train.json")
    args = ap.parse_args(argv)

    runs = []
    if args.results.is_file():
        runs = json.loads(args.results.read_text()).get("runs", [])

    with tempfile.TemporaryDirectory(prefix="w2v-floor-") as d:
        tmp = Path(d)
        # compile or load our kernels once, so the measured run is a cached start like the benchmark's
        run_child(dict(stages(tmp))[OURS_TINY], tmp / "warm.out", tmp / "warm.err", 600)
        measured = {}
        print(f"{'stage':46s} peak RSS MiB")
        for label, cmd in stages(tmp):
            st = run_child(cmd, tmp / "o.out", tmp / "o.err", 600)
            if st.returncode != 0:
                print(f"{label:46s} failed (exit {st.returncode}): {(tmp / 'o.err').read_text()[-300:]}")
                continue
            measured[label] = st.maxrss_bytes / 2**20
            print(f"{label:46s} {measured[label]:8.1f}")

    matrices = 2 * args.vocab * args.size * 4 / 2**20
    floor = measured.get(OURS_TINY)
    print(f"\nW_in + W_out for V = {args.vocab:,}, D = {args.size}: {matrices:.1f} MiB")
    if floor is not None:
        print(f"lower bound for our full run: {floor:.1f} + {matrices:.1f} = {floor + matrices:.1f} MiB")
    for r in runs:
        if r.get("arch") == "sg" and r.get("peak_rss_gb"):
            mib = r["peak_rss_gb"] * 1e9 / 2**20
            print(f"measured in {args.results.name}: {r['label']} (skip-gram) peaked at {mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
