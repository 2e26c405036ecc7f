"""bench/bench_spark.py's rows: the "-cluster" rows run every program with separate executor JVMs
(local-cluster), where MLlib's partitions stop sharing one model, and otherwise the settings of
their local[2] counterparts, so the two modes compare only the mode."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_spark import CLUSTER_MB, commands, mllib_reference, table  # noqa: E402


def _without(cmd: list[str], *flags: str) -> list[str]:
    """cmd without each flag and its value, and without Spark settings of the executors."""
    out, skip = [], False
    for i, a in enumerate(cmd):
        if skip:
            skip = False
            continue
        if a in flags or (a == "--spark-conf" and cmd[i + 1].startswith("spark.executor.")):
            skip = True
            continue
        out.append(a)
    return out


def test_cluster_rows_differ_from_local_rows_only_in_the_master():
    rows = commands(Path("corpus.txt"), Path("out"), 1)
    cluster = f"local-cluster[2,1,{CLUSTER_MB}]"
    pairs = {"mllib-2-cluster": "mllib-2", "mllib-8-cluster": "mllib-8", "ours-spark-2-cluster": "ours-spark-2",
             "ours-spark-8-cluster": "ours-spark-8", "ours-spark-2-hs-cluster": "ours-spark-2-hs"}
    for name, local in pairs.items():
        cmd, ref = rows[name], rows[local]
        master = "--master" if "mllib" in name else "--spark-master"
        assert cmd[cmd.index(master) + 1] == cluster, name
        assert ref[ref.index(master) + 1] == "local[2]", local
        assert _without(cmd, master, "--executor-memory") == _without(ref, master), name


def test_the_eight_replica_row_differs_from_the_default_only_in_replicas():
    rows = commands(Path("corpus.txt"), Path("out"), 1)
    eight, default = rows["ours-spark-8-cluster-8-replicas"], rows["ours-spark-8-cluster"]
    assert eight[eight.index("--replicas") + 1] == "partitions" and "--replicas" not in default
    assert _without(eight, "--replicas") == _without(default)


def test_the_hs_rows_differ_only_in_partitions():
    rows = commands(Path("corpus.txt"), Path("out"), 1)
    two, eight = rows["ours-spark-2-hs-cluster"], rows["ours-spark-8-hs-cluster"]
    assert two[two.index("--partitions") + 1] == "2" and eight[eight.index("--partitions") + 1] == "8"
    assert _without(two, "--partitions") == _without(eight, "--partitions")


def test_the_task_thread_rows_run_one_executor_of_two_cores_with_two_threads_a_task():
    rows = commands(Path("corpus.txt"), Path("out"), 1)
    for name in ("ours-spark-2-threads-1x2-cluster", "ours-spark-8-threads-1x2-cluster"):
        cmd = rows[name]
        assert cmd[cmd.index("--spark-master") + 1] == f"local-cluster[1,2,{CLUSTER_MB}]", name
        assert cmd[cmd.index("--task-threads") + 1] == "2", name


def test_each_spark_row_is_compared_with_mllib_in_its_own_mode():
    rows = commands(Path("corpus.txt"), Path("out"), 1)
    assert mllib_reference("ours-spark-2") == "mllib-2"
    assert mllib_reference("ours-spark-8-hs-cluster") == "mllib-8-cluster"
    assert mllib_reference("ours-spark-8-cluster-8-replicas") == "mllib-8-cluster"
    assert mllib_reference("ours-1-process") is None and mllib_reference("gensim") is None
    assert all(mllib_reference(n) in rows for n in rows if n.startswith("ours-spark-"))
    row = {"wall_s": 40.0, "train_s": 20.0, "words_per_sec": 1e6, "peak_rss_gb": 0.4, "peak_tree_rss_gb": 2.5,
           "analogy": 0.2, "wordsim353": 0.3}
    text = table([{"name": "mllib-2", **row, "wall_s": 80.0}, {"name": "mllib-2-cluster", **row, "wall_s": 160.0},
                  {"name": "ours-spark-2-cluster", **row}, {"name": "ours-spark-2", **row}])
    assert "| ours-spark-2-cluster | 40.0 | 20.0 |" in text and "| 4.00x / 1.00x |" in text
    assert text.splitlines()[-1].endswith("| 2.00x / 1.00x |")  # local[2] against local[2]
