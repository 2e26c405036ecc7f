"""`python -m core replicate` and core/replicate.py: the paper's Table 1 and Table 3 experiments.

Covers: the CLI end to end on the small-world sample (one epoch) with a kept vector file scored
again by `python -m core eval`; the claims on hand-made rows (every verdict both ways, and the
paper's own rows replicating); rows missing after an interruption; the stop flag keeping the
rows done; the subsampling formula; phrase coverage; JSON round trip.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from core.cli.replicate import _Interrupt
from core.config import Loss, SubsampleFormula
from core.corpus import read_corpus_text
from core.replicate import (
    PAPER_TABLE1,
    PAPER_TABLE3,
    SUBSAMPLE_T,
    TABLE1_PLAN,
    Row,
    Settings,
    Table1Result,
    claims,
    config_for,
    paper_rows,
    phrase_coverage,
    run_phrases,
    run_rows,
)
from core.vectors.evaluate import AnalogySection
from tests.app_fixtures import small_text

ROOT = Path(__file__).resolve().parents[1]
SMALL_WORLD = ROOT / "sample_corpora" / "small_world.txt"
SMALL_WORLD_Q = ROOT / "sample_corpora" / "small_world_analogies.txt"


def cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


# -- the command, end to end --------------------------------------------------------------------------------
def test_table1_on_small_world_kept_vectors_score_what_the_json_reports(tmp_path):
    keep = tmp_path / "kept"
    out = tmp_path / "table1.json"
    p = cli("replicate", "table1", str(SMALL_WORLD), "--analogies", str(SMALL_WORLD_Q), "--epochs", "1",
            "--size", "24", "--threads", "1", "--keep", str(keep), "-o", str(out), "--json", "--quiet")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert json.loads(out.read_text()) == data  # --output holds the same JSON
    assert [(r["method"], r["sample"]) for r in data["rows"]] == list(TABLE1_PLAN)
    assert len(data["paper"]) == 7 and all("Table 1" in p["cite"] for p in data["paper"])
    assert data["settings"]["subsample_formula"] == "paper"
    for r in data["rows"]:
        assert r["seconds"] > 0 and 0 <= r["total"] <= 1 and r["coverage"] > 0.9
        assert Path(r["vectors"]).is_file()
    assert {c["claim"] for c in data["claims"]} and all(isinstance(c["replicates"], bool) for c in data["claims"])
    # the kept file of a row that learned something, scored again by the eval command
    row = max(data["rows"], key=lambda r: r["total"])
    assert row["total"] > 0.05
    e = cli("eval", row["vectors"], "--analogies", str(SMALL_WORLD_Q), "--json")
    assert e.returncode == 0, e.stderr
    scored = json.loads(e.stdout)["analogies"]
    for key in ("total", "semantic", "syntactic", "coverage"):
        assert scored[key] == pytest.approx(row[key], abs=1e-12), key


def test_table1_bad_input_is_one_line(tmp_path):
    p = cli("replicate", "table1", str(tmp_path / "missing.txt"), "--analogies", str(SMALL_WORLD_Q))
    assert p.returncode == 2 and p.stderr.strip().startswith("error:") and "Traceback" not in p.stderr
    bad = tmp_path / "q.txt"
    bad.write_text("not a question file\n")
    p = cli("replicate", "table1", str(SMALL_WORLD), "--analogies", str(bad))
    assert p.returncode == 2 and "error:" in p.stderr and "Traceback" not in p.stderr


# -- claims ------------------------------------------------------------------------------------------------
def rows(totals: dict[tuple[str, float], float], seconds: dict[tuple[str, float], float] | None = None) -> list[Row]:
    seconds = seconds or {}
    return [Row(m, s, seconds.get((m, s), 10.0), t, t, t, 1.0) for (m, s), t in totals.items()]


N, T = 0.0, SUBSAMPLE_T


def test_the_papers_own_rows_replicate_every_claim():
    verdicts = claims(paper_rows())
    assert len(verdicts) == 6
    assert all(c.replicates for c in verdicts), [c for c in verdicts if not c.replicates]
    speed = next(c for c in verdicts if "speeds" in c.claim)
    assert "NEG-5 2.71x" in speed.evidence  # 38 min / 14 min


def test_every_claim_fails_on_rows_that_contradict_it():
    totals = {("NEG-5", N): 0.50, ("NEG-15", N): 0.45, ("HS-Huffman", N): 0.60, ("NCE-5", N): 0.55,
              ("NEG-5", T): 0.52, ("NEG-15", T): 0.40, ("HS-Huffman", T): 0.61}
    secs = {k: 100.0 for k in totals} | {("NEG-5", T): 90.0, ("NEG-15", T): 80.0, ("HS-Huffman", T): 95.0}
    verdicts = {c.claim.split(" (")[0]: c for c in claims(rows(totals, secs))}
    assert len(verdicts) == 6
    assert not any(c.replicates for c in verdicts.values()), verdicts
    assert "NEG-5 50.0% vs HS-Huffman 60.0%" in verdicts["Negative sampling beats hierarchical softmax"].evidence


def test_claims_follow_the_numbers_one_at_a_time():
    base = {(m, s): 0.5 for m, s in TABLE1_PLAN}
    # only NEG-15 above NEG-5 in both halves: that claim alone turns true
    up = base | {("NEG-15", N): 0.6, ("NEG-15", T): 0.6}
    by = {c.claim: c.replicates for c in claims(rows(up))}
    assert by["More negative samples help (total accuracy, NEG-15 vs NEG-5)"]
    # one half against it is enough to fail it
    half = up | {("NEG-15", T): 0.4}
    by = {c.claim: c.replicates for c in claims(rows(half))}
    assert not by["More negative samples help (total accuracy, NEG-15 vs NEG-5)"]


def test_the_smallest_loss_is_not_the_largest_help():
    totals = {("NEG-5", N): 0.9, ("NEG-15", N): 0.9, ("HS-Huffman", N): 0.9,
              ("NEG-5", T): 0.1, ("NEG-15", T): 0.1, ("HS-Huffman", T): 0.3}
    by = {c.claim.split(" (")[0]: c.replicates for c in claims(rows(totals))}
    assert by["Subsampling helps hierarchical softmax most"] is False
    totals[("HS-Huffman", T)] = 0.95
    by = {c.claim.split(" (")[0]: c.replicates for c in claims(rows(totals))}
    assert by["Subsampling helps hierarchical softmax most"] is True


def test_claims_needing_missing_rows_are_left_out():
    done = {("NEG-5", N): 0.5, ("NEG-15", N): 0.6}
    verdicts = claims(rows(done))
    assert [c.claim for c in verdicts] == ["More negative samples help (total accuracy, NEG-15 vs NEG-5)"]
    assert claims([]) == []


# -- the plan and the paper --------------------------------------------------------------------------------------
def test_plan_is_table1_with_the_papers_subsampling_formula():
    assert TABLE1_PLAN == tuple((p.method, p.sample) for p in PAPER_TABLE1)
    assert len(TABLE1_PLAN) == 7 and sum(s == T for _, s in TABLE1_PLAN) == 3
    for m, s in TABLE1_PLAN:
        cfg = config_for(m, s, Settings(epochs=2, size=30)).resolved()
        assert cfg.subsample_formula == SubsampleFormula.PAPER and cfg.sample == s
        assert (cfg.size, cfg.epochs, cfg.window, cfg.min_count) == (30, 2, 5, 5)
    hs = config_for("HS-Huffman", 0, Settings())
    assert hs.loss == Loss.HS and hs.negative == 0
    assert config_for("NCE-5", 0, Settings()).loss == Loss.NCE
    assert config_for("NEG-15", 0, Settings()).negative == 15
    assert [p.method for p in PAPER_TABLE3] == ["NEG-5", "NEG-15", "HS-Huffman"]


def test_result_json_round_trip():
    r = Table1Result(rows(dict.fromkeys(TABLE1_PLAN[:3], 0.4)), {"corpus": "x"}, interrupted=True)
    back = Table1Result.from_json(json.loads(json.dumps(r.to_json())))
    assert back.rows == r.rows and back.settings == r.settings and back.interrupted


# -- running and stopping ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    corpus = read_corpus_text(small_text(), min_count=2)
    questions = [AnalogySection("family", [("king", "queen", "man", "woman"), ("boy", "girl", "father", "mother")]),
                 AnalogySection("gram-x", [("paris", "france", "berlin", "germany")])]
    return corpus, questions


def test_stop_after_a_row_keeps_the_rows_done(tiny, tmp_path):
    corpus, questions = tiny
    stop = threading.Event()
    seen: list[Row] = []

    def on_row(row: Row) -> None:
        seen.append(row)
        if len(seen) == 2:
            stop.set()

    done, interrupted = run_rows(corpus, questions, TABLE1_PLAN, Settings(size=10, threads=1), keep_dir=tmp_path,
                                 on_row=on_row, stop=stop)
    assert interrupted and done == seen and [(r.method, r.sample) for r in done] == list(TABLE1_PLAN[:2])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NEG-15_t0.bin", "NEG-5_t0.bin"]


def test_stop_inside_a_row_drops_that_row(tiny, monkeypatch):
    from core.train.trainer import Trainer

    _, questions = tiny
    # subtle: a tick comes only while an epoch is still running after progress_interval (0.25 s by
    # default); on a quiet machine an epoch of these ~400k words at size 10 took less than that and
    # no tick came at all. Ticks every 5 ms make the first one arrive early in the first epoch.
    monkeypatch.setattr(Trainer.train, "__defaults__", ((), 0.005))
    corpus = read_corpus_text(small_text() * 20, min_count=2)
    stop = threading.Event()
    ticks = []

    def on_progress(i, p) -> None:
        ticks.append(i)
        if i == 0:
            stop.set()  # the first tick of the first row

    done, interrupted = run_rows(corpus, questions, TABLE1_PLAN, Settings(size=10, threads=1, epochs=5),
                                 on_progress=on_progress, stop=stop)
    assert interrupted and done == [] and ticks and ticks[0] == 0


def test_ctrl_c_sets_the_stop_flag_then_aborts():
    stop = threading.Event()
    with _Interrupt(stop) as guard:
        assert signal.getsignal(signal.SIGINT) == guard._handle
        guard._handle(signal.SIGINT, None)
        assert stop.is_set()
        with pytest.raises(KeyboardInterrupt):
            guard._handle(signal.SIGINT, None)
    assert signal.getsignal(signal.SIGINT) != guard._handle


# -- phrases ------------------------------------------------------------------------------------------------------
def test_phrase_coverage_counts_what_the_corpus_knows():
    sections = [AnalogySection("newspapers", [("new_york", "new_york_times", "Boston", "boston_globe"),
                                              ("a", "b", "c", "d")])]
    cov = phrase_coverage(["the", "new_york", "boston", "new_york_times", "boston_globe", "a"], sections,
                          restrict=4, evaluated=1)
    assert (cov.questions, cov.distinct, cov.in_vocabulary, cov.in_candidates, cov.answerable) == (2, 8, 5, 3, 1)
    assert "1 of 2 phrase questions" in cov.sentence()


def test_run_phrases_learns_phrase_tokens_and_scores_them(tmp_path):
    import random

    rng = random.Random(3)
    cities = [("new", "york", "times"), ("los", "angeles", "herald"), ("san", "diego", "post"),
              ("las", "vegas", "sun")]
    lines = []
    for _ in range(3000):
        a, b, paper_ = rng.choice(cities)
        lines.append(f"we read the {a} {b} {paper_} in {a} {b} every day " + " ".join(
            rng.choice(["and", "then", "a", "it", "was", "good", "late", "news"]) for _ in range(4)))
    src = tmp_path / "corpus.txt"
    src.write_text("\n".join(lines) + "\n")
    sections = [AnalogySection("newspapers", [("New_York", "Los_Angeles", "Las_Vegas", "San_Diego"),
                                              ("Albuquerque", "Albuquerque_Journal", "San_Diego", "San_Diego_Post")])]
    result = run_phrases(src, tmp_path / "phrased.txt", sections, [("NEG-5", 0.0)], Settings(size=10, threads=1),
                         thresholds=(50.0, 25.0))
    assert result.phrase_types >= 4 and "new_york" in (tmp_path / "phrased.txt").read_text()
    assert len(result.rows) == 1 and result.rows[0].questions == 2
    assert result.coverage.evaluated == result.rows[0].evaluated == 1  # Albuquerque is absent
    assert result.to_json()["paper"][2]["subsampling"] == 0.47
