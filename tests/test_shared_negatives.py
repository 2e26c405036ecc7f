"""One window of skip-gram with shared negatives, against a plain NumPy version of its update.

With --shared-negatives (and always with hierarchical softmax, whose targets depend only on the
centre word) every pair of a position uses the targets drawn once into slot 0, and the kernel
(kernels._skipgram_sentence) trains the pairs one after another: pair a is scored against the
output rows as pair a - 1 left them. That order is kept on purpose: scoring the whole window
against the rows as it found them (pWord2Vec's matrix form) was measured slower here and raised
the loss (bench/README.md, "where the time goes"). Cases: one block of targets (the NS fast
path), a partial block, several blocks (HS), a context word twice in the window, a noise word
drawn twice.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from core.train.hot_rows import unbuffered
from core.train.losses import BLOCK, FIXED_DIM, LOSS_NS, MAX_EXP, make_scratch, make_targets, output_step

V, D = 50, 37  # an odd D: the compiled loops have vector bodies and scalar tails
# and D = FIXED_DIM (100), for which the kernels take loops compiled with a constant trip count


def reference(W_in, W_out, ctx, rows, labels, shifts, alpha):
    """One window in float64, written out plainly. Returns (loss, W_in, W_out)."""
    W_in, W_out = W_in.astype(np.float64), W_out.astype(np.float64)
    y = np.where(labels > 0, 1.0, -1.0)
    loss = 0.0
    for c in ctx:
        h = W_in[c].copy()
        z = W_out[rows] @ h - shifts  # every target of this pair against the rows as they are now
        loss += float(np.sum(np.log1p(np.exp(-y * z))))
        g = alpha * (labels - 1.0 / (1.0 + np.exp(-np.clip(z, -MAX_EXP, MAX_EXP))))
        e = np.zeros(W_in.shape[1])
        for j, r in enumerate(rows):
            e += g[j] * W_out[r]
            W_out[r] += g[j] * h
        W_in[c] += e
    return loss, W_in, W_out


@njit
def _window(W_in, ctx, out_rows, targets, alpha, scratch):
    """The kernel's loop over one position's pairs with shared targets (slot 0 for every pair)."""
    total = 0.0
    for c in ctx:
        total += output_step(LOSS_NS, W_in, c, out_rows, targets, 0, alpha, scratch, True, True)
    return total


def run(W_in, W_out, ctx, rows, labels, shifts, alpha):
    n = len(rows)
    W_in, W_out = W_in.copy(), W_out.copy()
    targets = make_targets(1, n)
    targets.rows[0, :n], targets.labels[0, :n], targets.shifts[0, :n] = rows, labels, shifts
    targets.n[0] = n
    scratch = make_scratch(n, W_in.shape[1])  # a (0,) pending: the step returns the whole loss
    loss = _window(W_in, np.asarray(ctx, np.int32), unbuffered(W_out), targets, np.float32(alpha), scratch)
    assert not scratch.pad.any()  # the padding rows' gradient is 0: they stay zero
    return loss, W_in, W_out


@pytest.mark.parametrize("dim", [D, FIXED_DIM])
@pytest.mark.parametrize("dup_ctx", [False, True])
@pytest.mark.parametrize("dup_target", [False, True])
@pytest.mark.parametrize("m", [1, 4, 10])
@pytest.mark.parametrize("n", [BLOCK, BLOCK - 1, 2 * BLOCK + 3])
def test_shared_window_matches_numpy(n, m, dup_target, dup_ctx, dim):
    rng = np.random.default_rng(1000 * n + 100 * m + 10 * dup_target + dup_ctx)
    W_in = (rng.normal(size=(V, dim)) * 0.4).astype(np.float32)
    W_out = (rng.normal(size=(V, dim)) * 0.4).astype(np.float32)
    ctx = rng.choice(V, size=m, replace=False)
    if dup_ctx and m > 1:
        ctx[-1] = ctx[0]
    rows = rng.choice(V, size=n, replace=False)
    if dup_target and n > 2:
        rows[2] = rows[1]
    labels = np.zeros(n, np.float32)
    labels[0] = 1.0
    labels[rng.random(n) < 0.3] = 1.0
    shifts = (rng.normal(size=n) * 0.5).astype(np.float32)
    alpha = 0.2  # large, so a lost or doubled update shows far above float32 rounding
    ref_loss, ref_in, ref_out = reference(W_in, W_out, ctx, rows, labels, shifts, alpha)
    loss, got_in, got_out = run(W_in, W_out, ctx, rows, labels, shifts, alpha)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    np.testing.assert_allclose(got_in, ref_in, rtol=0, atol=3e-5)
    np.testing.assert_allclose(got_out, ref_out, rtol=0, atol=3e-5)
    assert not np.allclose(got_in, W_in)  # the step did change the context rows
