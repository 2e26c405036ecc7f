"""Links that open right (ui/links.py), under AppTest: a page file that Streamlit runs without
app.py (the old-style multipage run of a fresh process, which AppTest reproduces for app.py on
every run) runs inside the frame instead, with its query and widget values; every exploration
page (Analogies, Embeddings, Vectors, Compare) shows its own URL with the query to copy, the link
holds the page's inputs, and opened in a fresh session it reproduces the same view (a link's
`set=NAME` is ui/focus.py's, tested with it). The real-browser version of a first visit is
tests/test_hosted_browser.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import plots
from core.vectors import vector_io
from core.vectors.keyed import Vectors
from tests.app_fixtures import small_run
from ui import analogy_sets, hosted

ROOT = Path(__file__).resolve().parents[1]
FRAME_TOGGLE = "Large text (projector)"  # a control only app.py's sidebar draws


def write_link_set(path: Path) -> None:
    """A small word2vec text file whose offsets are exact by construction: capital = country +
    CAPITAL, and king/queen/man/woman = royal or plain + male or female; 40 unrelated words. So
    rome - italy + france is paris, while the page's default question (king - man + woman) is
    queen: the answer shows whether the link's words were used."""
    rng = np.random.default_rng(14)
    dim = 16

    def unit() -> np.ndarray:
        v = rng.normal(size=dim)
        return v / np.linalg.norm(v)

    capital, royal, plain, male, female = (unit() for _ in range(5))
    rows = {}
    for country, city in (("france", "paris"), ("italy", "rome"), ("germany", "berlin"), ("spain", "madrid")):
        rows[country] = unit()
        rows[city] = rows[country] + capital
    rows.update(king=royal + male, queen=royal + female, man=plain + male, woman=plain + female)
    rows.update({f"other{i}": unit() for i in range(40)})
    with open(path, "w") as f:
        f.write(f"{len(rows)} {dim}\n")
        for word, v in rows.items():
            f.write(word + " " + " ".join(f"{x:.6f}" for x in v) + "\n")


@pytest.fixture(scope="module")
def run():
    return small_run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def framed(at: AppTest) -> bool:
    return FRAME_TOGGLE in [t.label for t in at.sidebar.toggle]


# -- the frame ----------------------------------------------------------------------------------------
PAGE_FILES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


