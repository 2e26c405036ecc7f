"""Hosted mode (ui/hosted.py and where it is enforced) and the training queue (ui/runs.py).

In hosted mode a path typed by a user is refused (no path input on Home or Vectors, and the
loaders refuse a path when called directly); an over-size upload is rejected with a message
(through AppTest's file_uploader, and on an UploadedFile-like object whose bytes are never read);
names in the operator's vectors folder cannot escape it; the training caps hold server-side;
settings that cannot be parsed fall back to the defaults with one message. The queue tests drive
ui/runs.py without Streamlit.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ConfigError, TrainConfig
from core.vectors import vector_io
from core.vectors.keyed import Vectors
from tests.app_fixtures import small_corpus, small_run
from ui import corpora, hosted, presets, runs, vector_sets, widgets
from ui import session as ui_session
from ui.params import DEFAULT_PARAMS

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
ENV = ["W2V_HOSTED", *hosted.ENV_NAMES.values()]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """Every test starts from an environment without W2V_* settings and leaves the queue unlimited."""
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    yield
    runs.QUEUE.set_limit(None)


@pytest.fixture
def hosted_env(monkeypatch):
    monkeypatch.setenv("W2V_HOSTED", "1")
    return monkeypatch


def app(state: dict | None = None, page: str | None = None, query: dict | None = None,
        secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in (secrets or {}).items():
        at.secrets[k] = v
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def vector_file(path: Path, n: int = 40, dim: int = 8) -> Path:
    rng = np.random.default_rng(0)
    words = ["king", "queen", "man", "woman"] + [f"w{i}" for i in range(n - 4)]
    path.write_bytes(vector_io.to_word2vec_bytes(Vectors(words, rng.normal(size=(n, dim))), True))
    return path


class FakeUpload:
    """What the loaders need of a Streamlit UploadedFile; getvalue() counts its calls."""

    def __init__(self, name: str, size: int, data: bytes = b""):
        self.name, self.size, self._data, self.reads = name, size, data, 0

    def getvalue(self) -> bytes:
        self.reads += 1
        return self._data


# -- settings --------------------------------------------------------------------------------------
def test_local_defaults_are_generous_and_hosted_defaults_are_tight(monkeypatch):
    local = hosted.settings()
    assert not local.hosted and local.max_upload_mb == 200 and local.problems == ()
    assert local.max_tokens is local.max_epochs is local.max_vocab is local.max_trainings is None
    monkeypatch.setenv("W2V_HOSTED", "1")
    h = hosted.settings()
    assert h.hosted and corpora.hosted()
    assert (h.max_upload_mb, h.max_tokens, h.max_epochs, h.max_vocab, h.max_trainings) == (20, 5_000_000, 10,
                                                                                          50_000, 2)
    assert h.max_threads == max(1, hosted.cores() // 2)
    monkeypatch.setenv("W2V_MAX_EPOCHS", "0")  # 0: no cap
    monkeypatch.setenv("W2V_MAX_TOKENS", "1_000_000")
    assert hosted.settings().max_epochs is None and hosted.settings().max_tokens == 1_000_000


def test_bad_settings_fall_back_to_defaults_with_one_message_each(monkeypatch, tmp_path):
    monkeypatch.setenv("W2V_HOSTED", "ture")  # a typo keeps hosted mode on (fail closed)
    monkeypatch.setenv("W2V_MAX_EPOCHS", "lots")
    monkeypatch.setenv("W2V_MAX_UPLOAD_MB", "0")
    monkeypatch.setenv("W2V_MAX_TRAININGS", "-1")
    monkeypatch.setenv("W2V_VECTORS_DIR", str(tmp_path / "missing"))
    s = hosted.settings()
    assert s.hosted and s.max_epochs == 10 and s.max_upload_mb == 20 and s.max_trainings == 2
    assert s.vectors_dir is None
    assert len(s.problems) == 5, s.problems
    assert any("W2V_MAX_EPOCHS='lots'" in p and "using 10" in p for p in s.problems)
    assert any("hosted mode is ON" in p for p in s.problems)
    at = app()
    no_exception(at)
    shown = [e for e in errors(at) if e.startswith("Server setting ignored")]
    assert len(shown) == 5 and all("\n" not in e for e in shown)
    at.run()
    assert not [e for e in errors(at) if e.startswith("Server setting ignored")], "shown once per session"


def test_secrets_table_is_read_and_the_environment_wins(monkeypatch):
    secrets = {"hosted": {"enabled": True, "max_epochs": 3, "max_upload_mb": 7}}
    monkeypatch.setattr(hosted, "_secrets", lambda: secrets["hosted"])
    s = hosted.settings()
    assert s.hosted and s.max_epochs == 3 and s.max_upload_mb == 7
    monkeypatch.setenv("W2V_MAX_EPOCHS", "4")
    assert hosted.settings().max_epochs == 4
    monkeypatch.undo()
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    # through Streamlit's own st.secrets (AppTest installs them for the script run)
    at = app(None, "pages/train.py", secrets=secrets)
    no_exception(at)
    assert at.number_input(key="train_epochs").max == 3


# -- paths typed by a user are refused -----------------------------------------------------------
def test_hosted_refuses_a_path_typed_by_a_user(hosted_env, tmp_path):
    corpus_file = tmp_path / "c.txt"
    corpus_file.write_text("one two three\n" * 20, encoding="utf-8")
    vec_file = vector_file(tmp_path / "v.bin")
    # a session whose kept widgets chose a local file before the server was hosted
    home = app({"home_source": "File on this computer", "home_path": str(corpus_file), "home_min_count": 1})
    no_exception(home)
    assert "File on this computer" not in home.segmented_control(key="home_source").options
    assert not [t for t in home.text_input if t.key == "home_path"]
    with pytest.raises(corpora.CorpusError, match="disabled"):
        corpora.load_path(str(corpus_file))

    at = app({"vectors_load_from": "path", "vectors_path": str(vec_file)}, "pages/vectors.py")
    no_exception(at)
    assert not [t for t in at.text_input if t.key == "vectors_path"], "no path input when hosted"
    at.button(key="vectors_load").click().run()
    no_exception(at)
    assert any("choose a file to upload" in e for e in errors(at)), errors(at)
    assert not at.session_state["loaded_vectors"]
    with pytest.raises(vector_sets.VectorSetError, match="disabled here; upload the file"):
        vector_sets.load_path(str(vec_file))
    hosted_env.delenv("W2V_HOSTED")
    assert len(vector_sets.load_path(str(vec_file)).vectors) == 40  # allowed on a local machine


# -- over-size uploads ------------------------------------------------------------------------------------
def test_hosted_over_size_uploads_are_rejected_with_a_message(hosted_env, tmp_path):
    hosted_env.setenv("W2V_MAX_UPLOAD_MB", "1")
    big = b"word " * 300_000  # 1.4 MB
    at = app()
    at.segmented_control(key="home_source").set_value("Upload a file").run()
    at.file_uploader(key="home_upload").set_value(("big.txt", big, "text/plain")).run()
    at.button(key="home_load_upload").click().run()
    no_exception(at)
    assert "big.txt is 1.4 MB; the limit is 1 MB" in errors(at), errors(at)
    assert "corpus" not in at.session_state

    vec = vector_file(tmp_path / "v.bin", n=4000, dim=100).read_bytes()
    mb = f"{len(vec) / 2**20:.1f}"  # 1.6
    at = app({}, "pages/vectors.py")
    at.file_uploader(key="vectors_upload").set_value(("big.bin", vec, "application/octet-stream")).run()
    at.button(key="vectors_load").click().run()
    no_exception(at)
    assert f"Could not load the vectors: big.bin is {mb} MB; the limit is 1 MB" in errors(at), errors(at)
    assert not at.session_state["loaded_vectors"]

    # the size is checked from .size before the bytes are read (AppTest cannot show that part)
    for check in (vector_sets.load_upload, corpora.load_uploaded):
        up = FakeUpload("huge.bin", 50 * 2**20)
        with pytest.raises(ValueError, match="huge.bin is 50.0 MB; the limit is 1 MB"):
            check(up)
        assert up.reads == 0


# -- the operator's vectors folder ----------------------------------------------------------------------
@pytest.fixture
def vectors_dir(tmp_path):
    base = tmp_path / "vectors"
    base.mkdir()
    vector_file(base / "small.bin")
    (base / "notes.md").write_text("not vectors")
    (base / ".hidden.bin").write_bytes(b"")
    outside = vector_file(tmp_path / "secret.bin")
    (base / "escape.bin").symlink_to(outside)  # a symlink out of the folder
    (base / "alias.bin").symlink_to(base / "small.bin")  # a symlink that stays inside is fine
    (base / "sub").mkdir()
    return base


def test_folder_lists_names_only_and_refuses_every_escape(vectors_dir):
    assert vector_sets.folder_files(vectors_dir) == ["alias.bin", "small.bin"]
    outside = vectors_dir.parent / "secret.bin"
    for name in ("../secret.bin", str(outside), "escape.bin", "sub/../small.bin", "sub", "", ".", "..",
                 "missing.bin", "..\\secret.bin"):
        with pytest.raises(vector_sets.VectorSetError, match="not one of this server's vector files"):
            vector_sets.resolve_in_folder(name, vectors_dir)
    assert vector_sets.resolve_in_folder("small.bin", vectors_dir) == (vectors_dir / "small.bin").resolve()
    with pytest.raises(vector_sets.VectorSetError, match="offers no vector files"):
        vector_sets.resolve_in_folder("small.bin", None)


def test_shared_sets_are_one_read_only_copy(vectors_dir):
    a = vector_sets.load_from_folder("small.bin", base=vectors_dir)
    b = vector_sets.load_from_folder("alias.bin", base=vectors_dir)  # same bytes: same shared object
    assert a.vectors is b.vectors and a.digest == b.digest and len(a.digest) == 64
    for arr in (a.vectors.vectors, a.vectors.unit):
        assert not arr.flags.writeable
        with pytest.raises(ValueError, match="read-only"):
            arr[0, 0] = 1.0
    assert a.vectors.most_similar("king", topn=3)  # queries only read
    data = (vectors_dir / "small.bin").read_bytes()
    u1 = vector_sets.load_upload(FakeUpload("x.bin", len(data), data))
    u2 = vector_sets.load_upload(FakeUpload("y.bin", len(data), data))
    assert u1.vectors is u2.vectors and not u1.vectors.vectors.flags.writeable


def test_hosted_vectors_page_offers_the_folder_by_name_and_shares_it(hosted_env, vectors_dir):
    hosted_env.setenv("W2V_VECTORS_DIR", str(vectors_dir))
    a = app({}, "pages/vectors.py")
    no_exception(a)
    a.segmented_control(key="vectors_load_from").set_value("folder").run()
    assert a.selectbox(key="vectors_folder_file").options == ["alias.bin", "small.bin"]
    a.selectbox(key="vectors_folder_file").set_value("small.bin").run()
    a.button(key="vectors_load").click().run()
    no_exception(a)
    assert a.success and not errors(a), errors(a)
    assert a.query_params["set"] == "small.bin" and a.query_params["word"] == "king"
    # a second visitor opening the shared link gets the same set, the same object, and the query
    b = app({}, "pages/vectors.py", query={"set": "small.bin", "word": "queen", "topn": "3"})
    no_exception(b)
    shared = a.session_state["loaded_vectors"]["small.bin"].vectors
    assert b.session_state["loaded_vectors"]["small.bin"].vectors is shared
    assert b.text_input(key="vectors_word").value == "queen"
    assert len(b.dataframe[0].value) == 3
    # a link naming a file outside the folder loads nothing
    c = app({}, "pages/vectors.py", query={"set": "../secret.bin"})
    no_exception(c)
    assert not c.session_state["loaded_vectors"]


def test_vectors_page_reads_and_writes_its_query_in_the_url():
    run = small_run()
    at = app({"corpus": small_corpus(), "runs": [run]}, "pages/vectors.py", query={"word": "queen", "topn": "4"})
    no_exception(at)
    assert at.text_input(key="vectors_word").value == "queen"
    assert at.number_input(key="vectors_topn").value == 4
    assert len(at.dataframe[0].value) == 4
    at.text_input(key="vectors_word").set_value("paris").run()
    at.number_input(key="vectors_topn").set_value(6).run()
    no_exception(at)
    assert at.query_params["word"] == "paris" and at.query_params["topn"] == "6"
    assert at.text_input(key="vectors_word").value == "paris"  # the page's own URL write is not read back
    assert len(at.dataframe[0].value) == 6


# -- training caps, server-side ----------------------------------------------------------------------------
def test_training_caps_hold_whatever_the_widgets_allowed(hosted_env):
    params = {**DEFAULT_PARAMS, "min_count": 2, "epochs": 50}
    with pytest.raises(ConfigError, match="epochs 50 is above this server's limit of 10"):
        presets.to_config(params)
    with pytest.raises(ConfigError, match="vector size D 1,000"):
        presets.start(small_corpus(), {**params, "epochs": 2, "size": 1000})
    cfg = presets.to_config({**params, "epochs": 2, "threads": None})
    assert cfg.threads == hosted.settings().max_threads  # "all cores" means all the cores allowed
    hosted_env.setenv("W2V_MAX_VOCAB", "5")
    with pytest.raises(ConfigError, match="vocabulary has .* at most 5"):
        presets.start(small_corpus(), {**params, "epochs": 2})
    hosted_env.setenv("W2V_MAX_VOCAB", "0")
    hosted_env.setenv("W2V_MAX_TOKENS", "100")
    with pytest.raises(ConfigError, match="trains on at most 100"):
        presets.start(small_corpus(), {**params, "epochs": 2})


def test_train_page_clamps_its_widgets_and_says_so(hosted_env):
    at = app({"corpus": small_corpus(), "train_params": {**DEFAULT_PARAMS, "epochs": 50, "size": 500}},
             "pages/train.py")
    no_exception(at)
    assert at.number_input(key="train_epochs").max == 10 and at.number_input(key="train_size").max == 300
    warnings = [w.value for w in at.warning]
    assert "Epochs lowered from 50 to 10, this server's limit." in warnings, warnings
    assert at.session_state["train_params"]["epochs"] == 10 and at.session_state["train_params"]["size"] == 300
    assert not errors(at) and not at.button(key="train_start").disabled


def test_token_and_vocabulary_caps_when_reading_a_file(monkeypatch, tmp_path):
    lines = [" ".join(f"w{(i * 7 + j) % 50}" for j in range(10)) for i in range(500)]  # 5,000 words
    f = tmp_path / "c.txt"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("W2V_MAX_TOKENS", "1000")
    loaded = corpora.load_file(f, "c.txt (upload)", "upload:c.txt", min_count=1)
    assert loaded.corpus.stats.raw_tokens == 1000 and loaded.head_words == 1000
    assert loaded.name == "c.txt (upload), first 1,000 words (this server's limit)"
    again = corpora.reload(loaded, min_count=2)  # another min count (Train page): same cap, same name
    assert again.name == loaded.name and again.head_words == 1000
    # one long line is read in pieces cut between words
    monkeypatch.setattr(corpora, "HEAD_BLOCK_CHARS", 64)
    one = tmp_path / "one.txt"
    one.write_text(" ".join(lines), encoding="utf-8")
    cut = corpora.load_file(one, "one", "upload:one", min_count=1)
    assert 1000 <= cut.corpus.stats.raw_tokens < 1020 and set(cut.corpus.vocab.words) <= {f"w{i}" for i in range(50)}
    monkeypatch.setenv("W2V_MAX_VOCAB", "7")
    assert len(corpora.load_file(f, "c", "upload:c", min_count=1).corpus.vocab) == 7
    cut_gz = tmp_path / "cut.txt.gz"  # valid for its first bytes (what the upload check reads), then cut
    whole = gzip.compress(("\n".join(lines) * 20).encode())
    cut_gz.write_bytes(whole[: len(whole) // 2])
    monkeypatch.setenv("W2V_MAX_TOKENS", "10_000_000")  # a .gz is always read through the capped reader
    with pytest.raises(corpora.CorpusError, match="cannot read corpus"):
        corpora.load_file(cut_gz, "cut", "upload:cut", min_count=1)
    monkeypatch.setenv("W2V_MAX_TOKENS", "10000")  # a file below the cap is read whole, with no note
    whole = corpora.load_file(f, "c", "upload:c", min_count=1)
    assert whole.corpus.stats.raw_tokens == 5000 and whole.name == "c"


# -- the training queue (no Streamlit) -------------------------------------------------------------------
def _wait(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _cfg(epochs: int) -> TrainConfig:
    return TrainConfig(size=10, epochs=epochs, threads=1, min_count=2, snapshot_topn=0)


def test_queue_positions_stop_of_a_queued_run_and_everyone_finishes():
    corpus = small_corpus().corpus
    q = runs.TrainingQueue(1)
    first = runs.start_run(corpus, _cfg(100_000), "first", queue=q)
    _wait(lambda: first.status == "running")
    second = runs.start_run(corpus, _cfg(3), "second", queue=q)
    third = runs.start_run(corpus, _cfg(3), "third", queue=q)
    _wait(lambda: q.waiting == 2)
    assert (second.status, third.status) == ("queued", "queued")
    assert (first.queue_position, second.queue_position, third.queue_position) == (None, 1, 2)
    assert widgets.progress_text(third)[1].startswith("Queued: position 2 of 2")
    second.stop()  # leaves the line at once, without training
    second.join(5)
    assert second.status == "stopped" and second.begin is None and not second.thread.is_alive()
    assert third.queue_position == 1 and q.waiting == 1
    assert "left the queue" in widgets.progress_text(second)[1]
    first.stop()
    third.join(60)
    first.join(5)
    assert first.status == "stopped" and third.status == "done", third.error
    assert q.peak == 1 and q.active == 0 and q.waiting == 0


def test_queue_is_first_in_first_out_and_never_over_its_limit():
    corpus = small_corpus().corpus
    q = runs.TrainingQueue(1)
    started = [runs.start_run(corpus, _cfg(4), f"r{i}", queue=q) for i in range(4)]
    for r in started:
        r.join(60)
    assert [r.status for r in started] == ["done"] * 4, [r.error for r in started]
    begins = [r.started_at for r in started]
    assert begins == sorted(begins), "trained in arrival order"
    assert q.peak == 1


def test_closing_a_session_takes_its_queued_run_out_of_the_line():
    corpus = small_corpus().corpus
    q = runs.TrainingQueue(1)
    blocker = runs.start_run(corpus, _cfg(100_000), "other session", queue=q)
    _wait(lambda: blocker.status == "running")
    mine = runs.start_run(corpus, _cfg(3), "mine", queue=q)
    _wait(lambda: mine.queue_position == 1)
    jobs = ui_session.SessionJobs()
    jobs.add(mine)
    ui_session._release(jobs)  # what Streamlit calls when the tab closes
    mine.join(5)
    assert mine.status == "stopped" and q.waiting == 0 and blocker.status == "running"
    blocker.stop()
    blocker.join(5)


def test_train_page_shows_the_queue_position_while_it_waits(hosted_env):
    hosted_env.setenv("W2V_MAX_TRAININGS", "1")
    runs.QUEUE.set_limit(1)
    blocker = runs.start_run(small_corpus().corpus, _cfg(100_000), "another visitor")
    try:
        _wait(lambda: blocker.status == "running")
        at = app({"corpus": small_corpus(), "train_params": {**DEFAULT_PARAMS, "min_count": 2, "size": 10,
                                                             "epochs": 2, "threads": 1, "snapshot_topn": 0}},
                 "pages/train.py")
        at.button(key="train_start").click().run()
        no_exception(at)
        mine = at.session_state["runs"][0]
        _wait(lambda: mine.queue_position == 1)
        at.run()
        texts = [p.proto.text for p in at.get("progress")]
        assert any("Queued: position 1 of 1" in t for t in texts), texts
        assert any("at most 1 run(s) at once" in c.value for c in at.caption)
        blocker.stop()
        mine.join(60)
        at.run()
        assert mine.status == "done", mine.error
    finally:
        blocker.stop()
        blocker.join(5)


def test_run_ids_and_the_queue_survive_a_reimport_of_ui_runs():
    """Streamlit re-imports the app's modules when a source file changes; run ids must not
    restart at #1 and there must stay one training queue."""
    import importlib
    import sys

    import ui
    import ui.runs

    old = ui.runs
    first_queue, next_id = old.QUEUE, next(old._ids)
    del sys.modules["ui.runs"]
    try:
        fresh = importlib.import_module("ui.runs")
        assert fresh is not old
        assert fresh.QUEUE is first_queue
        assert next(fresh._ids) > next_id
    finally:  # the other tests keep using the module they imported
        sys.modules["ui.runs"] = old
        ui.runs = old
