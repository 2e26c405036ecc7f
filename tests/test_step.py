"""One training example (core/train/step.py): the rows reported as changed are exactly the rows whose
values changed, only the rows the loss scored move, the loss falls, and the report's numbers
agree with the update that was actually applied."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import Loss, TrainConfig
from core.corpus import read_corpus_text
from core.sampling import alias_probabilities, unpack_alias
from core.train.step import draw_negatives, one_example, skipgram_pairs
from core.train.trainer import Trainer

TEXT = "\n".join([
    "the king and the queen live in the castle",
    "the man and the woman live in the house",
    "a boy and a girl play with the dog",
    "the dog chases the cat in the house",
] * 10)


@pytest.fixture(scope="module")
def corpus():
    return read_corpus_text(TEXT, min_count=1)


def model(corpus, loss: Loss, seed: int = 3):
    """A trainer's tables and matrices, W_out randomised so that W_in's gradient is non-zero too."""
    tr = Trainer(corpus, TrainConfig(size=12, loss=loss, negative=5, sample=0, min_count=1, threads=1, seed=seed))
    tr.W_out[:] = np.random.default_rng(seed).normal(0, 0.3, tr.W_out.shape).astype(np.float32)
    return tr


def expected_rows(tr, loss: Loss, centre: int, rep) -> set[int]:
    if loss == Loss.HS:
        return set(tr.huffman.points[centre, : tr.huffman.lengths[centre]].tolist())
    return {centre, *rep.negatives.tolist()}


@pytest.mark.parametrize("loss", [Loss.NS, Loss.HS, Loss.NCE])
def test_exactly_the_scored_rows_change(corpus, loss):
    tr = model(corpus, loss)
    ids = corpus.vocab.index
    centre, context = ids["queen"], ids["king"]
    old_in, old_out = tr.W_in.copy(), tr.W_out.copy()
    rep = one_example(tr.W_in, tr.W_out, tr.tables, loss, centre, context, rng=11, k=5, alpha=0.025)
    # reported == actually changed (an independent comparison of the matrices)
    truly_in = np.flatnonzero((tr.W_in != old_in).any(axis=1))
    truly_out = np.flatnonzero((tr.W_out != old_out).any(axis=1))
    np.testing.assert_array_equal(rep.changed_in, truly_in)
    np.testing.assert_array_equal(rep.changed_out, truly_out)
    # and those are exactly the context row and the scored output rows
    assert rep.changed_in.tolist() == [context]
    assert set(rep.changed_out.tolist()) == expected_rows(tr, loss, centre, rep) == set(rep.rows.tolist())
    np.testing.assert_array_equal(rep.in_before[0], old_in[context])
    np.testing.assert_array_equal(rep.in_after[0], tr.W_in[context])
    np.testing.assert_array_equal(rep.out_before, old_out[rep.changed_out])
    if loss == Loss.HS:
        assert rep.labels.tolist() == (1 - tr.huffman.codes[centre, : tr.huffman.lengths[centre]]).tolist()
    else:
        assert rep.rows[0] == centre and rep.labels[0] == 1 and not rep.labels[1:].any()
        assert len(rep.negatives) + rep.skipped == 5


@pytest.mark.parametrize("loss", [Loss.NS, Loss.HS, Loss.NCE])
def test_loss_falls_and_matches_the_kernel(corpus, loss):
    tr = model(corpus, loss)
    ids = corpus.vocab.index
    rep = one_example(tr.W_in, tr.W_out, tr.tables, loss, ids["dog"], ids["cat"], rng=5, k=5, alpha=0.01)
    assert rep.loss_after < rep.loss_before
    assert rep.kernel_loss == pytest.approx(rep.loss_before, rel=1e-5)  # float32 logits in the kernel


def test_report_numbers_are_the_applied_update(corpus):
    tr = model(corpus, Loss.NS)
    ids = corpus.vocab.index
    context = ids["man"]
    old_out = tr.W_out.copy()
    negatives = [ids["cat"], ids["house"], ids["a"]]  # distinct, none equal to the centre
    rep = one_example(tr.W_in, tr.W_out, tr.tables, Loss.NS, ids["woman"], context, negatives=negatives,
                      alpha=0.05)
    assert rep.rows.tolist() == [ids["woman"], *negatives] and rep.skipped == 0
    h = rep.h_before.astype(np.float64)
    # z, sigmoid, g
    np.testing.assert_allclose(rep.z, old_out[rep.rows].astype(np.float64) @ h, rtol=1e-12)
    np.testing.assert_allclose(rep.sigmoid, 1 / (1 + np.exp(-rep.z)), rtol=1e-12)
    # each W_out row moved by g_j h (the kernel's sigmoid table agrees with exp to ~1e-5)
    for j, r in enumerate(rep.rows):
        np.testing.assert_allclose(tr.W_out[r] - old_out[r], rep.g[j] * h, atol=2e-6)
    # W_in[context] moved by neu1e = sum_j g_j W_out[row_j] (old rows)
    np.testing.assert_allclose(rep.neu1e, rep.g @ old_out[rep.rows].astype(np.float64), atol=2e-6)
    np.testing.assert_allclose(tr.W_in[context] - rep.h_before, rep.neu1e, atol=1e-7)


def test_a_given_negative_equal_to_the_centre_is_skipped(corpus):
    tr = model(corpus, Loss.NS)
    ids = corpus.vocab.index
    rep = one_example(tr.W_in, tr.W_out, tr.tables, Loss.NS, ids["dog"], ids["cat"],
                      negatives=[ids["dog"], ids["king"]])
    assert rep.rows.tolist() == [ids["dog"], ids["king"]] and rep.skipped == 1


def test_fresh_model_moves_only_w_out_first(corpus):
    """word2vec.c starts W_out at zero, so W_in's gradient sum_j g_j W_out[row_j] is zero at first."""
    tr = Trainer(corpus, TrainConfig(size=8, sample=0, min_count=1, threads=1))
    ids = corpus.vocab.index
    negatives = [ids["dog"], ids["cat"], ids["the"]]  # distinct: a row drawn twice is nonzero the 2nd time
    rep = one_example(tr.W_in, tr.W_out, tr.tables, Loss.NS, ids["king"], ids["queen"], negatives=negatives)
    assert rep.changed_in.size == 0 and rep.changed_out.size >= 1
    np.testing.assert_allclose(rep.sigmoid, 0.5)


