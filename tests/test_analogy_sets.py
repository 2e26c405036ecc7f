"""The Analogies page's evaluation sets (ui/analogy_sets.py) under AppTest, without network: the
sample is always offered; the Google sets of the word2vec release are offered once they are in
the cache (W2V_CACHE_DIR) and a download button stands for each one that is not; pressing it
downloads from a local HTTP server (the sets' real address is out of reach here) and the set
becomes a choice; offline is one error line.

The Google datasets are swapped for ones that describe the shipped sample file (same kind: a
plain, checked download), so no test needs ../shared.
"""

from __future__ import annotations

import hashlib
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core import download
from tests.app_fixtures import small_run
from tests.test_download import Handler, free_port
from ui import analogy_sets

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_corpora" / "small_world_analogies.txt"
WORDS_LABEL, PHRASES_LABEL = list(analogy_sets.GOOGLE)


def sample_dataset(name: str, url: str = "http://127.0.0.1:9/unused") -> download.Dataset:
    data = SAMPLE.read_bytes()
    return download.Dataset(name=name, url=url, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            file=f"{name}.txt", file_size=len(data), zipped=False)


@pytest.fixture(scope="module")
def run():
    return small_run()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("W2V_CACHE_DIR", str(tmp_path))
    return tmp_path


def page(run, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / "analogies.py"), default_timeout=90)
    at.session_state["runs"] = [run]
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def buttons(at: AppTest) -> list[str]:
    return [b.key for b in at.button if b.key and b.key.startswith("ana_download_")]


def test_an_empty_cache_offers_the_sample_and_a_download_button_per_set(cache, run):
    at = page(run)
    ok(at)
    assert at.radio(key="ana_source").options == [analogy_sets.SAMPLE_LABEL, "upload a file"]
    assert buttons(at) == ["ana_download_questions-words", "ana_download_questions-phrases"]
    labels = [b.label for b in at.button if b.key in buttons(at)]
    assert labels == ["Download questions-words.txt (604 kB)", "Download questions-phrases.txt (168 kB)"]


def test_a_set_in_the_cache_is_offered_and_evaluates(cache, run, monkeypatch):
    words = sample_dataset("questions-words")
    monkeypatch.setitem(analogy_sets.GOOGLE, WORDS_LABEL, words)
    (cache / words.file).write_bytes(SAMPLE.read_bytes())
    at = page(run)
    ok(at)
    assert at.radio(key="ana_source").options == [analogy_sets.SAMPLE_LABEL, WORDS_LABEL, "upload a file"]
    assert buttons(at) == ["ana_download_questions-phrases"]  # only the missing set keeps its button
    at.radio(key="ana_source").set_value(WORDS_LABEL).run()
    ok(at)
    assert any(m.label == "total accuracy" for m in at.metric)


def test_a_truncated_file_in_the_cache_is_not_offered(cache, run, monkeypatch):
    words = sample_dataset("questions-words")
    monkeypatch.setitem(analogy_sets.GOOGLE, WORDS_LABEL, words)
    (cache / words.file).write_bytes(SAMPLE.read_bytes()[:-10])
    at = page(run)
    ok(at)
    assert WORDS_LABEL not in at.radio(key="ana_source").options
    assert "ana_download_questions-words" in buttons(at)


def test_the_button_downloads_the_set_and_offers_it(cache, run, monkeypatch):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.payload, srv.ranges = SAMPLE.read_bytes(), []
    srv.honour_range, srv.send_length, srv.cut_after = True, True, None
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/questions-phrases.txt"
        phrases = sample_dataset("questions-phrases", url)
        monkeypatch.setitem(analogy_sets.GOOGLE, PHRASES_LABEL, phrases)
        at = page(run)
        at.button(key="ana_download_questions-phrases").click().run()
    finally:
        srv.shutdown()
        srv.server_close()
    ok(at)
    assert srv.ranges == [None]
    assert (cache / phrases.file).read_bytes() == SAMPLE.read_bytes()
    assert [s.value for s in at.success] == [f"{PHRASES_LABEL} is downloaded: choose it below."]
    assert PHRASES_LABEL in at.radio(key="ana_source").options
    assert "ana_download_questions-phrases" not in buttons(at)


def test_offline_the_button_shows_one_error_line(cache, run, monkeypatch):
    words = sample_dataset("questions-words", f"http://127.0.0.1:{free_port()}/questions-words.txt")
    monkeypatch.setitem(analogy_sets.GOOGLE, WORDS_LABEL, words)
    at = page(run)
    at.button(key="ana_download_questions-words").click().run()
    ok(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Could not download questions-words.txt: cannot reach 127.0.0.1")
    assert "offline" in errors[0] and "\n" not in errors[0]
    assert list(cache.iterdir()) == []
    assert "ana_download_questions-words" in buttons(at)  # still there to try again
