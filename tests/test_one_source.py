"""One source of truth: the trainer, the figures, the pages' helpers and the Objectives numbers all
read the per-word tables from core.tables.build_tables, so what a page shows is what the trainer
used. Each test builds a real Trainer on the shipped sample corpus and compares its tables with
what the other side computes for the same corpus and config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import plots
from core.config import Loss, SubsampleFormula, TrainConfig
from core.corpus import read_corpus_text
from core.tables import build_tables
from core.train.step import pick_targets
from core.train.trainer import Trainer
from ui import objectives

SAMPLE = Path(__file__).resolve().parents[1] / "sample_corpora" / "small_world.txt"

CONFIGS = [
    TrainConfig(loss=Loss.NS, ns_exponent=0.6, negative=7, sample=1e-3, threads=1),
    TrainConfig(loss=Loss.HS, sample=1e-4, subsample_formula=SubsampleFormula.PAPER, threads=1),
    TrainConfig(loss=Loss.NCE, ns_exponent=1.0, negative=3, sample=0.0, threads=1),
]


@pytest.fixture(scope="module")
def corpus():
    with open(SAMPLE, encoding="utf-8") as f:
        text = "".join(f.readlines()[:4000])
    return read_corpus_text(text, min_count=3)


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.loss.name for c in CONFIGS])
def test_the_trainer_trains_on_build_tables(corpus, cfg):
    trainer = Trainer(corpus, cfg)
    built = build_tables(corpus.vocab.counts, trainer.config)
    for name, ours, theirs in zip(built.kernel._fields, trainer.tables, built.kernel, strict=True):
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
    np.testing.assert_array_equal(trainer.keep_prob, built.keep_prob)
    np.testing.assert_array_equal(trainer.noise_probs, built.noise_probs)
    assert (trainer.huffman is not None) == (cfg.loss == Loss.HS)
    # the kernels subsample with the float64 probabilities rounded once
    np.testing.assert_array_equal(trainer.tables.keep_prob, trainer.keep_prob.astype(np.float32))


@pytest.mark.parametrize("cfg", CONFIGS, ids=[c.loss.name for c in CONFIGS])
def test_the_figures_draw_the_trainers_tables(corpus, cfg):
    trainer = Trainer(corpus, cfg)
    vocab = corpus.vocab
    v = len(vocab)
    fig = plots.noise_figure(vocab.words, vocab.counts, cfg.ns_exponent, top=v)
    bars = next(t for t in fig.data if t.name == "U(w)^p/Z")
    np.testing.assert_array_equal(np.asarray(bars.y), trainer.noise_probs)
    fig = plots.subsampling_figure(vocab.words, vocab.counts, cfg.sample)
    prefix = "paper" if cfg.subsample_formula == SubsampleFormula.PAPER else "word2vec.c"
    words = next(t for t in fig.data if t.name.startswith(prefix) and t.name.endswith("(words)"))
    np.testing.assert_array_equal(np.asarray(words.y), 1.0 - trainer.keep_prob)
    # and the curve through them is the same formula
    curve = next(t for t in fig.data if t.name.startswith(prefix) and t.mode == "lines")
    f = vocab.counts / vocab.counts.sum()
    np.testing.assert_allclose(np.interp(np.log(f), np.log(curve.x), curve.y), 1.0 - trainer.keep_prob, atol=0.02)


def test_objectives_use_the_trainers_tree_and_sampler(corpus):
    counts = corpus.vocab.counts
    hs = Trainer(corpus, TrainConfig(loss=Loss.HS, threads=1))
    touched = objectives.rows_touched(counts)
    assert touched.hs_max == hs.huffman.lengths.max() and touched.hs_min == hs.huffman.lengths.min()
    assert touched.hs == pytest.approx((hs.huffman.lengths * counts).sum() / counts.sum())
    ns = Trainer(corpus, TrainConfig(loss=Loss.NS, negative=4, ns_exponent=0.5, threads=1))
    v = len(corpus.vocab)
    w_in, w_out = objectives.demo_matrices(v, 8, Loss.NS)
    moved = objectives.rows_moved(counts, w_in, w_out, Loss.NS, 2, 9, negative=4, ns_exponent=0.5, seed=21)
    rows, _, _, _ = pick_targets(ns.tables, Loss.NS, 2, 4, rng=21)  # the trainer's sampler, same seed
    np.testing.assert_array_equal(moved.out_rows, rows)


def test_a_pages_tables_for_a_runs_settings_are_the_runs(corpus):
    """The negative-sampling page draws its example with build_tables(counts, run config, loss=NS,
    ns_exponent=slider, negative=slider); at the run's own settings that is the run's sampler."""
    trainer = Trainer(corpus, CONFIGS[0])
    cfg = trainer.config
    page = build_tables(corpus.vocab.counts, cfg, loss=Loss.NS, ns_exponent=cfg.ns_exponent, negative=cfg.negative)
    np.testing.assert_array_equal(page.kernel.alias, trainer.tables.alias)
    np.testing.assert_array_equal(page.noise_probs, trainer.noise_probs)
