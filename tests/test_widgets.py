"""The shared UI helpers of ui/widgets.py under AppTest (kept widgets and their URL keys, the
need-corpus/run/vectors guard), the Step-by-step page's bounded warm start (ui/step_model.py), and
the rule that no production module imports the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ConfigError, Loss, TrainConfig
from tests.app_fixtures import small_run
from ui import hosted, step_model

ROOT = Path(__file__).resolve().parents[1]


def kept_script() -> None:
    import streamlit as st

    from ui.widgets import kept

    if st.session_state.get("draw", True):  # False: the page is left (its widgets are not drawn)
        kept(st.text_input, "word", "t_word", "", url="word")
        kept(st.number_input, "how many", "t_n", 10, url="n", min_value=1, max_value=100)
        kept(st.radio, "method", "t_m", "add", url="m", options=["add", "mul"])
        kept(st.slider, "not in the URL", "t_k", 3, min_value=1, max_value=9)


def kept_app(**query: str) -> AppTest:
    at = AppTest.from_function(kept_script, default_timeout=30)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_kept_reads_the_url_on_first_render_and_ignores_values_it_cannot_show():
    at = kept_app(word="king", n="500", m="nosuchmethod")
    assert not at.exception
    assert at.text_input(key="t_word").value == "king"
    assert at.number_input(key="t_n").value == 100  # brought within max_value
    assert at.radio(key="t_m").value == "add"  # not an option: the default
    assert at.query_params["m"] == "add" and at.query_params["n"] == "100"


def test_kept_writes_its_url_key_and_only_keys_given_one():
    at = kept_app()
    at.text_input(key="t_word").set_value("queen").run()
    at.slider(key="t_k").set_value(7).run()
    assert at.query_params["word"] == "queen" and at.query_params["n"] == "10"
    assert "t_k" not in at.query_params and "k" not in at.query_params
    at.text_input(key="t_word").set_value("").run()
    assert "word" not in at.query_params  # an empty value leaves the URL


def test_kept_values_survive_leaving_the_page():
    at = kept_app()
    at.text_input(key="t_word").set_value("paris").run()
    at.slider(key="t_k").set_value(8).run()
    at.session_state["draw"] = False
    at.run()
    assert not at.text_input and not at.slider
    at.session_state["draw"] = True
    at.run()
    assert at.text_input(key="t_word").value == "paris" and at.slider(key="t_k").value == 8


def need_script() -> None:
    import streamlit as st

    from ui.widgets import need

    what = st.session_state.get("what", "run")
    found = need(what, "see this", stop=st.session_state.get("stop", True))
    st.write(f"after the guard: {type(found).__name__}")


@pytest.mark.parametrize("what, todo", [("corpus", "Home"), ("run", "Train"), ("vectors", "Train")])
def test_need_says_what_to_do_in_one_line_and_stops(what, todo):
    at = AppTest.from_function(need_script, default_timeout=30)
    at.session_state["what"] = what
    at.run()
    assert not at.exception
    assert len(at.info) == 1 and todo in at.info[0].value and at.info[0].value.endswith("to see this.")
    assert not at.markdown  # the page stopped
    at.session_state["stop"] = False
    at.run()
    assert len(at.info) == 1 and at.markdown[0].value == "after the guard: NoneType"


def test_need_vectors_returns_the_selected_runs_vectors():
    run = small_run(epochs=1)
    at = AppTest.from_function(need_script, default_timeout=60)
    at.session_state["what"] = "vectors"
    at.session_state["runs"] = [run]
    at.run()
    assert not at.exception and not at.info
    assert at.markdown[0].value == "after the guard: Vectors"


# -- the Step-by-step page's warm start -------------------------------------------------------------------
def test_warm_choices_follow_the_hosted_epoch_cap():
    assert step_model.warm_choices(hosted.HostedLimits()) == [0, 5, 50]
    assert step_model.warm_choices(hosted.HostedLimits(max_epochs=10)) == [0, 5]


def test_warm_start_is_bounded_by_the_server_and_the_word_cap():
    corpus = step_model.tiny_corpus()
    cfg = TrainConfig(size=4, loss=Loss.NS, window=2, sample=0.0, min_count=1, threads=1, seed=1,
                      compute_loss=False)
    with pytest.raises(ConfigError, match="limit of 10"):
        step_model.warm_trainer(corpus, cfg, 50, hosted.HostedLimits(max_epochs=10))
    too_many = step_model.WARM_WORD_CAP // len(corpus) + 1
    with pytest.raises(ConfigError, match="cap"):
        step_model.warm_trainer(corpus, cfg, too_many, hosted.HostedLimits())
    fresh = step_model.warm_trainer(corpus, cfg, 0, hosted.HostedLimits())
    assert not fresh.W_out.any()  # initial weights: nothing trained
    warmed = step_model.warm_trainer(corpus, cfg, 5, hosted.HostedLimits())
    assert warmed.W_out.any() and not np.array_equal(warmed.W_in, fresh.W_in)
    assert max(step_model.WARM_EPOCHS) * len(corpus) <= step_model.WARM_WORD_CAP  # every choice fits


# -- production code never imports the tests ------------------------------------------------------------
def test_no_production_module_imports_tests():
    files = [ROOT / "app.py"] + [p for d in ("core", "ui", "pages") for p in (ROOT / d).rglob("*.py")]
    offenders = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "tests"]
    assert len(files) > 20 and not offenders, offenders
