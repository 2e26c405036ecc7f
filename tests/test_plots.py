"""Figure builders (core/plots.py) hold the data they claim, and projections (core/vectors/projection.py)
are deterministic, align snapshots, and compute axes and neighbours correctly."""

from __future__ import annotations

import numpy as np
import pytest

from core import plots
from core.config import SubsampleFormula
from core.huffman import build_huffman
from core.sampling import keep_at_frequency, noise_distribution
from core.vectors import projection

WORDS = [f"w{i}" for i in range(12)]
COUNTS = np.array([400, 200, 120, 80, 50, 30, 20, 12, 8, 5, 3, 2], dtype=np.int64)


def names(fig) -> list[str]:
    return [t.name for t in fig.data]


def test_noise_figure_bars_are_the_distributions_with_the_tail_summed():
    observed = COUNTS * 3
    fig = plots.noise_figure(WORDS, COUNTS, 0.75, observed=observed, top=5)
    assert names(fig)[::2] == ["U(w)", "U(w)^p/Z", "observed"]
    bars = {t.name: np.asarray(t.y) for t in fig.data if t.type == "bar"}
    pn = noise_distribution(COUNTS, 0.75)
    np.testing.assert_allclose(bars["U(w)^p/Z"][:5], pn[:5])
    np.testing.assert_allclose(bars["U(w)^p/Z"][5], pn[5:].sum())  # the tail bar
    np.testing.assert_allclose(bars["U(w)"], bars["observed"])  # observed shares = counts here
    assert list(fig.data[0].x)[-1] == "other 7"


def test_noise_figure_without_observed_draws_has_two_series():
    fig = plots.noise_figure(WORDS, COUNTS, 0.5, observed=np.zeros(12, np.int64))
    assert "observed" not in names(fig)


def test_exponent_figure_zero_is_uniform_and_one_is_unigram():
    fig = plots.exponent_figure(COUNTS, (0.0, 1.0), current=0.75)
    assert names(fig) == ["p = 0", "p = 1", "p = 0.75"]
    np.testing.assert_allclose(fig.data[0].y, np.full(12, 1 / 12))
    np.testing.assert_allclose(fig.data[1].y, COUNTS / COUNTS.sum())
    assert fig.data[2].line.width > fig.data[0].line.width


def test_subsampling_formulas_and_figure():
    f = np.array([1e-6, 1e-3, 2e-3, 1e-2, 0.1])
    t = 1e-3
    drop_paper = 1 - keep_at_frequency(f, t, SubsampleFormula.PAPER)
    drop_c = 1 - keep_at_frequency(f, t, SubsampleFormula.C)
    np.testing.assert_allclose(drop_paper, np.clip(1 - np.sqrt(t / f), 0, 1))
    np.testing.assert_allclose(drop_c, np.clip(1 - np.sqrt(t / f) - t / f, 0, 1))
    assert drop_paper[0] == 0 and drop_c[2] == 0  # f < ~2.6 t: C keeps all
    assert np.all(drop_c <= drop_paper)
    drop = np.linspace(0, 0.5, 12)
    fig = plots.subsampling_figure(WORDS, COUNTS, t, observed_drop=drop, observed_t=t)
    assert names(fig)[0].startswith("paper") and names(fig)[2].startswith("word2vec.c")
    np.testing.assert_allclose(fig.data[-1].y, drop)
    np.testing.assert_allclose(fig.data[1].x, COUNTS / COUNTS.sum())


def test_huffman_layout_places_parents_between_children():
    tree = build_huffman(COUNTS)
    lay = plots.huffman_layout(tree)
    v = len(COUNTS)
    assert sorted(lay["leaf_y"].tolist()) == list(range(-(v - 1), 1))  # one row per word
    np.testing.assert_array_equal(lay["leaf_x"], tree.lengths)
    assert lay["edges"].shape == (2 * (v - 1), 2)
    y = np.concatenate([lay["leaf_y"], lay["node_y"]])
    for node in range(v - 1):
        kids = lay["edges"][lay["edges"][:, 0] == v + node, 1]
        assert len(kids) == 2 and y[kids].min() < lay["node_y"][node] < y[kids].max()


def test_huffman_tree_figure_highlights_the_path_with_its_code():
    fig = plots.huffman_tree_figure(WORDS, COUNTS, highlight=11)
    assert names(fig)[:4] == ["edges", "inner nodes", "words", "path"]
    tree = build_huffman(COUNTS)
    bits = [a.text for a in fig.layout.annotations]
    assert bits == [str(int(b)) for b in tree.codes[11, : tree.lengths[11]]]
    assert list(fig.data[2].text) == WORDS
    assert "path" not in names(plots.huffman_tree_figure(WORDS, COUNTS))


def test_code_length_figure_groups_equal_points_and_keeps_every_word():
    counts = np.array([10, 5, 5, 5, 5, 1, 1], dtype=np.int64)
    tree = build_huffman(counts)
    fig = plots.code_length_figure(list("abcdefg"), counts, tree.lengths, highlight=0)
    assert names(fig) == ["words", "-log2 f(w)", "selected"]
    pairs = {(int(x), int(y)) for x, y in zip(fig.data[0].x, fig.data[0].y, strict=True)}
    assert pairs == {(int(c), int(n)) for c, n in zip(counts, tree.lengths, strict=True)}


def test_path_figure_product():
    steps = [{"node": 3, "code": 0, "p": 0.5}, {"node": 1, "code": 1, "p": 0.8}]
    fig = plots.path_figure(steps, "w")
    np.testing.assert_allclose(fig.data[1].y, [0.5, 0.4])
    assert "0.4" in fig.layout.title.text


