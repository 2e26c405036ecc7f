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
from .hot_rows import MERGE_EVERY, load_rows, merge_due, merge_rows, slot_of
from .losses import (
    LOSS_NCE,
    LOSS_NS,
    LOSS_SOFTMAX,
    block_scratch,
    draw_targets,
    flush_loss,
    output_step,
    rng_below,
    rng_next,
    rng_uniform,
)
from .lowlevel import borrow, prefetch_row

ARCH_SG = int(Architecture.SKIPGRAM)
ARCH_CBOW = int(Architecture.CBOW)

# Scalars fixed for a whole run.
Run = namedtuple("Run", "arch loss window negative shared want_loss alpha0 min_alpha")
# Per-worker scratch buffers, allocated once per worker.
Work = namedtuple("Work", "sen rows labels offsets ns ctx neu1e h scores pending tick pad addrs")


def make_run(arch: int, loss: int, window: int, negative: int, shared: bool, want_loss: bool,
             alpha0: float, min_alpha: float) -> Run:
    return Run(np.int64(arch), np.int64(loss), np.int64(window), np.int64(negative), bool(shared),
               bool(want_loss), np.float32(alpha0), np.float32(min_alpha))


def make_work(max_sentence: int, window: int, max_targets: int, dim: int, n_out: int, softmax: bool) -> Work:
    """Scratch for one worker. rows/labels/offsets are (2 window, T): the pairs of the position
    being trained, by targets; ns and ctx hold each pair's target count and context word; h is (1, D); pending
    holds the product of loss factors whose log is still owed (losses.logistic_step); tick counts
    positions since the last merge of buffered output rows (hot_rows.py)."""
    slots = 2 * window
    return Work(
        np.zeros(max_sentence, np.int32),
        np.zeros((slots, max_targets), np.int64),
        np.zeros((slots, max_targets), np.float32),
        np.zeros((slots, max_targets), np.float32),
        np.zeros(slots, np.int64),
        np.zeros(slots, np.int32),
        np.zeros(dim, np.float32),
        np.zeros((1, dim), np.float32),
        np.zeros(max(n_out, max_targets) if softmax else max_targets, np.float32),
        np.ones(1, np.float64),
        np.zeros(1, np.int64),
        *block_scratch(max_targets, dim),
    )


