"""CBOW's context-row helpers (kernels._cbow_mean, _cbow_spread) against NumPy, both with the
vector size as a compile-time constant (FIXED_DIM, what the trainer takes for size 100) and as a
run-time value: a repeated context word is summed and updated once per occurrence."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from core.train.kernels import _cbow_mean, _cbow_spread
from core.train.losses import FIXED_DIM


@njit
def _mean_fixed(H, neu1e, W, sen, lo, hi, i, cw):
    _cbow_mean(H, neu1e, W, sen, lo, hi, i, cw, FIXED_DIM)


@njit
def _spread_fixed(neu1e, W, sen, lo, hi, i):
    _cbow_spread(neu1e, W, sen, lo, hi, i, FIXED_DIM)


@njit
def _mean_any(H, neu1e, W, sen, lo, hi, i, cw):
    _cbow_mean(H, neu1e, W, sen, lo, hi, i, cw, W.shape[1])


@njit
def _spread_any(neu1e, W, sen, lo, hi, i):
    _cbow_spread(neu1e, W, sen, lo, hi, i, W.shape[1])


@pytest.mark.parametrize("dim,fixed", [(FIXED_DIM, True), (FIXED_DIM, False), (37, False)])
def test_mean_and_spread_match_numpy(dim, fixed):
    rng = np.random.default_rng(2)
    W = rng.normal(size=(20, dim)).astype(np.float32)
    sen = np.array([3, 7, 3, 11, 5, 9], np.int32)  # word 3 twice in the window
    lo, hi, i = 0, 5, 1  # contexts: positions 0, 2, 3, 4 (centre 1)
    ctx = sen[[0, 2, 3, 4]]
    H, neu1e = np.full((1, dim), 9, np.float32), np.full(dim, 9, np.float32)
    (_mean_fixed if fixed else _mean_any)(H, neu1e, W, sen, lo, hi, i, 4)
    assert np.allclose(H[0], W[ctx].mean(axis=0), atol=1e-6) and not neu1e.any()
    g = rng.normal(size=dim).astype(np.float32)
    expected = W.copy()
    for w in ctx:
        expected[w] += g
    (_spread_fixed if fixed else _spread_any)(g, W, sen, lo, hi, i)
    assert np.allclose(W, expected, atol=1e-6)
