"""The Spark engine's parts that need no JVM: merge rules, slices, and the one-line failures
(unreachable master, missing pyspark, missing Java), and that `import core` never loads pyspark."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core.spark.deltas import decode, encode, pack_changes
from core.spark.executor import slice_bounds
from core.spark.merge import MERGE_DEFAULT, MERGE_RULES, changed_rows, merge
from core.spark.session import SparkUnavailable, check_master

ROOT = Path(__file__).resolve().parents[1]


def _changes():
    # partition 0 changes rows 0 and 2, partition 1 rows 2 and 3
    return [(np.array([0, 2]), np.array([[1.0, 1.0], [2.0, 4.0]], np.float32)),
            (np.array([2, 3]), np.array([[4.0, 0.0], [8.0, 8.0]], np.float32))]


@pytest.mark.parametrize("rule, row2", [("sum", [6.0, 4.0]), ("mean", [3.0, 2.0]),
                                        ("sqrt", [6.0 / np.sqrt(2), 4.0 / np.sqrt(2)])])
def test_merge_rules_differ_only_on_rows_several_partitions_touched(rule, row2):
    W = np.zeros((5, 2), np.float32)
    assert merge(W, _changes(), rule) == 3
    np.testing.assert_allclose(W[2], row2, rtol=1e-6)
    np.testing.assert_array_equal(W[0], [1.0, 1.0])  # one partition: its change, whatever the rule
    np.testing.assert_array_equal(W[3], [8.0, 8.0])
    np.testing.assert_array_equal(W[[1, 4]], 0)


def test_share_weights_each_partitions_change_by_its_share_of_the_rows_updates():
    # row 2: partition 0 made 1 update (change [2, 4]), partition 1 made 3 (change [4, 0]):
    # (1 * [2, 4] + 3 * [4, 0]) / 4 = [3.5, 1.0]; rows one partition touched get its whole change
    changes = [(ids, d, n) for (ids, d), n in zip(_changes(), [np.array([5, 1]), np.array([3, 7])], strict=True)]
    W = np.zeros((5, 2), np.float32)
    assert merge(W, changes, "share") == 3
    np.testing.assert_allclose(W[2], [3.5, 1.0], rtol=1e-6)
    np.testing.assert_array_equal(W[0], [1.0, 1.0])
    np.testing.assert_array_equal(W[3], [8.0, 8.0])
    np.testing.assert_array_equal(W[[1, 4]], 0)
    # equal counts: the plain mean over the partitions that touched the row
    W2 = np.zeros((5, 2), np.float32)
    merge(W2, [(ids, d, np.ones(len(ids), np.int32)) for ids, d in _changes()], "share")
    np.testing.assert_allclose(W2[2], [3.0, 2.0], rtol=1e-6)
    with pytest.raises(ValueError, match="needs the update counts"):
        merge(np.zeros((5, 2), np.float32), _changes(), "share")


def test_row_updates_count_the_words_kept_occurrences_and_noise_draws():
    from core.config import Loss, TrainConfig
    from core.spark.executor import row_updates
    from core.tables import make_tables
    from core.train.slices import SliceModel, SliceStats

    kept, negs = np.array([4, 0, 2, 1]), np.array([0, 3, 1, 0])
    stats = SliceStats(0.0, 0, 0, 0.0, kept, kept, negs)
    z = np.zeros((1, 1))
    ns = SliceModel(TrainConfig(loss=Loss.NS), make_tables(z, z, np.zeros(1), np.ones(4), np.zeros(4), np.zeros(4)))
    c_in, c_out = row_updates(ns, stats, np.array([0, 2, 3]), np.array([0, 1, 2]))
    np.testing.assert_array_equal(c_in, [4, 2, 1])
    np.testing.assert_array_equal(c_out, [4, 3, 3])
    # HS: words 0 and 1 pass through inner node 0, word 2 through nodes 0 and 1, word 3 through 1 and 2
    points = np.array([[0, 0], [0, 0], [0, 1], [1, 2]])
    hs = SliceModel(TrainConfig(loss=Loss.HS), make_tables(np.zeros((4, 2)), points, np.array([1, 1, 2, 2]),
                                                           np.ones(4), np.zeros(4), np.zeros(4)))
    _, c_out = row_updates(hs, stats, np.array([0]), np.array([0, 1, 2]))
    np.testing.assert_array_equal(c_out, [4 + 0 + 2, 2 + 1, 1])


def test_block_momentum_adds_a_fraction_of_the_last_rounds_whole_step():
    from core.spark.merge import momentum_step

    W, v = np.zeros((2, 2), np.float32), np.zeros((2, 2), np.float32)
    for expect in (1.0, 2.5, 4.25):  # every round's merge moves row 0 by +1; momentum 0.5 adds half the last step
        before = W.copy()
        merge(W, [(np.array([0]), np.ones((1, 2), np.float32))], "sum")
        momentum_step(W, before, v, 0.5)
        np.testing.assert_allclose(W[0], expect, rtol=1e-6)
        np.testing.assert_array_equal(W[1], 0)  # a row never changed stays put
    np.testing.assert_allclose(v[0], 1.75, rtol=1e-6)  # the last whole step: 1 merged + 0.5 * 1.5


def test_merge_rejects_an_unknown_rule_and_the_default_is_one_of_them():
    assert MERGE_DEFAULT in MERGE_RULES
    with pytest.raises(ValueError, match="unknown merge rule"):
        merge(np.zeros((2, 2), np.float32), [], "max")


def test_changed_rows_are_exactly_the_rows_that_moved():
    before = np.arange(12, dtype=np.float32).reshape(4, 3)
    after = before.copy()
    after[1, 2] += 0.5
    after[3, 0] -= 1.0
    ids, d = changed_rows(before, after)
    np.testing.assert_array_equal(ids, [1, 3])
    np.testing.assert_array_equal(before[ids] + d, after[ids])


@pytest.mark.parametrize("fmt, rel, fraction", [("float32", 0.0, 1.0), ("float16", 2.0 ** -11, 0.52),
                                                ("int8", 0.5 / 127, 0.27)])
def test_deltas_round_trip_within_their_formats_error_at_every_scale(fmt, rel, fraction):
    # rows whose largest change spans 1e-9 (a late round: alpha near min_alpha) to 1e-1
    rng = np.random.default_rng(3)
    d = (rng.standard_normal((500, 100)) * np.logspace(-9, -1, 500)[:, None]).astype(np.float32)
    d[7] = 0.0  # a row that changed and changed back (still shipped if the diff saw it)
    ids = np.sort(rng.choice(10**6, 500, replace=False))
    packed = encode(ids, d, fmt)
    back_ids, back = decode(packed)
    np.testing.assert_array_equal(back_ids, ids)
    assert back_ids.dtype == np.int64 and back.dtype == np.float32 and back.shape == d.shape
    biggest = np.abs(d).max(axis=1, keepdims=True)
    err = np.abs(back - d)
    assert (err <= rel * biggest * 1.0001).all()  # relative to each row's largest component
    assert (back[7] == 0).all() and np.isfinite(back).all()
    assert packed.nbytes <= fraction * (ids.size * 8 + d.nbytes)  # ids int32 + values (+ scales)
    if fmt != "float32":  # plain float16 would flush the smallest rows to zero; scaled ones keep them
        assert (d.astype(np.float16)[:50] == 0).all() and (back[:50] != 0).any(axis=1)[:50].sum() >= 49


@pytest.mark.parametrize("fmt", ["float32", "float16", "int8"])
def test_packing_the_changed_rows_in_one_pass_gives_what_diff_then_encode_give(fmt):
    rng = np.random.default_rng(5)
    before = rng.standard_normal((3000, 100)).astype(np.float32)
    after = before.copy()
    rows = rng.choice(3000, 2000, replace=False)
    after[rows] += (rng.standard_normal((2000, 100)) * np.logspace(-8, -1, 2000)[:, None]).astype(np.float32)
    after[rows[0], 3] = np.nan  # a diverging row stays non-finite
    after[rows[1]] = before[rows[1]]  # changed and changed back: not a changed row
    got = pack_changes(before, after, fmt)
    want = encode(*changed_rows(before, after), fmt)
    np.testing.assert_array_equal(got.ids, want.ids)
    assert got.values.dtype == want.values.dtype and got.values.shape == want.values.shape
    assert len(got) == 1999 and rows[1] not in got.ids
    if fmt != "float16":  # the same code path
        np.testing.assert_array_equal(got.values, want.values)
        return
    np.testing.assert_array_equal(got.scale, want.scale)  # NaN where NaN
    assert np.isnan(got.scale[np.searchsorted(got.ids, rows[0])])
    ok = np.isfinite(got.scale)
    normal = np.abs(want.values[ok].astype(np.float32)) >= 2.0 ** -14
    # bit for bit NumPy's float16 rounding (to nearest even) where float16 is normal, zero below
    np.testing.assert_array_equal(got.values[ok][normal].view(np.uint16), want.values[ok][normal].view(np.uint16))
    assert (got.values[ok][~normal] == 0).all() and (~normal).sum() > 1000


def test_a_delta_format_that_does_not_exist_is_refused():
    with pytest.raises(ValueError, match="unknown delta format"):
        encode(np.array([0]), np.zeros((1, 2), np.float32), "float8")


@pytest.mark.parametrize("rounds", [1, 2, 3, 7, 50])
def test_slices_cover_every_sentence_once_in_order(rounds):
    lengths = np.random.default_rng(rounds).integers(1, 30, size=40)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    bounds = [slice_bounds(offsets, r, rounds) for r in range(rounds)]
    assert bounds[0][0] == 0 and bounds[-1][1] == 40
    for (_, b), (a, _) in zip(bounds, bounds[1:], strict=False):
        assert a == b
    if rounds <= 7:  # with fewer slices than sentences, each slice holds about its share of words
        sizes = [offsets[b] - offsets[a] for a, b in bounds]
        assert max(sizes) - min(sizes) <= 2 * lengths.max()


def test_an_unreachable_master_fails_at_once_in_one_line():
    t0 = time.perf_counter()
    with pytest.raises(SparkUnavailable, match="cannot reach the Spark master spark://127.0.0.1:9"):
        check_master("spark://127.0.0.1:9")
    assert time.perf_counter() - t0 < 30  # a fault bound, not a speed claim: Spark alone retries for minutes


def _cli(args, env=None, prelude="pass"):
    code = f"import sys; {prelude}; from core.cli.main import main; sys.exit(main({args!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=env)


def test_cli_unreachable_master_exit_2_one_line(tmp_path):
    corpus = tmp_path / "c.txt"
    corpus.write_text("a b c\n" * 10)
    r = _cli(["train", str(corpus), "-o", str(tmp_path / "v.txt"), "--engine", "spark",
              "--spark-master", "spark://127.0.0.1:9", "--min-count", "1"])
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach the Spark master"), r.stderr


def test_cli_without_pyspark_says_what_to_install(tmp_path):
    r = _cli(["train", "x.txt", "-o", str(tmp_path / "v.txt"), "--engine", "spark"],
             prelude="sys.modules['pyspark'] = None")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["error: pyspark is not installed: pip install pyspark"]


def test_cli_without_java_says_what_to_install(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)  # python, and no java
    r = _cli(["train", "x.txt", "-o", str(tmp_path / "v.txt"), "--engine", "spark"], env=env)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "openjdk-17-jre-headless" in lines[0], r.stderr


def test_importing_core_and_its_cli_does_not_load_pyspark():
    code = ("import sys, core, core.spark, core.cli.main, core.train.trainer; "
            "sys.exit(1 if 'pyspark' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0


def test_long_documents_are_cut_at_whitespace_into_bounded_pieces():
    from core.spark.data import pieces

    doc = " ".join(f"w{i}" for i in range(5000))
    parts = list(pieces(doc, size=100))
    assert all(len(p) <= 100 for p in parts)
    assert " ".join(parts).split() == doc.split()  # no word lost, split or joined
    assert list(pieces("short doc", size=100)) == ["short doc"] and list(pieces("", size=10)) == [""]
    assert list(pieces("a" * 30 + " b", size=10)) == ["a" * 30, "b"]  # a word longer than a piece stays whole


@pytest.mark.parametrize("partitions", [1, 2, 3, 8])
def test_an_encoded_corpus_splits_into_contiguous_parts_of_whole_sentences(partitions):
    from core.spark.data import split_sentences

    lengths = np.random.default_rng(partitions).integers(1, 30, size=25)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    parts = split_sentences(offsets, partitions)
    assert parts[0][0] == 0 and parts[-1][1] == 25
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
    words = [int(offsets[s1] - offsets[s0]) for s0, s1 in parts]
    assert max(words) - min(words) <= 2 * 30  # about equal shares: within a sentence or two


def test_overlap_rule_averages_equal_changes_and_adds_orthogonal_ones():
    same = np.array([[3.0, 4.0]], np.float32)
    W = np.zeros((3, 2), np.float32)
    merge(W, [(np.array([0]), same), (np.array([0]), same), (np.array([0, 1]), np.vstack([same, same]))], "overlap")
    np.testing.assert_allclose(W[0], [3.0, 4.0], rtol=1e-6)  # three equal changes: moved once (mean)
    np.testing.assert_allclose(W[1], [3.0, 4.0], rtol=1e-6)  # one partition: its change
    W = np.zeros((1, 2), np.float32)
    merge(W, [(np.array([0]), np.array([[1.0, 0.0]], np.float32)),
              (np.array([0]), np.array([[0.0, 2.0]], np.float32))], "overlap")
    np.testing.assert_allclose(W[0], [1.0, 2.0], rtol=1e-6)  # orthogonal: both (sum)
    W = np.zeros((1, 2), np.float32)
    merge(W, [(np.array([0]), np.array([[1.0, 1.0]], np.float32)),
              (np.array([0]), np.array([[-1.0, -0.5]], np.float32))], "overlap")
    np.testing.assert_allclose(W[0], [0.0, 0.5], rtol=1e-6)  # opposed: never amplified beyond the sum


def test_capped_rule_is_the_sum_for_two_partitions_and_bounds_hot_rows_beyond():
    two = _changes()
    W_sum, W_cap = np.zeros((5, 2), np.float32), np.zeros((5, 2), np.float32)
    merge(W_sum, two, "sum")
    merge(W_cap, two, "capped")
    np.testing.assert_array_equal(W_cap, W_sum)
    same = np.array([[3.0, 4.0]], np.float32)
    W = np.zeros((1, 2), np.float32)
    merge(W, [(np.array([0]), same)] * 8, "capped")  # eight equal changes: at most twice the largest
    np.testing.assert_allclose(W[0], [6.0, 8.0], rtol=1e-6)


def test_auto_rule_is_capped_for_w_in_and_for_w_out_capped_up_to_two_partitions_and_overlap_beyond():
    same = [(np.array([0]), np.array([[3.0, 4.0]], np.float32))]
    for n, w_in, w_out in ((2, [6.0, 8.0], [6.0, 8.0]), (3, [6.0, 8.0], [3.0, 4.0]), (8, [6.0, 8.0], [3.0, 4.0])):
        W = np.zeros((1, 2), np.float32)
        merge(W, iter(same * n), "auto")  # a generator, as the driver passes
        np.testing.assert_allclose(W[0], w_in, rtol=1e-6)
        W = np.zeros((1, 2), np.float32)
        merge(W, iter(same * n), "auto", output=True)
        np.testing.assert_allclose(W[0], w_out, rtol=1e-6)


def test_a_rule_pair_merges_w_in_by_the_first_and_w_out_by_the_second():
    from core.spark.merge import rule_parts

    same = [(np.array([0]), np.array([[3.0, 4.0]], np.float32))] * 4
    W_in, W_out = np.zeros((1, 2), np.float32), np.zeros((1, 2), np.float32)
    merge(W_in, same, "sum/mean")
    merge(W_out, same, "sum/mean", output=True)
    np.testing.assert_allclose(W_in[0], [12.0, 16.0], rtol=1e-6)
    np.testing.assert_allclose(W_out[0], [3.0, 4.0], rtol=1e-6)
    assert rule_parts("capped/overlap") == ("capped", "overlap") and rule_parts("sum") == ("sum", "sum")
    for bad in ("sum/max", "sum/mean/sqrt", "sum/"):
        with pytest.raises(ValueError, match="unknown merge rule"):
            rule_parts(bad)


@pytest.mark.parametrize("fmt", ["float16", "int8", "float32"])
def test_adding_packed_rows_in_place_is_bit_for_bit_the_decoded_sum(fmt):
    """The peer exchange's merge for two partitions adds each packed change straight into the
    model; it must equal merge()'s sum of decoded changes exactly, or the replicas and the driver
    exchange would drift apart."""
    from core.spark.deltas import add_packed
    from core.spark.merge import effective_rule

    rng = np.random.default_rng(3)
    W = rng.normal(size=(50, 8)).astype(np.float32)
    packs = []
    for _ in range(2):
        ids = np.sort(rng.choice(50, 20, replace=False))
        packs.append(encode(ids, (rng.normal(size=(20, 8)) * 1e-3).astype(np.float32), fmt))
    want = W.copy()
    merge(want, [decode(p) for p in packs], "auto")
    got = W.copy()
    assert effective_rule("auto", False, 2) == effective_rule("auto", True, 2) == "sum"
    assert effective_rule("auto", True, 3) == "overlap" and effective_rule("capped", False, 3) == "capped"
    for p in packs:
        add_packed(got, p)
    np.testing.assert_array_equal(got, want)
    touched = np.union1d(packs[0].ids, packs[1].ids)
    # the fused form: the same sums, and a mirror (a task's training copy) given every touched row
    fused, mirror = W.copy(), np.full_like(W, 7.0)
    for p in packs:
        add_packed(fused, p, mirror=mirror)
    np.testing.assert_array_equal(fused, want)
    np.testing.assert_array_equal(mirror[touched], want[touched])
    assert (mirror[np.setdiff1d(np.arange(50), touched)] == 7.0).all()


@pytest.mark.parametrize("formats", [("float16",) * 2, ("float16",) * 3, ("float16", "int8", "float16"), ("float16",)])
def test_adding_several_changes_in_one_pass_is_bit_for_bit_adding_them_in_turn(formats):
    """add_packed_all adds two float16 changes in one pass over the rows: the same float32
    additions in the same order as add_packed one change after the other, rows in one change only,
    in both, or in neither (the mirror gets exactly the touched rows)."""
    from core.spark.deltas import add_packed, add_packed_all

    rng = np.random.default_rng(len(formats))
    W = rng.normal(size=(60, 8)).astype(np.float32)
    packs = []
    for i, fmt in enumerate(formats):
        ids = np.sort(rng.choice(60 if i else 30, 20, replace=False))  # overlapping, and rows only one has
        packs.append(encode(ids, (rng.normal(size=(20, 8)) * 10.0 ** -rng.integers(1, 5)).astype(np.float32), fmt))
    want, want_mirror = W.copy(), np.full_like(W, 7.0)
    for p in packs:
        add_packed(want, p, mirror=want_mirror)
    got, mirror = W.copy(), np.full_like(W, 7.0)
    add_packed_all(got, packs, mirror=mirror)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(mirror, want_mirror)
    alone = W.copy()
    add_packed_all(alone, packs)  # no mirror: the model only
    np.testing.assert_array_equal(alone, want)


def test_default_round_words_are_shared_by_the_replicas_not_the_partitions():
    from core.spark.driver import default_sync_words

    assert default_sync_words(1) == 100_000
    assert default_sync_words(2) == default_sync_words(8) == 50_000  # one replica per partition
    # 8 partitions trained as 2 replicas: each replica's 50k words a round come from its 4 partitions
    assert default_sync_words(8, 2) == 12_500
    assert default_sync_words(3, 2) == 33_333


def test_a_spark_start_up_error_is_told_by_the_java_exception_s_own_message():
    from core.spark.session import start_error

    py4j = RuntimeError("An error occurred while calling None.org.apache.spark.api.java.JavaSparkContext.\n"
                        ": org.apache.spark.SparkException: The number of cores per executor (=1) has to be >= "
                        "the number of cpus per task = 2.\n\tat org.apache.spark.SparkContext.<init>(x.scala:1)")
    assert start_error(py4j) == "The number of cores per executor (=1) has to be >= the number of cpus per task = 2."
    assert start_error(OSError("Java gateway process exited before sending its port number")) == (
        "Java gateway process exited before sending its port number")


def _reference_encoding(docs, index, max_sentence):
    """What the executors must make of one partition: tokenize per document, drop words outside
    the vocabulary, cut every document's rest into sentences of at most max_sentence."""
    from core.corpus import tokenize

    ids, ends = [], [0]
    for doc in docs:
        seq = [index[w] for w in tokenize(doc) if w in index]
        for a in range(0, len(seq), max_sentence):
            ids.extend(seq[a:a + max_sentence])
            ends.append(len(ids))
    return np.array(ids, np.int32), np.array(ends, np.int64)


