"""Links that open right (ui/links.py), under AppTest: a page file that Streamlit runs without
app.py (the old-style multipage run of a fresh process, which AppTest reproduces for app.py on
every run) runs inside the frame instead, with its query and widget values; the page shows its
own URL with the query to copy (a link's `set=NAME` is ui/focus.py's, tested with it). The
real-browser version of the first visit is
tests/test_load.py::test_a_shared_link_as_first_visit_of_a_fresh_server_gets_the_app_frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app_fixtures import small_run

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


# -- the app never looks at ../shared -------------------------------------------------------------------
def test_no_app_code_refers_to_the_shared_folder():
    app_files = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")]
    patterns = ('/ "shared"', "/ 'shared'", "shared/eval", '"../shared', "'../shared")
    offenders = [p.name for p in app_files if any(s in p.read_text() for s in patterns)]
    assert offenders == [], f"app code that depends on ../shared: {offenders}"
