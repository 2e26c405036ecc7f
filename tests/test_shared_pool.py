"""Shared negatives drawn as a pool per window (TrainConfig.shared_pool, kernels._take_pool and
_pool_targets): each window draws P noise words once and its pairs take k of them in turn, so
the window's contexts meet up to P distinct noise words (P = k is the classic shared mode: every
pair the same k). Checked: which targets each pair gets, that P = k is the classic mode exactly,
how many noise words an epoch draws, and that a pooled run learns like the per-pair one."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest

from core.config import ConfigError, TrainConfig
from core.corpus import Corpus
from core.train.kernels import _pool_targets, make_settings
from core.train.losses import LOSS_NCE, LOSS_NS, make_targets
from core.train.trainer import Trainer
from core.vocab import Vocab

LogKpn = namedtuple("LogKpn", "log_kpn")


@pytest.mark.parametrize("loss", [LOSS_NS, LOSS_NCE])
def test_each_pair_takes_the_next_k_words_of_the_pool(loss):
    k, word = 3, 9
    pool = np.array([11, 12, 13, 14, 15, 16, 17], np.int64)  # P = 7 words drawn for the window
    tables = LogKpn(np.arange(20, dtype=np.float32) / 10)
    settings = make_settings(0, loss, 5, k, True, True, 0.025, 1e-4, pool=7)
    targets = make_targets(4, k + 1)
    for m in range(4):
        _pool_targets(settings, tables, np.int64(word), pool, np.int64(7), targets, np.int64(m))
    expected = [[11, 12, 13], [14, 15, 16], [17, 11, 12], [13, 14, 15]]  # in turn, wrapping around
    for m in range(4):
        assert targets.n[m] == k + 1
        assert targets.rows[m, :k + 1].tolist() == [word] + expected[m]  # (rows are padded past n)
        assert targets.labels[m, :k + 1].tolist() == [1.0, 0.0, 0.0, 0.0]
        want_shift = tables.log_kpn[[word] + expected[m]] if loss == LOSS_NCE else np.zeros(k + 1)
        assert np.allclose(targets.shifts[m, :k + 1], want_shift)


def test_a_pool_smaller_than_k_gives_each_pair_the_whole_pool():
    pool = np.array([4, 5], np.int64)
    settings = make_settings(0, LOSS_NS, 5, 5, True, True, 0.025, 1e-4, pool=10)
    targets = make_targets(2, 6)
    _pool_targets(settings, LogKpn(np.zeros(8, np.float32)), np.int64(1), pool, np.int64(2), targets, np.int64(1))
    assert targets.n[1] == 3 and targets.rows[1, 0] == 1 and sorted(targets.rows[1, 1:3].tolist()) == [4, 5]


def test_pool_of_k_or_none_is_the_classic_shared_mode():
    assert make_settings(0, LOSS_NS, 5, 5, True, True, 0.025, 1e-4, pool=5).pool == 0
    assert make_settings(0, LOSS_NS, 5, 5, False, True, 0.025, 1e-4, pool=20).pool == 0  # not shared: per pair
    assert make_settings(0, LOSS_NS, 5, 5, True, True, 0.025, 1e-4, pool=20).pool == 20
    with pytest.raises(ConfigError, match="shared_pool"):
        TrainConfig(negative=5, shared_pool=4).resolved()
    with pytest.raises(ConfigError, match="shared_pool"):
        TrainConfig(negative=5, shared_pool=1001).resolved()


def _corpus(seed: int = 0, n: int = 60_000, v: int = 300) -> Corpus:
    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, v + 1)
    tokens = rng.choice(v, size=n, p=p / p.sum()).astype(np.int32)
    words = [f"w{i}" for i in range(v)]
    counts = np.bincount(tokens, minlength=v).astype(np.int64)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(v, np.int64)
    rank[order] = np.arange(v)
    return Corpus(rank[tokens].astype(np.int32), np.arange(0, n + 1, 1000, dtype=np.int64),
                  Vocab([words[i] for i in order], counts[order]))


def _run(corpus, **kw):
    cfg = TrainConfig(size=16, epochs=2, threads=1, seed=3, sample=0, **kw)
    return Trainer(corpus, cfg).train()


def test_a_pool_draws_p_noise_words_per_window_and_learns_like_per_pair():
    corpus = _corpus()
    classic = _run(corpus, shared_negatives=True)
    same = _run(corpus, shared_negatives=True, shared_pool=5)
    assert classic.epochs[-1].loss == same.epochs[-1].loss  # P = k: the classic mode, bit for bit
    pooled = _run(corpus, shared_negatives=True, shared_pool=15)
    per_pair = _run(corpus)
    draws = {name: int(r.epochs[0].negatives.sum()) for name, r in
             (("classic", classic), ("pooled", pooled), ("per_pair", per_pair))}
    # 15 draws per window against 5: three times as many, up to the rare window with no pair
    assert 2.9 < draws["pooled"] / draws["classic"] < 3.1, draws
    # and fewer than per-pair's k per pair (~2 x 2.5 pairs a window with window 5 here)
    assert draws["pooled"] < draws["per_pair"], draws
    losses = {name: r.epochs[-1].loss for name, r in
              (("classic", classic), ("pooled", pooled), ("per_pair", per_pair))}
    assert all(np.isfinite(v) for v in losses.values())
    assert pooled.epochs[-1].loss < pooled.epochs[0].loss
    # the pooled loss is between or near the two modes it interpolates (within 3 % of per-pair)
    assert abs(losses["pooled"] - losses["per_pair"]) < 0.03 * losses["per_pair"], losses
