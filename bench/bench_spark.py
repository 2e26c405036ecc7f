"""Side by side on Spark: our kernels on Spark, our trainer in one process, MLlib's Word2Vec, gensim.

Does: on the shared 19M-word corpus (decompressed once, not timed), run in one sequence, each as
its own child process measured by bench_train.run_child (wall time; peak RSS of the process and,
sampled, of its whole tree: the Spark driver's JVM and the executors' Python workers included):
  ours on Spark local[2] with 2 and 8 partitions (python -m core train --engine spark),
  ours in one process with 2 threads, MLlib's Word2Vec local[2] with 2 and 8 partitions
  (bench/_mllib_train.py: skip-gram + hierarchical softmax, its only objective; no subsampling),
  gensim with 2 workers (bench/_gensim_train.py), and ours at MLlib's settings (skip-gram HS, no
  subsampling) on Spark with 2 partitions and in one process ("-hs" rows: equal objectives).
  "-cluster" rows run in
  local-cluster[2,1,6144]: separate executor JVMs, where MLlib's partitions stop sharing one model
  (its tasks train the broadcast model in place, so in local[N] they are Hogwild threads of one
  model; README "MLlib on one machine is not MLlib on a cluster"). "-8-replicas": 8 partitions
  kept as 8 model copies (--replicas partitions; by default 8 partitions on 2 slots train as 2).
  "-threads-1x2-cluster": one executor JVM of 2 cores, one task of 2 Hogwild threads
  (--task-threads 2, local-cluster[1,2,6144]).
Same size 100, window 5, min count 5, epochs (MLlib: iterations); ours and gensim NS with k = 5
and sample 1e-3 unless "-hs". Scores every vector file the same way: questions-words accuracy (gensim's
evaluation over the top 30k words, bench_train.evaluate) and the Spearman correlation on
WordSim-353. Prints a markdown table with ratios to MLlib at the same partition count and writes
bench/results/spark.json (with the Spark runs' per-round timings for the README's scaling statement).
Does not: compare with figures from another run (the machine is shared; only one run's ratios count).

    python bench/bench_spark.py                       # full corpus, 1 epoch, every row (~30 min here)
    python bench/bench_spark.py --head-words 2000000 --only ours-spark-2 mllib-2 --results /tmp/s.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import (  # noqa: E402
    QUESTIONS_NAME,
    REPO,
    _parse_json_stdout,
    _tail,
    count_words,
    evaluate,
    log,
    prepare_corpus,
    run_child,
    shared_dir,
)

sys.path.insert(0, str(REPO))
from core.spark.session import LOCAL_JVM_OPTIONS  # noqa: E402  (pyspark is not imported by this)

RESULTS = REPO / "bench" / "results" / "spark.json"
SPARK_CONF = ["spark.driver.memory=4g", "spark.driver.maxResultSize=2g"]
CLUSTER_MB = 6144  # each local-cluster worker's memory: MLlib's executors need 5 GB for the one-line corpus


def _with(cmd: list[str], flag: str, value: str) -> list[str]:
    """cmd with the value after `flag` replaced."""
    i = cmd.index(flag)
    return [*cmd[:i + 1], value, *cmd[i + 2:]]


def commands(corpus: Path, out: Path, epochs: int) -> dict[str, list[str]]:
    py = sys.executable
    common = ["--size", "100", "--window", "5", "--min-count", "5"]
    base = [py, "-m", "core", "train", str(corpus), "-o", "OUT", *common, "--epochs", str(epochs), "--binary",
            "--json", "--quiet"]
    ours = [*base, "--negative", "5", "--sample", "1e-3"]
    ours_hs = [*base, "--loss", "hs", "--sample", "0"]  # MLlib's objective: skip-gram HS, no subsampling
    ours_s4 = [*base, "--negative", "5", "--sample", "1e-4"]  # bench_train's subsampling (MLlib has none)
    ours_hs_s3 = [*base, "--loss", "hs", "--sample", "1e-3"]  # MLlib's objective with our subsampling
    spark = ["--engine", "spark", "--spark-master", "local[2]", *sum((["--spark-conf", c] for c in SPARK_CONF), [])]
    mllib = [py, str(REPO / "bench" / "_mllib_train.py"), str(corpus), "OUT", "--master", "local[2]",
             "--iterations", str(epochs), *common]
    cluster = f"local-cluster[2,1,{CLUSTER_MB}]"
    mllib_cluster = [*_with(mllib, "--master", cluster), "--executor-memory", "5g"]
    spark_cluster = [*_with(spark, "--spark-master", cluster), "--spark-conf", "spark.executor.memory=2g"]
    spark_1x2 = [*_with(spark, "--spark-master", f"local-cluster[1,2,{CLUSTER_MB}]"),  # one executor, 2 cores
                 "--spark-conf", "spark.executor.memory=4g"]
    return {
        "ours-spark-2": [*ours, *spark, "--partitions", "2"],
        "ours-spark-8": [*ours, *spark, "--partitions", "8"],
        "ours-1-process": [*ours, "--threads", "2"],
        "ours-spark-2-s4": [*ours_s4, *spark, "--partitions", "2"],
        "ours-1-process-s4": [*ours_s4, "--threads", "2"],
        "ours-spark-2-hs": [*ours_hs, *spark, "--partitions", "2"],
        "ours-spark-2-hs-s3": [*ours_hs_s3, *spark, "--partitions", "2"],
        "ours-1-process-hs-s3": [*ours_hs_s3, "--threads", "2"],
        "ours-1-process-hs": [*ours_hs, "--threads", "2"],
        "mllib-2": [*mllib, "--partitions", "2"],
        "mllib-8": [*mllib, "--partitions", "8"],
        # subtle: MLlib trains every task of an executor on that executor's one copy of the broadcast
        # model (its fit folds over bcSyn0Global.value in place), so in local[N] all tasks share one
        # model, Hogwild; in local-cluster[2,1,..] each executor JVM has its own copy, as on a cluster
        "mllib-2-cluster": [*mllib_cluster, "--partitions", "2"],
        "mllib-8-cluster": [*mllib_cluster, "--partitions", "8"],
        # MLlib with the JVM options our local masters get (core/spark/session.py: quick compiler only)
        "mllib-2-cluster-c1": [*mllib_cluster, "--partitions", "2", f"--java-options={LOCAL_JVM_OPTIONS}"],
        "ours-spark-2-hs-cluster": [*ours_hs, *spark_cluster, "--partitions", "2"],
        "ours-spark-8-hs-cluster": [*ours_hs, *spark_cluster, "--partitions", "8"],
        "ours-spark-2-cluster": [*ours, *spark_cluster, "--partitions", "2"],
        "ours-spark-8-cluster": [*ours, *spark_cluster, "--partitions", "8"],
        # 8 partitions, 8 model copies (one per partition): what 8 executors of one core each train
        "ours-spark-8-cluster-8-replicas": [*ours, *spark_cluster, "--partitions", "8", "--replicas", "partitions"],
        # one executor of 2 cores, one task of 2 Hogwild threads on one copy (--task-threads sets spark.task.cpus)
        "ours-spark-2-threads-1x2-cluster": [*ours, *spark_1x2, "--partitions", "2", "--task-threads", "2"],
        "ours-spark-8-threads-1x2-cluster": [*ours, *spark_1x2, "--partitions", "8", "--task-threads", "2"],
        "gensim": [py, str(REPO / "bench" / "_gensim_train.py"), str(corpus), "OUT", *common, "--negative", "5",
                   "--sample", "1e-3", "--epochs", str(epochs), "--workers", "2", "--binary"],
    }


def similarity(path: Path, pairs: Path) -> float | None:
    from gensim.models import KeyedVectors

    kv = KeyedVectors.load_word2vec_format(str(path), binary=True)
    _, spearman, _ = kv.evaluate_word_pairs(str(pairs), restrict_vocab=300_000, case_insensitive=True)
    return float(spearman[0])


def round_summary(report: dict | None) -> dict | None:
    rounds = (report or {}).get("rounds")
    if not rounds:
        return None
    med = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    return {"rounds": len(rounds), **{f"median_{k}": v for k, v in med.items()}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--head-words", type=int, default=None)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--only", nargs="+", default=None)
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--keep", action="store_true",
                    help="keep the rows of --results that this run does not redo (same corpus and epochs)")
    ap.add_argument("--spark-args", default="", help="extra arguments for our Spark rows, e.g. '--merge sum'")
    ap.add_argument("--table", action="store_true", help="only print the table of --results, run nothing")
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(args.results.read_text())["rows"]))
        return 0
    shared = shared_dir()
    corpus = prepare_corpus(shared / "corpora" / "gutenberg-100m.txt.gz", args.head_words,
                            Path(tempfile.gettempdir()) / "w2v-bench")
    words = count_words(corpus)
    work = Path(tempfile.mkdtemp(prefix="w2v-bench-spark-"))
    rows: list[dict] = []
    kept: dict[str, dict] = {}
    if args.keep and args.results.is_file():
        old = json.loads(args.results.read_text())
        if old.get("corpus") == corpus.name and old.get("epochs") == args.epochs:
            kept = {r["name"]: r for r in old["rows"]}

    def save() -> None:  # subtle: after every row, so a long run that is cut short keeps what it measured
        names = [r["name"] for r in rows]
        out_rows = [r for n, r in kept.items() if n not in names] + rows
        order = list(commands(corpus, work, args.epochs))
        out_rows.sort(key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({"words": words, "epochs": args.epochs, "corpus": str(corpus.name),
                                            "rows": out_rows}, indent=1))

    for name, cmd in commands(corpus, work / "x", args.epochs).items():
        if args.only and name not in args.only:
            continue
        out = work / f"{name}.bin"
        cmd = [str(out) if c == "OUT" else c for c in cmd]
        if name.startswith("ours-spark") and args.spark_args:
            cmd += args.spark_args.split()
        load, started = os.getloadavg()[0], time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        log(f"{name}: {' '.join(cmd[1:])}")
        stats = run_child(cmd, work / f"{name}.stdout", work / f"{name}.stderr", args.timeout)
        report = _parse_json_stdout(work / f"{name}.stdout")
        row = {"name": name, "cmd": cmd[1:], "returncode": stats.returncode, "wall_s": stats.wall_s,
               "peak_rss_gb": stats.maxrss_bytes / 1e9, "peak_tree_rss_gb": stats.tree_rss_bytes / 1e9,
               "report": report, "rounds": round_summary(report), "load_before": load,
               "load_after": os.getloadavg()[0], "started": started,
               "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        if stats.returncode != 0 or not out.is_file():
            row["error"] = _tail(work / f"{name}.stderr")
            log(f"{name}: FAILED\n{row['error']}")
            rows.append(row)
            save()
            continue
        train_s = (report or {}).get("train_seconds") or (report or {}).get("seconds") or stats.wall_s
        row["train_s"] = train_s
        row["words_per_sec"] = words * args.epochs / train_s
        row["analogy"] = evaluate(out, shared / QUESTIONS_NAME)["accuracy"]
        row["wordsim353"] = similarity(out, shared / "eval" / "wordsim353.tsv")
        log(f"{name}: wall {stats.wall_s:.1f} s, train {train_s:.1f} s, {row['words_per_sec'] / 1e3:.0f}k words/s, "
            f"tree RSS {row['peak_tree_rss_gb']:.2f} GB, analogy {100 * row['analogy']:.1f} %, "
            f"ws353 {row['wordsim353']:.3f}")
        rows.append(row)
        save()
        out.unlink()
    save()
    print(f"\n{words:,} words, {args.epochs} epoch(s) on {time.strftime('%Y-%m-%d')}\n")
    print(table(json.loads(args.results.read_text())["rows"]))
    return 0


def mllib_reference(name: str) -> str | None:
    """The MLlib row an ours-on-Spark row is compared with: the same partitions, in the same mode
    (a "-cluster" row against MLlib's "-cluster" row, a local[2] row against MLlib in local[2])."""
    if not name.startswith("ours-spark-"):
        return None
    partitions = name.split("-")[2]
    return f"mllib-{partitions}-cluster" if "-cluster" in name else f"mllib-{partitions}"


def table(rows: list[dict]) -> str:
    """The markdown table of a results file's rows, with the ratios to MLlib (mllib_reference)."""
    by = {r["name"]: r for r in rows}
    lines = ["| run | wall s | train s | words/s | peak RSS process / tree GB | analogy | WS-353 "
             "| speed vs MLlib (wall / train) |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | failed | | | | | | |")
            continue
        ref = by.get(mllib_reference(r["name"]) or "")
        ratio = (f"{ref['wall_s'] / r['wall_s']:.2f}x / {ref['train_s'] / r['train_s']:.2f}x"
                 if ref and "error" not in ref else "")
        lines.append(f"| {r['name']} | {r['wall_s']:.1f} | {r['train_s']:.1f} | {r['words_per_sec'] / 1e3:,.0f}k | "
                     f"{r['peak_rss_gb']:.2f} / {r['peak_tree_rss_gb']:.2f} | {100 * r['analogy']:.1f} % | "
                     f"{r['wordsim353']:.3f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
