"""The vectors in focus (ui/focus.py) under AppTest: every exploration page (Embeddings, Analogies,
Vectors, Compare) works on a run and on a loaded set; `?set=` names either; a link naming nothing
here, or a path, gives one line and reveals no server path; bad vector files give one line and the
rest keeps working; training-internals pages say in one line that they show the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.vectors import vector_io
from core.vectors.keyed import Vectors
from tests.app_fixtures import small_corpus, small_run
from ui import hosted, vector_sets

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
EXPLORATION = ["pages/embeddings.py", "pages/analogies.py", "pages/vectors.py", "pages/compare.py"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ["W2V_HOSTED", *hosted.ENV_NAMES.values()]:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def run():
    return small_run()


@pytest.fixture
def folder(tmp_path, run, monkeypatch) -> Path:
    """W2V_VECTORS_DIR holding `other.bin`: the run's vectors rotated (same neighbours, other axes),
    and a vector file outside the folder."""
    base = tmp_path / "vectors"
    base.mkdir()
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.standard_normal((run.vectors.dim, run.vectors.dim)))
    rotated = Vectors(run.vectors.words, run.vectors.vectors @ q.astype(np.float32), run.vectors.counts)
    vector_io.save(rotated, base / "other.bin")
    vector_io.save(rotated, tmp_path / "secret.bin")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(base))
    return base


def app(state: dict | None = None, page: str | None = None, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> list[str]:
    """Every line of text the page shows (messages, captions, Markdown, titles)."""
    out = []
    for kind in ("error", "warning", "info", "success", "caption", "markdown", "title", "subheader"):
        out += [str(e.value) for e in at.get(kind)]
    return out


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def both(run, folder) -> dict:
    """Session state with the run and the folder's set loaded (the set is the newer choice)."""
    return {"corpus": small_corpus(), "runs": [run],
            "loaded_vectors": {"other.bin": vector_sets.load_from_folder("other.bin", base=folder)}}


# -- every exploration page on a run and on a loaded set ---------------------------------------------------
@pytest.mark.parametrize("page", EXPLORATION)
@pytest.mark.parametrize("in_focus", ["run", "set"])
def test_exploration_page_works_on_what_is_in_focus(page, in_focus, run, folder):
    token = str(run.id) if in_focus == "run" else "other.bin"
    at = app(both(run, folder), page, {"set": token})
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["focus"] == token and at.query_params["set"] == token
    provenance = [t for t in texts(at) if t.endswith(f"loaded set other.bin · {len(run.vectors):,} words x "
                                                     f"{run.vectors.dim} dimensions · binary")]
    assert len(provenance) == (1 if in_focus == "set" else 0), texts(at)
    if page == "pages/embeddings.py":
        assert at.get("plotly_chart")
    elif page == "pages/analogies.py":
        assert at.get("plotly_chart") and at.dataframe
        assert any(t.startswith(f"Exact search, {len(run.vectors):,} words:") for t in texts(at))
        assert at.get("metric"), "the evaluation ran on the vectors in focus"
    elif page == "pages/vectors.py":
        assert len(at.dataframe[0].value) == 10
        assert not any(t.startswith("No vectors yet") for t in texts(at))
        # a word2vec file has no counts: no "vocab counts" button for the set
        assert len(at.get("download_button")) == (5 if in_focus == "run" else 4)
    else:  # compare: the other choice is the second set; a rotation changes no neighbourhood
        metrics = {m.label: m.value for m in at.get("metric")}
        assert metrics["mean top-10 overlap"] == "100.0%", metrics
        assert at.query_params["with"] == ("other.bin" if in_focus == "run" else str(run.id))
        assert len(at.dataframe) == 3, "most changed, then the two neighbour lists"


def test_compare_needs_a_second_set_and_a_known_word(run, folder):
    only = app({"corpus": small_corpus(), "runs": [run]}, "pages/compare.py")
    assert any("needs a second set" in i.value for i in only.info)
    at = app(both(run, folder), "pages/compare.py", {"word": "zebra", "words": "150"})
    assert not at.error
    assert warnings(at) == ["“zebra” is not in the vocabulary of the first set."]
    assert at.get("metric"), "the rest of the page still works"
    assert at.number_input(key="cmp_words").value == 150


def test_training_internals_pages_say_in_one_line_that_they_show_the_run(run, folder):
    at = app(both(run, folder), "pages/negative_sampling.py", {"set": "other.bin"})
    notes = [t for t in texts(at) if "The set in focus (other.bin)" in t]
    assert notes == [f":material/info: The set in focus (other.bin) is loaded vectors without observed negative "
                     f"draws: this page shows run #{run.id}."]
    assert at.get("plotly_chart")
    at = app(both(run, folder), "pages/negative_sampling.py", {"set": str(run.id)})
    assert not [t for t in texts(at) if "The set in focus" in t]


def test_choosing_in_the_sidebar_moves_the_focus_and_the_url(run, folder):
    at = app(both(run, folder), None, {"set": str(run.id)})
    box = at.sidebar.selectbox(key="_w_sidebar_focus")
    set_label = next(o for o in box.options if o.startswith("set other.bin"))
    box.set_value(set_label).run()
    assert not at.exception
    assert at.session_state["focus"] == "other.bin" and at.query_params["set"] == "other.bin"


# -- links ---------------------------------------------------------------------------------------------------
def test_a_first_visit_link_loads_the_folder_set_and_answers(folder, monkeypatch, run):
    monkeypatch.setenv("W2V_HOSTED", "1")
    at = app({}, "pages/analogies.py", {"set": "other.bin", "a": "king", "b": "man", "c": "woman",
                                         "method": "3CosMul"})
    assert not at.error
    assert list(at.session_state["loaded_vectors"]) == ["other.bin"]
    assert at.text_input(key="ana_a").value == "king" and at.radio(key="ana_method").value == "3CosMul"
    assert at.query_params["method"] == "3CosMul"
    assert len(at.dataframe[0].value) == 5


