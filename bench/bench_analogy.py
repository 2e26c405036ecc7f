"""Analogy evaluation speed: the full Google set (19,544 questions) over the 30,000 most frequent words.

Does: build random unit vectors (V = 30,000, D = 100 by default) whose vocabulary holds every word of
the question file, so every question is evaluated (coverage 100%; random vectors time the same as
trained ones), time `evaluate_analogies` for 3CosAdd and 3CosMul (best of --repeat runs), and time
gensim's `evaluate_word_analogies` once on the same vectors for a ratio (it loops per question);
the correct counts of ours and gensim's 3CosAdd must agree.
With --vectors FILE it times trained vectors instead (coverage then < 100%), which also makes
the ours-vs-gensim check on correct counts meaningful (random vectors answer ~0% right).
Does not: train, or measure accuracy.

    python bench/bench_analogy.py                 # ~1 minute, most of it gensim
    python bench/bench_analogy.py --skip-gensim --dim 300
    python bench/bench_analogy.py --vectors vectors.txt
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core.vectors.evaluate import evaluate_analogies, read_analogies  # noqa: E402
from core.vectors.keyed import Vectors  # noqa: E402


def shared_dir() -> Path:
    env = os.environ.get("W2V_SHARED")
    return Path(env) if env else REPO.parent / "shared"


def random_vectors(questions: Path, n_words: int, dim: int, seed: int = 0) -> Vectors:
    """Every (lower-cased) question word first, then filler words up to n_words."""
    words: dict[str, None] = {}
    for s in read_analogies(questions):
        for q in s.questions:
            for w in q:
                words.setdefault(w.lower())
    vocab = list(words)[:n_words]
    vocab += [f"filler{i}" for i in range(n_words - len(vocab))]
    rng = np.random.default_rng(seed)
    return Vectors(vocab, rng.normal(size=(n_words, dim)).astype(np.float32))


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=Path, default=shared_dir() / "eval" / "questions-words.txt")
    ap.add_argument("--restrict", type=int, default=30_000)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--vectors", type=Path, default=None, help="trained vectors instead of random ones")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-gensim", action="store_true")
    args = ap.parse_args(argv)
    if not args.questions.exists():
        print(f"SKIP: {args.questions} not found (set W2V_SHARED)")
        return 0

    if args.vectors is not None:
        vectors = Vectors.load(args.vectors)
    else:
        vectors = random_vectors(args.questions, args.restrict, args.dim)
    sections = read_analogies(args.questions)
    n_questions = sum(len(s.questions) for s in sections)
    vectors.unit  # noqa: B018 - normalise once, outside the timings (gensim caches its norms too)
    print(f"{n_questions:,} questions, {min(args.restrict, len(vectors)):,} candidate words, "
          f"D = {vectors.dim}, {args.vectors or 'random vectors'}, best of {args.repeat}")
    rows = []
    for method in ("add", "mul"):
        seconds, result = best_time(lambda m=method: evaluate_analogies(vectors, sections, method=m,
                                                                        restrict_vocab=args.restrict),
                                    args.repeat)
        assert args.vectors is not None or result.coverage == 1.0
        rows.append((f"ours 3Cos{method.capitalize()}", seconds, result.n_correct))
        print(f"  ours 3Cos{method.capitalize()}: {seconds:.2f} s for {result.n_evaluated:,} questions "
              f"({result.n_evaluated / seconds:,.0f}/s), accuracy {100 * result.total:.2f}%")
    if not args.skip_gensim:
        from gensim.models import KeyedVectors

        kv = KeyedVectors(vector_size=vectors.dim)
        kv.add_vectors(vectors.words, vectors.vectors)
        kv.fill_norms()
        t0 = time.perf_counter()
        score, sections_g = kv.evaluate_word_analogies(str(args.questions), restrict_vocab=args.restrict)
        seconds = time.perf_counter() - t0
        correct = sum(len(s["correct"]) for s in sections_g if s["section"] == "Total accuracy")
        print(f"  gensim 3CosAdd (one run): {seconds:.2f} s; ours is {seconds / rows[0][1]:.0f}x faster")
        print(f"  correct answers: ours {rows[0][2]}, gensim {correct} "
              f"({'equal' if correct == rows[0][2] else 'DIFFERENT'})")
        if correct != rows[0][2]:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