@pytest.mark.parametrize("batch_chars", [16, 1 << 20])
def test_a_partition_tokenised_once_counts_and_encodes_as_tokenize_does(monkeypatch, batch_chars):
    from collections import Counter

    from core.corpus import tokenize
    from core.spark import data

    monkeypatch.setattr(data, "BATCH_CHARS", batch_chars)  # many word-table blocks, or one
    docs = ["The cat's toy, the CAT and 'the' dog", "", "naïve café über Café the", "no\nnewline here, the cat",
            "  \t ", "rock'n'roll isn't the cat's", "x " * 25 + "the end", "İstanbul the cat"]
    words, counts, prov, lengths = data.table_partition(iter(docs), lowercase=True)
    expected = Counter(w for d in docs for w in tokenize(d))
    assert dict(zip(words, counts.tolist(), strict=True)) == expected
    assert lengths.tolist() == [len(tokenize(d)) for d in docs]
    assert [words[i] for i in prov] == [w for d in docs for w in tokenize(d)]
    index = {w: i for i, w in enumerate(sorted(w for w, c in expected.items() if c >= 2))}
    for max_sentence in (1, 3, 10_000):
        tokens, offsets = data.encode_partition(words, prov, lengths, index, max_sentence)
        ref_tokens, ref_offsets = _reference_encoding(docs, index, max_sentence)
        assert tokens.tolist() == ref_tokens.tolist() and offsets.tolist() == ref_offsets.tolist()
        assert tokens.dtype == np.int32 and offsets.dtype == np.int64
    empty = data.table_partition(iter([]), lowercase=True)
    assert empty[0] == [] and data.encode_partition(empty[0], empty[2], empty[3], index, 5)[1].tolist() == [0]