@pytest.mark.parametrize("hosted_mode", [True, False])
def test_a_link_naming_nothing_here_gives_one_line_and_no_path(hosted_mode, run, folder, tmp_path, monkeypatch):
    if hosted_mode:
        monkeypatch.setenv("W2V_HOSTED", "1")
    secret = str(tmp_path / "secret.bin")
    for wanted in ("nope.bin", "../secret.bin", secret, str(folder / "other.bin"), "/etc/passwd"):
        # the frame reads the link on the first run (AppTest keeps the frame's own elements on that page only)
        at = app({"corpus": small_corpus(), "runs": [run]}, None, {"set": wanted})
        assert len(warnings(at)) == 1 and "is not here" in warnings(at)[0], (wanted, warnings(at))
        assert not at.session_state["loaded_vectors"], "nothing was read"
        assert at.query_params["set"] == str(run.id), "the URL names what is in focus instead"
        shown = " ".join(texts(at))
        assert str(tmp_path) not in shown and "/etc" not in shown
        at.switch_page("pages/embeddings.py").run()
        assert not at.exception and at.get("plotly_chart"), "the page works on the run"


# -- bad vector files ---------------------------------------------------------------------------------------
BAD = {
    "dup.txt": (b"3 2\nking 1 0\nking 0 1\nqueen 1 1\n", "warning", "1 duplicate word(s) dropped"),
    "zero.txt": (b"4 2\nking 0 0\nqueen 1 0\nman 0 1\nwoman 1 1\n", "warning", "1 word(s) have an all-zero vector"),
    "nan.txt": (b"2 2\nking nan 0\nqueen 1 0\n", "error", "Could not load the vectors: line 2 ('king') has a NaN"),
    "big.txt": (b"1 2\n" + b"x" * (2**20 + 10), "error", "Could not load the vectors: big.txt is 1.0 MB; the limit"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_vector_file_gives_one_line_and_the_rest_keeps_working(name, run, monkeypatch):
    monkeypatch.setenv("W2V_MAX_UPLOAD_MB", "1")
    data, kind, message = BAD[name]
    at = app({"corpus": small_corpus(), "runs": [run]}, "pages/vectors.py")
    at.file_uploader(key="vectors_upload").set_value((name, data, "text/plain")).run()
    at.button(key="vectors_load").click().run()
    assert not at.exception
    lines = [e.value for e in at.get(kind)]
    assert len([x for x in lines if x.startswith(message)]) == 1, lines
    loaded = kind == "warning"
    assert at.query_params["set"] == (name if loaded else str(run.id))
    assert at.dataframe, "neighbours of whatever is in focus"
    at.switch_page("pages/analogies.py").run()  # and the other pages work on it
    assert not at.exception and not at.error, [e.value for e in at.error]


def test_an_unknown_word_gives_one_line_and_the_rest_of_the_page_works(run, folder):
    at = app(both(run, folder), "pages/analogies.py", {"set": "other.bin", "a": "zebra"})
    assert warnings(at) == ["'zebra' is not in the vocabulary."]
    assert at.get("metric") and at.dataframe, "compositionality and evaluation still shown"


def test_a_folder_file_that_fails_to_load_does_not_name_its_path(tmp_path):
    base = tmp_path / "vectors"
    base.mkdir()
    (base / "broken.bin").write_bytes(b"2 2\nking \x00\x00")
    with pytest.raises(vector_sets.VectorSetError) as caught:
        vector_sets.load_from_folder("broken.bin", base=base)
    assert str(tmp_path) not in str(caught.value)


def test_zero_rows_are_counted_for_read_sets_only():
    v = Vectors(["a", "b", "c"], np.array([[0, 0], [1, 0], [0, 0]], np.float32))
    assert vector_sets.zero_rows(v) == 2
    report = vector_io.LoadReport("text", 3, 3)
    assert any("2 word(s) have an all-zero vector" in n for n in vector_sets.VectorSet("s", v, report).notes())
    assert vector_sets.VectorSet("s", v, report, prepared=True).notes() == []


def test_a_run_started_later_keeps_the_focus_over_the_urls_old_set(run, folder):
    """Regression (bench/load_test.py: a second training in a session stayed off the Train page): the
    URL still says ?set=<first run> when a new run comes into focus; our own stale value must not
    take the focus back on the next rerun, nor later: a request the browser sent before it applied
    the newer set= (a fragment's timer) carries the old one, and that fragment's st.rerun() at the
    end of the run would put the first run back on the Train page (the likely cause of
    tests/test_load.py's failure in CI on 2026-12-05). A set= this session never wrote still applies."""
    second = small_run(name="second run")
    at = app({"corpus": small_corpus(), "runs": [run]}, None, {"set": str(run.id)})
    assert at.session_state["focus"] == str(run.id) and at.query_params["set"] == str(run.id)
    at.session_state["runs"] = [run, second]  # what Start training does (session.add_run)
    at.session_state["focus"] = str(second.id)
    at.session_state["current_run_id"] = second.id
    at.run()
    assert not at.exception
    assert at.session_state["focus"] == str(second.id) and at.query_params["set"] == str(second.id)
    at.query_params["set"] = str(run.id)  # a request carrying the URL as it was before our newer set=
    at.run()
    assert not at.exception
    assert at.session_state["focus"] == str(second.id) and at.query_params["set"] == str(second.id)
    at.query_params["set"] = "other.bin"  # a value this session never wrote: the visitor's own choice
    at.run()
    assert at.session_state["focus"] == "other.bin" and at.query_params["set"] == "other.bin"
