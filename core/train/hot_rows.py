"""Per-worker copies of the most used output rows, merged into the shared matrix as training goes.

Does: describe the output matrix as one worker sees it (`OutRows`): the shared W, and for the K
rows that every example keeps touching (the most frequent words' rows for NS/NCE, the inner nodes
nearest the root for HS) the worker's own copy, which the loss step reads and writes instead.
`merge_rows` adds the worker's change since the last merge to the shared rows and refreshes its
copy (so it also picks up the other workers' changes). The kernels merge the buffered rows in
tiers by use (`merge_due`): the TIER_ROWS most used every MERGE_EVERY[architecture] positions (1,024
for skip-gram, 512 for CBOW, at two workers; more often with more, `merge_shift`), and each further
tier, twice as many rows as the one before it, half as often; every row is merged at the end of
every chunk, so W is complete whenever Python looks at it.
Does not: change anything for one thread (the trainer buffers no rows then, and a seeded
single-thread run stays bit-identical), lock (like every Hogwild update, two merges of one row at
the same instant can lose one of them), or buffer input rows (measured: sharing them costs little).

Why: with two threads writing W directly, the hottest rows' cache lines bounce between the two
cores on almost every example (the noise distribution sends ~30% of all draws to the top 256
words). Measured on a 4.5M-word slice, skip-gram, 2 threads: 1.30 M words/s writing W directly,
2.13 with a private W_out per thread (not a valid trainer, the bound), 1.78 with 256 buffered rows
merged every 256 positions; the epoch's loss moved by < 0.1%.
Why tiers: buffering more rows moves more of the draws off the shared matrix, but merging all of
them every 256 positions cost more than it saved (full corpus, 2 threads, one epoch, medians of 3
interleaved rounds: 256 rows 2.40 M words/s, 1024 rows merged together 2.38). A row of rank r is
drawn about r^-0.75 as often as the top one (Zipf counts to the 3/4 power), so a row four times
further down the list is touched about a third as often and can wait twice as long between
merges. With tiers: 2048 rows 2.50, 4096 rows 2.53 (256 rows 2.36 in the same run); the loss was
the same to 3 digits (2.383 vs 2.382). CBOW trains one example per position, not ~6, so the merges
weigh more there: 256 rows 7.6 M words/s, 512 7.3, 1024 7.3, 4096 7.2 (config.py's defaults).
On Zen 5 (L2 1 MB a core; whole corpus, 2 threads, one process alternating, quiet) 1024 rows beat
4096: 2.26 vs 2.10 and 2.44 vs 2.23 M words/s (2 and 4 rounds), 2048 2.20; skip-gram's default
was 1024 from then.
Why 4096 rows again, and CBOW merging every 512 (Zen 4, 2026-12-04; bench/README.md, "Two threads
slowing each other down"): two threads sharing W_out cost CBOW 35 % of each core's work and up to
3.5x in phases when a cache line takes 230-320 ns instead of 60 to cross between the two vCPUs; a
private, never-merged W_out per thread (not a valid trainer, the bound) removed it, a private W_in
did not. One process, runs interleaved, median CPU s of 8 rounds on an 11M-word slice: one thread
3.14; two threads with 256 rows merged every 256 positions 4.38, 4,096 rows every 256 4.44, every
512 3.83, every 1,024 3.77 (the loss 0.1 % higher, 0.3 % at 2,048); the private bound 3.85 in the
first sweep (where 256 rows every 256 gave 6.79). Skip-gram on a 2M-word slice, 6 rounds:
1,024 rows 2.19, 4,096 2.00, the bound 2.05, one thread 1.81.
Why skip-gram merges every 1,024 positions (2026-12-05; bench/README.md, "Shared chunks and
fewer merges"): whole corpus, 2 threads, one epoch, one process, interleaved, fast phase: CPU s
every 256 positions 11.6-12.1, 512 11.2-11.4, 1,024 11.0-11.2 (5-6 % less); the first epoch's loss
0.4 % higher, after 5 epochs 0.05 % (2.3531-2.3537 -> 2.3542-2.3559), analogies 39.2 / 39.2 % ->
40.4 / 39.8 % (seeds 1 and 2).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401
from ..config import Architecture, Loss
from .lowlevel import own_lines

# positions (centre words) between merges of the most used rows: a power of two (the kernels mask,
# not divide). CBOW trains one example per position, skip-gram ~2 window / 2, so CBOW's 512 is still
# fewer examples between merges than skip-gram's 256.
MERGE_EVERY = {Architecture.SKIPGRAM: 1024, Architecture.CBOW: 512}
MERGE_SHIFT = {a: int(n).bit_length() - 1 for a, n in MERGE_EVERY.items()}
MIN_MERGE_SHIFT = 4  # never merge tier 0 more often than every 16 positions


def merge_shift(arch: int, threads: int) -> int:
    """log2 of the positions between tier-0 merges for `threads` workers: MERGE_EVERY at two, and
    for more, shorter in proportion to the other workers (a power of two, at least 16), so a
    buffered row misses as many of the other workers' updates as it does at two (the staleness
    argument in bench/README.md, "Thread scaling"). Measured only up to two workers here."""
    shift = MERGE_SHIFT[Architecture(int(arch))]
    others = max(1, int(threads) - 1)
    return max(MIN_MERGE_SHIFT, shift - (others - 1).bit_length())
TIER_ROWS = 256  # tier 0: slots [0, 256); tier j >= 1: slots [256 2^(j-1), 256 2^j), merged 2^j times as rarely

# W (R, D) float32: the output matrix shared by all workers.
# local (K, D) float32: the worker's current values of its buffered rows (K = 0: it buffers none).
# base (K, D) float32: their values at the last merge.
# index (K,) int64: the row of W that each slot buffers: first, first + step, ..., a run of rows.
# first, step (int64): slot k buffers row first + k step (step 1 or -1), so the slot of a row is
#     found by arithmetic and one comparison, with no table to read (see slot_of).
OutRows = namedtuple("OutRows", "W local base index first step")


def unbuffered(W: np.ndarray) -> OutRows:
    """W itself: every read and write goes to the shared matrix (one thread, or the teaching pages)."""
    dim = W.shape[1]
    return OutRows(W, np.zeros((0, dim), np.float32), np.zeros((0, dim), np.float32), np.zeros(0, np.int64),
                   np.int64(0), np.int64(1))


def buffered(W: np.ndarray, index: np.ndarray) -> OutRows:
    """One worker's view of W that keeps its own copies of rows `index` (call load_rows first):
    a run of consecutive rows, ascending or descending (what most_used_rows gives)."""
    index = np.ascontiguousarray(index, dtype=np.int64)
    if index.size == 0:
        return unbuffered(W)
    if index.min() < 0 or index.max() >= W.shape[0]:
        raise ValueError("buffered rows must be rows of W")
    step = 1 if index.size == 1 or index[1] > index[0] else -1
    if not np.array_equal(index, index[0] + step * np.arange(index.size)):
        raise ValueError("buffered rows must be a run of consecutive rows (ascending or descending)")
    k, dim = index.size, W.shape[1]
    return OutRows(W, own_lines((k, dim), np.float32), own_lines((k, dim), np.float32), index, np.int64(index[0]),
                   np.int64(step))


def most_used_rows(loss: Loss, n_out: int, k: int) -> np.ndarray:
    """The k output rows the examples touch most, given word ids sorted by count (descending),
    most used first: a run of consecutive rows.

    NS/NCE: every example scores its target and k words from Pn, both more likely the more
    frequent the word, so rows 0..k-1. HS: every example walks the target's Huffman path from the
    root; inner node i (word2vec.c's numbering, root = V-2) is visited by every word below it and
    nodes are numbered in the order of their (non-decreasing) counts, so the last k nodes.
    Full softmax: none (every example updates every row; nothing to gain).
    """
    k = max(0, min(int(k), n_out))
    if k == 0 or Loss(loss) == Loss.SOFTMAX:
        return np.zeros(0, np.int64)
    if Loss(loss) == Loss.HS:
        return np.arange(n_out - 1, n_out - 1 - k, -1, dtype=np.int64)
    return np.arange(k, dtype=np.int64)


@njit(inline="always", nogil=True)
def slot_of(out, r):
    """The slot of row r in out.local, or -1 when row r is read and written in W.

    subtle: arithmetic, not a (R,) table of slots: the table's read sat on every output row's
    address and cost ~5-10 % of a buffered worker's time (bench/README.md, thread scaling)."""
    k = (r - out.first) * out.step
    return k if 0 <= k < out.index.shape[0] else -1


@njit(inline="always", nogil=True, fastmath=True)
def _sync_rows(out, add_change, k0, k1):
    """For the buffered rows in slots k0..k1-1: with add_change, W[row] += local - base first (the
    only write to W: loading must not write a row another worker may be updating); then
    local = base = W[row]."""
    W, local, base, index = out.W, out.local, out.base, out.index
    for k in range(k0, min(k1, index.shape[0])):
        r = index[k]
        for d in range(W.shape[1]):
            v = W[r, d]
            if add_change:
                v += local[k, d] - base[k, d]
                W[r, d] = v
            local[k, d] = v
            base[k, d] = v


@njit(inline="always", nogil=True)
def load_rows(out):
    """Copy the buffered rows from W (start of a chunk)."""
    _sync_rows(out, False, 0, out.index.shape[0])


@njit(inline="always", nogil=True)
def merge_rows(out):
    """W[row] += local - base for every buffered row, then local = base = W[row]."""
    _sync_rows(out, True, 0, out.index.shape[0])


@njit(inline="always", nogil=True)
def merge_due(out, n):
    """Merge the tiers due after the n-th (n >= 1) run of MERGE_EVERY[arch] positions: tier 0 always,
    tier j >= 1 (slots [TIER_ROWS 2^(j-1), TIER_ROWS 2^j)) when 2^j divides n."""
    k = out.index.shape[0]
    _sync_rows(out, True, 0, TIER_ROWS)
    lo = TIER_ROWS
    every = 2
    while lo < k:
        if n % every == 0:
            _sync_rows(out, True, lo, 2 * lo)
        lo *= 2
        every *= 2

