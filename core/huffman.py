"""Huffman tree for hierarchical softmax (paper section 2.1; word2vec.c CreateBinaryTree).

Does: build codes and inner-node paths from counts sorted descending in O(V) with the
two-cursor method (leaves are already sorted, and merged nodes are created in non-decreasing
order, so the two smallest are always at one of two cursors: no heap needed), and explain one
word's path for a given input vector.
Does not: train. The kernels read `codes`, `points`, `lengths`.

Conventions (as word2vec.c): inner nodes are numbered 0..V-2, the root is V-2; `points[w, d]` is
the d-th inner node on the path from the root to leaf w, `codes[w, d]` the branch taken there
(0 or 1). At node n the model's probability of branch 0 is sigmoid(W_out[n] . h), so
p(w | h) = prod_d sigmoid((1 - 2 codes[w, d]) W_out[points[w, d]] . h)   (paper eq. 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import _numba_setup  # noqa: F401


@dataclass(frozen=True)
class Huffman:
    """codes (V, L) uint8, points (V, L) int32 (padded with 0 past `lengths`), lengths (V,) int32."""

    codes: np.ndarray
    points: np.ndarray
    lengths: np.ndarray

    @property
    def n_inner(self) -> int:
        return int(self.codes.shape[0] - 1)


@njit(cache=True, nogil=True)
def _build(counts: np.ndarray):
    v = counts.shape[0]
    count = np.empty(2 * v - 1, dtype=np.int64)
    count[:v] = counts
    count[v:] = np.iinfo(np.int64).max // 4
    parent = np.zeros(2 * v - 1, dtype=np.int64)
    bit = np.zeros(2 * v - 1, dtype=np.uint8)
    pos1 = v - 1  # next smallest unmerged leaf (leaves are sorted descending)
    pos2 = v  # next smallest merged node (created in non-decreasing order)
    for a in range(v - 1):
        mins = np.empty(2, dtype=np.int64)
        for k in range(2):
            if pos1 >= 0 and count[pos1] < count[pos2]:
                mins[k] = pos1
                pos1 -= 1
            else:
                mins[k] = pos2
                pos2 += 1
        count[v + a] = count[mins[0]] + count[mins[1]]
        parent[mins[0]] = v + a
        parent[mins[1]] = v + a
        bit[mins[1]] = 1
    root = 2 * v - 2
    lengths = np.zeros(v, dtype=np.int32)
    for w in range(v):
        n = w
        depth = 0
        while n != root:
            n = parent[n]
            depth += 1
        lengths[w] = depth
    width = max(1, lengths.max())
    codes = np.zeros((v, width), dtype=np.uint8)
    points = np.zeros((v, width), dtype=np.int32)
    for w in range(v):
        n = w
        d = lengths[w] - 1
        while n != root:  # walk leaf -> root, filling root -> leaf order from the end
            codes[w, d] = bit[n]
            n = parent[n]
            points[w, d] = n - v
            d -= 1
    return codes, points, lengths


def build_huffman(counts: np.ndarray) -> Huffman:
    """Build the tree from (V,) counts sorted descending (V >= 2)."""
    counts = np.ascontiguousarray(counts, dtype=np.int64)
    if counts.shape[0] < 2:
        raise ValueError("hierarchical softmax needs a vocabulary of at least 2 words")
    if np.any(np.diff(counts) > 0):
        raise ValueError("counts must be sorted in descending order")
    codes, points, lengths = _build(counts)
    return Huffman(codes, points, lengths)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def word_path(tree: Huffman, word: int, W_out: np.ndarray | None = None,
              h: np.ndarray | None = None) -> list[dict]:
    """The path of one word from the root: per inner node, its id, the branch (0/1) and, given
    W_out (V-1, D) and an input vector h (D,), the model's probability of taking that branch."""
    n = int(tree.lengths[word])
    out = []
    for d in range(n):
        node = int(tree.points[word, d])
        code = int(tree.codes[word, d])
        step = {"depth": d, "node": node, "code": code, "turn": "left" if code == 0 else "right"}
        if W_out is not None and h is not None:
            z = float(np.dot(W_out[node].astype(np.float64), np.asarray(h, dtype=np.float64)))
            step["z"] = z
            step["p"] = float(_sigmoid(np.array(z if code == 0 else -z)))
        out.append(step)
    return out


def word_probabilities(tree: Huffman, W_out: np.ndarray, h: np.ndarray) -> np.ndarray:
    """p(w | h) for every word (V,) float64 by the product of branch sigmoids; sums to 1."""
    z = W_out.astype(np.float64) @ np.asarray(h, dtype=np.float64)  # (V-1,)
    sign = 1.0 - 2.0 * tree.codes.astype(np.float64)
    mask = np.arange(tree.codes.shape[1])[None, :] < tree.lengths[:, None]
    logp = np.where(mask, np.log(_sigmoid(sign * z[tree.points])), 0.0)
    return np.exp(logp.sum(axis=1))
