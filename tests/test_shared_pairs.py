"""A position's pairs that share one slot of targets (shared negatives, HS) in one go
(losses.shared_pairs_step with lowlevel.update_dot_rows): bit for bit what stepping the pairs one
by one gives (losses.output_step), a context word twice in the window included; and nothing
touched when it does not apply (a row among the targets twice, fewer or more than BLOCK targets)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from core.train.hot_rows import unbuffered
from core.train.losses import BLOCK, FIXED_DIM, LOSS_NS, make_scratch, make_targets, output_step, shared_pairs_step
from core.train.lowlevel import dot_rows, float32_pointer, row_address, update_dot_rows, update_rows

V, N_IN = 30, 12


@njit
def _fused(W, i, rows, grads, j):
    ps = (float32_pointer(row_address(W, rows[0])), float32_pointer(row_address(W, rows[1])),
          float32_pointer(row_address(W, rows[2])))
    return update_dot_rows(float32_pointer(row_address(W, i)), ps, (grads[0], grads[1], grads[2]),
                           float32_pointer(row_address(W, j)), FIXED_DIM)


@njit
def _apart(W, i, rows, grads, j):
    ps = (float32_pointer(row_address(W, rows[0])), float32_pointer(row_address(W, rows[1])),
          float32_pointer(row_address(W, rows[2])))
    h = float32_pointer(row_address(W, i))
    update_rows(h, ps, (grads[0], grads[1], grads[2]), h, True, FIXED_DIM)
    return dot_rows(float32_pointer(row_address(W, j)), ps, FIXED_DIM)


@pytest.mark.parametrize("same_h", [False, True], ids=["next-row", "same-row"])
def test_update_then_dot_in_one_pass_is_both_passes_bit_for_bit(same_h):
    rng = np.random.default_rng(1)
    W = rng.normal(size=(8, FIXED_DIM)).astype(np.float32)
    rows, grads = np.array([2, 5, 7]), rng.normal(size=3).astype(np.float32)
    j = 0 if same_h else 1
    a, b = W.copy(), W.copy()
    za, zb = _fused(a, 0, rows, grads, j), _apart(b, 0, rows, grads, j)
    assert np.array_equal(a, b)  # rows and h updated alike
    assert [np.float32(x).tobytes() for x in za] == [np.float32(x).tobytes() for x in zb]
    assert not np.array_equal(a, W)


def _case(seed: int, n: int = BLOCK, duplicate_row: bool = False, repeat_context: bool = True):
    rng = np.random.default_rng(seed)
    W_in = (rng.normal(size=(N_IN, FIXED_DIM)) * 0.3).astype(np.float32)
    W_out = (rng.normal(size=(V, FIXED_DIM)) * 0.3).astype(np.float32)
    targets = make_targets(4, n)
    rows = rng.choice(V, size=n, replace=False)
    if duplicate_row:
        rows[3] = rows[1]
    targets.rows[2, :n] = rows
    targets.labels[2, :n] = np.r_[1.0, np.zeros(n - 1)]
    targets.n[2] = n
    ctx = rng.integers(0, N_IN, size=12).astype(np.int32)
    if repeat_context:
        ctx[5] = ctx[4]  # the same context word at two places of the window
    return W_in, W_out, targets, ctx


def _one_by_one(W_in, W_out, targets, ctx, base, pairs, scratch):
    total = 0.0
    for m in range(pairs):
        total += output_step(np.int64(LOSS_NS), W_in, np.int64(ctx[base + m]), unbuffered(W_out), targets,
                             np.int64(2), np.float32(0.05), scratch, True, True)
    return total


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("defer", [True, False], ids=["deferred-log", "log-per-step"])
def test_the_pairs_in_one_go_train_as_one_by_one(seed, defer):
    W_in, W_out, targets, ctx = _case(seed)
    base, pairs = 2, 7
    a_in, a_out, b_in, b_out = W_in.copy(), W_out.copy(), W_in.copy(), W_out.copy()
    sa, sb = make_scratch(BLOCK, FIXED_DIM, defer_log=defer), make_scratch(BLOCK, FIXED_DIM, defer_log=defer)
    la, done = shared_pairs_step(a_in, ctx, np.int64(base), np.int64(pairs), unbuffered(a_out), targets,
                                 np.int64(2), np.float32(0.05), sa, True)
    lb = _one_by_one(b_in, b_out, targets, ctx, base, pairs, sb)
    assert done
    assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out)
    assert np.float64(la).tobytes() == np.float64(lb).tobytes()
    assert np.array_equal(sa.pending, sb.pending)
    assert not np.array_equal(a_in, W_in) and not np.array_equal(a_out, W_out)


@pytest.mark.parametrize(("n", "duplicate_row", "pairs"), [(BLOCK, True, 5), (BLOCK - 1, False, 5), (BLOCK, False, 1)],
                         ids=["row-twice", "five-targets", "one-pair"])
def test_it_steps_aside_untouched_where_it_does_not_apply(n, duplicate_row, pairs):
    W_in, W_out, targets, ctx = _case(3, n, duplicate_row)
    a_in, a_out = W_in.copy(), W_out.copy()
    scratch = make_scratch(BLOCK, FIXED_DIM, defer_log=True)
    loss, done = shared_pairs_step(a_in, ctx, np.int64(0), np.int64(pairs), unbuffered(a_out), targets,
                                   np.int64(2), np.float32(0.05), scratch, True)
    assert not done and loss == 0.0
    assert np.array_equal(a_in, W_in) and np.array_equal(a_out, W_out) and scratch.pending[0] == 1.0
