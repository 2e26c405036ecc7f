"""Phrase detection: scores by hand, multi-pass merging, connectors, sentence boundaries, equality
with gensim 4.4.0's Phrases on a real slice, and the `phrases` command's handling of bad input."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import numpy as np
import pytest

from core import phrases
from core.cli import evaluate as cli_eval
from core.corpus import CorpusError, iter_sentences
from core.phrases import (
    CONNECTOR_WORDS,
    PhraseConfig,
    PhraseError,
    apply_phrases,
    detect_phrases,
    learn_from_sentences,
    score_npmi,
    score_word2phrase,
)
from tests.conftest import ROOT, real_text

FILLER = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lam mu nu xi omicron pi rho sigma tau "
          "upsilon phi chi psi omega").split()


def filler_text(n_lines: int, seed: int = 0, length: int = 12) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    return [list(rng.choice(FILLER, length)) for _ in range(n_lines)]


def run(text: str, tmp_path, **cfg):
    out = tmp_path / "out.txt"
    model = detect_phrases(io.StringIO(text), out, PhraseConfig(**cfg))
    return model, out.read_text().splitlines()


def by_name(model):
    return {p.phrase: p for p in model.phrases}


# -- scores by hand -----------------------------------------------------------------------------
def test_word2phrase_score_by_hand(tmp_path):
    text = "a b c a b d a b e f g a\n"  # N = 12, count(a) = 4, count(b) = 3, count(ab) = 3
    model, lines = run(text, tmp_path, thresholds=(1.0,), delta=1.0, min_count=1)
    assert set(by_name(model)) == {"a_b"}
    p = by_name(model)["a_b"]
    assert p.count == 3 and p.pass_no == 1
    assert p.score == pytest.approx((3 - 1) / (4 * 3) * 12, rel=1e-12)
    assert lines == ["a_b c a_b d a_b e f g a"]
    assert model.passes[0].tokens_in == 12 and model.passes[0].tokens_out == 9


def test_npmi_score_by_hand(tmp_path):
    text = "a b c a b d a b e f g a\n"
    model, _ = run(text, tmp_path, thresholds=(0.7,), scoring="npmi", min_count=1)
    p = by_name(model)["a_b"]
    pab, pa, pb = 3 / 12, 4 / 12, 3 / 12
    assert p.score == pytest.approx(math.log(pab / (pa * pb)) / -math.log(pab), rel=1e-12)
    assert p.score == pytest.approx(math.log(3) / math.log(4))


def test_score_functions_vectorised():
    s = score_word2phrase(np.array([10, 5]), np.array([20, 5]), np.array([10, 100]), 1000, 5.0)
    assert s.tolist() == pytest.approx([(10 - 5) / 200 * 1000, 0.0])
    n = score_npmi(np.array([5]), np.array([5]), np.array([5]), 1000)
    assert n[0] == pytest.approx(1.0)


def test_min_count_applies_to_words_and_pairs(tmp_path):
    lines = [" ".join(s) for s in filler_text(50)] + ["rare pair"] * 3 + ["often seen"] * 6
    model, _ = run("\n".join(lines), tmp_path, thresholds=(10.0,), delta=0.0, min_count=4)
    assert "often_seen" in by_name(model) and "rare_pair" not in by_name(model)


# -- merging ------------------------------------------------------------------------------------
def new_york_times(n_lines: int = 600) -> list[list[str]]:
    """Filler with `new york times` 30 times, `new york` 30 more and `times` 20 more.

    N ~ 7,400: new_york scores (60-5)/(60*60) N ~ 113, york_times (30-5)/(60*50) N ~ 62, filler
    pairs ~ 1. Pass 1 at 80 joins new_york only; in pass 2 new_york_times scores ~ 62 > 40.
    """
    sents = filler_text(n_lines)
    for i, s in enumerate(sents):
        if i % 20 == 0:
            s[4:4] = ["new", "york", "times"]
        elif i % 20 == 1:
            s[2:2] = ["new", "york"]
        if i % 30 == 2:
            s.insert(9, "times")
    return sents


def test_two_passes_build_a_three_word_phrase(tmp_path):
    text = "\n".join(" ".join(s) for s in new_york_times())
    model, lines = run(text, tmp_path, thresholds=(80.0, 40.0), delta=5.0, min_count=5)
    found = by_name(model)
    assert set(found) == {"new_york", "new_york_times"}
    assert found["new_york"].pass_no == 1 and found["new_york"].count == 60
    assert found["new_york_times"].pass_no == 2 and found["new_york_times"].count == 30
    assert sum(line.split().count("new_york_times") for line in lines) == 30
    assert sum(line.split().count("new_york") for line in lines) == 30
    assert model.apply("the new york times and new york") == ["the", "new_york_times", "and", "new_york"]


def test_greedy_left_to_right_without_overlap(tmp_path):
    sents = filler_text(200) + [["p", "q", "r"]] * 30 + [["p", "q"]] * 5 + [["q", "r"]] * 5
    model, lines = run("\n".join(" ".join(s) for s in sents), tmp_path, thresholds=(20.0,), min_count=5)
    assert {"p_q", "q_r"} <= set(by_name(model))
    assert lines.count("p_q r") == 30  # the word2phrase scan: q is consumed by p_q, q_r cannot form
    assert lines.count("q_r") == 5


def test_bigrams_never_cross_sentences(tmp_path):
    sents = filler_text(200) + [["left"], ["right"]] * 40 + [["ice", "cream"]] * 30
    model, lines = run("\n".join(" ".join(s) for s in sents), tmp_path, thresholds=(0.5,), delta=0.0,
                       min_count=1, scoring="npmi")
    assert "left_right" not in by_name(model)
    assert lines.count("left") == 40


def test_long_lines_are_cut_like_iter_sentences(tmp_path):
    text = " ".join(["q", "w"] * 40) + "\n" + " ".join(s for s in FILLER) + "\n"
    model, lines = run(text, tmp_path, thresholds=(0.5,), scoring="npmi", min_count=2, max_sentence=7)
    assert "q_w" in by_name(model)
    expected = [len(s) for s in iter_sentences(io.StringIO(text), max_sentence=7)]
    assert [sum(len(t.split("_")) for t in line.split()) for line in lines] == expected
    # a pair across the 7-token cut is never merged: each full line ends on a lone word
    assert all(line.split()[-1] in ("q", "w") for line in lines[:11])


def test_connectors_inside_but_never_at_the_ends(tmp_path):
    sents = filler_text(300)
    for i, s in enumerate(sents):
        if i % 4 == 0:
            s[3:3] = ["bank", "of", "america"]
        if i % 5 == 0:
            s[7:7] = ["of", "the"]
    text = "\n".join(" ".join(s) for s in sents + [["ice", "cream"]] * 20)
    model, lines = run(text, tmp_path, thresholds=(30.0,), connectors=CONNECTOR_WORDS)
    names = set(by_name(model))
    assert "bank_of_america" in names
    for name in names:
        parts = name.split("_")
        assert parts[0] not in CONNECTOR_WORDS and parts[-1] not in CONNECTOR_WORDS
    without, _ = run(text, tmp_path, thresholds=(30.0,))
    assert "bank_of_america" not in by_name(without)


def test_apply_phrases_on_tokens_and_text(tmp_path):
    sents = filler_text(200) + [["ice", "cream"]] * 30
    model, _ = run("\n".join(" ".join(s) for s in sents), tmp_path, thresholds=(20.0,))
    assert apply_phrases(model, ["i", "like", "ice", "cream", "ice"]) == ["i", "like", "ice_cream", "ice"]
    assert model.apply("I like Ice Cream!") == ["i", "like", "ice_cream"]
    assert learn_from_sentences(sents, PhraseConfig(thresholds=(20.0,))).table() == model.table()


def test_table_tsv(tmp_path):
    sents = filler_text(200) + [["ice", "cream"]] * 30
    model, _ = run("\n".join(" ".join(s) for s in sents), tmp_path, thresholds=(20.0,))
    model.save_table(tmp_path / "t.tsv")
    rows = (tmp_path / "t.tsv").read_text().splitlines()
    assert rows[0] == "phrase\tcount\tscore\tpass"
    assert rows[1].split("\t")[0] == "ice_cream" and rows[1].split("\t")[1] == "30"


def test_progress_is_monotone_and_ends_at_one(tmp_path):
    seen: list[float] = []
    sents = filler_text(200) + [["ice", "cream"]] * 30
    detect_phrases(io.StringIO("\n".join(" ".join(s) for s in sents)), None,
                   PhraseConfig(thresholds=(20.0, 10.0)), progress=seen.append)
    assert seen and seen[-1] == 1.0 and all(b >= a for a, b in zip(seen, seen[1:], strict=False))


# -- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize("cfg, message", [
    (dict(thresholds=(1e12,)), "no phrase found"),
    (dict(thresholds=(0.0,), delta=0.0, min_count=1), "merges all"),
    (dict(thresholds=(2.0,), scoring="npmi"), r"\[-1, 1\]"),
    (dict(thresholds=(1.0,) * 5), "passes must be 1..4"),
    (dict(thresholds=(1.0,), scoring="chi2"), "scoring must be"),
    (dict(thresholds=(float("nan"),)), "finite"),
])
def test_bad_settings(tmp_path, cfg, message):
    text = "\n".join(" ".join(s) for s in filler_text(100)) + "\nice cream\n" * 10
    with pytest.raises(PhraseError, match=message):
        detect_phrases(io.StringIO(text), tmp_path / "o.txt", PhraseConfig(**cfg))
    assert not (tmp_path / "o.txt").exists() or cfg.get("thresholds") != (1e12,)


def test_no_phrase_leaves_no_output(tmp_path):
    with pytest.raises(PhraseError, match="no phrase found"):
        detect_phrases(io.StringIO("a b c d\n" * 3), tmp_path / "o.txt", PhraseConfig(thresholds=(1e9,)))
    assert not (tmp_path / "o.txt").exists()


def test_empty_and_binary_corpora(tmp_path):
    with pytest.raises(PhraseError, match="no words"):
        detect_phrases(io.StringIO("  \n\n"), None)
    p = tmp_path / "b.bin"
    p.write_bytes(b"\x00\x01" * 1000)
    with pytest.raises(CorpusError, match="binary"):
        detect_phrases(p, None)


# -- block size, pruning and gensim ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def slice_text() -> str:
    return real_text(2_000_000)  # ~380k words of real prose (or of the small world)


def test_blocks_do_not_change_the_result(slice_text, tmp_path, monkeypatch):
    cfg = PhraseConfig(thresholds=(200.0, 100.0), connectors=CONNECTOR_WORDS)
    one = detect_phrases(io.StringIO(slice_text), tmp_path / "one.txt", cfg)
    monkeypatch.setattr(phrases, "CHUNK_TOKENS", 30_000)
    many = detect_phrases(io.StringIO(slice_text), tmp_path / "many.txt", cfg)
    assert many.table() == one.table() and len(one.phrases) > 100
    assert (tmp_path / "one.txt").read_text() == (tmp_path / "many.txt").read_text()


def test_pruning_bounds_the_table_and_keeps_frequent_phrases(slice_text, monkeypatch):
    monkeypatch.setattr(phrases, "CHUNK_TOKENS", 50_000)
    exact = detect_phrases(io.StringIO(slice_text), None, PhraseConfig(thresholds=(100.0,)))
    limit = exact.passes[0].bigram_types // 2  # ~24k bigram types in the small world, more in ../shared's
    pruned = detect_phrases(io.StringIO(slice_text), None,
                            PhraseConfig(thresholds=(100.0,), max_pairs=limit))
    assert exact.passes[0].pruned == 0 and pruned.passes[0].pruned > 0
    assert pruned.passes[0].bigram_types <= limit
    top = sorted(exact.phrases, key=lambda p: -p.count)[:20]
    kept = {p.phrase: p.count for p in pruned.phrases}
    assert all(p.phrase in kept and kept[p.phrase] <= p.count for p in top)


@pytest.mark.parametrize("connectors", [frozenset(), CONNECTOR_WORDS], ids=["plain", "connectors"])
def test_equals_gensim_phrases(slice_text, tmp_path, connectors):
    """Same counts and the same rewritten sentences as gensim, once our threshold is rescaled:
    gensim's default scorer multiplies by len(vocab) (its unigram + bigram entries), we by N."""
    gensim_phrases = pytest.importorskip("gensim.models.phrases")
    sentences = list(iter_sentences(io.StringIO(slice_text)))
    ref = gensim_phrases.Phrases(sentences, min_count=5, threshold=10.0, connector_words=connectors)
    ours_threshold = 10.0 * ref.corpus_word_count / len(ref.vocab)
    cfg = PhraseConfig(thresholds=(ours_threshold,), min_count=5, delta=5.0, connectors=connectors,
                       max_connectors=8)
    model = detect_phrases(io.StringIO(slice_text), tmp_path / "o.txt", cfg)
    assert model.passes[0].tokens_in == ref.corpus_word_count
    assert {p.phrase for p in model.phrases} == set(ref.export_phrases())
    assert all(ref.vocab[p.phrase] == p.count for p in model.phrases)
    lines = (tmp_path / "o.txt").read_text().splitlines()
    assert [line.split() for line in lines] == [ref[s] for s in sentences]
    assert all(model.apply(s) == line.split() for s, line in zip(sentences[:50], lines, strict=False))