@pytest.mark.parametrize("read_bytes, seek_bytes", [(1 << 23, 1 << 20), (64, 16), (7, 3)])
def test_a_local_file_cut_into_byte_ranges_holds_every_token_once_in_order(tmp_path, monkeypatch, read_bytes,
                                                                           seek_bytes):
    from core.corpus import tokenize
    from core.spark import data

    monkeypatch.setattr(data, "READ_BYTES", read_bytes)  # reads that end inside lines, and inside one long line
    monkeypatch.setattr(data, "SEEK_BYTES", seek_bytes)
    long_line = " ".join(f"w{i % 97}" for i in range(3000))  # no line end for ~15 kB, as text8
    text = ("The cat's toy,\r\nthe CAT and 'the' dog\n\nnaïve café über Café the\n" + long_line +
            "\n\t rock'n'roll isn't\tthe cat's  \nİstanbul " + "x" * 200 + " the end")
    path = tmp_path / "c.txt"
    path.write_bytes(text.encode("utf-8"))
    size = path.stat().st_size
    expected = [w for line in text.splitlines() for w in tokenize(line)]
    for parts in (1, 2, 3, 7, 64, size + 5):  # more ranges than bytes: most are empty
        with open(path, "rb") as f:
            cuts = [data.range_start(f, size, k, parts) for k in range(parts + 1)]
        assert cuts[0] == 0 and cuts[-1] == size and cuts == sorted(cuts)
        assert all(c in (0, size) or text.encode("utf-8")[c - 1:c].isspace() for c in cuts)
        got = []
        for k in range(parts):
            docs = list(data.range_documents(str(path), size, k, parts))
            assert all(len(d) <= data.PIECE_CHARS for d in docs)
            got += [w for d in docs for w in tokenize(d)]
        assert got == expected, parts
    whole = list(data.range_documents(str(path), size, 0, 1))
    if read_bytes > size:  # one read: the documents are the file's lines (the long one cut into pieces)
        assert [d for d in whole if d] == [p for line in text.splitlines() for p in data.pieces(line) if p]


