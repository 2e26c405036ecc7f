"""Output layers as small @njit steps sharing one signature (fastText's loss.cc idea).

Does: given a hidden vector h = H[hi] (a row of a (N, D) matrix) and a target word, pick the output rows to score
(`draw_targets`), then score them, update those rows of W_out in place, accumulate the gradient
with respect to h into `neu1e` (D,), and return the example's exact loss (`output_step`).
Negative sampling, NCE and hierarchical softmax all reduce to one binary-logistic step over a
few (row, label, logit offset) targets; the full softmax has its own step.
Does not: touch W_in, loop over a corpus, or know the architecture (kernels.py does that).

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

from . import _numba_setup  # noqa: F401
from .config import Loss
from .hot_rows import slot_of

MAX_EXP = np.float32(6.0)  # word2vec.c's MAX_EXP
LOSS_NS = int(Loss.NS)
LOSS_HS = int(Loss.HS)
LOSS_SOFTMAX = int(Loss.SOFTMAX)
LOSS_NCE = int(Loss.NCE)

# Read-only tables of the output layers, grouped so kernels take one argument, not seven.
Tables = namedtuple("Tables", "codes points lengths alias_prob alias_idx log_kpn")
# codes (V, L) uint8, points (V, L) int32, lengths (V,) int32      Huffman tree (HS)
# alias_prob (V,) float32, alias_idx (V,) int32                     Pn(w) sampler (NS, NCE)
# log_kpn (V,) float32                                              log(k Pn(w)) (NCE offsets)

U64_M = np.uint64(2685821657736338717)
S12 = np.uint64(12)
S25 = np.uint64(25)
S27 = np.uint64(27)
S32 = np.uint64(32)
S40 = np.uint64(40)
LOW32 = np.uint64(0xFFFFFFFF)
INV24 = np.float32(1.0 / (1 << 24))
INV32 = np.float32(1.0 / (1 << 32))


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
def draw_noise(tables, rng):
    """One word from Pn by the alias method; returns (word, rng)."""
    rng, r = rng_next(rng)
    v = tables.alias_prob.shape[0]
    i = rng_below(r, v)
    if np.float32(r & LOW32) * INV32 < tables.alias_prob[i]:
        return i, rng
    return np.int64(tables.alias_idx[i]), rng


_LN2 = np.float32(math.log(2.0))
_INV_LN2 = np.float32(1.0 / math.log(2.0))
_POW2 = np.array([2.0 ** k for k in range(-9, 10)], dtype=np.float32)  # 2^n for |n| <= 9 (|t| <= 6)
_C2, _C3, _C4, _C5, _C6, _C7 = (np.float32(1.0 / math.factorial(i)) for i in range(2, 8))
LOSS_FLUSH = 1e200  # a pending product of loss terms is turned into its log above this


@njit(inline="always", nogil=True, fastmath=True)
def exp_clipped(t):
    """e^clip(t, -MAX_EXP, MAX_EXP) in float32, relative error < 3e-7, inlined (no libm call).

    t = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to r^7 (error < 6e-9), times
    2^n from a table. A call to expf cannot be overlapped with the loop around it; this can
    (word2vec.c uses a 1000-entry table of s(x) instead, with an error up to 6e-3)."""
    tc = min(max(t, -MAX_EXP), MAX_EXP)
    # subtle: clamp the integer too: a NaN logit (a diverging run) converts to INT64_MIN, and the
    # table read must stay in bounds so the kernel can report the divergence instead of crashing
    n = min(max(np.int64(np.floor(tc * _INV_LN2 + np.float32(0.5))), -9), 9)
    r = tc - np.float32(n) * _LN2
    p = _C6 + r * _C7
    p = _C5 + r * p
    p = _C4 + r * p
    p = _C3 + r * p
    p = _C2 + r * p
    p = np.float32(1.0) + r * p
    p = np.float32(1.0) + r * p
    return p * _POW2[n + 9]


@njit(inline="always", nogil=True, fastmath=True)
def draw_targets(loss, target, negative, tables, rng, rows, labels, offsets, slot, neg_counts):
    """Fill row `slot` of rows/labels/offsets (S, T) with the output rows to score for `target`;
    returns (n, rng). Each noise draw is counted in neg_counts (V,) unless it has length 0.

    NS/NCE: the target (label 1) then k noise words (label 0) drawn from Pn; a noise word equal
    to the target is skipped, as in word2vec.c. HS: the inner nodes on the target's path with
    label 1 - code. SOFTMAX: just the target (the step scores every row).
    """
    if loss == LOSS_HS:
        n = tables.lengths[target]
        for d in range(n):
            rows[slot, d] = tables.points[target, d]
            labels[slot, d] = np.float32(1.0) - np.float32(tables.codes[target, d])
            offsets[slot, d] = np.float32(0.0)
        return n, rng
    rows[slot, 0] = target
    labels[slot, 0] = np.float32(1.0)
    offsets[slot, 0] = tables.log_kpn[target] if loss == LOSS_NCE else np.float32(0.0)
    if loss == LOSS_SOFTMAX:
        return 1, rng
    n = 1
    for _ in range(negative):
        w, rng = draw_noise(tables, rng)
        if neg_counts.shape[0]:  # a (0,) array: not counting (saves ~15% of skip-gram time)
            neg_counts[w] += 1
        if w == target:
            continue
        rows[slot, n] = w
        labels[slot, n] = np.float32(0.0)
        offsets[slot, n] = tables.log_kpn[w] if loss == LOSS_NCE else np.float32(0.0)
        n += 1
    return n, rng


@njit(inline="always", nogil=True, fastmath=True)
def _dot(H, hi, M, r, dim):
    z = np.float32(0.0)
    for d in range(dim):
        z += H[hi, d] * M[r, d]
    return z


@njit(inline="always", nogil=True, fastmath=True)
def _step_row(H, hi, M, r, g, neu1e, dim):
    """neu1e += g M[r] (the row before its update); M[r] += g h: one pass over the row."""
    for d in range(dim):
        o = M[r, d]
        neu1e[d] += g * o
        M[r, d] = o + g * H[hi, d]


@njit(inline="always", nogil=True, fastmath=True)
def _dot_out(H, hi, out, r, dim):
    """H[hi] . W_out[r], row r as this worker sees it (its own copy when it buffers the row)."""
    k = slot_of(out, r)
    if k >= 0:
        return _dot(H, hi, out.local, k, dim)
    return _dot(H, hi, out.W, r, dim)


@njit(inline="always", nogil=True, fastmath=True)
def _step_out(H, hi, out, r, g, neu1e, dim):
    """_step_row on row r of W_out as this worker sees it."""
    k = slot_of(out, r)
    if k >= 0:
        _step_row(H, hi, out.local, k, g, neu1e, dim)
    else:
        _step_row(H, hi, out.W, r, g, neu1e, dim)


@njit(inline="always", nogil=True, fastmath=True)
def logistic_step(H, hi, out, rows, labels, offsets, slot, n, alpha, neu1e, zs, want_loss, pending):
    """Binary logistic regression of each target row: label 1 pushes s(z) up, label 0 down.

    With h = H[hi] (D,), W_out the output rows as this worker sees them (`out`, an OutRows from
    hot_rows.py: a row it buffers is read and written in out.local, the others in out.W) and
    targets r_j = rows[slot, j], j < n:
    z_j = W_out[r_j] . h - offset_j; g_j = alpha (label_j - s(clip(z_j)));
    neu1e += g_j W_out[r_j] (the row before this target's update); W_out[r_j] += g_j h.
    The loss is sum_j log(1 + e^{t_j}), t_j = -y_j z_j with y_j = +1 for label 1 and -1 for label 0,
    from the unclipped z in float64. It is returned, or, when `pending` is a (1,) float64 array,
    its (1 + e^t) factors are multiplied into pending[0] and only the logs of products that grew
    past LOSS_FLUSH are returned: the caller owes log(pending[0]) (see flush_loss). A (0,) array
    returns the whole loss.

    s(clip(z)) comes from the same e^t as the loss: label 1 gives 1 - s(z) = e^t / (1 + e^t) with
    t = -z, label 0 gives -s(z) = -e^t / (1 + e^t) with t = z.

    subtle: matrices are indexed as M[r, d], never through row views (M[r]): each view costs an
    atomic increment and decrement of the array's reference count, which took over half the
    run time and made two threads fight over one cache line.
    subtle: all n dot products are taken before any row is updated. Computed one after the other,
    each dot -> sigmoid -> update chain waits on the previous one (measured 1.7x slower). The
    results differ only when a row appears twice among the targets (a noise word drawn twice):
    the C code scores the second copy against the updated row; here both copies are scored
    against the old row, while the second copy's contribution to neu1e reads the row already
    updated by the first (exactly what core/step.py reports).
    """
    dim = H.shape[1]
    for j in range(n):
        zs[j] = _dot_out(H, hi, out, rows[slot, j], dim) - offsets[slot, j]
    total = 0.0
    prod = pending[0] if pending.shape[0] else 1.0
    for j in range(n):
        pos = labels[slot, j] > 0
        t = -zs[j] if pos else zs[j]
        e = exp_clipped(t)
        q = e / (np.float32(1.0) + e)
        if want_loss:
            # subtle: one log per product of (1 + e^t) factors, not one per term (a libm log is
            # ~5% of skip-gram's time); outside [-MAX_EXP, MAX_EXP] e is clipped, so recompute
            if -MAX_EXP <= t <= MAX_EXP:
                prod *= 1.0 + np.float64(e)
            elif t < np.float32(30.0):
                prod *= 1.0 + math.exp(np.float64(t))
            else:
                total += np.float64(t)  # log(1 + e^t) = t to float64 precision
            if prod > LOSS_FLUSH:
                total += math.log(prod)
                prod = 1.0
        zs[j] = (q if pos else -q) * alpha
    if want_loss:
        if pending.shape[0]:
            pending[0] = prod
        else:
            total += math.log(prod)
    for j in range(n):
        _step_out(H, hi, out, rows[slot, j], zs[j], neu1e, dim)
    return total


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
def output_step(loss, H, hi, out, target, rows, labels, offsets, slot, n, alpha, neu1e, scores, want_loss, pending):
    """Score the targets chosen by draw_targets (row `slot` of rows/labels/offsets) against the
    hidden vector h = H[hi]; update the output rows (`out`, an OutRows: hot_rows.unbuffered(W_out)
    outside the trainer) and neu1e; return the loss (with `pending` a (0,) float64 array) or the
    part of it not left in pending[0] (a (1,) array; see logistic_step).

    `scores` is scratch: (V,) for the softmax, at least (n,) for the others."""
    if loss == LOSS_SOFTMAX:
        return softmax_step(H, hi, out.W, target, alpha, neu1e, scores, want_loss)
    return logistic_step(H, hi, out, rows, labels, offsets, slot, n, alpha, neu1e, scores, want_loss, pending)


def make_tables(codes: np.ndarray, points: np.ndarray, lengths: np.ndarray, alias_prob: np.ndarray,
                alias_idx: np.ndarray, log_kpn: np.ndarray) -> Tables:
    """Pack the read-only tables with the dtypes the kernels are compiled for."""
    return Tables(
        np.ascontiguousarray(codes, dtype=np.uint8),
        np.ascontiguousarray(points, dtype=np.int32),
        np.ascontiguousarray(lengths, dtype=np.int32),
        np.ascontiguousarray(alias_prob, dtype=np.float32),
        np.ascontiguousarray(alias_idx, dtype=np.int32),
        np.ascontiguousarray(log_kpn, dtype=np.float32),
    )
