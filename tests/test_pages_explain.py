"""The explainer pages (items 3-9 of the app's page list) under streamlit.testing.v1.AppTest: each
renders its main figure or table with a small trained run injected, degrades to a one-line info
without one, never shows an exception, and the interactive paths (URL query words, unknown words,
Next example, phrase training hook) behave."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import Loss
from tests.app_fixtures import small_corpus, small_run

PAGES = Path(__file__).resolve().parents[1] / "pages"
ALL = ["negative_sampling", "subsampling", "huffman", "embeddings", "analogies", "phrases", "step_by_step"]
FROM_CORPUS = ["negative_sampling", "subsampling", "huffman", "phrases", "step_by_step"]  # no run needed
NEED_RUN = ["embeddings", "analogies"]


@pytest.fixture(scope="module")
def ns_run():
    return small_run()


@pytest.fixture(scope="module")
def hs_run():
    return small_run(Loss.HS)


def app(page: str, corpus: bool = True, runs=(), **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / f"{page}.py"), default_timeout=90)
    if corpus:
        at.session_state["corpus"] = small_corpus()
    at.session_state["runs"] = list(runs)
    at.session_state["ph_threshold"] = 10.0  # the test text's best phrase scores ~12
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", ALL)
def test_page_with_a_run(page, ns_run):
    at = app(page, runs=[ns_run])
    ok(at)
    assert charts(at) >= 1
    assert len(at.latex) >= 1  # every page shows the paper's formula
    assert any(e.label.startswith("What to notice") for e in at.expander)


@pytest.mark.parametrize("page", FROM_CORPUS)
def test_page_from_corpus_counts_alone(page):
    at = app(page)
    ok(at)
    assert charts(at) >= 1


@pytest.mark.parametrize("page", NEED_RUN)
def test_page_without_a_run_says_what_to_do(page):
    at = app(page)
    ok(at)
    assert charts(at) == 0 and len(at.info) == 1 and "Train" in at.info[0].value


@pytest.mark.parametrize("page", [p for p in ALL if p != "step_by_step"])
def test_page_without_corpus_or_run(page):
    at = app(page, corpus=False)
    ok(at)
    assert len(at.info) == 1


def test_negative_sampling_shows_observed_draws_and_an_example(ns_run):
    at = app("negative_sampling", runs=[ns_run])
    fig = at.get("plotly_chart")[0].proto.spec
    assert '"observed"' in fig
    example = at.dataframe[0].value
    assert example["role"].iloc[0].startswith("positive") and "sigma(+-z)" in example.columns
    at.button[0].click().run()  # draw another example
    ok(at)


def test_huffman_with_an_hs_run_sums_to_one(hs_run):
    at = app("huffman", runs=[hs_run], hs_word="queen", hs_input="king", hs_target="queen")
    ok(at)
    assert charts(at) == 3  # tree, code lengths, path product
    total = next(m for m in at.metric if m.label.startswith("sum over all"))
    assert float(total.value) == pytest.approx(1.0, abs=1e-5)
    at.text_input(key="hs_target").set_value("nosuchword").run()
    ok(at)
    assert "nosuchword" in at.warning[0].value


def test_embeddings_reads_and_writes_the_url(ns_run):
    at = AppTest.from_file(str(PAGES / "embeddings.py"), default_timeout=90)
    at.session_state["runs"] = [ns_run]
    at.query_params["word"] = "king"
    at.run()
    ok(at)
    assert at.text_input(key="emb_word").value == "king"
    spec = at.get("plotly_chart")[0].proto.spec
    assert '"query"' in spec and '"neighbours"' in spec
    at.toggle(key="emb_use_snaps").set_value(True).run()  # epoch slider over the snapshots
    ok(at)
    at.select_slider(key="emb_epoch").set_value("before training").run()
    ok(at)
    assert charts(at) == 1
    at.radio(key="emb_view").set_value("semantic axes").run()
    ok(at)
    assert at.query_params["x"] and charts(at) == 1
    at.text_input(key="emb_word").set_value("nosuchword").run()
    assert at.warning[0].value == "'nosuchword' is not in the vocabulary."
    assert at.query_params["word"] == "nosuchword"
    assert len(at.get("download_button")) == 1


def test_analogies_url_unknown_word_and_evaluation(ns_run):
    at = AppTest.from_file(str(PAGES / "analogies.py"), default_timeout=90)
    at.session_state["runs"] = [ns_run]
    for k, v in {"a": "queen", "b": "woman", "c": "man"}.items():
        at.query_params[k] = v
    at.run()
    ok(at)
    assert [at.text_input(key=k).value for k in ("ana_a", "ana_b", "ana_c")] == ["queen", "woman", "man"]
    answers = at.dataframe[0].value
    assert len(answers) == 5 and not {"queen", "woman", "man"} & set(answers["answer"])
    assert charts(at) == 2  # arrows + per-section accuracy
    assert any(m.label == "semantic" for m in at.metric)
    at.text_input(key="ana_b").set_value("nosuchword").run()
    ok(at)
    assert at.warning[0].value == "'nosuchword' is not in the vocabulary."
    assert at.query_params["b"] == "nosuchword"


def test_step_by_step_next_example_reports_the_changed_rows():
    at = app("step_by_step", corpus=False)
    ok(at)
    state = at.session_state["step_state"]
    W_in, W_out = state["W_in"].copy(), state["W_out"].copy()
    at.button[0].click().run()  # Next example
    ok(at)
    state = at.session_state["step_state"]
    rep = state["report"]
    assert state["cursor"] == 2
    np.testing.assert_array_equal(rep.changed_in, np.flatnonzero((state["W_in"] != W_in).any(axis=1)))
    np.testing.assert_array_equal(rep.changed_out, np.flatnonzero((state["W_out"] != W_out).any(axis=1)))
    assert set(rep.changed_out.tolist()) == set(rep.rows.tolist())
    assert rep.loss_after < rep.loss_before
    at.radio(key="step_loss").set_value("HS").run()
    ok(at)
    assert at.session_state["step_state"]["report"].loss == int(Loss.HS) and charts(at) == 1


def test_phrases_train_hook_replaces_the_corpus():
    at = app("phrases")
    ok(at)
    table = at.dataframe[0].value
    assert "went_to" in set(table["phrase"])
    at.button[0].click().run()  # use the phrased corpus
    ok(at)
    loaded = at.session_state["corpus"]
    assert loaded.name.endswith("+ phrases") and "went_to" in loaded.corpus.vocab
