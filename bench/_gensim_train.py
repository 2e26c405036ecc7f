"""The gensim side of bench_train.py: one whole training run in one process, timed from inside.

Does: read a text8-format corpus with gensim's `Text8Corpus` (whitespace tokens, 10,000-word
sentences), build the vocabulary, train `Word2Vec` with negative sampling (or, with --hs,
hierarchical softmax alone), save the input vectors
in word2vec format, and print one JSON object on stdout shaped like our CLI's `--json` output
(`words`, `vocab_size`, `seconds`, `words_per_sec`, `epochs`) plus gensim-specific timings.
Does not: evaluate anything (bench_train.py scores every trainer's file the same way) or measure
memory (the parent reads the peak RSS of this whole process with wait4).

    python bench/_gensim_train.py CORPUS OUT [--cbow] [--size 100] [--window 5] [--negative 5]
        [--sample 1e-4] [--min-count 5] [--epochs 5] [--workers 2] [--seed 1] [--alpha A] [--binary] [--hs]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from gensim.models.callbacks import CallbackAny2Vec
from gensim.models.word2vec import Text8Corpus, Word2Vec


class EpochTimer(CallbackAny2Vec):
    """Wall time of every epoch (gensim reports none by itself)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._t0 = 0.0

    def on_epoch_begin(self, model) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_end(self, model) -> None:
        self.seconds.append(time.perf_counter() - self._t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", help="text8-format corpus (plain text; gensim also opens .gz by extension)")
    ap.add_argument("out", help="word2vec-format vector file to write")
    ap.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negative", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-4)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--alpha", type=float, help="start learning rate (default: gensim's 0.025); not used by the bench"
    )
    ap.add_argument("--binary", action="store_true", help="write the binary word2vec format")
    ap.add_argument("--hs", action="store_true", help="hierarchical softmax alone (hs=1, negative=0)")
    ap.add_argument("--in-memory", action="store_true",
                    help="hold the tokenised sentences in a list (gensim's faster, memory-hungry way) "
                         "instead of streaming the file every epoch")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    corpus = Text8Corpus(args.corpus)
    if args.in_memory:
        corpus = list(corpus)
    # alpha / min_alpha stay at gensim's defaults (0.025 / 0.0001 for both architectures) unless --alpha.
    extra = {"alpha": args.alpha} if args.alpha is not None else {}
    model = Word2Vec(
        sg=0 if args.cbow else 1,
        vector_size=args.size,
        window=args.window,
        negative=0 if args.hs else args.negative,
        hs=1 if args.hs else 0,
        sample=args.sample,
        min_count=args.min_count,
        epochs=args.epochs,
        workers=args.workers,
        seed=args.seed,
        compute_loss=False,
        **extra,
    )
    t0 = time.perf_counter()
    model.build_vocab(corpus)
    t1 = time.perf_counter()
    timer = EpochTimer()
    trained, raw = model.train(
        corpus, total_examples=model.corpus_count, epochs=model.epochs, callbacks=[timer]
    )
    t2 = time.perf_counter()
    model.wv.save_word2vec_format(args.out, binary=args.binary)
    t3 = time.perf_counter()

    words = int(model.corpus_total_words)  # raw tokens in one pass, before min_count and subsampling
    train_s = t2 - t1
    out = {
        "words": words,
        "vocab_size": len(model.wv),
        "seconds": train_s,
        "train_seconds": train_s,
        "words_per_sec": words * args.epochs / train_s if train_s > 0 else None,
        "epochs": [
            {"loss": None, "seconds": s, "words_per_sec": words / s if s > 0 else None} for s in timer.seconds
        ],
        "vocab_seconds": t1 - t0,
        "save_seconds": t3 - t2,
        "total_seconds": t3 - t_start,
        "effective_words": int(trained),  # words actually trained on (after subsampling), all epochs
        "raw_words": int(raw),  # words read, all epochs
        "alpha": model.alpha,
        "min_alpha": model.min_alpha,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