def test_only_a_plain_local_file_is_read_in_byte_ranges(tmp_path):
    import gzip

    from core.spark import data

    class Conf:
        def __init__(self, fs):
            self.fs = fs

        def get(self, key):
            return self.fs if key == "fs.defaultFS" else None

    class FakeSpark:  # just what local_file asks: the Hadoop default file system
        def __init__(self, fs):
            self.sparkContext = type("SC", (), {"_jsc": type("J", (), {"hadoopConfiguration": lambda _: Conf(fs)})()})()

    plain = tmp_path / "c.txt"
    plain.write_text("a b c\n")
    (tmp_path / "c.txt.gz").write_bytes(gzip.compress(b"a b c\n"))
    (tmp_path / "hidden_gzip.txt").write_bytes(gzip.compress(b"a b c\n"))
    local, hdfs = FakeSpark("file:///"), FakeSpark("hdfs://namenode:8020")
    assert data.local_file(local, str(plain)) == str(plain)
    assert data.local_file(hdfs, f"file://{plain}") == str(plain)  # file:// whatever the default
    assert data.local_file(hdfs, str(plain)) is None  # a plain path means HDFS there
    for other in (f"hdfs://namenode/{plain}", str(tmp_path), str(tmp_path / "*.txt"), str(tmp_path / "c.txt.gz"),
                  str(tmp_path / "hidden_gzip.txt"), str(tmp_path / "missing.txt")):
        assert data.local_file(local, other) is None, other


