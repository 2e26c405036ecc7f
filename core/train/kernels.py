"""The compiled training loops: one per architecture, over one chunk of sentences.

Does: for sentences [s_begin, s_end) of the encoded corpus: subsample (counting seen/kept per
word), draw each position's effective window uniformly in 1..window, form the hidden vector
(skip-gram: one context row; CBOW: the mean of the context rows), call the loss step chosen by
an integer code (losses.py) and scatter its gradient back to the input rows.
Does not: decide epochs, chunking, threads, callbacks or stopping (trainer.py: Python owns
time), read files, or allocate per example. Arrays and scalars in, numbers out.

Skip-gram follows word2vec.c: for a centre word w and each context word c, the input is
W_in[c] and the target is w (gensim does the same). CBOW adds the full gradient to every
context row (word2vec.c and gensim with cbow_mean=1), not gradient / cw.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401
from ..config import Architecture
from .hot_rows import load_rows, merge_due, merge_rows, merge_shift, slot_of
from .losses import (
    BLOCK,
    FIXED_DIM,
    LOSS_HS,
    LOSS_NCE,
    LOSS_NS,
    LOSS_SOFTMAX,
    alias_entry,
    alias_pick,
    chain_pairs,
    flush_loss,
    make_scratch,
    make_targets,
    noise_draws,
    output_step,
    rng_below,
    rng_next,
    rng_uniform,
    take_targets,
)
from .lowlevel import (
    add_row,
    borrow,
    data_pointer,
    float32_pointer,
    own_lines,
    prefetch_item,
    prefetch_row,
    row_address,
    scale_row,
)

ARCH_SG = int(Architecture.SKIPGRAM)
ARCH_CBOW = int(Architecture.CBOW)

# Scalars fixed for a whole run (was `Run`, which ui.runs.Run also names).
# pool: with shared negatives, the noise words drawn per window when more than `negative` (0: exactly
# `negative`, every pair scoring the same ones; see _skipgram_targets).
# cold: skip-gram prefetches a drawn output row only from this row on (see COLD_BYTES; 0: every row).
# merge_shift: buffered output rows' tier 0 merges every 2^merge_shift positions (hot_rows.merge_shift).
Settings = namedtuple("Settings", "arch loss window negative shared want_loss alpha0 min_alpha pool cold "
                                  "merge_shift")

# Skip-gram's per-pair NS/NCE draws start loading an output row only when it lies beyond the first
# COLD_BYTES of W_out (rows are sorted by word count, so the first ones are the most drawn and sit in
# cache already; at D = 100 the first 4,096 rows). A prefetch is seven instructions a row, and every
# pair draws five rows. Measured (interleaved A/B, CPU words/s, 2M words): 1 thread, from row 1,024
# against every row 1.19x, from row 4,096 against row 1,024 1.09x, from row 16,384 against 4,096 0.89x;
# the change as committed against every row, 1 thread 0.90x (3 rounds) and 1.04x (5 rounds), 2 threads
# 1.07x (4M words, 3 rounds): small, but never below the noise twice. Shared negatives (one draw a
# position: 0.95x), CBOW (0.92x) and HS (its most used rows are the last ones) prefetch every row.
COLD_BYTES = 4096 * 100 * 4
# Per-worker scratch, allocated once per worker: sen (max_sentence,) int32 the kept words of the sentence;
# ctx (4 window,) int32 each pair's context word (two banks, as the targets); h (1, D) float32 CBOW's
# hidden vector; tick (1,) int64
# positions since the last merge of buffered output rows (hot_rows.py); targets (losses.Targets, one slot
# per pair of the position being trained); step (losses.StepScratch); pool (P,) int64 a window's shared
# noise words when Settings.pool > 0; raw (2, R) uint64 the random numbers of a position's noise draws, drawn
# two positions ahead (two banks; see _skipgram_window); span (2, 2) int64 the window [lo, hi) of each bank.
Work = namedtuple("Work", "sen ctx h tick targets step pool raw span")
# Per-worker accumulators, kept across chunks: totals (4,) float64 [loss, examples, words read, last alpha];
# seen, kept, negatives (V,) int64 per-word counts (or (0,): not counting); rng (1,) uint64 generator state.
Tally = namedtuple("Tally", "totals seen kept negatives rng")


def make_settings(arch: int, loss: int, window: int, negative: int, shared: bool, want_loss: bool,
                  alpha0: float, min_alpha: float, pool: int = 0, dim: int = 0, threads: int = 2) -> Settings:
    """`pool` > negative (with `shared`): each window draws that many noise words and its pairs take
    `negative` of them in turn; otherwise 0. `dim`, the vector size, sets the first row skip-gram's
    noise draws prefetch (COLD_BYTES); 0 prefetches every row. `threads`, the workers, sets how often
    buffered output rows merge (hot_rows.merge_shift; one worker buffers none)."""
    pool = int(pool) if shared and pool > negative else 0
    noise = int(loss) in (LOSS_NS, LOSS_NCE)
    cold = COLD_BYTES // (4 * int(dim)) if dim and int(arch) == ARCH_SG and noise and not shared else 0
    return Settings(np.int64(arch), np.int64(loss), np.int64(window), np.int64(negative), bool(shared),
                    bool(want_loss), np.float32(alpha0), np.float32(min_alpha), np.int64(pool), np.int64(cold),
                    np.int64(merge_shift(arch, threads)))


def make_work(max_sentence: int, window: int, max_targets: int, dim: int, n_out: int, softmax: bool,
              pool: int = 0) -> Work:
    """Scratch for one worker: the targets have one slot per pair of a position and two banks of
    them (4 window), so the next position's pairs can be drawn while this one trains; the
    step's scores have room for every output row with the full softmax; the step defers its
    loss logs (losses.logistic_step's pending)."""
    return Work(
        own_lines(max_sentence, np.int32),
        own_lines(4 * window, np.int32),
        own_lines((1, dim), np.float32),
        own_lines(1, np.int64),
        make_targets(4 * window, max_targets),
        make_scratch(max_targets, dim, n_out if softmax else 0, defer_log=True),
        own_lines(max(0, pool), np.int64),
        own_lines((2, 2 * window * max_targets + max(0, pool)), np.uint64),
        own_lines((2, 2), np.int64),
    )


def make_tally(rng_state: np.ndarray, n_words: int) -> Tally:
    """Accumulators for one worker; n_words = 0 for no per-word counts. rng_state (1,) uint64."""
    return Tally(own_lines(4, np.float64), own_lines(n_words, np.int64), own_lines(n_words, np.int64),
                 own_lines(n_words, np.int64), rng_state)


@njit(inline="always", nogil=True)
def _tick(settings, out_rows, work):
    """Count one position; every 2^settings.merge_shift positions merge the tiers of buffered
    output rows that are due (hot_rows.merge_due). The count restarts with every chunk."""
    if out_rows.index.shape[0]:
        work.tick[0] += 1
        if work.tick[0] & ((np.int64(1) << settings.merge_shift) - 1) == 0:
            merge_due(out_rows, work.tick[0] >> settings.merge_shift)


@njit(inline="always", nogil=True, fastmath=True)
def _draw_ahead(tables, rng, work, rb, n):
    """Draw the n random numbers of a position's noise words into work.raw[rb] and start loading
    the alias table entries they will read; returns rng. See _skipgram_window."""
    for j in range(n):
        rng, r = rng_next(rng)
        work.raw[rb, j] = r
        prefetch_item(tables.alias, alias_entry(tables, r))
    return rng


@njit(inline="always", nogil=True)
def _prefetch_path(settings, tables, word):
    """With hierarchical softmax, start loading `word`'s Huffman path (its row of points and of
    codes), which take_targets copies one position later: the copy waited on those rows (~4 % of
    skip-gram HS in bench/profile_kernel.py)."""
    if settings.loss == LOSS_HS:
        prefetch_row(tables.points, word)
        prefetch_row(tables.codes, word)


@njit(inline="always", nogil=True, fastmath=True)
def _take_and_load(settings, tables, word, work, rb, j, slot, out_rows, neg_counts, cold):
    """Fill `slot` of work.targets with the targets of `word` from the random numbers in work.raw[rb] from j on
    (losses.take_targets) and start loading their rows in W from row `cold` on (a buffered row is
    in this core's cache already); returns the next j."""
    targets = work.targets
    n, j = take_targets(settings.loss, word, settings.negative, tables, work.raw, rb, j, targets, slot, neg_counts)
    if settings.loss != LOSS_SOFTMAX:
        for t in range(n):
            r = targets.rows[slot, t]
            if r >= cold and slot_of(out_rows, r) < 0:
                prefetch_row(out_rows.W, r)
    return j


@njit(inline="always", nogil=True)
def _slot_per_pair(settings):
    """Whether each pair of a skip-gram position has its own slot of targets (NS/NCE per pair, or
    from a shared pool) or all score slot 0's (classic shared negatives, HS, softmax)."""
    noise = settings.loss == LOSS_NS or settings.loss == LOSS_NCE
    return noise and (not settings.shared or settings.pool > 0)


@njit(inline="always", nogil=True, fastmath=True)
def _take_pool(settings, tables, word, work, rb, out_rows, neg_counts):
    """A window's settings.pool shared noise words from Pn into work.pool, from the random numbers
    in work.raw[rb] (a draw equal to the centre word is skipped, as in draw_targets), and start
    loading their rows; returns n."""
    n = 0
    pool = work.pool
    for j in range(settings.pool):
        w = alias_pick(tables, work.raw[rb, j])
        if neg_counts.shape[0]:
            neg_counts[w] += 1
        if w == word:
            continue
        pool[n] = w
        n += 1
        if slot_of(out_rows, w) < 0:
            prefetch_row(out_rows.W, w)
    return n


@njit(inline="always", nogil=True, fastmath=True)
def _pool_targets(settings, tables, word, pool, n_pool, targets, m):
    """Slot m's targets from a window's pool: the centre word, then `negative` pool words taken in
    turn from where pair m - 1 stopped (pool[(m k + t) mod n]), so a window of P = pool words
    pushes its contexts away from up to P distinct noise words instead of k (shared negatives'
    accuracy loss, bench/README.md) while its rows stay few enough to stay in cache."""
    rows, labels, shifts = targets.rows, targets.labels, targets.shifts
    nce = settings.loss == LOSS_NCE
    rows[m, 0] = word
    labels[m, 0] = np.float32(1.0)
    shifts[m, 0] = tables.log_kpn[word] if nce else np.float32(0.0)
    take = min(settings.negative, n_pool)
    for t in range(take):
        w = pool[(m * settings.negative + t) % n_pool]
        rows[m, 1 + t] = w
        labels[m, 1 + t] = np.float32(0.0)
        shifts[m, 1 + t] = tables.log_kpn[w] if nce else np.float32(0.0)
    targets.n[m] = 1 + take


@njit(inline="always", nogil=True)
def _window_draws(settings, pairs):
    """How many random numbers a position's noise words take with `pairs` pairs: per pair NS/NCE
    `negative` each, a shared pool `pool` and classic shared negatives `negative` for the window
    (when it has a pair), HS and softmax none."""
    if pairs == 0:
        return 0
    if _slot_per_pair(settings):
        return settings.pool if settings.pool > 0 else pairs * settings.negative
    return noise_draws(settings.loss, settings.negative)


@njit(inline="always", nogil=True, fastmath=True)
def _skipgram_window(settings, tables, sen, n_sen, p, rng, work):
    """Draw position p's window into work.span[p & 1] and the random numbers of its noise words
    into work.raw[p & 1], and start loading the alias table entries they select; returns rng.

    subtle: the kernel draws two positions ahead and turns the numbers into words (and their
    output rows into loads, _skipgram_targets) one position ahead, so each load has a position's
    time to arrive: a position's ~30 noise words each waited for their table entry (the table
    is V x 8 bytes, out of L1 and often L2), about a tenth of skip-gram's time in a profile.
    The random numbers are drawn in the order the words were drawn before (the window's, then
    each pair's noise, position after position), so a seeded run trains exactly as before."""
    rng, r = rng_next(rng)
    eff = settings.window - rng_below(r, settings.window)
    lo = max(0, p - eff)
    hi = min(n_sen, p + eff + 1)
    rb = p & 1
    work.span[rb, 0] = lo
    work.span[rb, 1] = hi
    _prefetch_path(settings, tables, sen[p])
    return _draw_ahead(tables, rng, work, rb, _window_draws(settings, hi - lo - 1))


@njit(inline="always", nogil=True, fastmath=True)
def _skipgram_targets(settings, tables, sen, p, out_rows, work, neg_counts, base):
    """The pairs of position p (window and random numbers from _skipgram_window): the context words
    into ctx[base + m], each pair's targets into slot base + m, and start loading the output rows
    they will touch; returns the number of pairs. The caller does this one position ahead (two
    banks of 2 window slots), so a position's rows load while the one before it trains.

    subtle: on Zen 4 drawing one position ahead was measured 3-5 % slower than drawing at the
    position itself; on Zen 5 (bench/README.md, round of 2026-12-02 evening) one thread 1.04-1.08x,
    two threads 1.02-1.24x, shared negatives 1.25x, HS 0.93-1.08x."""
    targets, ctx = work.targets, work.ctx
    word = sen[p]
    rb = p & 1
    lo = work.span[rb, 0]
    hi = work.span[rb, 1]
    # NS/NCE take fresh noise words per pair (the paper's semantics) unless shared_negatives;
    # HS and softmax targets depend only on the centre word, so slot 0 serves every pair.
    per_pair = _slot_per_pair(settings)
    pooled = per_pair and settings.pool > 0
    n_pool = 0
    if pooled and hi - lo > 1:
        n_pool = _take_pool(settings, tables, word, work, rb, out_rows, neg_counts)
        if slot_of(out_rows, word) < 0:
            prefetch_row(out_rows.W, word)
    m = 0
    j = 0
    for c in range(lo, hi):
        if c == p:
            continue
        ctx[base + m] = sen[c]
        if pooled:
            _pool_targets(settings, tables, word, work.pool, n_pool, targets, base + m)
        elif m == 0 or per_pair:
            j = _take_and_load(settings, tables, word, work, rb, j, base + m, out_rows, neg_counts, settings.cold)
        m += 1
    return m


@njit(nogil=True, fastmath=True, error_model="numpy")
def _skipgram_sentence(settings, tables, sen, n_sen, W_in, out_rows, alpha, rng, work, neg_counts):
    # subtle: borrow again: this is a separate compiled function, and without unowned views every
    # inlined helper call per example increfs and decrefs its array arguments (measured 1.27x)
    tables, sen, W_in, out_rows, work, neg_counts = borrow(tables), borrow(sen), borrow(W_in), borrow(out_rows), \
        borrow(work), borrow(neg_counts)
    loss_sum = 0.0
    examples = 0
    targets, ctx = work.targets, work.ctx
    per_pair = _slot_per_pair(settings)
    chain = settings.loss != LOSS_SOFTMAX and W_in.shape[1] == FIXED_DIM  # losses.chain_pairs
    bank = 2 * settings.window
    nxt = 0
    for p in range(min(2, n_sen)):
        rng = _skipgram_window(settings, tables, sen, n_sen, p, rng, work)
    if n_sen > 0:
        nxt = _skipgram_targets(settings, tables, sen, 0, out_rows, work, neg_counts, 0)
    for i in range(n_sen):
        ahead = i + settings.window + 2  # the input row that enters the window two positions on
        if ahead < n_sen:  # (measured +5 % one thread, +3 % two threads)
            prefetch_row(W_in, sen[ahead])
        base = (i & 1) * bank
        pairs = nxt
        if i + 1 < n_sen:
            nxt = _skipgram_targets(settings, tables, sen, i + 1, out_rows, work, neg_counts, bank - base)
        if i + 2 < n_sen:
            rng = _skipgram_window(settings, tables, sen, n_sen, i + 2, rng, work)
        m = 0
        while m < pairs:
            slot = base + (m if per_pair else 0)
            if chain and targets.n[slot] == BLOCK:
                loss_sum, m = chain_pairs(W_in, ctx, targets, work.step, out_rows, (base, m, pairs), per_pair, alpha,
                                          settings.want_loss, loss_sum)
            else:
                loss_sum += output_step(settings.loss, W_in, ctx[base + m], out_rows, targets, slot, alpha, work.step,
                                        settings.want_loss, True)
                m += 1
        examples += pairs
        _tick(settings, out_rows, work)
    if settings.want_loss:  # subtle: settle the pending log per sentence, so chunking cannot change the sum
        loss_sum += flush_loss(work.step.pending)
    return loss_sum, examples, rng


@njit(inline="always", nogil=True, fastmath=True)
def _cbow_mean(H, neu1e, W_in, sen, lo, hi, i, cw, dim):
    """H[0] = the mean of the context rows W_in[sen[c]], lo <= c < hi, c != i; neu1e = 0.
    subtle: at FIXED_DIM each row is added as explicit vectors (lowlevel.add_row), as the loss
    step's update pass is (losses._update_block): straight-line code needs no run-time check that
    H and the row do not overlap and no scalar tail. The sums are the same, in the same order."""
    for d in range(dim):
        H[0, d] = 0.0
        neu1e[d] = 0.0
    inv = np.float32(1.0) / np.float32(cw)
    if dim == FIXED_DIM:
        h = float32_pointer(row_address(H, 0))
        for c in range(lo, hi):
            if c != i:
                add_row(h, float32_pointer(row_address(W_in, sen[c])), FIXED_DIM)
        scale_row(h, inv, FIXED_DIM)
        return
    for c in range(lo, hi):
        if c != i:
            w = sen[c]
            for d in range(dim):
                H[0, d] += W_in[w, d]
    for d in range(dim):
        H[0, d] *= inv


@njit(inline="always", nogil=True, fastmath=True)
def _cbow_spread(neu1e, W_in, sen, lo, hi, i, dim):
    """W_in[sen[c]] += neu1e for each context position c (at FIXED_DIM as explicit vectors, see _cbow_mean)."""
    if dim == FIXED_DIM:
        g = data_pointer(neu1e)
        for c in range(lo, hi):
            if c != i:
                add_row(float32_pointer(row_address(W_in, sen[c])), g, FIXED_DIM)
        return
    for c in range(lo, hi):
        if c != i:
            w = sen[c]
            for d in range(dim):
                W_in[w, d] += neu1e[d]


@njit(nogil=True, fastmath=True, error_model="numpy")
def _cbow_sentence(settings, tables, sen, n_sen, W_in, out_rows, alpha, rng, work, neg_counts):
    # subtle: borrow again: this is a separate compiled function, and without unowned views every
    # inlined helper call per example increfs and decrefs its array arguments (measured 1.27x)
    tables, sen, W_in, out_rows, work, neg_counts = borrow(tables), borrow(sen), borrow(W_in), borrow(out_rows), \
        borrow(work), borrow(neg_counts)
    loss_sum = 0.0
    examples = 0
    neu1e, H = work.step.neu1e, work.h
    dim = neu1e.shape[0]
    # subtle: each position's targets are taken one position ahead, into the other of slots 0 and 1,
    # so their output rows load while the previous position trains (CBOW's ~0.3 us per position
    # is too short for a row from memory otherwise); measured 1.18x one thread, 1.18-1.21x two
    # (bench/README.md). Their random numbers are drawn two positions ahead (work.raw's banks), so
    # the alias table entries load too (as _skipgram_window); the numbers are drawn in the order
    # the words were drawn before (position i's window, then position i + 2's noise).
    # Only sentences of 2+ words have examples, and then every position has one: no draw is wasted.
    k = noise_draws(settings.loss, settings.negative)
    if n_sen >= 2:
        rng = _draw_ahead(tables, rng, work, 0, k)
        rng = _draw_ahead(tables, rng, work, 1, k)
        _take_and_load(settings, tables, sen[0], work, 0, 0, 0, out_rows, neg_counts, np.int64(0))
    for i in range(n_sen):
        ahead = i + settings.window + 2  # the input row that enters the window two positions on
        if ahead < n_sen:
            prefetch_row(W_in, sen[ahead])
        slot = i & 1
        if i + 1 < n_sen:
            _take_and_load(settings, tables, sen[i + 1], work, 1 - slot, 0, 1 - slot, out_rows, neg_counts,
                           np.int64(0))
        rng, r = rng_next(rng)
        eff = settings.window - rng_below(r, settings.window)
        lo = max(0, i - eff)
        hi = min(n_sen, i + eff + 1)
        if i + 2 < n_sen:
            rng = _draw_ahead(tables, rng, work, slot, k)
            _prefetch_path(settings, tables, sen[i + 2])
        cw = hi - lo - 1
        if cw == 0:
            continue
        if dim == FIXED_DIM:
            _cbow_mean(H, neu1e, W_in, sen, lo, hi, i, cw, FIXED_DIM)
        else:
            _cbow_mean(H, neu1e, W_in, sen, lo, hi, i, cw, dim)
        loss_sum += output_step(settings.loss, H, 0, out_rows, work.targets, slot, alpha, work.step,
                                settings.want_loss, False)
        if dim == FIXED_DIM:
            _cbow_spread(neu1e, W_in, sen, lo, hi, i, FIXED_DIM)
        else:
            _cbow_spread(neu1e, W_in, sen, lo, hi, i, dim)
        examples += 1
        _tick(settings, out_rows, work)
    if settings.want_loss:
        loss_sum += flush_loss(work.step.pending)
    return loss_sum, examples, rng


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_chunk(settings, tables, tokens, offsets, W_in, out_rows, base_words, inv_total, tally, work):
    """Train on every sentence of a chunk: tokens (N,) int32 and sentence offsets (S+1,) int64 into
    them. Returns nothing; accumulates into `tally` (a Tally): totals[0] += loss, totals[1] +=
    examples, totals[2] += corpus words read, totals[3] = last alpha; seen/kept/negatives per word;
    rng carries the generator state to the next chunk. `out_rows` is this worker's OutRows
    (hot_rows.py); its buffered rows are loaded from W_out at the start and merged back at the
    end, so W_out is complete when the call returns.

    The learning rate is set before every sentence from the worker's exact progress,
    alpha = alpha0 - (alpha0 - min_alpha) (base_words + words_read) inv_total, an integer count
    times one constant, so it does not depend on how sentences are grouped into chunks (and a
    seeded run is bit-identical whatever the chunk sizes). word2vec.c updates every 10k words.
    """
    # subtle: unowned views, so passing arrays around below costs no atomic reference counting
    tables, work, tally = borrow(tables), borrow(work), borrow(tally)
    tokens, offsets, W_in, out_rows = borrow(tokens), borrow(offsets), borrow(W_in), borrow(out_rows)
    keep_prob, seen, kept, neg_counts, totals = tables.keep_prob, tally.seen, tally.kept, tally.negatives, \
        tally.totals
    load_rows(out_rows)
    work.tick[0] = 0
    rng = tally.rng[0]
    sen = work.sen
    words = 0
    # subtle: continue the running float64 sum instead of adding a per-chunk partial sum, so the
    # order of additions (and the last bit of the loss) does not depend on the chunk sizes
    loss_sum = totals[0]
    examples = 0
    alpha = settings.alpha0
    counting = seen.shape[0] > 0  # (0,) arrays: the caller does not want per-word counts
    for s in range(offsets.shape[0] - 1):
        frac = (base_words + words) * inv_total
        alpha = np.float32(settings.alpha0 - (settings.alpha0 - settings.min_alpha) * frac)
        if alpha < settings.min_alpha:
            alpha = settings.min_alpha
        n_sen = np.int64(0)  # subtle: not a literal 0, or Numba compiles the sentence kernels twice
        # subtle: without branches. A word with keep_prob < 1 takes a random number and is kept when it is
        # below keep_prob (so a word with keep_prob >= 1 is always kept, whatever the number); every word is
        # written and the count advances by `keep`. The two branches this replaces went as the words and the
        # random numbers said, so they were mispredicted often (~6 % of CBOW's time in profile_kernel.py).
        for p in range(offsets[s], offsets[s + 1]):
            w = tokens[p]
            kp = keep_prob[w]
            drawn, r = rng_next(rng)
            rng = drawn if kp < 1.0 else rng
            keep = np.int64(rng_uniform(r) < kp)
            sen[n_sen] = w
            n_sen += keep
            if counting:
                seen[w] += 1
                kept[w] += keep
        words += offsets[s + 1] - offsets[s]
        if settings.arch == ARCH_SG:
            ls, ex, rng = _skipgram_sentence(settings, tables, sen, n_sen, W_in, out_rows, alpha, rng, work,
                                             neg_counts)
        else:
            ls, ex, rng = _cbow_sentence(settings, tables, sen, n_sen, W_in, out_rows, alpha, rng, work,
                                         neg_counts)
        loss_sum += ls
        examples += ex
    merge_rows(out_rows)
    tally.rng[0] = rng
    totals[0] = loss_sum
    totals[1] += examples
    totals[2] += words
    totals[3] = alpha
