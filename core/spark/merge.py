"""Merge the row changes of one round's partitions into the driver's matrix.

Does: given, per partition, the ids of the rows it changed and their changes (deltas), update the
matrix by one of the rules below. Pure NumPy: tested without Spark.
Does not: decide which rows a partition touched (executor.py: the rows whose value changed).

Rules (each partition started the round from the same matrix):
- "sum": add every partition's change (as if the partitions had run one after another on stale
  rows; Hogwild across machines).
- "mean": add the mean change over the partitions that touched the row (MLlib since Spark 3.0,
  SPARK-24666), so a row touched by all N partitions moves as far as one partition moved it.
- "sqrt": add the sum divided by the square root of the number of partitions that touched the row:
  between the two (independent changes add like random steps, whose spread grows as sqrt(n)).
MERGE_DEFAULT is the rule bench/bench_spark_merge.py measured best over 2, 4 and 8 partitions
(small-world corpus, 2 epochs, 50k words per partition per round; analogy accuracy, one process
91.3 %): sum 88.5 / 3.9 / 5.1 % (it diverges from 4 partitions on: every partition moves the
same hot rows, so the step is multiplied by 4), mean 60.5 / 38.0 / 27.7 %, sqrt 75.4 / 56.7 /
24.8 %: never diverged, the best at 4, the best on average.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

MERGE_RULES = ("sum", "mean", "sqrt", "overlap")
MERGE_DEFAULT = "sqrt"


def merge(W: np.ndarray, changes: Iterable[tuple[np.ndarray, np.ndarray]], rule: str = MERGE_DEFAULT) -> int:
    """Apply the changes [(ids (k,) int64 unique, deltas (k, D) float32), ...] to W (R, D) in place;
    returns the number of distinct rows changed."""
    if rule not in MERGE_RULES:
        raise ValueError(f"unknown merge rule {rule!r}; one of {', '.join(MERGE_RULES)}")
    if rule == "sum":
        touched = np.zeros(W.shape[0], bool)
        for ids, d in changes:
            W[ids] += d  # ids are unique within one partition's change
            touched[ids] = True
        return int(touched.sum())
    total = np.zeros(W.shape, np.float32)
    count = np.zeros(W.shape[0], np.int32)
    squares = np.zeros(W.shape[0], np.float64) if rule == "overlap" else None
    for ids, d in changes:
        total[ids] += d
        count[ids] += 1
        if squares is not None:
            squares[ids] += np.einsum("ij,ij->i", d, d, dtype=np.float64)
    rows = np.flatnonzero(count)
    if rule == "overlap":
        t = total[rows]
        norm2 = np.einsum("ij,ij->i", t, t, dtype=np.float64)
        # subtle: sum |d_p|^2 / |sum d_p|^2 is 1/n for n equal changes and 1 for orthogonal ones;
        # capped at 1 so that changes which cancel are never amplified
        factor = np.minimum(1.0, squares[rows] / np.maximum(norm2, 1e-30)).astype(np.float32)
        W[rows] += t * factor[:, None]
        return int(rows.shape[0])
    scale = count[rows].astype(np.float32)
    if rule == "sqrt":
        scale = np.sqrt(scale)
    W[rows] += total[rows] / scale[:, None]
    return int(rows.shape[0])


def changed_rows(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, after[ids] - before[ids]) for the rows whose value changed."""
    ids = np.flatnonzero((after != before).any(axis=1))
    return ids, after[ids] - before[ids]
