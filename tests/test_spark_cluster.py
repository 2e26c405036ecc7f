"""The Spark engine in local-cluster[2,1,1024]: two executor JVMs with their own Python workers, so
the tables, the model and the deltas really cross process boundaries (broadcast and pickling).
One run: two partitions learn, and one partition matches one process to float32 rounding."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest

from core.config import TrainConfig
from tests.spark_helpers import single_process_twin, small_corpus, spark_session

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark():
    s = spark_session("local-cluster[2,1,1024]")
    yield s
    s.stop()


def test_local_cluster_trains_in_separate_executor_processes(spark, tmp_path):
    from core.spark import SparkTrainer

    path = small_corpus(tmp_path, lines=3000)
    pids = set(spark.sparkContext.parallelize(range(8), 8).map(lambda _: os.getpid()).collect())
    assert os.getpid() not in pids and len(pids) >= 2  # the tasks ran in other processes
    cfg = TrainConfig(size=16, epochs=2, min_count=3, seed=3)
    # float32 deltas: the exact comparison below (the default float16 rounds them, test_spark_merge.py)
    trainer = SparkTrainer(str(path), cfg, spark=spark, partitions=1, sync_words=10**9, deltas="float32")
    try:
        result = trainer.train()
    finally:
        trainer.close()
    assert result.epochs[1].loss < result.epochs[0].loss
    twin = single_process_twin(path, trainer.vocab, dataclasses.replace(cfg))
    np.testing.assert_allclose(trainer.W_in, twin.W_in, atol=1e-6)


def test_cli_task_threads_on_one_two_core_executor_and_an_orderly_stop(tmp_path):
    """The CLI in its own process, one executor JVM of 2 cores: --task-threads 2 makes each task
    take both (spark.task.cpus), so 4 partitions train as one replica of 2 threads; the CLI stops
    the session it started, so no "Lost executor" error follows a good run."""
    import json
    import subprocess
    import sys

    from tests.spark_helpers import ROOT

    path = small_corpus(tmp_path, lines=2000)
    out = tmp_path / "v.txt"
    run = subprocess.run([sys.executable, "-m", "core", "train", str(path), "-o", str(out), "--engine", "spark",
                          "--spark-master", "local-cluster[1,2,1024]", "--partitions", "4", "--task-threads", "2",
                          "--size", "12", "--epochs", "1", "--min-count", "3", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 1 and report["partitions"] == 4 and report["merge"] == "auto"
    assert out.exists()
    assert "Lost executor" not in run.stderr and "Exception" not in run.stderr, run.stderr[-2000:]
    # what a user watches before the first round: Spark starting, then the corpus counted
    said = run.stderr
    assert said.index("starting Spark on local-cluster[1,2,1024]") < said.index("counting and encoding") \
        < said.index(f"{report['words']:,} words, a vocabulary of {report['vocab_size']:,}, ready after"), said[-2000:]
