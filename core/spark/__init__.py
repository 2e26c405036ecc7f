"""Training on Apache Spark with this package's kernels (issue 16).

Does: `SparkTrainer` / `train_spark` (driver.py) train on Spark's executors in data-parallel
rounds; session.py starts Spark or says in one line why it cannot. Importing this package does
not import pyspark (the engine imports it when it starts a session).
"""

from .driver import SYNC_WORDS, SparkTrainer, train_spark
from .merge import MERGE_DEFAULT, MERGE_RULES
from .session import SparkUnavailable

__all__ = ["MERGE_DEFAULT", "MERGE_RULES", "SYNC_WORDS", "SparkTrainer", "SparkUnavailable", "train_spark"]
