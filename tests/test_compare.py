"""core/vectors/compare.py: Procrustes recovers a rotation, neighbour overlap is 1 for the same
space rotated and low for unrelated spaces, a planted moved word comes out first, and bad input
gives one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from core.vectors.compare import CompareError, compare, knn, procrustes, shared_words, side_by_side
from core.vectors.keyed import UnknownWordError, Vectors


def clustered(n: int = 400, d: int = 16, clusters: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)) * 3
    return (centres[np.arange(n) % clusters] + rng.normal(size=(n, d))).astype(np.float32)


def words(n: int) -> list[str]:
    return [f"w{i}" for i in range(n)]


def rotation(d: int, seed: int = 1) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q.astype(np.float32)


def test_procrustes_recovers_a_rotation():
    A = clustered()
    Q = rotation(A.shape[1])
    B = A @ Q.T  # b = Q a, so A = B Q
    R = procrustes(A, B)
    np.testing.assert_allclose(B @ R, A, atol=1e-3)
    np.testing.assert_allclose(R.T @ R, np.eye(A.shape[1]), atol=1e-5)


def test_knn_matches_brute_force():
    U = clustered(300, 8)
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    got = knn(U, 5)
    sims = U @ U.T
    np.fill_diagonal(sims, -np.inf)
    want = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    np.testing.assert_array_equal(np.sort(got, axis=1), np.sort(want, axis=1))
    assert (got != np.arange(300)[:, None]).all()


def test_the_same_space_rotated_has_full_overlap_and_unit_cosine():
    A = clustered()
    a = Vectors(words(len(A)), A)
    b = Vectors(words(len(A))[::-1], (A @ rotation(A.shape[1]).T)[::-1])  # other order too
    c = compare(a, b, k=10)
    assert c.shared_total == len(A) and len(c.words) == len(A)
    assert c.mean_overlap == pytest.approx(1.0)
    assert c.cosine.min() > 0.999


def test_unrelated_spaces_have_low_overlap():
    a = Vectors(words(400), clustered(seed=0))
    b = Vectors(words(400), clustered(seed=5))  # same shape, words assigned to other clusters' points
    rng = np.random.default_rng(3)
    b = Vectors([b.words[i] for i in rng.permutation(400)], b.vectors)
    assert compare(a, b, k=10).mean_overlap < 0.3


def test_a_planted_moved_word_changes_most():
    A = clustered(n=400, clusters=8)
    B = A @ rotation(A.shape[1]).T
    B[3] = B[4]  # w3 (cluster 3) now sits on w4 (cluster 4)
    c = compare(Vectors(words(400), A), Vectors(words(400), B), k=10)
    word, overlap, cosine = c.most_changed(1)[0]
    assert word == "w3"
    assert overlap < 0.2 and cosine < 0.9
    assert c.overlap[c.words.index("w10")] > 0.5  # an untouched word keeps most neighbours


def test_shared_words_follow_the_first_set_and_respect_the_limit():
    a = Vectors(["x", "y", "z", "y"], np.eye(4, dtype=np.float32)[:, :3].copy())
    b = Vectors(["z", "y", "q"], np.eye(3, dtype=np.float32))
    w, ia, ib = shared_words(a, b, limit=None)
    assert w == ["y", "z"] and list(ia) == [1, 2] and list(ib) == [1, 0]
    assert shared_words(a, b, limit=1)[0] == ["y"]


def test_bad_input_is_one_line():
    a = Vectors(words(5), clustered(5))
    b = Vectors(["other"] * 1 + words(3), clustered(4))
    with pytest.raises(CompareError, match="share 3 words"):
        compare(a, b, k=10)
    with pytest.raises(CompareError, match="k must be"):
        compare(a, a, k=0)
    with pytest.raises(CompareError, match="word limit"):
        compare(a, a, limit=10**9)
    with pytest.raises(UnknownWordError):
        side_by_side(a, b, "w4")


def test_side_by_side_lists_each_sets_neighbours():
    A = clustered()
    a, b = Vectors(words(400), A), Vectors(words(400), A @ rotation(A.shape[1]).T)
    left, right = side_by_side(a, b, "w0", k=5)
    assert [w for w, _ in left] == [w for w, _ in right]
    assert len(left) == 5 and "w0" not in [w for w, _ in left]