@njit(inline="always", nogil=True)
def _tick(out, work):
    """Count one position; every MERGE_EVERY positions merge the tiers of buffered output rows
    that are due (hot_rows.merge_due). The count restarts with every chunk."""
    if out.index.shape[0]:
        work.tick[0] += 1
        if work.tick[0] % MERGE_EVERY == 0:
            merge_due(out, work.tick[0] // MERGE_EVERY)


@njit(inline="always", nogil=True, fastmath=True)
def _skipgram_prepare(run, tables, sen, n_sen, i, out, rng, work, neg_counts):
    """Draw position i's window and the targets of each of its pairs into slots 0, 1, ..., and
    start loading the output rows they will touch; returns (number of pairs, rng).

    subtle: all pairs are drawn before the first is trained, so the rows of later pairs load while
    earlier ones train. Drawing one whole position ahead was measured 3-5 % slower (full corpus, 2
    threads, medians of 3 interleaved rounds, two comparisons: 1.93 / 1.96 vs 2.03 / 2.02 M words/s);
    likely more rows in flight than the core can track."""
    rows, labels, offsets, ns, ctx = work.rows, work.labels, work.offsets, work.ns, work.ctx
    word = sen[i]
    rng, r = rng_next(rng)
    eff = run.window - rng_below(r, run.window)
    lo = max(0, i - eff)
    hi = min(n_sen, i + eff + 1)
    # NS/NCE draw fresh noise words per pair (the paper's semantics) unless shared_negatives;
    # HS and softmax targets depend only on the centre word, so slot 0 serves every pair.
    per_pair = (run.loss == LOSS_NS or run.loss == LOSS_NCE) and not run.shared
    m = 0
    for c in range(lo, hi):
        if c == i:
            continue
        ctx[m] = sen[c]
        if m == 0 or per_pair:
            slot = m
            n, rng = draw_targets(run.loss, word, run.negative, tables, rng, rows, labels, offsets, slot,
                                  neg_counts)
            ns[slot] = n
            if run.loss != LOSS_SOFTMAX:
                for j in range(n):
                    if slot_of(out, rows[slot, j]) < 0:  # buffered rows are in this core's cache
                        prefetch_row(out.W, rows[slot, j])
        m += 1
    return m, rng


@njit(nogil=True, fastmath=True, error_model="numpy")
def _skipgram_sentence(run, tables, sen, n_sen, W_in, out, alpha, rng, work, neg_counts):
    # subtle: borrow again: this is a separate compiled function, and without unowned views every
    # inlined helper call per example increfs and decrefs its array arguments (measured 1.27x)
    tables, sen, W_in, out, work, neg_counts = borrow(tables), borrow(sen), borrow(W_in), borrow(out), \
        borrow(work), borrow(neg_counts)
    loss_sum = 0.0
    examples = 0
    rows, labels, offsets, ns, ctx = work.rows, work.labels, work.offsets, work.ns, work.ctx
    neu1e, scores = work.neu1e, work.scores
    per_pair = (run.loss == LOSS_NS or run.loss == LOSS_NCE) and not run.shared
    for i in range(n_sen):
        ahead = i + run.window + 2  # the input row that enters the window two positions on
        if ahead < n_sen:  # (measured +5 % one thread, +3 % two threads)
            prefetch_row(W_in, sen[ahead])
        pairs, rng = _skipgram_prepare(run, tables, sen, n_sen, i, out, rng, work, neg_counts)
        word = sen[i]
        for m in range(pairs):
            slot = m if per_pair else 0
            c = ctx[m]
            loss_sum += output_step(run.loss, W_in, c, out, word, rows, labels, offsets, slot, ns[slot], alpha,
                                    neu1e, scores, run.want_loss, work.pending, work.pad, work.addrs, True)
            examples += 1
        _tick(out, work)
    if run.want_loss:  # subtle: settle the pending log per sentence, so chunking cannot change the sum
        loss_sum += flush_loss(work.pending)
    return loss_sum, examples, rng


@njit(nogil=True, fastmath=True, error_model="numpy")
def _cbow_sentence(run, tables, sen, n_sen, W_in, out, alpha, rng, work, neg_counts):
    # subtle: borrow again: this is a separate compiled function, and without unowned views every
    # inlined helper call per example increfs and decrefs its array arguments (measured 1.27x)
    tables, sen, W_in, out, work, neg_counts = borrow(tables), borrow(sen), borrow(W_in), borrow(out), \
        borrow(work), borrow(neg_counts)
    loss_sum = 0.0
    examples = 0
    rows, labels, offsets = work.rows, work.labels, work.offsets
    neu1e, H, scores = work.neu1e, work.h, work.scores
    dim = neu1e.shape[0]
    for i in range(n_sen):
        word = sen[i]
        rng, r = rng_next(rng)
        eff = run.window - rng_below(r, run.window)
        lo = max(0, i - eff)
        hi = min(n_sen, i + eff + 1)
        for d in range(dim):
            H[0, d] = 0.0
            neu1e[d] = 0.0
        cw = 0
        for c in range(lo, hi):
            if c != i:
                w = sen[c]
                for d in range(dim):
                    H[0, d] += W_in[w, d]
                cw += 1
        if cw == 0:
            continue
        inv = np.float32(1.0) / np.float32(cw)
        for d in range(dim):
            H[0, d] *= inv
        n, rng = draw_targets(run.loss, word, run.negative, tables, rng, rows, labels, offsets, 0, neg_counts)
        loss_sum += output_step(run.loss, H, 0, out, word, rows, labels, offsets, 0, n, alpha, neu1e, scores,
                                run.want_loss, work.pending, work.pad, work.addrs, False)
        for c in range(lo, hi):
            if c != i:
                w = sen[c]
                for d in range(dim):
                    W_in[w, d] += neu1e[d]
        examples += 1
        _tick(out, work)
    if run.want_loss:
        loss_sum += flush_loss(work.pending)
    return loss_sum, examples, rng


@njit(nogil=True, fastmath=True, cache=True, error_model="numpy")
def train_chunk(run, tables, tokens, offsets, s_begin, s_end, W_in, out_rows, keep_prob, base_words, inv_total,
                rng_state, seen, kept, neg_counts, work, out):
    """Train on sentences [s_begin, s_end). Returns nothing; accumulates into `out` (float64):
    out[0] += loss, out[1] += examples, out[2] += corpus words read, out[3] = last alpha.
    `out_rows` is this worker's OutRows (hot_rows.py); its buffered rows are loaded from W_out
    at the start and merged back at the end, so W_out is complete when the call returns.

    The learning rate is set before every sentence from the worker's exact progress,
    alpha = alpha0 - (alpha0 - min_alpha) (base_words + words_read) inv_total, an integer count
    times one constant, so it does not depend on how sentences are grouped into chunks (and a
    seeded run is bit-identical whatever the chunk sizes). word2vec.c updates every 10k words.
    """
    # subtle: unowned views, so passing arrays around below costs no atomic reference counting
    tables, work = borrow(tables), borrow(work)
    tokens, offsets, W_in, rows_out, keep_prob = borrow(tokens), borrow(offsets), borrow(W_in), borrow(out_rows), \
        borrow(keep_prob)
    seen, kept, neg_counts = borrow(seen), borrow(kept), borrow(neg_counts)
    load_rows(rows_out)
    work.tick[0] = 0
    rng = rng_state[0]
    sen = work.sen
    words = 0
    # subtle: continue the running float64 sum instead of adding a per-chunk partial sum, so the
    # order of additions (and the last bit of the loss) does not depend on the chunk sizes
    loss_sum = out[0]
    examples = 0
    alpha = run.alpha0
    counting = seen.shape[0] > 0  # (0,) arrays: the caller does not want per-word counts
    for s in range(s_begin, s_end):
        frac = (base_words + words) * inv_total
        alpha = np.float32(run.alpha0 - (run.alpha0 - run.min_alpha) * frac)
        if alpha < run.min_alpha:
            alpha = run.min_alpha
        n_sen = np.int64(0)  # subtle: not a literal 0, or Numba compiles the sentence kernels twice
        for p in range(offsets[s], offsets[s + 1]):
            w = tokens[p]
            if counting:
                seen[w] += 1
            kp = keep_prob[w]
            if kp < 1.0:
                rng, r = rng_next(rng)
                if rng_uniform(r) >= kp:
                    continue
            if counting:
                kept[w] += 1
            sen[n_sen] = w
            n_sen += 1
        words += offsets[s + 1] - offsets[s]
        if run.arch == ARCH_SG:
            ls, ex, rng = _skipgram_sentence(run, tables, sen, n_sen, W_in, rows_out, alpha, rng, work,
                                             neg_counts)
        else:
            ls, ex, rng = _cbow_sentence(run, tables, sen, n_sen, W_in, rows_out, alpha, rng, work, neg_counts)
        loss_sum += ls
        examples += ex
    merge_rows(rows_out)
    rng_state[0] = rng
    out[0] = loss_sum
    out[1] += examples
    out[2] += words
    out[3] = alpha
