"""Every loss step against finite differences and against its formula (float64 NumPy)."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Loss
from core.huffman import build_huffman
from core.sampling import alias_table, noise_distribution
from core.tables import make_tables
from core.train.step import apply_step, pick_targets

V, D, K = 12, 6, 4


def setup(loss: Loss, seed: int = 0):
    rng = np.random.default_rng(seed)
    counts = np.sort(rng.integers(1, 100, V))[::-1].astype(np.int64)
    tree = build_huffman(counts)
    p = noise_distribution(counts, 0.75)
    t = alias_table(p)
    tables = make_tables(tree.codes, tree.points, tree.lengths, t.prob, t.alias, np.log(K * p))
    n_out = V - 1 if loss == Loss.HS else V
    W_out = (rng.normal(size=(n_out, D)) * 0.3).astype(np.float32)
    h = (rng.normal(size=D) * 0.3).astype(np.float32)
    rows, labels, offsets, _ = pick_targets(tables, loss, 3, K, rng=12345)
    return tables, W_out, h, rows, labels, offsets, rows.size, p


def run_step(loss, h, W_out, rows, labels, offsets, n, alpha):
    """The compiled step through its one Python door (core.train.step.apply_step)."""
    W = W_out.copy()
    H = h.copy()[None, :]
    value, neu1e = apply_step(loss, H, 0, W, rows[:n], labels[:n], offsets[:n], alpha)
    np.testing.assert_array_equal(H[0], h)  # without into_h the caller applies neu1e
    return value, W, neu1e


def reference_loss(loss, h, W_out, rows, labels, offsets, n, target=3):
    """The objective written directly from the paper's formulas, in float64."""
    h = h.astype(np.float64)
    W = W_out.astype(np.float64)
    if loss == Loss.SOFTMAX:
        z = W @ h
        return -(z[target] - np.log(np.sum(np.exp(z))))
    total = 0.0
    for j in range(n):
        z = W[rows[j]] @ h - offsets[j]
        y = 1.0 if labels[j] > 0 else -1.0
        total += np.log1p(np.exp(-y * z))  # -log s(y z)
    return total


@pytest.mark.parametrize("loss", list(Loss))
def test_loss_value_matches_formula(loss):
    tables, W_out, h, rows, labels, offsets, n, p = setup(loss)
    value, _, _ = run_step(loss, h, W_out, rows, labels, offsets, n, 0.0)
    assert np.isclose(value, reference_loss(loss, h, W_out, rows, labels, offsets, n), rtol=1e-5)


@pytest.mark.parametrize("loss", list(Loss))
def test_gradients_match_finite_differences(loss):
    tables, W_out, h, rows, labels, offsets, n, p = setup(loss, seed=2)
    alpha = 1e-3
    _, W_new, neu1e = run_step(loss, h, W_out, rows, labels, offsets, n, alpha)
    eps = 1e-4
    f = lambda hh, WW: reference_loss(loss, hh, WW, rows, labels, offsets, n)  # noqa: E731
    grad_h = np.array([(f(h + eps * e, W_out) - f(h - eps * e, W_out)) / (2 * eps) for e in np.eye(D)])
    # neu1e = -alpha dL/dh (the step accumulates the descent direction for the input row)
    assert np.allclose(neu1e / alpha, -grad_h, atol=2e-4, rtol=2e-3)
    # the output rows moved by -alpha dL/dW_out (for rows touched once)
    touched = np.unique(rows[:n]) if loss != Loss.SOFTMAX else np.arange(V)
    for r in touched[:5]:
        g_num = np.zeros(D)
        for d in range(D):
            Wp, Wm = W_out.astype(np.float64).copy(), W_out.astype(np.float64).copy()
            Wp[r, d] += eps
            Wm[r, d] -= eps
            g_num[d] = (f(h, Wp) - f(h, Wm)) / (2 * eps)
        assert np.allclose((W_new[r] - W_out[r]) / alpha, -g_num, atol=2e-4, rtol=2e-3), f"row {r}"


@pytest.mark.parametrize("loss", [Loss.NS, Loss.NCE])
def test_noise_targets_and_nce_offsets(loss):
    tables, W_out, h, rows, labels, offsets, n, p = setup(loss)
    assert rows[0] == 3 and labels[0] == 1.0
    assert np.all(labels[1:n] == 0.0)
    assert np.all(rows[1:n] != 3)
    if loss == Loss.NCE:
        assert np.allclose(offsets[:n], np.log(K * p[rows[:n]]), rtol=1e-6)
    else:
        assert np.all(offsets[:n] == 0)


def test_hs_targets_are_the_huffman_path():
    tables, W_out, h, rows, labels, offsets, n, p = setup(Loss.HS)
    assert n == tables.lengths[3]
    assert np.array_equal(rows[:n], tables.points[3, :n])
    assert np.array_equal(labels[:n], 1.0 - tables.codes[3, :n])


def test_saturated_logits_are_clipped_not_skipped():
    """Far outside [-6, 6] the update still happens (with s(+-6)), as fastText does."""
    tables, W_out, h, rows, labels, offsets, n, p = setup(Loss.NS)
    h = h * 0 + 10.0
    W_big = np.abs(W_out) + 1.0  # all logits >> 6: negatives saturated on the wrong side
    _, W_new, neu1e = run_step(Loss.NS, h, W_big, rows, labels, offsets, n, 0.1)
    assert np.all(np.abs(W_new[rows[1:n]] - W_big[rows[1:n]]).sum(axis=1) > 0)
    value, _, _ = run_step(Loss.NS, h, W_big, rows, labels, offsets, n, 0.0)
    assert value > 100  # the loss uses the unclipped logits


def test_step_sigmoid_is_the_exact_logistic_of_the_clipped_logit():
    """g_j / alpha = label_j - s(clip(z_j)) to float32 precision (word2vec.c's table is off by up to 6e-3)."""
    tables, W_out, h, rows, labels, offsets, n, p = setup(Loss.NS, seed=5)
    h = h * 8  # logits on both sides of the clip
    alpha = 0.5
    W = W_out.copy()
    _, W_new, _ = run_step(Loss.NS, h, W, rows, labels, offsets, n, alpha)
    z = W_out[rows[:n]].astype(np.float64) @ h.astype(np.float64) - offsets[:n]
    g = alpha * (labels[:n] - 1 / (1 + np.exp(-np.clip(z, -6, 6))))
    uniq = [j for j in range(n) if list(rows[:n]).count(rows[j]) == 1]
    for j in uniq:  # W_out[r] += g h, so g = (change . h) / (h . h)
        r = rows[j]
        dw = (W_new[r].astype(np.float64) - W_out[r]) @ h / (h.astype(np.float64) @ h)
        assert np.isclose(dw, g[j], rtol=2e-6, atol=1e-7)