def test_local_masters_start_quick_compiling_jvms_unless_told_otherwise():
    from core.spark.session import LOCAL_JVM_OPTIONS, session_conf

    keys = ("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")
    for master in ("local[2]", "local-cluster[2,1,1024]"):
        conf = session_conf(master)
        assert all(conf[k] == LOCAL_JVM_OPTIONS for k in keys)
        assert conf["spark.driver.host"] == "127.0.0.1" and "spark.executorEnv.NUMBA_CACHE_DIR" in conf
    mine = session_conf("local[2]", {keys[0]: "-Xss4m", "spark.executor.memory": "2g"})
    assert mine[keys[0]] == "-Xss4m" and mine[keys[1]] == LOCAL_JVM_OPTIONS and mine["spark.executor.memory"] == "2g"
    for master in ("spark://head:7077", "yarn", None):  # a cluster's JVMs keep its own settings
        assert not set(keys) & set(session_conf(master))


def test_a_message_sent_as_its_parts_arrives_as_the_joined_message():
    """The peer exchange sends a round's header and arrays as separate buffers in one frame
    (no joined copy); the receiver must read exactly what pack() would have joined, including
    empty arrays and a frame larger than the socket buffers (partial sends)."""
    import socket
    import threading

    from core.spark.mesh import frame_bytes, pack, pack_parts, recv_frame, send_frame, unpack

    rng = np.random.default_rng(0)
    arrays = [np.arange(5, dtype=np.int32), rng.normal(size=(40_000, 100)).astype(np.float16),
              np.zeros((0, 100), np.float16), rng.normal(size=7).astype(np.float32)]
    header = {"entries": [{"p": 1, "loss": 0.5}], "changes": [1], "stop": False}
    parts = pack_parts(header, arrays)
    assert frame_bytes(parts) == len(pack(header, arrays))
    a, b = socket.socketpair()
    try:
        got = {}
        reader = threading.Thread(target=lambda: got.update(m=recv_frame(b)))
        reader.start()
        send_frame(a, parts)
        reader.join(30)
        assert bytes(got["m"]) == pack(header, arrays)
        head, arrs = unpack(got["m"])
        assert head == header
        assert all(np.array_equal(x, y) and x.dtype == y.dtype for x, y in zip(arrs, arrays, strict=True))
    finally:
        a.close()
        b.close()


