"""Output layers as small @njit steps sharing one signature (fastText's loss.cc idea).

Does: given a hidden vector h = H[hi] (a row of a (N, D) matrix) and a target word, pick the output rows to score
(`draw_targets`), then score them, update those rows of W_out in place, accumulate the gradient
with respect to h into `neu1e` (D,) or, for skip-gram, add it to h itself, and return the
example's exact loss (`output_step`).
Negative sampling, NCE and hierarchical softmax all reduce to one binary-logistic step over a
few (row, label, logit shift) targets; the full softmax has its own step.
The read-only per-word tables arrive as one `tables.Tables`; the targets of the pairs being
trained as one `Targets`, the step's scratch as one `StepScratch` (make_targets, make_scratch).
`chain_pairs` steps several pairs whose hidden vectors are rows of W_in one after the other
(skip-gram's pairs of one position), each pair's update pass taking the next pair's dot products.
Does not: touch W_in other than h when asked (`apply`), loop over a corpus, or know the
architecture (kernels.py does that).

Objectives, with s(x) = 1 / (1 + e^-x), z_j = W_out[row_j] . h:
  NS  (paper eq. 4):   -log s(z_pos) - sum_{i<=k, w_i ~ Pn} log s(-z_i)
  NCE (Gutmann & Hyvarinen 2012, as in the paper's 2.2): the same with logits z_j - log(k Pn(w_j))
  HS  (paper eq. 3):   -sum_d log s((1 - 2 code_d) z_{point_d})
  SOFTMAX (eq. 2):     -z_target + log sum_w e^{z_w}
Gradient steps use the sigmoid of the logit clipped to [-MAX_EXP, MAX_EXP] for every loss
(fastText's choice: no update is ever skipped; word2vec.c skips HS updates outside the range
and clips NS ones, gensim skips). The loss is computed from the unclipped logit in float64.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from .. import _numba_setup  # noqa: F401
from ..config import Loss
from . import lanes
from .hot_rows import slot_of
from .lanes import LANES, logistic_lanes
from .lowlevel import (
    data_pointer,
    dot_rows,
    float32_pointer,
    item_pointer,
    own_lines,
    row_address,
    update_rows,
    update_then_dot,
)

MAX_EXP = np.float32(lanes.MAX_EXP)  # word2vec.c's MAX_EXP (6)
LOSS_NS = int(Loss.NS)
LOSS_HS = int(Loss.HS)
LOSS_SOFTMAX = int(Loss.SOFTMAX)
LOSS_NCE = int(Loss.NCE)

# The targets of the pairs being trained, S slots of up to T targets each (draw_targets fills a slot):
# rows (S, T) int64 output rows to score; labels (S, T) float32 1 or 0;
# shifts (S, T) float32 subtracted from each logit (NCE's log(k Pn(w)), else 0); n (S,) int64 targets per slot.
Targets = namedtuple("Targets", "rows labels shifts n")
# The scratch of one step (make_scratch): neu1e (D,) float32 the gradient for h; scores (>= T,) float32
# logits then gradients ((V,) for the full softmax); pending (1,) float64 the product of loss factors whose
# log is still owed, or (0,): return the whole loss; pad (BLOCK, D) float32 zeros; addrs (>= T,) int64.
StepScratch = namedtuple("StepScratch", "neu1e scores pending pad addrs")

U64_M = np.uint64(2685821657736338717)
S12 = np.uint64(12)
S25 = np.uint64(25)
S27 = np.uint64(27)
S32 = np.uint64(32)
S40 = np.uint64(40)
LOW32 = np.uint64(0xFFFFFFFF)
INV24 = np.float32(1.0 / (1 << 24))


@njit(inline="always", nogil=True)
def rng_next(x):
    """xorshift64* (Vigna 2016): returns (new state, 64 random bits). State is never 0."""
    x ^= x >> S12
    x ^= x << S25
    x ^= x >> S27
    return x, x * U64_M


@njit(inline="always", nogil=True)
def rng_uniform(r):
    """A float32 in [0, 1) from the top 24 bits."""
    return np.float32(r >> S40) * INV24


@njit(inline="always", nogil=True)
def rng_below(r, n):
    """An integer in [0, n) from the top 32 bits (Lemire's multiply-shift), n < 2^32."""
    return np.int64(((r >> S32) * np.uint64(n)) >> S32)


@njit(inline="always", nogil=True)
def alias_entry(tables, r):
    """Which entry of the alias table alias_pick(tables, r) reads (to prefetch it)."""
    return rng_below(r, tables.alias.shape[0])


@njit(inline="always", nogil=True)
def alias_pick(tables, r):
    """The noise word that 64 random bits r select from Pn by the alias method (sampling.packed_alias).
    subtle: one 8-byte entry holds both the threshold and the alias, and the word is picked by a
    select, not a branch: the branch went whichever way a random number said (so it was often
    mispredicted), and only after the entry's cache miss (bench/README.md, "The noise draw")."""
    i = alias_entry(tables, r)
    e = tables.alias[i]
    return i if (r & LOW32) < (e & LOW32) else np.int64(e >> S32)


@njit(inline="always", nogil=True)
def draw_noise(tables, rng):
    """One word from Pn by the alias method; returns (word, rng)."""
    rng, r = rng_next(rng)
    return alias_pick(tables, r), rng


LOSS_FLUSH = 1e200  # a pending product of loss terms is turned into its log above this


@njit(inline="always", nogil=True, fastmath=True)
def _first_target(loss, target, tables, targets, slot):
    """Slot `slot`'s fixed targets: HS's path (returns its length), else `target` with label 1
    (returns 1). Noise words follow with _put_noise."""
    rows, labels, shifts = targets.rows, targets.labels, targets.shifts
    if loss == LOSS_HS:
        n = tables.lengths[target]
        for d in range(n):
            rows[slot, d] = tables.points[target, d]
            labels[slot, d] = np.float32(1.0) - np.float32(tables.codes[target, d])
            shifts[slot, d] = np.float32(0.0)
        return n
    rows[slot, 0] = target
    labels[slot, 0] = np.float32(1.0)
    shifts[slot, 0] = tables.log_kpn[target] if loss == LOSS_NCE else np.float32(0.0)
    return 1


@njit(inline="always", nogil=True, fastmath=True)
def _put_noise(loss, w, target, tables, targets, slot, n, neg_counts):
    """Append noise word w as target n of slot `slot` (label 0) unless it equals `target`, as in
    word2vec.c; counts the draw in neg_counts unless it has length 0. Returns the new n."""
    if neg_counts.shape[0]:  # a (0,) array: not counting (saves ~15% of skip-gram time)
        neg_counts[w] += 1
    if w == target:
        return n
    targets.rows[slot, n] = w
    targets.labels[slot, n] = np.float32(0.0)
    targets.shifts[slot, n] = tables.log_kpn[w] if loss == LOSS_NCE else np.float32(0.0)
    return n + 1


@njit(inline="always", nogil=True)
def noise_draws(loss, negative):
    """How many random numbers draw_targets takes for one slot: `negative` for NS/NCE, else 0."""
    return negative if loss == LOSS_NS or loss == LOSS_NCE else 0


@njit(inline="always", nogil=True, fastmath=True)
def draw_targets(loss, target, negative, tables, rng, targets, slot, neg_counts):
    """Fill slot `slot` of `targets` (a Targets) with the output rows to score for `target`;
    returns (n, rng) and sets targets.n[slot] = n. Each noise draw is counted in neg_counts (V,)
    unless it has length 0.

    NS/NCE: the target (label 1) then k noise words (label 0) drawn from Pn; a noise word equal
    to the target is skipped, as in word2vec.c. HS: the inner nodes on the target's path with
    label 1 - code. SOFTMAX: just the target (the step scores every row).
    """
    n = _first_target(loss, target, tables, targets, slot)
    for _ in range(noise_draws(loss, negative)):
        rng, r = rng_next(rng)
        n = _put_noise(loss, alias_pick(tables, r), target, tables, targets, slot, n, neg_counts)
    targets.n[slot] = n
    return n, rng


@njit(inline="always", nogil=True, fastmath=True)
def take_targets(loss, target, negative, tables, raw, rb, j, targets, slot, neg_counts):
    """draw_targets with the random numbers already drawn: the noise words from raw[rb, j],
    raw[rb, j + 1], ... (noise_draws(loss, negative) of them, in draw_targets' order, so the
    slot is the same as draw_targets would fill). Returns (n, the next j)."""
    n = _first_target(loss, target, tables, targets, slot)
    k = noise_draws(loss, negative)
    for t in range(k):
        n = _put_noise(loss, alias_pick(tables, raw[rb, j + t]), target, tables, targets, slot, n, neg_counts)
    targets.n[slot] = n
    return n, j + k


BLOCK = 6  # targets scored and updated per pass over h: NS's target and k = 5 noise words (the default)


@njit(inline="always", nogil=True)
def _row_address(out_rows, rows, slot, j, n, pad):
    """Where target j's output row is as this worker sees it (its buffered copy or W's row);
    for j >= n, row j % BLOCK of `pad`, a (BLOCK, D) scratch that fills a partial block."""
    if j >= n:
        return row_address(pad, j % BLOCK)
    r = rows[slot, j]
    k = slot_of(out_rows, r)
    if k >= 0:
        return row_address(out_rows.local, k)
    return row_address(out_rows.W, r)


FIXED_DIM = 100  # the vector size the blocks are also compiled for with a constant length (the default)


@njit(nogil=True, fastmath=True, error_model="numpy")
def _dot_block(h, p0, p1, p2, p3, p4, p5, dim):
    """h . p_i for six rows in one pass over h (each element of h loaded once).

    subtle: for dim == FIXED_DIM the pass is lowlevel.dot_rows: explicit vectors with a fixed
    summation order. As a loop (compiled with the constant trip count, 1.08-1.32x over the general
    loop, bench/README.md "where the time goes") the vectoriser picked the order, and picked it
    differently in the process that compiled the kernel and in one that loaded it from the cache,
    so the first run on a machine trained differently from every later one (bench/README.md, "The
    first run and the cached kernel"). Other sizes take the general loop (checked at 50 and 8:
    the same both ways, by tests/test_compile_once.py for 8)."""
    if dim == FIXED_DIM:
        return dot_rows(h, (p0, p1, p2, p3, p4, p5), FIXED_DIM)
    return _dot_rows(h, p0, p1, p2, p3, p4, p5, dim)


@njit(inline="always", nogil=True, fastmath=True, error_model="numpy")
def _dot_rows(h, p0, p1, p2, p3, p4, p5, dim):
    z0 = z1 = z2 = z3 = z4 = z5 = np.float32(0.0)
    for d in range(dim):
        x = h[d]
        z0 += x * p0[d]
        z1 += x * p1[d]
        z2 += x * p2[d]
        z3 += x * p3[d]
        z4 += x * p4[d]
        z5 += x * p5[d]
    return z0, z1, z2, z3, z4, z5


@njit(nogil=True, fastmath=True, error_model="numpy")
def _update_block(h, rows, grads, sink, into_h, dim):
    """See _update_rows (rows: six row pointers, grads: their six gradients). For dim == FIXED_DIM
    the pass is lowlevel.update_rows: explicit vectors in the same order, without the compiled
    loop's run-time overlap checks and scalar tail (measured in bench/README.md)."""
    if dim == FIXED_DIM:
        _update_fixed(h, rows, grads, sink, into_h)
    else:
        _update_rows(h, rows, grads, sink, into_h, dim)


@njit(inline="always", nogil=True)
def _update_fixed(h, rows, grads, sink, into_h):
    """lowlevel.update_rows at FIXED_DIM (it takes `into_h` as a compile-time constant)."""
    if into_h:
        update_rows(h, rows, grads, sink, True, FIXED_DIM)
    else:
        update_rows(h, rows, grads, sink, False, FIXED_DIM)


@njit(inline="always", nogil=True, fastmath=True, error_model="numpy")
def _update_rows(h, rows, grads, sink, into_h, dim):
    """For each row in turn: sink += g_i p_i (the row before its update), p_i += g_i h; one pass.
    With `into_h` the sum goes into h itself and `sink` is unused (the test is loop-invariant: the
    compiler makes one loop of each kind).

    The six row pointers and gradients arrive as tuples and are unpacked into scalars, so that each
    stays in a register for the whole loop; read from arrays, they were measured ~8 % slower (see
    logistic_step).
    subtle: six rows written out, not a loop over rows: only then does each row's element stay
    in a register between its read and its write, and the whole pass compile to one vector loop.
    Each row is read after the previous one is written, element by element, so a row that
    appears twice is updated twice and its second term reads the first update (the compiled loop
    checks at run time that the rows do not overlap before it takes its vector path)."""
    p0, p1, p2, p3, p4, p5 = rows
    g0, g1, g2, g3, g4, g5 = grads
    for d in range(dim):
        x = h[d]
        o = p0[d]
        e = g0 * o
        p0[d] = o + g0 * x
        o = p1[d]
        e += g1 * o
        p1[d] = o + g1 * x
        o = p2[d]
        e += g2 * o
        p2[d] = o + g2 * x
        o = p3[d]
        e += g3 * o
        p3[d] = o + g3 * x
        o = p4[d]
        e += g4 * o
        p4[d] = o + g4 * x
        o = p5[d]
        e += g5 * o
        p5[d] = o + g5 * x
        # subtle: through h itself, not through a second pointer equal to h: the compiled loop
        # would then have to check that two pointers do not overlap, fail, and run scalar
        if into_h:
            h[d] = x + e
        else:
            sink[d] += e


HALF = 3  # a path's last targets, when at most this many are left, go in a half block (HS's tails)


@njit(nogil=True, fastmath=True, error_model="numpy")
def _dot_half(h, p0, p1, p2, dim):
    """h . p_i for three rows in one pass over h: _dot_block for a tail of at most HALF targets."""
    if dim == FIXED_DIM:
        return dot_rows(h, (p0, p1, p2), FIXED_DIM)
    return _dot_rows3(h, p0, p1, p2, dim)


@njit(inline="always", nogil=True, fastmath=True, error_model="numpy")
def _dot_rows3(h, p0, p1, p2, dim):
    z0 = z1 = z2 = np.float32(0.0)
    for d in range(dim):
        x = h[d]
        z0 += x * p0[d]
        z1 += x * p1[d]
        z2 += x * p2[d]
    return z0, z1, z2


@njit(nogil=True, fastmath=True, error_model="numpy")
def _update_half(h, rows, grads, sink, into_h, dim):
    """_update_block for three rows (a tail of at most HALF targets)."""
    if dim == FIXED_DIM:
        _update_fixed(h, rows, grads, sink, into_h)
    else:
        _update_rows3(h, rows, grads, sink, into_h, dim)


@njit(inline="always", nogil=True, fastmath=True, error_model="numpy")
def _update_rows3(h, rows, grads, sink, into_h, dim):
    """_update_rows for three rows, in the same order. A copy of its shape on purpose: calling the
    six-row unroll with three zero-gradient rows is the padding this removes (HS path tails), and
    a loop over rows would not keep each row's element in a register (see _update_rows)."""
    p0, p1, p2 = rows
    g0, g1, g2 = grads
    for d in range(dim):
        x = h[d]
        o = p0[d]
        e = g0 * o
        p0[d] = o + g0 * x
        o = p1[d]
        e += g1 * o
        p1[d] = o + g1 * x
        o = p2[d]
        e += g2 * o
        p2[d] = o + g2 * x
        if into_h:
            h[d] = x + e
        else:
            sink[d] += e


@njit(inline="always", nogil=True)
def _g(zs, j, n):
    return zs[j] if j < n else np.float32(0.0)


@njit(inline="always", nogil=True)
def _fold_loss(lp, outside, z, shifts, labels, slot, j0, prod, total):
    """Fold a block's loss terms log(1 + e^t_j) into (prod, total) (see lanes.logistic_lanes): its
    product lp of in-range factors multiplies prod; a term whose t_j is outside [-MAX_EXP, MAX_EXP]
    (bit j of `outside`) multiplies prod by 1 + e^t in float64 from the unclipped logit, or, from
    t = 30 on, adds t (log(1 + e^t) = t to float64 precision); a NaN logit makes the loss NaN.
    Returns (prod, total); a product past LOSS_FLUSH is turned into its log.
    subtle: one block multiplies prod by at most (1 + e^30)^LANES < 1e105, so prod stays finite."""
    prod *= lp
    if outside:
        for i in range(len(z)):
            if (outside >> i) & 1:
                x = z[i] - shifts[slot, j0 + i]
                t = -x if labels[slot, j0 + i] > 0 else x
                if t < np.float32(30.0):
                    prod *= 1.0 + math.exp(np.float64(t))
                else:
                    total += np.float64(t)
    if prod > LOSS_FLUSH:
        total += math.log(prod)
        prod = 1.0
    return prod, total


@njit(inline="always", nogil=True)
def _settle(want_loss, pending, prod, total):
    """Leave the product of loss factors in pending[0], or take its log now (a (0,) pending)."""
    if want_loss:
        if pending.shape[0]:
            pending[0] = prod
        else:
            total += math.log(prod)
    return total


@njit(inline="always", nogil=True)
def _six_addresses(out_rows, rows, slot, pad):
    """The addresses of slot `slot`'s BLOCK target rows."""
    return (_row_address(out_rows, rows, slot, 0, BLOCK, pad), _row_address(out_rows, rows, slot, 1, BLOCK, pad),
            _row_address(out_rows, rows, slot, 2, BLOCK, pad), _row_address(out_rows, rows, slot, 3, BLOCK, pad),
            _row_address(out_rows, rows, slot, 4, BLOCK, pad), _row_address(out_rows, rows, slot, 5, BLOCK, pad))


@njit(inline="always", nogil=True)
def _pointers(a):
    return (float32_pointer(a[0]), float32_pointer(a[1]), float32_pointer(a[2]), float32_pointer(a[3]),
            float32_pointer(a[4]), float32_pointer(a[5]))


@njit(inline="always", nogil=True, fastmath=True)
def logistic_step(H, hi, out_rows, targets, slot, alpha, scratch, want_loss, apply):
    """Binary logistic regression of each target row: label 1 pushes s(z) up, label 0 down.

    With h = H[hi] (D,), W_out the output rows as this worker sees them (`out_rows`, an OutRows
    from hot_rows.py: a row it buffers is read and written in out_rows.local, the others in
    out_rows.W) and the targets of slot `slot` (r_j = targets.rows[slot, j], j < n = targets.n[slot]):
    z_j = W_out[r_j] . h - shift_j; g_j = alpha (label_j - s(clip(z_j)));
    neu1e += g_j W_out[r_j] (the row before this target's update); W_out[r_j] += g_j h.
    With `apply` the step also adds that neu1e to h itself (skip-gram's W_in[context] update) and
    neu1e (scratch.neu1e) is only scratch; without it the caller zeroes neu1e and applies it.
    The loss is sum_j log(1 + e^{t_j}), t_j = -y_j z_j with y_j = +1 for label 1 and -1 for label 0,
    from the unclipped z in float64. It is returned, or, when scratch.pending is a (1,) float64 array,
    its (1 + e^t) factors are multiplied into pending[0] and only the logs of products that grew
    past LOSS_FLUSH are returned: the caller owes log(pending[0]) (see flush_loss). A (0,) array
    returns the whole loss.

    s(clip(z)) comes from the same e^t as the loss: label 1 gives 1 - s(z) = e^t / (1 + e^t) with
    t = -z, label 0 gives -s(z) = -e^t / (1 + e^t) with t = z.

    Targets go in blocks of BLOCK: one pass over h takes a block's dot products, one more
    updates its rows and accumulates neu1e (for a single block with `apply`, straight into h).
    A partial block is filled with rows of `pad` (zeros, and their g is 0, so they stay zero).
    subtle: measured against one dot pass and one update pass per target (skip-gram, NS, k = 5,
    exact loss on): one thread on a 4.5M-word slice 1.48 -> 1.76 M words/s, two threads on the
    full corpus 1.95 -> 2.31; CBOW with NS 5.67 -> 5.96. Hierarchical softmax gains nothing (CBOW
    4.13 -> 4.14) or loses a little (skip-gram 1.07 -> 1.03: paths of ~13 nodes pad the last block).
    subtle: all n dot products are taken before any row is updated. Computed one after the other,
    each dot -> sigmoid -> update chain waits on the previous one (measured 1.7x slower). The
    results differ only when a row appears twice among the targets (a noise word drawn twice):
    the C code scores the second copy against the updated row; here both copies are scored
    against the old row, while the second copy's contribution to neu1e reads the row already
    updated by the first (exactly what core/train/step.py reports).
    subtle: matrices are reached through row pointers (lowlevel.py), never row views (M[r]):
    each view costs an atomic increment and decrement of the array's reference count.
    """
    rows, labels, shifts = targets.rows, targets.labels, targets.shifts
    n = targets.n[slot]
    neu1e, zs, pending, pad, addrs = scratch.neu1e, scratch.scores, scratch.pending, scratch.pad, scratch.addrs
    dim = H.shape[1]
    h = float32_pointer(row_address(H, hi))
    total = 0.0
    prod = pending[0] if pending.shape[0] else 1.0
    if n == BLOCK:
        # subtle: the common case (NS with k = 5, no noise word equal to the target) keeps its six
        # row addresses, logits and gradients in registers: through arrays it was measured ~8 % slower
        # (skip-gram); CBOW (no `apply`: the sum goes to neu1e, which the caller zeroed) takes it too
        p0, p1, p2, p3, p4, p5 = _pointers(_six_addresses(out_rows, rows, slot, pad))
        z0, z1, z2, z3, z4, z5 = _dot_block(h, p0, p1, p2, p3, p4, p5, dim)
        g0, g1, g2, g3, g4, g5, lp, outside = logistic_lanes(
            (z0, z1, z2, z3, z4, z5), item_pointer(shifts, slot, 0), item_pointer(labels, slot, 0), alpha, n)
        if want_loss:
            prod, total = _fold_loss(lp, outside, (z0, z1, z2, z3, z4, z5), shifts, labels, slot, 0, prod, total)
        total = _settle(want_loss, pending, prod, total)
        if apply:
            _update_block(h, (p0, p1, p2, p3, p4, p5), (g0, g1, g2, g3, g4, g5), h, True, dim)
        else:
            _update_block(h, (p0, p1, p2, p3, p4, p5), (g0, g1, g2, g3, g4, g5), data_pointer(neu1e), False, dim)
        return total
    # subtle: otherwise each target's row address is found once, in one loop, and the blocks take
    # them from `addrs`: six inlined look-ups per block made the first compilation 3x longer
    for j in range((n + BLOCK - 1) // BLOCK * BLOCK):
        addrs[j] = _row_address(out_rows, rows, slot, j, n, pad)
    for j0 in range(0, n, BLOCK):  # each block's logits, then at once their gradients (kept in zs)
        sp, lbp = item_pointer(shifts, slot, j0), item_pointer(labels, slot, j0)
        if n - j0 <= HALF:  # the last 1-3 targets: half a block, less padding (HS paths end anywhere)
            zh = _dot_half(h, float32_pointer(addrs[j0]), float32_pointer(addrs[j0 + 1]),
                           float32_pointer(addrs[j0 + 2]), dim)
            g0, g1, g2, lp, outside = logistic_lanes(zh, sp, lbp, alpha, n - j0)
            zs[j0], zs[j0 + 1], zs[j0 + 2] = g0, g1, g2
            if want_loss:
                prod, total = _fold_loss(lp, outside, zh, shifts, labels, slot, j0, prod, total)
            continue
        zb = _dot_block(
            h, float32_pointer(addrs[j0]), float32_pointer(addrs[j0 + 1]), float32_pointer(addrs[j0 + 2]),
            float32_pointer(addrs[j0 + 3]), float32_pointer(addrs[j0 + 4]), float32_pointer(addrs[j0 + 5]), dim)
        g0, g1, g2, g3, g4, g5, lp, outside = logistic_lanes(zb, sp, lbp, alpha, n - j0)
        zs[j0], zs[j0 + 1], zs[j0 + 2], zs[j0 + 3], zs[j0 + 4], zs[j0 + 5] = g0, g1, g2, g3, g4, g5
        if want_loss:
            prod, total = _fold_loss(lp, outside, zb, shifts, labels, slot, j0, prod, total)
    total = _settle(want_loss, pending, prod, total)
    one_pass = apply and n <= BLOCK
    if apply and not one_pass:
        if dim == FIXED_DIM:
            _zero(neu1e, FIXED_DIM)
        else:
            _zero(neu1e, dim)
    sink = h if one_pass else data_pointer(neu1e)
    for j0 in range(0, n, BLOCK):
        if n - j0 <= HALF:
            _update_half(h, (float32_pointer(addrs[j0]), float32_pointer(addrs[j0 + 1]),
                             float32_pointer(addrs[j0 + 2])), (_g(zs, j0, n), _g(zs, j0 + 1, n), _g(zs, j0 + 2, n)),
                         sink, one_pass, dim)
            continue
        _update_block(
            h, (float32_pointer(addrs[j0]), float32_pointer(addrs[j0 + 1]), float32_pointer(addrs[j0 + 2]),
                float32_pointer(addrs[j0 + 3]), float32_pointer(addrs[j0 + 4]), float32_pointer(addrs[j0 + 5])),
            (_g(zs, j0, n), _g(zs, j0 + 1, n), _g(zs, j0 + 2, n), _g(zs, j0 + 3, n), _g(zs, j0 + 4, n),
             _g(zs, j0 + 5, n)), sink, one_pass, dim)
    if apply and not one_pass:
        if dim == FIXED_DIM:
            _add_into(h, neu1e, FIXED_DIM)
        else:
            _add_into(h, neu1e, dim)
    return total


@njit(nogil=True, fastmath=True, error_model="numpy")
def _update_then_dot_all(h, rows, grads, h2):
    """lowlevel.update_then_dot at FIXED_DIM, the next pair scoring the same six distinct rows."""
    return update_then_dot(h, rows, grads, h2, rows, 6, FIXED_DIM)


@njit(nogil=True, fastmath=True, error_model="numpy")
def _update_then_dot_first(h, rows, grads, h2, rows2):
    """lowlevel.update_then_dot at FIXED_DIM, the next pair sharing the first row (the positive target)."""
    return update_then_dot(h, rows, grads, h2, rows2, 1, FIXED_DIM)


@njit(nogil=True, fastmath=True, error_model="numpy")
def _update_then_dot_none(h, rows, grads, h2, rows2):
    """lowlevel.update_then_dot at FIXED_DIM, every row of the next pair read back."""
    return update_then_dot(h, rows, grads, h2, rows2, 0, FIXED_DIM)


@njit(inline="always", nogil=True)
def _first_once(a):
    """Whether a[0] appears only once in the six addresses."""
    return a[0] != a[1] and a[0] != a[2] and a[0] != a[3] and a[0] != a[4] and a[0] != a[5]


@njit(inline="always", nogil=True)
def _distinct(a):
    return (_first_once(a) and a[1] != a[2] and a[1] != a[3] and a[1] != a[4] and a[1] != a[5] and a[2] != a[3]
            and a[2] != a[4] and a[2] != a[5] and a[3] != a[4] and a[3] != a[5] and a[4] != a[5])


@njit(inline="always", nogil=True, fastmath=True)
def chain_pairs(W_in, ctx, targets, scratch, out_rows, span, per_pair, alpha, want_loss, total):
    """Skip-gram's pairs span = (base, m, end) of one position, from pair m on, for as long as they
    have BLOCK targets each: pair i's hidden vector is W_in[ctx[base + i]] and its targets are slot
    base + i (`per_pair`) or slot base (every pair the same: shared negatives, HS). Exactly as
    logistic_step(W_in, ctx[base + i], out_rows, targets, slot, alpha, scratch, want_loss, True)
    for i = m, m + 1, ..., bit for bit, each step's loss added to `total` in turn. Pair m must have
    BLOCK targets and the vectors FIXED_DIM floats (the caller checks). Returns (total, the first
    pair not done: `end`, or one without BLOCK targets, for the caller to step).

    Why: pair i's update pass also takes pair i + 1's dot products (lowlevel.update_then_dot):
    one pass over the chunks instead of two, pair i + 1's first loads (often cache misses) issued
    among pair i's updates, and the rows both pairs score (the positive target; with shared
    negatives or HS all six) taken from the registers just stored rather than read again.
    Measured in bench/README.md, "Shared chunks and fewer merges"."""
    base, m, end = span
    rows, labels, shifts, ns = targets.rows, targets.labels, targets.shifts, targets.n
    pending, pad = scratch.pending, scratch.pad
    slot = base + m if per_pair else base
    a = _six_addresses(out_rows, rows, slot, pad)
    ps = _pointers(a)
    all_six = not per_pair and _distinct(a)  # every pair scores these six rows, each once
    h = float32_pointer(row_address(W_in, ctx[base + m]))
    z = _dot_block(h, ps[0], ps[1], ps[2], ps[3], ps[4], ps[5], W_in.shape[1])
    while True:
        prod = pending[0] if pending.shape[0] else 1.0
        g0, g1, g2, g3, g4, g5, lp, outside = logistic_lanes(
            z, item_pointer(shifts, slot, 0), item_pointer(labels, slot, 0), alpha, BLOCK)
        step = 0.0
        if want_loss:
            prod, step = _fold_loss(lp, outside, z, shifts, labels, slot, 0, prod, step)
        total += _settle(want_loss, pending, prod, step)
        m += 1
        nxt = base + m if per_pair else base
        if m < end and ns[nxt] == BLOCK:
            h2 = float32_pointer(row_address(W_in, ctx[base + m]))
            grads = (g0, g1, g2, g3, g4, g5)
            if all_six:
                z = _update_then_dot_all(h, ps, grads, h2)
            else:
                a2 = _six_addresses(out_rows, rows, nxt, pad)
                ps2 = _pointers(a2)
                if a2[0] == a[0] and _first_once(a):
                    z = _update_then_dot_first(h, ps, grads, h2, ps2)
                else:
                    z = _update_then_dot_none(h, ps, grads, h2, ps2)
                a, ps = a2, ps2
            h, slot = h2, nxt
        else:
            _update_block(h, ps, (g0, g1, g2, g3, g4, g5), h, True, W_in.shape[1])
            return total, m


@njit(inline="always", nogil=True, fastmath=True)
def _zero(v, dim):
    for d in range(dim):
        v[d] = 0.0


@njit(inline="always", nogil=True, fastmath=True)
def _add_into(h, v, dim):
    """h[d] += v[d] (h a row pointer; with a literal dim the loop has a constant trip count)."""
    for d in range(dim):
        h[d] += v[d]


@njit(inline="always", nogil=True)
def flush_loss(pending):
    """The log owed for a pending product of loss factors (see logistic_step); resets it to 1."""
    v = math.log(pending[0])
    pending[0] = 1.0
    return v


@njit(inline="always", nogil=True, fastmath=True)
def softmax_step(H, hi, W_out, target, alpha, neu1e, scores, want_loss):
    """Full softmax over all V rows (paper eq. 2): O(V D) per example, for teaching.

    With h = H[hi]: p = softmax(W_out h); dL/dz_w = p_w - [w = target]; W_out[w] -= alpha dL/dz_w h;
    neu1e -= alpha sum_w dL/dz_w W_out[w] (old rows). Returns -log p_target. W_out is the shared
    matrix itself (no rows are buffered for the softmax).
    """
    v = W_out.shape[0]
    dim = H.shape[1]
    zmax = -np.inf
    for w in range(v):
        z = np.float32(0.0)
        for d in range(dim):
            z += H[hi, d] * W_out[w, d]
        scores[w] = z
        zmax = max(zmax, z)
    zsum = 0.0
    for w in range(v):
        zsum += math.exp(np.float64(scores[w]) - zmax)
    loss = -(np.float64(scores[target]) - zmax - math.log(zsum))
    for w in range(v):
        p = np.float32(math.exp(np.float64(scores[w]) - zmax) / zsum)
        g = ((np.float32(1.0) if w == target else np.float32(0.0)) - p) * alpha
        for d in range(dim):
            neu1e[d] += g * W_out[w, d]
            W_out[w, d] += g * H[hi, d]
    return loss if want_loss else 0.0


@njit(inline="always", nogil=True, fastmath=True)
def output_step(loss, H, hi, out_rows, targets, slot, alpha, scratch, want_loss, apply):
    """Score the targets draw_targets put in slot `slot` of `targets` (a Targets) against the
    hidden vector h = H[hi]; update the output rows (`out_rows`, an OutRows: hot_rows.unbuffered(W_out)
    outside the trainer) and scratch.neu1e; return the loss (with scratch.pending a (0,) float64
    array) or the part of it not left in pending[0] (a (1,) array; see logistic_step).

    Without `apply`, neu1e (zeroed by the caller) receives the step for h and the caller adds it
    where it belongs (CBOW: every context row); with `apply` it is added to H[hi] here (skip-gram)
    and neu1e is scratch. `scratch` is a StepScratch from make_scratch (its pad stays zero).
    The full softmax's target is targets.rows[slot, 0]."""
    if loss == LOSS_SOFTMAX:
        neu1e = scratch.neu1e
        if apply:
            for d in range(H.shape[1]):
                neu1e[d] = 0.0
        total = softmax_step(H, hi, out_rows.W, targets.rows[slot, 0], alpha, neu1e, scratch.scores, want_loss)
        if apply:
            for d in range(H.shape[1]):
                H[hi, d] += neu1e[d]
        return total
    return logistic_step(H, hi, out_rows, targets, slot, alpha, scratch, want_loss, apply)


def make_targets(slots: int, max_targets: int) -> Targets:
    """Room for `slots` slots of up to max_targets targets each. Each slot's row is padded to whole
    blocks of BLOCK plus LANES - BLOCK columns: the step reads a block's labels and shifts as LANES
    floats at once (lanes.logistic_lanes), whatever the number of targets."""
    width = _padded_width(max_targets)
    return Targets(own_lines((slots, width), np.int64), own_lines((slots, width), np.float32),
                   own_lines((slots, width), np.float32), own_lines(slots, np.int64))


def _padded_width(max_targets: int) -> int:
    return max(1, -(-int(max_targets) // BLOCK)) * BLOCK + LANES - BLOCK


def make_scratch(max_targets: int, dim: int, n_scores: int = 0, defer_log: bool = False) -> StepScratch:
    """The scratch of output_step for up to max_targets targets of dimension dim; `n_scores`
    raises the scores' length (V for the full softmax). With `defer_log` the step leaves the
    product of its loss factors in pending (kernels); without, it returns the whole loss.
    pad is (BLOCK, D) float32 zeros that fill a partial block; addrs holds each target's row address."""
    blocks = max(1, -(-int(max_targets) // BLOCK))
    return StepScratch(own_lines(dim, np.float32), own_lines(max(int(n_scores), blocks * BLOCK), np.float32),
                       own_lines(1 if defer_log else 0, np.float64, 1.0), own_lines((BLOCK, dim), np.float32),
                       own_lines(blocks * BLOCK, np.int64))