@pytest.mark.parametrize("k", [2, 3])
def test_embedding_figure_numeric_and_categorical_colour(k):
    coords = np.random.default_rng(0).normal(size=(12, k))
    fig = plots.embedding_figure(coords, WORDS, color=np.log(COUNTS), hover=["h"] * 12, highlight=[0],
                                 neighbours=[1, 2])
    assert names(fig) == ["words", "neighbours", "query"]
    assert fig.data[0].type == ("scatter3d" if k == 3 else "scatter")
    np.testing.assert_allclose(fig.data[0].x, coords[:, 0])
    assert list(fig.data[2].text) == ["w0"]
    cats = ["capital"] * 5 + ["country"] * 7
    fig = plots.embedding_figure(coords, WORDS, color=cats)
    assert names(fig) == ["capital", "country"] and len(fig.data[1].x) == 7


def test_analogy_figure_draws_arrows_and_roles():
    coords = np.array([[0, 0], [1, 0], [0, 1], [1, 1.0]])
    fig = plots.analogy_figure(coords, ["king", "man", "woman", "r"], [(1, 0, "king - man")],
                               ["query", "query", "query", "result"])
    assert names(fig) == ["query", "result"]
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 1 and (arrows[0].ax, arrows[0].x) == (1, 0)
    # labels at the left and right edges extend inwards, so a long "a - b + c" is not cut off
    fig = plots.analogy_figure(np.array([[0, 0], [1, 0], [0.5, 1], [0.05, 0.5]]), ["king", "man", "woman", "r"],
                               [], ["query", "query", "query", "result"])
    assert list(fig.data[0].textposition) == ["top right", "top left", "top center"]
    assert list(fig.data[1].textposition) == ["top right"]


def test_section_accuracy_and_phrase_figures():
    fig = plots.section_accuracy_figure(["capital", "gram-plural"], [3, 1], [4, 2], [False, True])
    assert names(fig) == ["semantic", "syntactic"]
    assert list(fig.data[0].x) == [0.75] and list(fig.data[1].text) == ["1/2"]
    fig = plots.phrase_figure(["new_york", "hong_kong", "new_york_times"], [900, 500, 300], [1, 1, 2], [200, 100])
    assert names(fig) == ["pass 1", "pass 2"] and list(fig.data[1].y) == ["new_york_times"]


def test_step_heatmap_change_panel():
    before = np.zeros((2, 3))
    after = np.array([[0, 0, 0], [0.1, 0, -0.2]])
    fig = plots.step_heatmap_figure(before, after, ["W_in[a]", "W_out[b]"])
    assert names(fig) == ["before", "after", "change"]
    np.testing.assert_allclose(fig.data[2].z, after - before)


# -- projection ---------------------------------------------------------------------------------
def test_pca_is_deterministic_and_sign_stable():
    X = np.random.default_rng(1).normal(size=(50, 8)) * np.arange(8, 0, -1)
    a = projection.pca(X, 2)
    b = projection.pca(-X, 2)  # negated data: same axes (signs fixed), so the picture is mirrored
    basis, _ = projection.pca_basis(X, 2)
    assert a.shape == (50, 2)
    assert np.all(basis[np.argmax(np.abs(basis), axis=0), [0, 1]] > 0)
    np.testing.assert_allclose(b, -a, atol=1e-9)
    assert projection.pca(X[:1], 2).shape == (1, 2)  # one row: zeros, no error


def test_procrustes_recovers_a_rotation():
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(30, 5))
    q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    moved = 0.01 * (ref @ q) + 3.0  # rotated, shrunk and shifted
    np.testing.assert_allclose(projection.procrustes(moved, ref), ref, atol=1e-9)


def test_alignment_reduces_displacement_between_snapshots():
    rng = np.random.default_rng(3)
    final = rng.normal(size=(40, 10)) * np.linspace(3, 0.5, 10)
    snaps = []
    for scale in (0.05, 0.5, 1.0):  # each epoch: a rotated, rescaled, slightly noisy copy
        q, _ = np.linalg.qr(rng.normal(size=(10, 10)))
        snaps.append(scale * (final + 0.1 * rng.normal(size=final.shape)) @ q)
    snaps.append(final)
    aligned = projection.project_snapshots(snaps, "pca", 2)
    independent = [projection.pca(s, 2) for s in snaps]
    for i in range(len(snaps) - 1):
        assert projection.displacement(aligned[i], aligned[i + 1]) < \
            0.5 * projection.displacement(independent[i], independent[i + 1])
    np.testing.assert_allclose(aligned[-1], projection.pca(final, 2), atol=1e-9)


def test_semantic_axes_are_cosine_differences():
    a, b = np.array([1.0, 0, 0]), np.array([0, 1.0, 0])
    X = np.array([[2.0, 0, 0], [0, 3.0, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(projection.semantic_axes(X, [(a, b)])[:, 0], [1, -1, 0])


def test_nearest_neighbours_excludes_self_and_sorts():
    X = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32)
    idx, sims = projection.nearest_neighbours(X, np.array([0, 2]), k=2)
    assert idx[0].tolist() == [1, 2] and idx[1].tolist() == [1, 0]
    assert np.all(np.diff(sims, axis=1) <= 0)
    idx, _ = projection.nearest_neighbours(X, np.array([3]), k=5, candidates=2)
    assert idx.shape == (1, 2)


def test_word_groups_split_sections_by_role():
    groups = projection.word_groups([
        ("capital-country", [("paris", "france", "rome", "italy")]),
        ("currency", [("france", "euro", "japan", "yen")]),
        ("odd-name-here", [("a", "b", "c", "d")]),
    ])
    assert groups["paris"] == groups["rome"] == "capital"
    assert groups["france"] == groups["italy"] == "country"  # first section wins
    assert groups["euro"] == "currency" and groups["japan"] == "country"
    assert groups["b"] == "odd-name-here (2nd)"
