"""Which merge rule keeps the Spark engine's accuracy as partitions grow (sets merge.MERGE_DEFAULT).

Does: in one Spark session (local[2]), encode a slice of the shared corpus once per partition
count (2, 4, 8), train skip-gram NS with every merge rule (sum, mean = MLlib's, sqrt) from the
same seed, and score each with gensim's analogy evaluation (bench_train.evaluate: questions-words,
top 30k words); the same slice trained in one process (Trainer, 2 threads) is the reference.
Prints a markdown table and writes bench/results/spark_merge.json.
Does not: measure speed (the runs share the machine; bench_spark.py does that side by side).

    python bench/bench_spark_merge.py --epochs 1 --partitions 2 --rules sum@200000 overlap@200000   # merge.py table
    python bench/bench_spark_merge.py --head-words 1000000 --partitions 2 --rules sum mean
    python bench/bench_spark_merge.py --small-world --epochs 2 --sync-words 50000   # README's table
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_train import QUESTIONS_NAME, evaluate, prepare_corpus, shared_dir  # noqa: E402

from core.config import TrainConfig  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "spark_merge.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head-words", type=int, default=4_600_000, help="0: the whole corpus (19M words)")
    ap.add_argument("--small-world", action="store_true",
                    help="train on sample_corpora/small_world.txt and score on its own analogies instead")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--partitions", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--rules", nargs="+", default=["capped", "overlap", "sum", "mean", "sqrt"],
                    help="merge rules, each optionally RULE@SYNC_WORDS[@ALPHA[@BLOCK_MOMENTUM]] (e.g. "
                         "sum@200000@0.0125; overlap@@0.0125: the default sync; mean@@@0.875)")
    ap.add_argument("--sync-words", type=int, default=None)
    ap.add_argument("--deltas", nargs="+", default=[None], help="how tasks ship their changed rows back, "
                    "each variant run with every format given (core/spark/deltas.py: float32 float16 int8)")
    ap.add_argument("--alpha", type=float, default=None, help="starting learning rate of every run, the "
                    "one-process reference included (default: the config's)")
    ap.add_argument("--no-reference", action="store_true", help="skip the one-process reference run")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    if args.small_world:  # 1.15M tokens with analogies written for it: a sensitive, cheap score
        sample = Path(__file__).resolve().parent.parent / "sample_corpora"
        corpus, questions = sample / "small_world.txt", sample / "small_world_analogies.txt"
    else:
        shared = shared_dir()
        corpus = prepare_corpus(shared / "corpora" / "gutenberg-100m.txt.gz", args.head_words or None,
                                Path(tempfile.gettempdir()) / "w2v-bench")
        questions = shared / QUESTIONS_NAME
    cfg = TrainConfig(size=100, window=5, negative=5, sample=1e-3, min_count=5, epochs=args.epochs, seed=1,
                      track_counts=False, alpha=args.alpha)
    out = Path(tempfile.mkdtemp(prefix="w2v-merge-"))
    rows = []

    from core.corpus import read_corpus
    from core.train.trainer import Trainer
    from core.vectors.vector_io import save

    t0 = time.perf_counter()
    one = None if args.no_reference else Trainer(read_corpus(str(corpus), min_count=5),
                                                 dataclasses.replace(cfg, threads=2))
    if one is not None:
        res = one.train()
        save(res.vectors, str(out / "one.bin"), "binary")
        ev = evaluate(out / "one.bin", questions)
        rows.append({"engine": "one process, 2 threads", "partitions": None, "rule": None, "alpha": cfg.alpha,
                     "accuracy": ev["accuracy"], "loss": res.epochs[-1].loss, "seconds": time.perf_counter() - t0})
        print(rows[-1], flush=True)

    from core.spark import SparkTrainer, default_sync_words
    from core.spark.data import prepare_corpus as spark_corpus
    from core.spark.session import get_session

    spark = get_session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    for p in args.partitions:
        sc_corpus = spark_corpus(spark, str(corpus), p, min_count=5)
        for variant, fmt in ((v, f) for v in args.rules for f in args.deltas):
            rule, *rest = variant.split("@")
            sync = int(float(rest[0])) if rest and rest[0] else (args.sync_words or default_sync_words(p))
            run_cfg = dataclasses.replace(cfg, alpha=float(rest[1])) if len(rest) > 1 and rest[1] else cfg
            momentum = float(rest[2]) if len(rest) > 2 else 0.0
            t0 = time.perf_counter()
            tr = SparkTrainer(sc_corpus, run_cfg, spark=spark, merge_rule=rule, sync_words=sync,
                              block_momentum=momentum, **({"deltas": fmt} if fmt else {}))
            res = tr.train()
            tr.close()
            path = out / f"spark-{p}-{rule}.bin"
            save(res.vectors, str(path), "binary")
            ev = evaluate(path, questions)
            med = {k: statistics.median(getattr(t, k) for t in tr.timings)
                   for k in ("seconds", "compute", "merge", "bytes_out", "bytes_back", "rows_back",
                             "broadcast", "job", "load", "task", "launch", "ship")}
            rows.append({"engine": "spark local[2]", "partitions": p, "rule": rule, "sync_words": sync,
                         "deltas": tr.deltas,
                         "alpha": run_cfg.alpha, "block_momentum": momentum, "accuracy": ev["accuracy"],
                         "rounds": len(tr.timings),
                         "loss": res.epochs[-1].loss if res.epochs else None,
                         "seconds": time.perf_counter() - t0, "error": res.error,
                         **{f"round_{k}": v for k, v in med.items()}})
            print(rows[-1], flush=True)
        sc_corpus.close()
    spark.stop()
    print("\n| engine | partitions | merge | deltas | sync words | alpha | rounds | analogy accuracy | last epoch loss "
          "| round s (compute; ship) |\n|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        timing = (f"{r['round_seconds']:.2f} ({r['round_compute']:.2f}; {r['round_ship']:.2f})"
                  if r.get("rounds") else "")
        print(f"| {r['engine']} | {r['partitions'] or ''} | {r['rule'] or ''} | {r.get('deltas', '')} | "
              f"{r.get('sync_words', '')} | "
              f"{r.get('alpha', '')} | {r.get('rounds', '')} | {100 * r['accuracy']:.1f} % | {r['loss']:.4f} | "
              f"{timing} |")
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps({"corpus": str(corpus.name), "head_words": args.head_words,
                                        "epochs": args.epochs,
                                        "sync_words": args.sync_words, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