# -- the `phrases` command ---------------------------------------------------------------------------
@pytest.fixture
def corpus(tmp_path):
    p = tmp_path / "corpus.txt"
    p.write_text("\n".join(" ".join(s) for s in new_york_times()) + "\n")
    return p


def cli(capsys, *argv):
    code = cli_eval.main(["phrases", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_phrases_writes_corpus_and_table(corpus, tmp_path, capsys):
    out = tmp_path / "out.txt"
    code, stdout, err = cli(capsys, corpus, "-o", out, "--passes", "2", "--threshold", "80,40")
    assert code == 0, err
    assert "new_york_times" in out.read_text()
    table = (tmp_path / "out.txt.phrases.tsv").read_text().splitlines()
    assert table[0] == "phrase\tcount\tscore\tpass" and any(r.startswith("new_york_times\t") for r in table)
    assert "\rphrases [" in err and "100.0%" in err
    assert "wrote" in stdout and "new_york" in stdout


@pytest.mark.parametrize("args, message", [
    (["--threshold", "abc"], "must be numbers"),
    (["--passes", "2", "--threshold", "3,2,1"], "3 thresholds given for 2 pass"),
    (["--passes", "5"], "passes must be 1..4"),
    (["--threshold", "1e12"], "no phrase found"),
    (["--threshold", "0", "--delta", "0", "--min-count", "1"], "merges all"),
    (["--scoring", "npmi", "--threshold", "1.5"], r"[-1, 1]"),
])
def test_cli_phrases_bad_settings(corpus, tmp_path, capsys, args, message):
    code, stdout, err = cli(capsys, corpus, "-o", tmp_path / "o.txt", "--quiet", *args)
    assert code == 2 and stdout == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_cli_phrases_bad_files(tmp_path, capsys, corpus):
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\x00\xff" * 5000)
    code, _, err = cli(capsys, binary, "-o", tmp_path / "o.txt", "--quiet")
    assert code == 2 and "binary" in err and err.count("\n") == 1
    code, _, err = cli(capsys, corpus, "-o", corpus, "--quiet")
    assert code == 2 and "overwrite the corpus" in err
    code, _, err = cli(capsys, tmp_path / "missing.txt", "-o", tmp_path / "o.txt")
    assert code == 2 and "no such corpus" in err
    code, _, err = cli(capsys, corpus, "-o", tmp_path / "nodir" / "o.txt")
    assert code == 2 and "does not exist" in err


def test_python_m_core_phrases(corpus, tmp_path):
    run = subprocess.run([sys.executable, "-m", "core", "phrases", str(corpus), "-o", str(tmp_path / "o.txt"),
                          "--threshold", "80,40"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "o.txt.phrases.tsv").exists()
