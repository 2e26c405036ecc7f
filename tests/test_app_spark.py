"""The Train page's engine selector (ui/spark_engine.py) without starting Spark: offered when
pyspark and Java are here, off with one line saying why when either is missing or the server is
hosted, and Start with the Spark engine refuses what it cannot train in one line. A real Spark
run through the app: tests/test_spark.py (it shares that module's JVM)."""

from __future__ import annotations

import sys

import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import small_corpus
from tests.test_app_train import APP, runs
from ui import spark_engine


def train_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["corpus"] = small_corpus()
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


def _remove(monkeypatch, missing: str) -> None:
    if missing == "java":
        monkeypatch.setattr("core.spark.session.java_executable", lambda: None)
    elif missing == "pyspark":
        monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    else:
        monkeypatch.setenv("W2V_HOSTED", "1")


@pytest.mark.parametrize("missing, says", [("java", "Java"), ("pyspark", "pip install pyspark"),
                                           ("hosted", "hosted")])
def test_why_spark_is_off_in_one_line(monkeypatch, missing, says):
    _remove(monkeypatch, missing)
    why = spark_engine.unavailable()
    assert why is not None and "\n" not in why and says in why


def test_without_java_the_engine_is_off_on_the_page_with_that_line(monkeypatch):
    _remove(monkeypatch, "java")
    at = train_page()
    engine = at.radio(key="train_engine")
    assert engine.disabled and engine.value == "local"
    assert spark_engine.unavailable() in captions(at)
    assert not at.error


def test_engine_is_offered_when_spark_can_run_and_refuses_the_race_in_one_line():
    if spark_engine.unavailable() is not None:
        pytest.skip(spark_engine.unavailable())
    at = train_page()
    engine = at.radio(key="train_engine")
    assert not engine.disabled and engine.options == list(spark_engine_labels())
    engine.set_value("spark").run()
    at.checkbox(key="train_race").check().run()
    at.button(key="train_start").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Not started: the objectives race trains in this process (Spark does "
                                           "not train the full softmax): choose the engine 'This process'"]
    assert runs(at) == []  # nothing started, no JVM either


def spark_engine_labels():
    from ui.params import ENGINES

    return ENGINES.values()
