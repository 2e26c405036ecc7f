"""Training on Apache Spark with this package's kernels (issue 16).

Does: `SparkTrainer` / `train_spark` (driver.py) train on Spark's executors in data-parallel
rounds; session.py starts Spark or says in one line why it cannot. Importing this package does
not import pyspark (the engine imports it when it starts a session).
"""

from .driver import ROUND_WORDS, SparkTrainer, default_sync_words, train_spark
from .merge import MERGE_DEFAULT, MERGE_RULES
from .session import SparkUnavailable

__all__ = ["MERGE_DEFAULT", "MERGE_RULES", "ROUND_WORDS", "SparkTrainer", "SparkUnavailable", "default_sync_words",
           "train_spark"]
