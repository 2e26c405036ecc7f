"""What one Spark task does in one round: train its partition's next slice, return the changed rows.

Does: from the round's model (broadcast W_in, W_out) and the partition's encoded tokens, train
the sentences of this round's slice with train/slices.train_slice into private copies, and return
the ids and deltas of the rows that changed, with the slice's loss and counts.
Does not: merge (the driver does, merge.py) or keep any state between rounds: a task is a pure
function of (round plan, broadcast model, partition); even its random stream's state travels
through the driver (in the plan, back in the result), so a retried or speculative attempt returns
exactly what the first would have, and the driver keeps one result per partition (Spark's
collect does), never applying a delta twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..config import Loss
from ..train.slices import SliceModel, SliceStats, train_slice
from .deltas import DELTA_DEFAULT, Packed, pack_changes


@dataclass(frozen=True)
class RoundPlan:
    """Which slice every partition trains in one round."""

    epoch: int  # 0-based
    index: int  # round within the epoch, 0..rounds-1
    rounds: int  # rounds per epoch: every partition's words are cut into this many slices
    epochs: int
    partitions: int
    rng_states: tuple[int, ...]  # each partition's xorshift state at the start of the round
    fail_partition: int = -1  # fault injection for tests: this partition's first attempt raises
    counts: bool = False  # return per changed row how many updates the slice made to it (merge "share")
    deltas: str = DELTA_DEFAULT  # how the changed rows travel back (deltas.DELTA_FORMATS)


@dataclass
class RoundResult:
    """One partition's answer for one round."""

    partition: int
    in_rows: Packed  # the rows of W_in that changed and their change (deltas.decode unpacks them)
    out_rows: Packed  # the rows of W_out that changed
    stats: SliceStats
    rng_state: int  # the partition's state after the round, for its next round
    seconds: float  # spent in the kernel (the rest of the task is copying, diffing, shipping)
    in_counts: np.ndarray | None = None  # (k,) int32 updates per changed W_in row (plan.counts), else None
    out_counts: np.ndarray | None = None  # (m,) int32
    copy_seconds: float = 0.0  # copying the round's model into private matrices
    diff_seconds: float = 0.0  # finding the changed rows and their deltas, and packing them
    load_seconds: float = 0.0  # reading the broadcast model (filled by the caller, as the two below)
    started: float = 0.0  # time.time() at the task's start and end (profiling; comparable on one machine)
    ended: float = 0.0

    @property
    def nbytes(self) -> int:
        """What the task ships back (ids, deltas and counts)."""
        n = self.in_rows.nbytes + self.out_rows.nbytes
        return n + sum(c.nbytes for c in (self.in_counts, self.out_counts) if c is not None)


def slice_bounds(offsets: np.ndarray, index: int, rounds: int) -> tuple[int, int]:
    """Sentences [s0, s1) of slice `index` of `rounds`: the sentences that start in the slice's
    share of the partition's words (equal word shares; every sentence in exactly one slice)."""
    words = int(offsets[-1])
    a, b = words * index // rounds, words * (index + 1) // rounds
    return int(np.searchsorted(offsets, a, side="left")), int(np.searchsorted(offsets, b, side="left"))


def train_round(plan: RoundPlan, model: SliceModel, W_in: np.ndarray, W_out: np.ndarray, partition: int,
                tokens: np.ndarray, offsets: np.ndarray, start: int, words: int) -> RoundResult:
    """Train partition `partition`'s slice of this round from (W_in, W_out), which are not changed.
    (tokens, offsets): this round's slice only (data.round_slices), which begins at word `start`
    of a partition of `words` words."""
    if partition == plan.fail_partition:
        from pyspark import TaskContext

        ctx = TaskContext.get()
        if ctx is not None and ctx.attemptNumber() == 0:
            raise RuntimeError(f"injected failure: round {plan.index} partition {partition}, first attempt")
    s0, s1 = 0, offsets.shape[0] - 1
    t0 = time.perf_counter()
    new_in, new_out = W_in.copy(), W_out.copy()
    rng = np.array([plan.rng_states[partition]], np.uint64)
    t1 = time.perf_counter()
    track = model.config.track_counts
    stats = train_slice(model, new_in, new_out, tokens, offsets, s0, s1,
                        base_words=plan.epoch * words + start,
                        inv_total=1.0 / max(1, words * plan.epochs), rng_state=rng, count=track or plan.counts)
    t2 = time.perf_counter()
    in_rows, out_rows = pack_changes(W_in, new_in, plan.deltas), pack_changes(W_out, new_out, plan.deltas)
    in_counts = out_counts = None
    if plan.counts:
        in_counts, out_counts = row_updates(model, stats, in_rows.ids, out_rows.ids)
    if not track:  # counted for the merge only: the driver did not ask for the (V,) arrays
        stats.seen = stats.kept = stats.negatives = None
    t3 = time.perf_counter()
    return RoundResult(partition, in_rows, out_rows, stats, int(rng[0]), t2 - t1,
                       in_counts, out_counts, t1 - t0, t3 - t2)


def row_updates(model: SliceModel, stats: SliceStats, in_ids: np.ndarray,
                out_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How many updates the slice made to each changed row, from its per-word tallies (int32, >= 1).

    subtle: a proxy, exact up to a factor common to all partitions of a round, which is all the
    "share" merge needs: a W_in row (skip-gram's context rows, CBOW's window rows) is updated in
    proportion to the word's kept occurrences; an NS/NCE output row once per positive (its kept
    occurrences) and once per noise draw; an HS inner node once per kept occurrence of every word
    whose path passes through it."""
    kept = stats.kept
    if model.config.loss == Loss.HS:
        t = model.tables
        on_path = np.arange(t.points.shape[1]) < t.lengths[:, None]
        out = np.bincount(t.points[on_path], weights=np.repeat(kept, t.lengths), minlength=out_ids.max(initial=0) + 1)
    else:
        out = kept + stats.negatives
    return (np.maximum(kept[in_ids], 1).astype(np.int32),
            np.maximum(out[out_ids], 1).astype(np.int32))
