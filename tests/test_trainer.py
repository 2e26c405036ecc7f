"""The trainer end to end on small inputs: every (architecture x loss) learns, exact rows move,
seeded runs are bit-identical, callbacks see everything, stop and divergence behave.

The text is ~200k words of the shared corpus, or of sample_corpora/small_world.txt in a clone
without ../shared (tests/conftest.py): every test here runs on either, none skips. No assertion
reads the wall clock; where time matters the trainer's clock is replaced by one the test moves.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core.config import Architecture, ConfigError, Loss, TrainConfig
from core.corpus import read_corpus_text
from core.events import Callback
from core.train.hot_rows import unbuffered
from core.train.kernels import make_settings, make_tally, make_work, train_chunk
from core.train.trainer import Trainer


@pytest.fixture(scope="module")
def corpus(small_real_text):
    return read_corpus_text(small_real_text, min_count=5)


class Recorder(Callback):
    def __init__(self):
        self.begin = None
        self.ticks = []
        self.epochs = []
        self.end = None

    def on_train_begin(self, e):
        self.begin = e

    def on_progress(self, e):
        self.ticks.append(e)

    def on_epoch_end(self, e):
        self.epochs.append(e)

    def on_train_end(self, e):
        self.end = e


PAIRS = [(a, loss) for a in Architecture for loss in Loss]


@pytest.mark.parametrize("arch,loss", PAIRS, ids=[f"{a.name}-{b.name}" for a, b in PAIRS])
def test_every_pair_lowers_the_loss_and_moves_its_matrices(corpus, small_real_text, arch, loss):
    cfg = TrainConfig(architecture=arch, loss=loss, size=32, epochs=3, threads=1, seed=3, sample=1e-3)
    if loss == Loss.SOFTMAX:  # O(V) per example: a smaller text and vocabulary
        corpus = read_corpus_text(small_real_text[:250_000], min_count=5, max_vocab=500)
    trainer = Trainer(corpus, cfg)
    w_in0, w_out0 = trainer.W_in.copy(), trainer.W_out.copy()
    rec = Recorder()
    result = trainer.train([rec])
    losses = [e.loss for e in rec.epochs]
    assert result.epochs_completed == 3 and result.error is None
    assert losses[2] < losses[0], losses
    assert np.all(np.isfinite(losses))
    assert not np.array_equal(trainer.W_in, w_in0)
    assert not np.array_equal(trainer.W_out, w_out0)
    expected_rows = len(trainer.vocab) - 1 if loss == Loss.HS else len(trainer.vocab)
    assert trainer.W_out.shape == (expected_rows, 32)


def test_seeded_single_thread_is_bit_identical(corpus, monkeypatch):
    import core.train.trainer

    cfg = TrainConfig(size=24, epochs=2, threads=1, seed=11)
    a = Trainer(corpus, cfg)
    ra = a.train()
    # chunk sizes follow timing; a run cut into much smaller chunks must still be bit-identical
    monkeypatch.setattr(core.train.trainer, "CHUNK_SECONDS", 0.0005)
    b = Trainer(corpus, cfg)
    rb = b.train()
    assert np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)
    assert [e.loss for e in ra.epochs] == [e.loss for e in rb.epochs]
    c = Trainer(corpus, TrainConfig(size=24, epochs=2, threads=1, seed=12))
    c.train()
    assert not np.array_equal(a.W_in, c.W_in)


def test_one_update_moves_only_the_rows_involved():
    """Two-word sentence, window 1, skip-gram NS: W_in rows of the two words; W_out rows of the
    two words (as positives) and of the sampled noise words, nothing else."""
    text = " ".join(f"w{i}" for i in range(40)) + "\n"
    corpus = read_corpus_text(text * 3, min_count=1)
    for loss in (Loss.NS, Loss.HS):
        trainer = Trainer(corpus, TrainConfig(size=8, window=1, negative=3, loss=loss, sample=0, threads=1))
        rng = np.random.default_rng(0)
        trainer.W_out[:] = rng.normal(size=trainer.W_out.shape).astype(np.float32) * 0.1
        w_in0, w_out0 = trainer.W_in.copy(), trainer.W_out.copy()
        a, b = 5, 9
        tokens = np.array([a, b], np.int32)
        offsets = np.array([0, 2], np.int64)
        cfg = trainer.config
        settings = make_settings(cfg.architecture, cfg.loss, 1, 3, False, True, 0.5, 0.5)
        work = make_work(10, 1, max(4, trainer.tables.points.shape[1]), 8, trainer.W_out.shape[0], False)
        v = len(corpus.vocab)
        tally = make_tally(np.array([99], np.uint64), v)
        seen, kept, negs, out = tally.seen, tally.kept, tally.negatives, tally.totals
        assert np.all(trainer.tables.keep_prob == 1)  # sample=0: no subsampling
        train_chunk(settings, trainer.tables, tokens, offsets, trainer.W_in, unbuffered(trainer.W_out), 0, 1e-9,
                    tally, work)
        moved_in = set(np.flatnonzero(np.any(trainer.W_in != w_in0, axis=1)))
        moved_out = set(np.flatnonzero(np.any(trainer.W_out != w_out0, axis=1)))
        assert moved_in == {a, b}
        if loss == Loss.NS:
            assert moved_out == {a, b} | set(np.flatnonzero(negs)) - set()
            assert negs.sum() == 6  # k=3 draws for each of the two pairs
        else:
            tree = trainer.huffman
            path = set(tree.points[a, : tree.lengths[a]]) | set(tree.points[b, : tree.lengths[b]])
            assert moved_out == path
        assert out[1] == 2 and seen[a] == 1 and kept[b] == 1


def test_which_rows_skip_gram_prefetches_changes_no_value(corpus):
    """Skip-gram's per-pair noise draws prefetch output rows only past the first COLD_BYTES of W_out
    (the most drawn rows sit in cache); shared negatives, CBOW and HS prefetch every row. A prefetch only warms the
    cache: a seeded one-thread chunk is bit-identical whichever rows it prefetches."""
    from core.train.kernels import COLD_BYTES

    assert make_settings(0, Loss.NS, 5, 5, False, True, 0.025, 1e-4, dim=100).cold == COLD_BYTES // 400 == 4096
    assert make_settings(0, Loss.NCE, 5, 5, False, True, 0.025, 1e-4, dim=300).cold == COLD_BYTES // 1200
    assert make_settings(0, Loss.NS, 5, 5, True, True, 0.025, 1e-4, dim=100).cold == 0  # shared negatives
    assert make_settings(1, Loss.NS, 5, 5, False, True, 0.025, 1e-4, dim=100).cold == 0  # CBOW
    assert make_settings(0, Loss.HS, 5, 5, False, True, 0.025, 1e-4, dim=100).cold == 0
    assert make_settings(0, Loss.NS, 5, 5, False, True, 0.025, 1e-4).cold == 0  # size unknown: every row
    trainer = Trainer(corpus, TrainConfig(size=16, window=3, negative=4, sample=1e-3, threads=1))
    v = len(corpus.vocab)
    tokens, offsets = corpus.tokens.astype(np.int32), corpus.offsets
    results = []
    for cold in (0, v // 3, v + 1):  # every row, the rarer two thirds, none
        settings = make_settings(0, Loss.NS, 3, 4, False, True, 0.025, 1e-4)._replace(cold=np.int64(cold))
        W_in, W_out = trainer.W_in.copy(), trainer.W_out.copy()
        W_out[:] = np.random.default_rng(1).normal(size=W_out.shape).astype(np.float32) * 0.1
        tally = make_tally(np.array([7], np.uint64), v)
        train_chunk(settings, trainer.tables, tokens, offsets, W_in, unbuffered(W_out), 0, 1e-7, tally,
                    make_work(trainer.config.max_sentence, 3, 5, 16, W_out.shape[0], False))
        results.append((W_in, W_out, tally.totals.copy(), tally.negatives.copy()))
    for W_in, W_out, totals, negs in results[1:]:
        np.testing.assert_array_equal(W_in, results[0][0])
        np.testing.assert_array_equal(W_out, results[0][1])
        np.testing.assert_array_equal(totals, results[0][2])
        np.testing.assert_array_equal(negs, results[0][3])
    assert results[0][2][1] > 1000  # examples were trained


def test_callbacks_get_every_event_with_consistent_numbers(corpus):
    rec = Recorder()
    cfg = TrainConfig(size=16, epochs=2, threads=2, snapshot_topn=50, sample=1e-3)
    trainer = Trainer(corpus, cfg)
    trainer.train([rec], progress_interval=0.01)
    assert rec.begin.vocab_size == len(corpus.vocab) and rec.begin.snapshot.shape == (50, 16)
    assert len(rec.epochs) == 2 and rec.end.epochs_completed == 2 and not rec.end.stopped
    for e in rec.epochs:
        assert e.words == len(corpus)
        assert np.array_equal(e.seen, corpus.vocab.counts)  # every occurrence read once per epoch
        assert np.all(e.kept <= e.seen) and e.kept.sum() < e.seen.sum()  # subsampling dropped some
        assert e.negatives.sum() > 0 and e.snapshot.shape == (50, 16)
        # the observed keep rate follows the formula
        frequent = e.seen > 2000
        assert np.allclose(e.kept[frequent] / e.seen[frequent], trainer.keep_prob[frequent], atol=0.03)
    assert rec.end.epoch_losses == [e.loss for e in rec.epochs]
    words = [t.words_done for t in rec.ticks]
    assert words == sorted(words)
    assert rec.epochs[-1].alpha < cfg.resolved().alpha * 0.2


def test_a_callback_can_stop_training(corpus):
    class StopAfterFirstEpoch(Callback):
        def on_epoch_end(self, e):
            return True

    trainer = Trainer(corpus, TrainConfig(size=16, epochs=5, threads=2))
    result = trainer.train([StopAfterFirstEpoch()])
    assert result.stopped and result.epochs_completed == 1
    assert np.all(np.isfinite(trainer.W_in))


def test_stop_from_another_thread_mid_epoch(corpus):
    """Another thread calls stop() once training has reported words done (not after a delay)."""
    trainer = Trainer(corpus, TrainConfig(size=16, epochs=50, threads=1))
    training = threading.Event()

    class Started(Callback):
        def on_progress(self, e):
            if e.words_done > 0:
                training.set()

    stopper = threading.Thread(target=lambda: training.wait(120) and trainer.stop())
    stopper.start()
    result = trainer.train([Started()], progress_interval=0.02)
    stopper.join()
    assert training.is_set()
    assert result.stopped and result.epochs_completed < 50 and result.error is None
    assert np.all(np.isfinite(trainer.W_in))


def test_divergence_is_detected_and_last_good_vectors_kept(corpus):
    cfg = TrainConfig(size=16, epochs=3, threads=1, alpha=9.0, min_alpha=9.0, loss=Loss.HS)
    trainer = Trainer(corpus, cfg)
    good = [trainer.W_in.copy()]  # before training, then after each completed epoch

    class Keep(Callback):
        def on_epoch_end(self, e):
            good.append(trainer.W_in.copy())

    result = trainer.train([Keep()])
    assert result.error is not None, "alpha=9 should diverge (single thread, default seed)"
    assert "diverged" in result.error and "alpha" in result.error
    assert np.all(np.isfinite(trainer.W_in)) and np.all(np.isfinite(trainer.W_out))
    assert np.array_equal(trainer.W_in, good[-1])  # restored from the on-disk checkpoint


def test_the_checkpoint_is_written_before_each_epoch_but_not_after_the_last(corpus, monkeypatch):
    import core.train.trainer as tr

    saves = []
    real = tr._Checkpoint.save
    monkeypatch.setattr(tr._Checkpoint, "save", lambda self: (saves.append(1), real(self)))
    Trainer(corpus, TrainConfig(size=16, epochs=3, threads=1, seed=1)).train()
    assert len(saves) == 3  # the start, then after epochs 1 and 2


def test_divergence_without_the_loss_is_seen_in_the_vectors(corpus):
    """With the loss off, only the vectors can say the run diverged (the check sums W_in in
    float64, which is finite exactly when every value is)."""
    cfg = TrainConfig(size=16, epochs=3, threads=1, alpha=9.0, min_alpha=9.0, loss=Loss.HS, compute_loss=False)
    trainer = Trainer(corpus, cfg)
    result = trainer.train()
    assert result.error is not None and "diverged" in result.error
    assert np.all(np.isfinite(trainer.W_in))


def test_a_corpus_read_from_disk_trains_exactly_like_one_in_memory(corpus, tmp_path, monkeypatch):
    import core.train.trainer
    from core.corpus import Corpus

    corpus.save(tmp_path / "c")
    on_disk = Corpus.load(tmp_path / "c", mmap=True)
    assert isinstance(on_disk.tokens, np.memmap)
    cfg = TrainConfig(size=16, epochs=2, threads=1, seed=5)
    a = Trainer(corpus, cfg)
    a.train()
    monkeypatch.setattr(core.train.trainer, "MAX_CHUNK_WORDS", 3_000)  # many chunks, each read into the buffer
    monkeypatch.setattr(core.train.trainer, "CHUNK_SECONDS", 0.001)
    b = Trainer(on_disk, cfg)
    b.train()
    assert np.array_equal(a.W_in, b.W_in) and np.array_equal(a.W_out, b.W_out)


def test_token_reader_reads_ranges_and_reports_a_truncated_file(corpus, tmp_path):
    from core.corpus import Corpus, CorpusError, TokenReader

    corpus.save(tmp_path / "c")
    tokens = Corpus.load(tmp_path / "c", mmap=True).tokens
    reader = TokenReader(tokens)
    for a, b in [(0, 5), (100, 150), (len(corpus) - 7, len(corpus))]:  # each larger range grows the buffer
        assert np.array_equal(reader.read(a, b), corpus.tokens[a:b])
    with open(tmp_path / "c.tokens.npy", "r+b") as f:
        f.truncate(f.seek(0, 2) - 40)
    with pytest.raises(CorpusError, match="ended early"):
        reader.read(len(corpus) - 20, len(corpus))
    reader.close()


def test_two_trainings_at_once_in_one_process(corpus):
    results = {}

    def go(name, seed):
        results[name] = Trainer(corpus, TrainConfig(size=16, epochs=2, threads=2, seed=seed)).train()

    threads = [threading.Thread(target=go, args=(f"t{i}", i + 1)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert {k: r.epochs_completed for k, r in results.items()} == {"t0": 2, "t1": 2}


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(window=0), "window"),
        (dict(size=0), "size"),
        (dict(epochs=0), "epochs"),
        (dict(negative=0, loss=Loss.NS), "negative"),
        (dict(negative=0, loss=Loss.NCE), "negative"),
        (dict(alpha=-1.0), "alpha"),
        (dict(sample=-1.0), "sample"),
    ],
)
def test_bad_parameters_are_rejected_with_a_clear_message(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs).resolved()


def test_hs_with_negative_zero_is_fine(corpus):
    Trainer(corpus, TrainConfig(loss=Loss.HS, negative=0, size=8, epochs=1))


def test_softmax_refuses_huge_vocabularies():
    words = " ".join(f"w{i}" for i in range(60_000))
    corpus = read_corpus_text(words, min_count=1)
    with pytest.raises(ConfigError, match="softmax"):
        Trainer(corpus, TrainConfig(loss=Loss.SOFTMAX))


def test_the_loss_on_fixed_pairs_falls_every_epoch(corpus):
    """The online loss (each example scored just before its update) can rise late in training;
    the objective itself, on fixed pairs with fixed noise words, must fall epoch after epoch."""
    trainer = Trainer(corpus, TrainConfig(size=32, epochs=4, threads=1, seed=3))
    rng = np.random.default_rng(0)
    tok = np.asarray(corpus.tokens)
    pos = rng.integers(3, len(tok) - 3, 20_000)
    centre, context = tok[pos], tok[pos + rng.choice([-2, -1, 1, 2], size=pos.size)]
    noise = rng.choice(len(trainer.noise_probs), size=(pos.size, 5), p=trainer.noise_probs)

    def fixed_pairs_loss() -> float:
        h = trainer.W_in[context].astype(np.float64)
        w_out = trainer.W_out.astype(np.float64)
        z_pos = np.einsum("ij,ij->i", h, w_out[centre])
        z_neg = np.einsum("ij,ikj->ik", h, w_out[noise])
        return float(np.mean(np.logaddexp(0, -z_pos) + np.logaddexp(0, z_neg).sum(axis=1)))

    losses = [fixed_pairs_loss()]

    class Measure(Callback):
        def on_epoch_end(self, e):
            losses.append(fixed_pairs_loss())

    trainer.train([Measure()])
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:], strict=False)), losses


def test_compiling_the_kernels_is_not_counted_in_the_first_epoch(corpus, monkeypatch):
    """A first run spends ~10 s compiling; that happens before the first epoch's clock starts, with
    progress events (0 words done) meanwhile, so epoch 1's seconds and words/s are its training's.
    Compiling is stood in for on the kernel's empty warm-up call: it waits for a progress event
    (so one is sent while preparing), then moves the trainer's clock on by 1000 s. No assertion
    depends on how fast this machine is."""
    import time
    import types

    import core.train.trainer as trainer_module

    real = trainer_module.train_chunk
    jump = {"seconds": 0.0}
    clock = types.SimpleNamespace(**{k: getattr(time, k) for k in dir(time) if not k.startswith("_")})
    clock.perf_counter = lambda: time.perf_counter() + jump["seconds"]
    monkeypatch.setattr(trainer_module, "time", clock)
    ticked = threading.Event()

    class Ticks(Recorder):
        def on_progress(self, e):
            super().on_progress(e)
            ticked.set()

    def slow_when_empty(settings, tables, tokens, offsets, *rest):
        if len(offsets) == 1:  # no sentence: the warm-up chunk
            assert ticked.wait(60), "no progress event while the kernels were prepared"
            jump["seconds"] += 1000.0
        return real(settings, tables, tokens, offsets, *rest)

    monkeypatch.setattr(trainer_module, "train_chunk", slow_when_empty)
    rec = Ticks()
    seeded = TrainConfig(size=16, epochs=1, threads=1, seed=3)
    result = Trainer(corpus, seeded).train([rec], progress_interval=0.02)
    assert result.seconds >= 1000.0  # the warm-up ran, inside train()
    assert result.epochs[0].seconds < 1000.0  # and outside the epoch
    assert result.epochs[0].words_per_sec > len(corpus) / 1000.0
    assert rec.ticks[0].words_done == 0  # the CLI shows "preparing the kernels" then

    def skip_when_empty(settings, tables, tokens, offsets, *rest):
        if len(offsets) > 1:
            real(settings, tables, tokens, offsets, *rest)

    monkeypatch.setattr(trainer_module, "train_chunk", skip_when_empty)
    without = Trainer(corpus, seeded).train()
    assert np.array_equal(result.vectors.vectors, without.vectors.vectors)  # the warm-up changes nothing
    assert result.epochs[0].loss == without.epochs[0].loss
