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


SIGMOID_BINS = 1024  # table resolution over [-MAX_EXP, MAX_EXP] (word2vec.c: EXP_TABLE_SIZE 1000)
_GRID = -6.0 + np.arange(SIGMOID_BINS + 2) * (12.0 / SIGMOID_BINS)  # one entry past +6 for interpolation
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_GRID))).astype(np.float32)
_SCALE = np.float32(SIGMOID_BINS / (2.0 * 6.0))


@njit(inline="always", nogil=True, fastmath=True)
def sigmoid_clipped(z):
    """s(clip(z, -MAX_EXP, MAX_EXP)) from a table with linear interpolation (abs. error < 1e-5).

    A table lookup instead of exp: libm's expf is a call the loop cannot overlap (word2vec.c
    uses a table too, without interpolation)."""
    zc = min(max(z, -MAX_EXP), MAX_EXP)
    x = (zc + MAX_EXP) * _SCALE
    i = np.int64(x)
    f = x - np.float32(i)
    return SIGMOID_TABLE[i] + f * (SIGMOID_TABLE[i + 1] - SIGMOID_TABLE[i])


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
def logistic_step(H, hi, W_out, rows, labels, offsets, slot, n, alpha, neu1e, zs, want_loss):
    """Binary logistic regression of each target row: label 1 pushes s(z) up, label 0 down.

    With h = H[hi] (D,) and targets r_j = rows[slot, j], j < n:
    z_j = W_out[r_j] . h - offset_j; g_j = alpha (label_j - s(clip(z_j)));
    neu1e += g_j W_out[r_j] (the row before this target's update); W_out[r_j] += g_j h. Returns the float64 loss
    sum_j log(1 + e^{-y_j z_j}), y_j = +1 for label 1 and -1 for label 0, from the unclipped z.

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
        r = rows[slot, j]
        z = np.float32(0.0)
        for d in range(dim):
            z += H[hi, d] * W_out[r, d]
        zs[j] = z - offsets[slot, j]
    total = 0.0
    if want_loss:
        # subtle: one log of a product of (1 + e^t) terms instead of a log per term; e^t in
        # float32 (expf: the logits are float32 already), the product and log in float64
        prod = 1.0
        for j in range(n):
            z = zs[j]
            t = -z if labels[slot, j] > 0 else z
            if t < np.float32(30.0):
                prod *= 1.0 + np.float64(math.exp(t))
                if prod > 1e250:
                    total += math.log(prod)
                    prod = 1.0
            else:
                total += np.float64(t)
        total += math.log(prod)
    for j in range(n):
        g = (labels[slot, j] - sigmoid_clipped(zs[j])) * alpha
        r = rows[slot, j]
        for d in range(dim):  # one pass: neu1e takes the row before its update
            o = W_out[r, d]
            neu1e[d] += g * o
            W_out[r, d] = o + g * H[hi, d]
    return total


@njit(inline="always", nogil=True, fastmath=True)
def softmax_step(H, hi, W_out, target, alpha, neu1e, scores, want_loss):
    """Full softmax over all V rows (paper eq. 2): O(V D) per example, for teaching.

    With h = H[hi]: p = softmax(W_out h); dL/dz_w = p_w - [w = target]; W_out[w] -= alpha dL/dz_w h;
    neu1e -= alpha sum_w dL/dz_w W_out[w] (old rows). Returns -log p_target.
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
def output_step(loss, H, hi, W_out, target, rows, labels, offsets, slot, n, alpha, neu1e, scores, want_loss):
    """Score the targets chosen by draw_targets (row `slot` of rows/labels/offsets) against the
    hidden vector h = H[hi]; update W_out and neu1e; return the loss.

    `scores` is scratch: (V,) for the softmax, at least (n,) for the others."""
    if loss == LOSS_SOFTMAX:
        return softmax_step(H, hi, W_out, target, alpha, neu1e, scores, want_loss)
    return logistic_step(H, hi, W_out, rows, labels, offsets, slot, n, alpha, neu1e, scores, want_loss)


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
