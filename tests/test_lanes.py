"""lanes.logistic_lanes, the vector epilogue of every logistic step, against float64 NumPy.

For each lane: g = alpha (label - s(clip(z - shift))) to float32 precision, the loss factors
(1 + e^t) of the in-range lanes multiplied together, a mask bit for exactly the lanes outside
[-MAX_EXP, MAX_EXP] (or NaN), nothing from the lanes past n, and NaN kept NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from core.train.lanes import LANES, MAX_EXP, logistic_lanes
from core.train.lowlevel import item_pointer


@njit
def _lanes6(z, shifts, labels, alpha, n, g, prods, masks):
    """Block b of 6 logits z[b, :] through logistic_lanes; shifts/labels rows padded to LANES."""
    for b in range(z.shape[0]):
        g0, g1, g2, g3, g4, g5, prods[b], masks[b] = logistic_lanes(
            (z[b, 0], z[b, 1], z[b, 2], z[b, 3], z[b, 4], z[b, 5]), item_pointer(shifts, b, 0),
            item_pointer(labels, b, 0), alpha, n[b])
        g[b, 0], g[b, 1], g[b, 2], g[b, 3], g[b, 4], g[b, 5] = g0, g1, g2, g3, g4, g5


@njit
def _lanes3(z, shifts, labels, alpha, n, g, prods, masks):
    for b in range(z.shape[0]):
        g0, g1, g2, prods[b], masks[b] = logistic_lanes((z[b, 0], z[b, 1], z[b, 2]), item_pointer(shifts, b, 0),
                                                        item_pointer(labels, b, 0), alpha, n[b])
        g[b, 0], g[b, 1], g[b, 2] = g0, g1, g2


def run(k: int, z, shifts, labels, alpha, n):
    blocks = z.shape[0]
    pad = lambda a: np.ascontiguousarray(np.pad(a, ((0, 0), (0, LANES - a.shape[1]))), np.float32)  # noqa: E731
    g = np.full((blocks, k), -7.0, np.float32)
    prods, masks = np.zeros(blocks), np.zeros(blocks, np.int64)
    (_lanes6 if k == 6 else _lanes3)(np.ascontiguousarray(z, np.float32), pad(shifts), pad(labels), np.float32(alpha),
                                     np.asarray(n, np.int64), g, prods, masks)
    return g, prods, masks


def reference(z, shifts, labels, alpha, n):
    x = z.astype(np.float64) - shifts
    t = np.where(labels > 0, -x, x)
    s = 1.0 / (1.0 + np.exp(-np.clip(x, -MAX_EXP, MAX_EXP)))
    valid = np.arange(z.shape[1])[None, :] < np.asarray(n)[:, None]
    g = np.where(valid, alpha * (labels - s), 0.0)
    inside = (t >= -MAX_EXP) & (t <= MAX_EXP) & valid
    prods = np.prod(np.where(inside, 1.0 + np.exp(np.clip(t, -MAX_EXP, MAX_EXP)), 1.0), axis=1)
    masks = (((~inside & valid) * (1 << np.arange(z.shape[1]))).sum(axis=1))
    return g, prods, masks


@pytest.mark.parametrize("k", [6, 3])
def test_gradients_loss_factors_and_mask_match_float64(k):
    rng = np.random.default_rng(3)
    blocks = 4000
    z = rng.uniform(-9, 9, (blocks, k)).astype(np.float32)
    z[:50] = rng.uniform(-1e6, 1e6, (50, k))  # far outside the clipped range
    shifts = (rng.normal(size=(blocks, k)) * 2).astype(np.float32)
    labels = (rng.random((blocks, k)) < 0.4).astype(np.float32)
    n = rng.integers(1, k + 3, blocks)  # more than k: lanes past k hold no target
    alpha = 0.025
    g, prods, masks = run(k, z, shifts, labels, alpha, n)
    ref_g, ref_prods, ref_masks = reference(z, shifts, labels.astype(np.float64), alpha, np.minimum(n, k))
    np.testing.assert_allclose(g, ref_g, rtol=1e-6, atol=alpha * 1e-7)
    assert np.all(g[np.arange(k)[None, :] >= n[:, None]] == 0)
    np.testing.assert_allclose(prods, ref_prods, rtol=2e-6)
    np.testing.assert_array_equal(masks, ref_masks)
    assert 0 < np.count_nonzero(masks) < blocks  # both kinds of block were checked


def test_exp_is_float32_precise_over_the_whole_clipped_range():
    """The loss factor of one in-range lane is 1 + e^t with e^t to 3e-7 relative (no libm call)."""
    t = np.linspace(-MAX_EXP, MAX_EXP, 60001).astype(np.float32)
    z = -t[:, None]  # label 1: t = -z
    _, prods, masks = run(3, np.pad(z, ((0, 0), (0, 2))), np.zeros((t.size, 3)), np.ones((t.size, 3)), 0.1,
                          np.ones(t.size, np.int64))
    assert not masks.any()
    e = prods - 1.0
    assert np.max(np.abs(e / np.exp(t.astype(np.float64)) - 1)) < 3e-7


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_a_nan_logit_gives_a_nan_gradient_and_an_outside_bit(label):
    """A diverging run's NaN must reach the gradient and, through the mask, the loss, where the
    trainer reports the divergence (min/max alone would turn it into a clipped, finite value)."""
    z = np.array([[np.nan, 1.0, np.inf]], np.float32)
    g, prods, masks = run(3, z, np.zeros((1, 3)), np.full((1, 3), label), 0.1, [3])
    assert np.isnan(g[0, 0]) and np.isfinite(g[0, 1:]).all()
    assert masks[0] & 1 and masks[0] & 4 and not masks[0] & 2
    assert np.isfinite(prods[0])