def test_draw_negatives_follows_the_noise_distribution(corpus):
    tr = model(corpus, Loss.NS)
    target = corpus.vocab.index["queen"]
    negs, skipped, rng = draw_negatives(tr.tables, target, 20_000, rng=99)
    assert len(negs) + skipped == 20_000 and target not in negs.tolist()
    p = alias_probabilities(unpack_alias(tr.tables.alias))
    freq = np.bincount(negs, minlength=len(p)) / 20_000
    keep = np.arange(len(p)) != target
    np.testing.assert_allclose(freq[keep], p[keep], atol=0.01)
    again, _, _ = draw_negatives(tr.tables, target, 50, rng=99)  # same seed: same sequence
    np.testing.assert_array_equal(again, negs[: len(again)])


def test_skipgram_pairs_in_corpus_order():
    offsets = np.array([0, 3, 5], dtype=np.int64)  # sentences [0 1 2] and [3 4]
    pairs = skipgram_pairs(offsets, 1)
    assert pairs.tolist() == [[0, 1], [1, 0], [1, 2], [2, 1], [3, 4], [4, 3]]
    assert len(skipgram_pairs(offsets, 5)) == 3 * 2 + 2 * 1


def test_softmax_is_refused(corpus):
    tr = model(corpus, Loss.NS)
    with pytest.raises(ValueError, match="NS, HS and NCE"):
        one_example(tr.W_in, tr.W_out, tr.tables, Loss.SOFTMAX, 0, 1)
