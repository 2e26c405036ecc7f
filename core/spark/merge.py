"""Merge the row changes of one round's partitions into the driver's matrix.

Does: given, per partition, the ids of the rows it changed and their changes (deltas), update the
matrix by one of the rules below. NumPy and Numba (the scaled rules sum over the touched rows only:
`_accumulate`, `_apply`); tested without Spark.
Does not: decide which rows a partition touched (executor.py: the rows whose value changed).

Rules (each partition started the round from the same matrix):
- "sum": add every partition's change (as if the partitions had run one after another on stale
  rows; Hogwild across machines).
- "mean": add the mean change over the partitions that touched the row (MLlib since Spark 3.0,
  SPARK-24666), so a row touched by all N partitions moves as far as one partition moved it.
- "sqrt": add the sum divided by the square root of the number of partitions that touched the row.
- "overlap": add the sum times min(1, sum_p |d_p|^2 / |sum_p d_p|^2), per row: n equal changes
  (a hot row every partition pushed the same way, to the same local optimum) move it once, as
  "mean"; orthogonal changes (independent updates of a rarer row) all count, as "sum".
- "capped": the sum, shortened so that a row moves at most CAP = 2 times the largest single
  partition's change: exactly "sum" with 2 partitions, and no N-fold step on hot rows with more.
- "share": each partition's change weighted by its share of the row's updates in the round (the
  tasks report, per changed row, how many updates they made: executor.row_updates), i.e. a mean
  weighted by update counts.
- "auto" (MERGE_DEFAULT): "capped" for W_in; for W_out "capped" up to 2 partitions and "overlap"
  beyond: the best measured at 2, 4 and 8 partitions below (until this change, "capped" up to 2
  and "overlap" beyond for both matrices: `overlap` reproduces it from 3 partitions). With
  hierarchical softmax and one partition a replica, "capped/overlap" from 2 on (run_rule).
- "IN/OUT" (e.g. "capped/overlap"): rule IN for W_in and OUT for W_out.
momentum_step adds block momentum over rounds (BMUF, Chen & Huo 2016) after any rule; off by
default (SparkTrainer's block_momentum).

Measured (bench/bench_spark_merge.py; first 4.6M words of the shared corpus, one epoch, size
100, window 5, NS k = 5, sample 1e-3, seed 1, alpha 0.025, Spark local[2]; questions-words over
the top 30k words). One process, 2 threads: 4.3 %. Sync = words per partition per round; the
default then shared 400k words a round among the partitions (now driver.py: at least 50k a
partition), 12 rounds here:

| partitions | sync | sum | capped | overlap | mean | sqrt | share | capped/overlap |
|---|---|---|---|---|---|---|---|---|
| 2 | 1M (3 rounds) | 1.8 % | (= sum) | 2.1 % | | 2.3 % | | |
| 2 | 200k | **3.9 %** | (= sum) | 2.9 % | 2.6 % | | 2.3 % | 3.0 % |
| 4 | 100k | diverged (loss 4871) | 1.2 % | 1.7 % | 1.5 % | | | **2.3 %** |
| 8 | 50k | diverged (loss 2e9) | 0.8 % | 1.5 % | 1.2 % | 0.3 % | 1.2 % | **2.0 %** |

auto = sum (capped) at 2, capped/overlap beyond. sum/overlap at 8: 0.5 %; overlap/capped: 1.4 %.
Tried against the previous "auto" (overlap on both from 3 partitions) at the default rounds and
not adopted: a starting rate halved at 8
partitions (Ji et al. 2016, arXiv:1604.04661): 0.7 %; doubled (0.05): 4.1 % at 2 and 2.9 % at 8,
but one process gains more (6.35 %), so the gap grows; block momentum 0.25: 3.93 / 1.83 / 1.64 %
at 2 / 4 / 8 (auto: 3.92 / 1.74 / 1.46 %: a tie and gains within the noise of one seed), 0.5:
2.4 / 2.0 / 1.8 % (hurts the sum at 2); "share": 2.3 / 1.2 % at 2 / 8. On the small-world corpus (1,715
words, every row hot; 2 epochs, 50k words per partition per round; one process 91.3 %) sum gave
88.5 / 3.9 / 5.1 % at 2 / 4 / 8 partitions (diverged from 4), mean 60.5 / 38.0 / 27.7 %, sqrt
75.4 / 56.7 / 24.8 %. Related designs: MLlib averages (SPARK-24666); Ji et al. synchronise
frequent words' rows more often than rare ones; Ordentlich et al. 2016 partition the vector
columns over servers instead of the data (a different design, not built here).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401  (the cache folder, before anything compiles)

MERGE_RULES = ("auto", "capped", "overlap", "sum", "mean", "sqrt", "share")
NEEDS_COUNTS = ("share",)  # rules that need each partition's update count per changed row
CAP = 2.0  # "capped": a row moves at most this many times the largest single partition's change
MERGE_DEFAULT = "auto"
AUTO_CAPPED_UP_TO = 2  # "auto" for W_out: capped up to this many partitions, overlap beyond (W_in: capped)


HS_AUTO = "capped/overlap"  # "auto" for hierarchical softmax when every replica trains one partition


def run_rule(rule: str, hierarchical: bool, chained: bool) -> str:
    """The rule a run merges by: "auto" with hierarchical softmax (`hierarchical`) and one
    partition a replica (not `chained`) is HS_AUTO, so W_out is merged by overlap from two
    replicas on; any other rule, or "auto" otherwise, as given (resolved per matrix and count by
    effective_rule).
    Measured (README, HS without subsampling, full corpus, one epoch, 3 seeds, local-cluster): 2
    partitions, sum 21.1 / 21.6 / 21.5 % against capped/overlap 23.8 / 23.0 / 24.0 % (one process
    23.5 %): near the root every replica pushes the tree's inner nodes the same way and the sum
    takes that step twice; 8 partitions chained on 2 replicas, sum 21.5 / 22.2 / 21.5 % against
    19.7 / 18.7 / 19.1 %, so a chained run keeps the sum. Negative sampling keeps "auto" (the
    sum at 2 replicas: within 1 point of one process)."""
    return HS_AUTO if rule == "auto" and hierarchical and not chained else rule


def rule_parts(rule: str) -> tuple[str, str]:
    """(W_in's rule, W_out's rule) of a rule name; ValueError for an unknown one."""
    parts = rule.split("/")
    if len(parts) > 2 or any(p not in MERGE_RULES for p in parts):
        raise ValueError(f"unknown merge rule {rule!r}; one of {', '.join(MERGE_RULES)}, or IN/OUT of two")
    return parts[0], parts[-1]


def effective_rule(rule: str, output: bool, partitions: int) -> str:
    """The rule merge() applies to one matrix (W_out if `output`) for changes of `partitions`
    partitions: "auto" resolved, and "capped" as "sum" up to 2 partitions (|a + b| <= |a| + |b|
    <= 2 max(|a|, |b|): never shortened, so the sum's cheaper path, adding the changes one by one)."""
    rule = rule_parts(rule)[1 if output else 0]
    if rule == "auto":
        rule = "capped" if not output or partitions <= AUTO_CAPPED_UP_TO else "overlap"
    if rule == "capped" and partitions <= 2:
        rule = "sum"
    return rule


_SCALED = {"overlap": 0, "capped": 1, "mean": 2, "sqrt": 3}  # the rules _accumulate and _apply take (mode)


def merge(W: np.ndarray, changes: Iterable[tuple], rule: str = MERGE_DEFAULT, output: bool = False,
          mirror: np.ndarray | None = None) -> int:
    """Apply the changes [(ids (k,) int64 unique, deltas (k, D) float32[, counts (k,) int]), ...]
    to W (R, D) in place; returns the number of distinct rows changed. Counts (the updates each
    partition made to each of its rows) are needed by the rules in NEEDS_COUNTS, ignored by the others.
    `output`: W is W_out (for "auto" and IN/OUT rules). `mirror` (W's shape): given the new value
    of every changed row too (a task's training copy)."""
    changes = list(changes)
    rule = effective_rule(rule, output, len(changes))
    if rule == "share":
        n = _merge_share(W, changes)
    elif rule == "sum":
        touched = np.zeros(W.shape[0], bool)
        for ids, d in (c[:2] for c in changes):
            W[ids] += d  # ids are unique within one partition's change
            touched[ids] = True
        n = int(touched.sum())
    else:
        changes = [(np.asarray(c[0], np.int64), np.ascontiguousarray(c[1], np.float32)) for c in changes]
        touched = np.zeros(W.shape[0], bool)  # subtle: a mask and an index map, not np.unique (a sort, 12 ms)
        for ids, _ in changes:
            touched[ids] = True
        rows = np.flatnonzero(touched)
        where = np.empty(W.shape[0], np.int64)
        where[rows] = np.arange(rows.shape[0])
        total = np.zeros((rows.shape[0], W.shape[1]), np.float32)
        squares = np.zeros(rows.shape[0], np.float32)
        count = np.zeros(rows.shape[0], np.int32)
        mode = _SCALED[rule]
        for ids, d in changes:  # in change order: the float32 sums are the same whatever the rows' order
            _accumulate(total, squares, count, where[ids], d, mode)
        _apply(W, rows, total, squares, count, mode, CAP, W if mirror is None else mirror)
        return int(rows.shape[0])
    if mirror is not None:
        for c in changes:
            mirror[c[0]] = W[c[0]]
    return n


@njit(cache=True, nogil=True, inline="always", fastmath=True)
def _sq_norm(x):
    """|x|^2 of a float32 row in float32, summed in vector lanes (fastmath lets the sum be
    reordered; a factor needs no more precision)."""
    s = np.float32(0.0)
    for j in range(x.shape[0]):
        s += x[j] * x[j]
    return s


@njit(cache=True, nogil=True)
def _accumulate(total, squares, count, pos, d, mode):
    """One change into the touched rows' sums: total[pos[i]] += d[i], count[pos[i]] += 1, and
    squares[pos[i]] its squared norm added (overlap) or the largest so far (capped)."""
    for i in range(pos.shape[0]):
        p = pos[i]
        for j in range(d.shape[1]):
            total[p, j] += d[i, j]
        count[p] += 1
        if mode <= 1:
            s = _sq_norm(d[i])
            if mode == 0:
                squares[p] += s
            elif s > squares[p]:
                squares[p] = s


@njit(cache=True, nogil=True)
def _apply(W, rows, total, squares, count, mode, cap, mirror):
    """W[rows[i]] += total[i] scaled by the rule `mode` (_SCALED); mirror[rows[i]] = the new row:
    overlap min(1, sum_p |d_p|^2 / |sum|^2), capped min(1, cap * max_p |d_p| / |sum|); mean and
    sqrt divide by the count (its square root). A row one change touched gets that change exactly
    (every factor is 1 there: its squared norm is the sum's, computed the same way)."""
    for i in range(rows.shape[0]):
        r = rows[i]
        t = total[i]
        if mode <= 1:
            norm2 = np.float64(_sq_norm(t))
            sq = np.float64(squares[i])
            # subtle: sum |d_p|^2 / |sum d_p|^2 is 1/n for n equal changes and 1 for orthogonal ones;
            # capped at 1 so that changes which cancel are never amplified
            f = sq / max(norm2, 1e-30) if mode == 0 else cap * np.sqrt(sq) / max(np.sqrt(norm2), 1e-30)
            f32 = np.float32(min(1.0, f))
            for j in range(t.shape[0]):
                x = W[r, j] + t[j] * f32
                W[r, j] = x
                mirror[r, j] = x
        else:
            scale = np.float32(count[i]) if mode == 2 else np.float32(np.sqrt(np.float64(count[i])))
            for j in range(t.shape[0]):
                x = W[r, j] + t[j] / scale
                W[r, j] = x
                mirror[r, j] = x


def _merge_share(W: np.ndarray, changes: Iterable[tuple]) -> int:
    """"share": each partition's change weighted by its share of the row's updates in the round."""
    total = np.zeros(W.shape, np.float32)
    updates = np.zeros(W.shape[0], np.float64)
    for change in changes:
        if len(change) < 3 or change[2] is None:
            raise ValueError('merge rule "share" needs the update counts of every change')
        ids, d, n = change[:3]
        total[ids] += d * n.astype(np.float32)[:, None]
        updates[ids] += n
    rows = np.flatnonzero(updates)
    W[rows] += total[rows] / updates[rows].astype(np.float32)[:, None]
    return int(rows.shape[0])


def momentum_step(W: np.ndarray, before: np.ndarray, velocity: np.ndarray, momentum: float) -> None:
    """Block momentum over rounds (BMUF, Chen & Huo 2016): W holds the merged round (started from
    `before`); add `momentum` times the last round's whole step (`velocity`), then make `velocity`
    this round's whole step. In place; momentum 0 leaves W as merged."""
    W += np.float32(momentum) * velocity
    np.subtract(W, before, out=velocity)


def changed_rows(before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ids, after[ids] - before[ids]) for the rows whose value changed."""
    ids = np.flatnonzero((after != before).any(axis=1))
    return ids, after[ids] - before[ids]
