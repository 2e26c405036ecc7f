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
