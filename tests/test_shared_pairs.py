"""A skip-gram position's pairs stepped as a chain (losses.chain_pairs with lowlevel.update_then_dot:
pair i's update pass also takes pair i + 1's dot products): bit for bit what stepping the pairs one
by one gives (losses.output_step), for per-pair targets and for one slot shared by every pair
(shared negatives, HS), a context word twice in the window, a row twice among the targets, and a
pair without BLOCK targets, where the chain stops and hands the pair back."""

from __future__ import annotations

import numpy as np
import pytest
from numba import literally, njit

from core.train.hot_rows import unbuffered
from core.train.losses import BLOCK, FIXED_DIM, LOSS_NS, chain_pairs, make_scratch, make_targets, output_step
from core.train.lowlevel import dot_rows, float32_pointer, row_address, update_rows, update_then_dot

V, N_IN = 30, 12


@njit
def _ptrs3(W, r):
    return (float32_pointer(row_address(W, r[0])), float32_pointer(row_address(W, r[1])),
            float32_pointer(row_address(W, r[2])))


@njit
def _one_pass(W, i, rows, grads, j, rows2, reuse):
    literally(reuse)
    return update_then_dot(float32_pointer(row_address(W, i)), _ptrs3(W, rows), (grads[0], grads[1], grads[2]),
                           float32_pointer(row_address(W, j)), _ptrs3(W, rows2), reuse, FIXED_DIM)


@njit
def _two_passes(W, i, rows, grads, j, rows2):
    h = float32_pointer(row_address(W, i))
    update_rows(h, _ptrs3(W, rows), (grads[0], grads[1], grads[2]), h, True, FIXED_DIM)
    return dot_rows(float32_pointer(row_address(W, j)), _ptrs3(W, rows2), FIXED_DIM)


@pytest.mark.parametrize(("rows2", "reuse", "j"), [
    ([2, 5, 7], 3, 1),  # the same three distinct rows, all from registers
    ([2, 3, 5], 1, 1),  # the first row shared, the others read back (one of them just updated)
    ([5, 5, 2], 0, 1),  # everything read back: a row twice, rows of the first pass in other places
    ([2, 5, 7], 3, 0),  # h2 is h itself
])
def test_update_then_dot_in_one_pass_is_both_passes_bit_for_bit(rows2, reuse, j):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(8, FIXED_DIM)).astype(np.float32)
    rows, grads = np.array([2, 5, 7]), rng.normal(size=3).astype(np.float32)
    a, b = W.copy(), W.copy()
    za = _one_pass(a, 0, rows, grads, j, np.array(rows2), reuse)
    zb = _two_passes(b, 0, rows, grads, j, np.array(rows2))
    assert np.array_equal(a, b)  # rows and h updated alike
    assert [np.float32(x).tobytes() for x in za] == [np.float32(x).tobytes() for x in zb]
    assert not np.array_equal(a, W)


def _case(seed: int, per_pair: bool, slots: int = 10):
    """Targets for `slots` pairs (per pair: the same positive row first, five noise rows that repeat
    across pairs), or one slot (shared); context words with one repeated."""
    rng = np.random.default_rng(seed)
    W_in = (rng.normal(size=(N_IN, FIXED_DIM)) * 0.3).astype(np.float32)
    W_out = (rng.normal(size=(V, FIXED_DIM)) * 0.3).astype(np.float32)
    targets = make_targets(slots + 2, BLOCK)
    for s in range(2, 2 + (slots if per_pair else 1)):
        targets.rows[s, 0] = 0
        targets.rows[s, 1:BLOCK] = rng.integers(1, 8, size=BLOCK - 1)  # few rows: they meet often
        targets.labels[s, :BLOCK] = np.r_[1.0, np.zeros(BLOCK - 1)]
        targets.n[s] = BLOCK
    ctx = rng.integers(0, N_IN, size=slots + 2).astype(np.int32)
    ctx[5] = ctx[4]  # the same context word at two places of the window
    return W_in, W_out, targets, ctx


def _step_one(W_in, W_out, targets, ctx, base, m, per_pair, scratch):
    slot = base + m if per_pair else base
    return output_step(np.int64(LOSS_NS), W_in, np.int64(ctx[base + m]), unbuffered(W_out), targets, np.int64(slot),
                       np.float32(0.05), scratch, True, True)


def _as_chain(W_in, W_out, targets, ctx, base, pairs, per_pair, scratch):
    """The kernel's loop: chains where pairs have BLOCK targets, single steps elsewhere."""
    total, m, chained = 0.0, 0, 0
    while m < pairs:
        slot = base + m if per_pair else base
        if targets.n[slot] == BLOCK:
            total, nxt = chain_pairs(W_in, ctx, targets, scratch, unbuffered(W_out), (np.int64(base), np.int64(m),
                                     np.int64(pairs)), per_pair, np.float32(0.05), True, total)
            chained += nxt - m
            m = nxt
        else:
            total += _step_one(W_in, W_out, targets, ctx, base, m, per_pair, scratch)
            m += 1
    return total, chained


@pytest.mark.parametrize("per_pair", [True, False], ids=["per-pair", "shared"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("defer", [True, False], ids=["deferred-log", "log-per-step"])
@pytest.mark.parametrize("short", [None, 4], ids=["all-block", "pair-4-short"])
def test_a_chain_of_pairs_trains_as_one_by_one(per_pair, seed, defer, short):
    W_in, W_out, targets, ctx = _case(seed, per_pair)
    base, pairs = 2, 8
    if short is not None and per_pair:
        targets.n[base + short] = BLOCK - 1  # a noise word equal to the target was skipped
    a_in, a_out, b_in, b_out = W_in.copy(), W_out.copy(), W_in.copy(), W_out.copy()
    sa, sb = make_scratch(BLOCK, FIXED_DIM, defer_log=defer), make_scratch(BLOCK, FIXED_DIM, defer_log=defer)
    la, chained = _as_chain(a_in, a_out, targets, ctx, base, pairs, per_pair, sa)
    lb = 0.0
    for m in range(pairs):
        lb += _step_one(b_in, b_out, targets, ctx, base, m, per_pair, sb)
    assert chained == pairs - (1 if short is not None and per_pair else 0)
    assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out)
    assert np.float64(la).tobytes() == np.float64(lb).tobytes()
    assert np.array_equal(sa.pending, sb.pending)
    assert not np.array_equal(a_in, W_in) and not np.array_equal(a_out, W_out)