def test_the_tasks_of_a_stage_learn_every_port_once_all_have_said_hello():
    """The peer exchange's rendezvous through the driver (instead of Spark's allGather, a second
    at least): each task gets every rank's port and task id once every rank of its stage has
    registered; a rerun's hello replaces the failed attempt's, and a closed one is forgotten."""
    import json
    import socket
    import threading
    import time

    from core.spark.mesh import MeshError, Rendezvous, recv_frame, rendezvous

    server = socket.create_server(("127.0.0.1", 0))
    meeting, token, got = Rendezvous(), b"t" * 16, {}

    def drive(n):  # the driver's end: StageServer.run's loop, reduced to hellos
        open_ = []
        for _ in range(n):
            conn, _ = server.accept()
            assert conn.recv(16, socket.MSG_WAITALL) == token
            open_.append(conn)
            for done in meeting.offer(conn, json.loads(bytes(recv_frame(conn)))):
                done.close()

    def task(stage, rank, size, port, tid):
        try:
            got[stage, rank, tid] = rendezvous(server.getsockname(), token, {
                "hello": 1, "stage": stage, "rank": rank, "size": size, "port": port, "task": tid})
        except MeshError:
            got[stage, rank, tid] = "no answer"

    def run(args):
        threads = [threading.Thread(target=task, args=a) for a in args]
        for t in threads:
            t.start()
        return threads

    driver = threading.Thread(target=drive, args=(6,))
    driver.start()
    first = run([(5, 2, 3, 1002, 12), (5, 0, 3, 1000, 10), (6, 0, 2, 2000, 20)])
    time.sleep(0.3)
    assert not got  # nobody is answered before every rank of its stage is in
    rerun = run([(5, 0, 3, 1100, 30)])  # a rerun's rank 0 replaces the first attempt's
    time.sleep(0.3)
    last = run([(5, 1, 3, 1101, 31), (6, 1, 2, 2001, 21)])
    for t in first + rerun + last:
        t.join(10)
    driver.join(10)
    server.close()
    ranks = [[1100, 30], [1101, 31], [1002, 12]]
    assert got[5, 0, 30] == got[5, 1, 31] == got[5, 2, 12] == ranks
    assert got[5, 0, 10] == "no answer"  # the replaced hello: that task fails
    assert got[6, 0, 20] == got[6, 1, 21] == [[2000, 20], [2001, 21]]
    waiting = socket.socket()
    meeting.offer(waiting, {"stage": 7, "rank": 0, "size": 2, "port": 1, "task": 1})
    meeting.forget(waiting)  # its task went away: the stage's group no longer counts it
    assert meeting.offer(socket.socket(), {"stage": 7, "rank": 1, "size": 2, "port": 2, "task": 2}) == []


