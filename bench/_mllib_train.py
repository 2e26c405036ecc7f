"""The MLlib side of bench_spark.py: Spark's own Word2Vec, one whole run in one process.

Does: start Spark on `--master`, read the text file (one document per line), tokenise on the JVM
(RegexTokenizer: lowercased runs of word characters with inner apostrophes, our rule for ASCII
text), fit `pyspark.ml.feature.Word2Vec` (skip-gram with hierarchical softmax, its only objective;
no subsampling), write the vectors in binary word2vec format ordered by corpus frequency (the
evaluation's 30k-word restriction relies on that order), and print one JSON object on stdout
shaped like our CLI's `--json` output.
Does not: evaluate (bench_spark.py scores every file the same way) or measure memory (the parent
samples the whole process tree: this driver, its JVM and Spark's Python workers).

    python bench/_mllib_train.py CORPUS OUT [--master local[2]] [--partitions 2] [--iterations 1]
        [--size 100] [--window 5] [--min-count 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("out")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--partitions", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=1)
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--executor-memory", default="2g", help="with a local-cluster master")
    ap.add_argument("--java-options", default=None, help="the driver's and executors' extraJavaOptions")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    from pyspark.ml.feature import RegexTokenizer, Word2Vec
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    builder = (SparkSession.builder.master(args.master).appName("mllib-word2vec")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.memory", "4g")
               .config("spark.ui.showConsoleProgress", "false"))
    if args.master.startswith("local-cluster"):  # separate executor JVMs, each with its own model copy
        import os
        from pathlib import Path

        import pyspark

        os.environ.setdefault("SPARK_HOME", str(Path(pyspark.__file__).parent))  # local-cluster launches from it
        builder = builder.config("spark.executor.memory", args.executor_memory)
    if args.java_options:
        builder = (builder.config("spark.driver.extraJavaOptions", args.java_options)
                   .config("spark.executor.extraJavaOptions", args.java_options))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    lines = spark.read.text(args.corpus).repartition(args.partitions)
    tok = RegexTokenizer(inputCol="value", outputCol="words", pattern=r"\w+(?:'\w+)*", gaps=False,
                         toLowercase=True)
    docs = tok.transform(lines).select("words").cache()
    words = docs.select(F.size("words").alias("n")).agg(F.sum("n")).first()[0]
    t_fit = time.perf_counter()
    w2v = Word2Vec(vectorSize=args.size, windowSize=args.window, minCount=args.min_count,
                   numPartitions=args.partitions, maxIter=args.iterations, seed=args.seed,
                   inputCol="words", outputCol="vec")
    model = w2v.fit(docs)
    fit_seconds = time.perf_counter() - t_fit
    counts = docs.select(F.explode("words").alias("word")).groupBy("word").count()
    rows = (model.getVectors().join(counts, "word").orderBy(F.desc("count"), "word")
            .select("word", "vector").collect())
    with open(args.out, "wb") as f:
        f.write(f"{len(rows)} {args.size}\n".encode())
        for r in rows:
            f.write(r["word"].encode() + b" " + np.asarray(r["vector"].toArray(), np.float32).tobytes() + b"\n")
    spark.stop()
    print(json.dumps({"words": int(words), "vocab_size": len(rows), "seconds": round(time.perf_counter() - t0, 3),
                      "train_seconds": round(fit_seconds, 3),
                      "words_per_sec": round(words * args.iterations / fit_seconds, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