@pytest.mark.slow  # ~15 s a page on the shared machine; analogies is also covered below, unmarked
@pytest.mark.parametrize("page", PAGE_FILES)
def test_every_page_started_without_app_py_runs_inside_the_frame(page, monkeypatch):
    """AppTest runs app.py the way a fresh server runs its first visitor's link: Streamlit's
    old-style multipage run picks pages/<page> by file name and runs it alone. Each page must
    call ensure_frame first, so it ends up inside app.py's frame (whose sidebar has the toggle)."""
    monkeypatch.delenv("W2V_HOSTED", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page(f"pages/{page}")
    at.run()
    ok(at)
    assert framed(at), f"pages/{page} ran without app.py's frame"


def test_the_link_query_is_used_inside_the_frame(run):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.session_state["runs"] = [run]
    for k, v in {"a": "paris", "b": "france", "c": "italy"}.items():
        at.query_params[k] = v
    at.switch_page("pages/analogies.py")
    at.run()
    ok(at)
    assert framed(at) and [t.value for t in at.title] == ["Analogies"]
    assert [at.text_input(key=k).value for k in ("ana_a", "ana_b", "ana_c")] == ["paris", "france", "italy"]
    answers = list(at.dataframe[0].value["answer"])
    assert len(answers) == 5 and not {"paris", "france", "italy"} & set(answers)
    at.text_input(key="ana_c").set_value("germany").run()  # AppTest starts every run the old way again
    ok(at)
    assert framed(at) and at.text_input(key="ana_c").value == "germany"  # the edit reached the framed page
    assert "c=germany" in at.code[0].value


# -- copy link ----------------------------------------------------------------------------------------
def test_analogies_shows_its_link_with_the_current_query(run):
    at = AppTest.from_file(str(ROOT / "pages" / "analogies.py"), default_timeout=90)
    at.session_state["runs"] = [run]
    at.query_params["a"] = "queen"
    at.run()
    ok(at)
    link = at.code[0].value
    assert link.startswith("?") and "a=queen" in link and "b=" in link and "u=" in link
    at.text_input(key="ana_c").set_value("boy").run()
    ok(at)
    assert "c=boy" in at.code[0].value  # the shown link follows the inputs


# -- every exploration page: the link holds the view, and a fresh session opening it shows the same ------
APP = str(ROOT / "app.py")


@pytest.fixture
def server_sets(tmp_path, monkeypatch) -> Path:
    """A hosted server's W2V_VECTORS_DIR with two small sets: link-set.txt (write_link_set) and
    noisy.txt (the same words, the vectors moved by noise), so Compare has something to compare."""
    for name in ["W2V_HOSTED", *hosted.ENV_NAMES.values()]:
        monkeypatch.delenv(name, raising=False)
    folder = tmp_path / "sets"
    folder.mkdir()
    write_link_set(folder / "link-set.txt")
    v = vector_io.load(folder / "link-set.txt")
    noise = np.random.default_rng(3).normal(0, 0.4, v.vectors.shape).astype(np.float32)
    vector_io.save(Vectors(v.words, v.vectors + noise), folder / "noisy.txt")
    monkeypatch.setenv("W2V_HOSTED", "1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(folder))
    return folder


def open_link(page: str, query: dict[str, str]) -> AppTest:
    """A fresh session whose first visit is `/page?query` (Streamlit's old-style first run, as on a
    freshly started server); the page must be inside the frame."""
    at = AppTest.from_file(APP, default_timeout=120)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(f"pages/{page}.py")
    at.run()
    ok(at)
    assert framed(at), f"{page} ran without the frame"
    return at


def shown_link(at: AppTest) -> dict[str, str]:
    """The query of the link the page shows to copy (one code box on the page)."""
    codes = [c.value for c in at.main.get("code")]
    assert len(codes) == 1, codes
    return dict(parse_qsl(urlsplit(codes[0]).query))


def plotly_array(value) -> np.ndarray:
    """A trace's x or y from the figure's JSON: a list, or plotly's typed array {dtype, bdata}."""
    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    return np.asarray(value, np.float64)


def map_words(at: AppTest) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return sorted(w for t in spec["data"] if t.get("meta") == plots.MAP_POINT_TRACE for w in t["text"])


def test_analogies_link_holds_every_input_with_short_names(server_sets):
    at = open_link("analogies", {"set": "link-set.txt", "a": "rome", "b": "italy", "c": "france",
                                 "method": "3CosMul", "questions": "sample", "eval": "3CosMul"})
    assert list(at.dataframe[0].value["answer"])[0] == "paris"
    assert at.radio(key="ana_source").value == analogy_sets.SAMPLE_LABEL
    assert at.radio(key="ana_method").value == "3CosMul" and at.radio(key="ana_eval_method").value == "3CosMul"
    link = shown_link(at)
    assert link["questions"] == "sample" and link["candidates"] == "30000" and link["method"] == "3CosMul"
    assert {k: link[k] for k in ("set", "a", "b", "c")} == {"set": "link-set.txt", "a": "rome", "b": "italy",
                                                          "c": "france"}
    assert shown_link(open_link("analogies", link)) == link


def test_embeddings_link_holds_the_map_view_with_its_box_and_reproduces_it(server_sets):
    at = open_link("embeddings", {"set": "link-set.txt"})
    assert shown_link(at)["set"] == "link-set.txt"
    everything = map_words(at)
    assert len(everything) == 52  # every word of the set
    at.radio(key="emb_colour").set_value("word list").run()
    at.text_input(key="emb_list").set_value("paris, rome").run()
    at.text_input(key="emb_word").set_value("france").run()
    ok(at)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    xy = np.vstack([np.column_stack([plotly_array(t["x"]), plotly_array(t["y"])]) for t in spec["data"]
                    if t.get("meta") == plots.MAP_POINT_TRACE])
    (x0, y0), (x1, y1) = np.percentile(xy, 20, axis=0), np.percentile(xy, 80, axis=0)
    at.session_state["emb_box"] = (float(x0), float(x1), float(y0), float(y1))  # what a box selection stores
    at.run()
    ok(at)
    inside = map_words(at)
    assert 0 < len(inside) < len(everything)
    link = shown_link(at)
    assert link["set"] == "link-set.txt" and link["view"] == "projection" and link["method"] == "PCA"
    assert link["dims"] == "2-D" and link["colour"] == "word list" and link["list"] == "paris, rome"
    assert link["word"] == "france" and link["box"].count(",") == 3

    again = open_link("embeddings", link)  # another browser, a fresh session
    assert again.radio(key="emb_colour").value == "word list"
    assert again.text_input(key="emb_list").value == "paris, rome"
    assert again.text_input(key="emb_word").value == "france"
    assert np.allclose(again.session_state["emb_box"], (x0, x1, y0, y1), rtol=1e-5, atol=1e-6)
    assert map_words(again) == inside, "the link shows other words than the view it was copied from"
    assert shown_link(again) == link


def test_embeddings_link_holds_the_semantic_axes(server_sets):
    at = open_link("embeddings", {"set": "link-set.txt", "view": "semantic axes", "x": "paris, rome",
                                  "y": "king, queen"})
    assert at.radio(key="emb_view").value == "semantic axes"
    assert [at.text_input(key=k).value for k in ("emb_x", "emb_y")] == ["paris, rome", "king, queen"]
    assert at.get("plotly_chart") and not at.warning
    at.text_input(key="emb_y").set_value("man, woman").run()
    link = shown_link(at)
    assert link["view"] == "semantic axes" and link["y"] == "man, woman" and "box" not in link
    assert open_link("embeddings", link).text_input(key="emb_y").value == "man, woman"


def test_vectors_link_holds_the_word_and_reproduces_the_neighbours(server_sets):
    at = open_link("vectors", {"set": "link-set.txt"})
    at.text_input(key="vectors_word").set_value("paris").run()
    at.number_input(key="vectors_topn").set_value(4).run()
    ok(at)
    link = shown_link(at)
    assert link == {"set": "link-set.txt", "word": "paris", "topn": "4"}
    again = open_link("vectors", link)
    assert list(again.dataframe[0].value["word"]) == list(at.dataframe[0].value["word"])
    assert len(again.dataframe[0].value) == 4


def test_compare_link_names_both_sets_and_a_fresh_session_loads_the_second(server_sets):
    at = open_link("compare", {"set": "link-set.txt", "with": "noisy.txt"})  # noisy.txt: loaded for the link
    assert not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key="cmp_with").value.startswith("set noisy.txt")
    at.number_input(key="cmp_k").set_value(5).run()
    at.text_input(key="cmp_word").set_value("rome").run()
    ok(at)
    link = shown_link(at)
    assert link["set"] == "link-set.txt" and link["with"] == "noisy.txt"
    assert link["k"] == "5" and link["word"] == "rome" and "words" in link
    again = open_link("compare", link)
    metrics = {m.label: m.value for m in at.get("metric")}
    assert {m.label: m.value for m in again.get("metric")} == metrics and "mean top-5 overlap" in metrics
    assert [list(d.value["word"]) for d in again.dataframe[1:]] == [list(d.value["word"]) for d in at.dataframe[1:]]
    assert shown_link(again) == link


def test_compare_link_naming_a_missing_second_set_is_one_line(server_sets):
    at = open_link("compare", {"set": "link-set.txt", "with": "../secret.bin"})
    assert [w.value for w in at.warning] == ["The vector set in this link is not here (not a run of this session "
                                             "nor one of this server's sets)."]
    assert str(server_sets) not in " ".join(w.value for w in at.warning)


# -- the app never looks at ../shared -------------------------------------------------------------------
def test_no_app_code_refers_to_the_shared_folder():
    app_files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
    patterns = ('/ "shared"', "/ 'shared'", "shared/eval", '"../shared', "'../shared")
    offenders = [p.name for p in app_files if any(s in p.read_text() for s in patterns)]
    assert offenders == [], f"app code that depends on ../shared: {offenders}"
