"""Huffman tree, noise distribution and subsampling tables against independent references."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from numba import njit
from scipy import stats

from core.config import SubsampleFormula
from core.huffman import build_huffman, word_path, word_probabilities
from core.sampling import (
    AliasTable,
    alias_probabilities,
    alias_table,
    keep_probabilities,
    noise_distribution,
    packed_alias,
    unpack_alias,
)
from core.tables import make_tables
from core.train.losses import draw_noise


def zipf_counts(v: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = np.sort((1e6 / np.arange(1, v + 1) ** 1.07 * rng.uniform(0.8, 1.2, v)).astype(np.int64) + 1)[::-1]
    return c


def heapq_huffman_cost(counts: np.ndarray) -> int:
    """Total weighted code length of an optimal prefix code, by the textbook heap algorithm."""
    heap = [int(c) for c in counts]
    heapq.heapify(heap)
    cost = 0
    while len(heap) > 1:
        a, b = heapq.heappop(heap), heapq.heappop(heap)
        cost += a + b
        heapq.heappush(heap, a + b)
    return cost


@pytest.mark.parametrize("v", [2, 3, 7, 100, 5000])
def test_huffman_is_optimal_prefix_free_and_complete(v):
    counts = zipf_counts(v)
    tree = build_huffman(counts)
    words = ["".join(map(str, tree.codes[w, : tree.lengths[w]])) for w in range(v)]
    assert len(set(words)) == v
    srt = sorted(words)
    assert not any(b.startswith(a) for a, b in zip(srt, srt[1:], strict=False)), "not prefix-free"
    assert np.isclose(np.sum(2.0 ** -tree.lengths.astype(float)), 1.0), "Kraft sum must be 1"
    assert int(np.dot(counts, tree.lengths)) == heapq_huffman_cost(counts)
    # paths start at the root (inner node V-2) and visit distinct inner nodes
    assert np.all(tree.points[:, 0] == v - 2)
    assert tree.points.max() <= v - 2


def test_huffman_frequent_words_get_short_codes():
    tree = build_huffman(zipf_counts(1000))
    assert tree.lengths[0] <= tree.lengths[-1]
    assert np.all(np.diff(tree.lengths) >= 0) or np.corrcoef(np.arange(1000), tree.lengths)[0, 1] > 0.8


def test_word_path_probabilities_sum_to_one_and_match_path():
    rng = np.random.default_rng(1)
    counts = zipf_counts(300)
    tree = build_huffman(counts)
    W_out = rng.normal(size=(299, 8))
    h = rng.normal(size=8)
    p = word_probabilities(tree, W_out, h)
    assert np.isclose(p.sum(), 1.0)
    for w in (0, 17, 299):
        steps = word_path(tree, w, W_out, h)
        assert len(steps) == tree.lengths[w]
        assert np.isclose(np.prod([s["p"] for s in steps]), p[w])


def test_huffman_rejects_bad_input():
    with pytest.raises(ValueError):
        build_huffman(np.array([5]))
    with pytest.raises(ValueError):
        build_huffman(np.array([1, 5, 3]))


def test_noise_distribution_formula():
    c = np.array([100, 10, 1])
    p = noise_distribution(c, 0.75)
    expected = c**0.75 / np.sum(c**0.75)
    assert np.allclose(p, expected)
    assert np.allclose(noise_distribution(c, 0.0), 1 / 3)
    assert np.allclose(noise_distribution(c, 1.0), c / c.sum())


def test_alias_table_represents_the_distribution_exactly():
    p = noise_distribution(zipf_counts(2000), 0.75)
    assert np.allclose(alias_probabilities(alias_table(p)), p, rtol=1e-5, atol=1e-9)


@njit
def _draw_many(tables, n, seed):
    out = np.zeros(tables.alias.shape[0], np.int64)
    rng = np.uint64(seed)
    for _ in range(n):
        w, rng = draw_noise(tables, rng)
        out[w] += 1
    return out


@pytest.mark.parametrize("power", [0.0, 0.5, 0.75, 1.0])
def test_negative_draws_follow_pn_chi_square(power):
    counts = zipf_counts(50, seed=3)
    p = noise_distribution(counts, power)
    t = alias_table(p)
    tables = make_tables(np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), t.prob, t.alias, np.zeros(50))
    n = 400_000
    observed = _draw_many(tables, n, 0x9E3779B97F4A7C15)
    assert observed.sum() == n
    chi2, pvalue = stats.chisquare(observed, p * n)
    assert pvalue > 1e-3, f"chi2={chi2:.1f} p={pvalue:.2g}"


def test_subsampling_formulas_by_hand():
    counts = np.array([600, 300, 90, 10])  # total 1000: f = 0.6, 0.3, 0.09, 0.01
    t = 0.01
    paper = keep_probabilities(counts, t, SubsampleFormula.PAPER)
    c_tool = keep_probabilities(counts, t, SubsampleFormula.C)
    # paper: P_keep = sqrt(t / f)
    assert np.allclose(paper, [np.sqrt(0.01 / 0.6), np.sqrt(0.01 / 0.3), np.sqrt(0.01 / 0.09), 1.0])
    # word2vec.c: sqrt(t / f) + t / f, clipped at 1
    assert np.allclose(c_tool, [np.sqrt(1 / 60) + 1 / 60, np.sqrt(1 / 30) + 1 / 30, np.sqrt(1 / 9) + 1 / 9, 1.0])
    assert np.all(keep_probabilities(counts, 0.0) == 1.0)


def test_packed_alias_thresholds_make_the_float32_comparisons_decisions():
    """x < t_i (the kernels' integer test) exactly when float32(x) 2^-32 < prob[i] (the float32
    test it replaced), at the boundary of every threshold and at random 32-bit x."""
    rng = np.random.default_rng(5)
    prob = np.concatenate([[0.0, 1.0, np.float32(1.0) - np.float32(6e-8), 1e-9, 0.5, 2.0 ** -24],
                           rng.random(2000), 1 - rng.random(500) * 1e-6]).astype(np.float32)
    alias = rng.integers(0, prob.size, prob.size).astype(np.int32)
    packed = packed_alias(AliasTable(prob, alias))
    t = (packed & np.uint64(0xFFFFFFFF)).astype(np.int64)
    np.testing.assert_array_equal(packed >> np.uint64(32), alias.astype(np.uint64))
    for x in (t - 1, t, t + 1, rng.integers(0, 1 << 32, t.size)):
        x = np.clip(x, 0, (1 << 32) - 1)
        as_float = x.astype(np.float32) * np.float32(2.0 ** -32) < prob
        np.testing.assert_array_equal(x < t, as_float)
    # the word a draw with prob 1 cannot reach: float32 rounds the top 128 values of x up to 1
    assert t[1] == (1 << 32) - 128
    back = unpack_alias(packed)
    np.testing.assert_array_equal(back.alias, alias)
    np.testing.assert_allclose(back.prob, prob, atol=2.0 ** -24)