def _scaled_reference(W, changes, rule):
    """The scaled rules as whole-matrix NumPy (merge()'s form before it walked only touched rows)."""
    total = np.zeros(W.shape, np.float64)
    count = np.zeros(W.shape[0])
    squares = np.zeros(W.shape[0])
    for ids, d in changes:
        total[ids] += d
        count[ids] += 1
        n2 = (d.astype(np.float64) ** 2).sum(axis=1)
        squares[ids] = squares[ids] + n2 if rule == "overlap" else np.maximum(squares[ids], n2)
    rows = np.flatnonzero(count)
    t = total[rows]
    norm2 = (t ** 2).sum(axis=1)
    factor = {"overlap": np.minimum(1.0, squares[rows] / np.maximum(norm2, 1e-30)),
              "capped": np.minimum(1.0, 2.0 * np.sqrt(squares[rows]) / np.maximum(np.sqrt(norm2), 1e-30)),
              "mean": 1.0 / count[rows], "sqrt": 1.0 / np.sqrt(count[rows])}[rule]
    out = W.astype(np.float64)
    out[rows] += t * factor[:, None]
    return out, rows


@pytest.mark.parametrize("rule", ["overlap", "capped", "mean", "sqrt"])
@pytest.mark.parametrize("n", [1, 2, 3, 8])
def test_scaled_rules_walk_the_touched_rows_as_the_whole_matrix_form_does(rule, n):
    """merge()'s scaled rules walk the changes' ids together instead of building (V, D) sums: the
    same result as the whole-matrix formula for rows in one, some or all changes (ids given out of
    order too), the untouched rows unchanged, a row one change touched given exactly that change,
    and the mirror given every changed row."""
    rng = np.random.default_rng(n)
    W = rng.normal(size=(40, 7)).astype(np.float32)
    changes = []
    for c in range(n):
        ids = rng.choice(39 if c else 12, 10, replace=False)  # rows 0-11 in many changes, 39 in none
        if c % 2:
            ids = np.sort(ids)
        changes.append((ids, rng.normal(size=(10, 7)).astype(np.float32)))
    changes.append((np.array([39]), np.array([[0.5] * 7], np.float32)))  # a row only the last touches
    want, rows = _scaled_reference(W, changes, rule)
    got, mirror = W.copy(), np.full_like(W, 7.0)
    assert merge(got, changes, rule, mirror=mirror) == rows.shape[0]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
    np.testing.assert_array_equal(got[39], W[39] + np.float32(0.5))
    untouched = np.setdiff1d(np.arange(40), rows)
    np.testing.assert_array_equal(got[untouched], W[untouched])
    np.testing.assert_array_equal(mirror[rows], got[rows])
    assert (mirror[untouched] == 7.0).all()


def test_auto_merges_hs_output_rows_by_overlap_only_when_each_replica_trains_one_partition():
    from core.spark.merge import HS_AUTO, run_rule

    assert HS_AUTO == "capped/overlap"
    assert run_rule("auto", hierarchical=True, chained=False) == HS_AUTO
    assert run_rule("auto", hierarchical=True, chained=True) == "auto"  # chained replicas keep the sum
    assert run_rule("auto", hierarchical=False, chained=False) == "auto"
    assert run_rule("sum", hierarchical=True, chained=False) == "sum"  # a rule given is kept
