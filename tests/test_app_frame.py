"""The app frame and the Home, Train, Objectives and Vectors pages under AppTest, plus the pure
pieces behind them (figures, rows touched / moved, presets, upload checks, the session guard).

Every page renders with and without a trained run injected into session state, shows its main
figure or table, and never an exception; bad input gives one clear st.error.
"""

from __future__ import annotations

import ast
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import ConfigError, Loss
from tests.app_fixtures import small_corpus, small_run
from ui import corpora, figures, objectives, presets
from ui import session as ui_session
from ui.params import DEFAULT_PARAMS
from ui.runs import start_run

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
MY_PAGES = ["pages/home.py", "pages/train.py", "pages/objectives.py", "pages/vectors.py"]


@pytest.fixture(scope="module")
def run():
    return small_run()


def app(state: dict | None = None, page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


# -- the frame ------------------------------------------------------------------------------------------
def _pages_table() -> list[tuple[str, str, str, str]]:
    tree = ast.parse(Path(APP).read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            return ast.literal_eval(node.value)
    raise AssertionError("PAGES table not found in app.py")


def test_frame_lists_every_page_in_order_with_its_url_path():
    expected = [("pages/home.py", ""), ("pages/train.py", "train"),
                ("pages/negative_sampling.py", "negative-sampling"), ("pages/subsampling.py", "subsampling"),
                ("pages/huffman.py", "huffman"), ("pages/embeddings.py", "embeddings"),
                ("pages/analogies.py", "analogies"), ("pages/phrases.py", "phrases"),
                ("pages/objectives.py", "objectives"), ("pages/paper.py", "paper"),
                ("pages/vectors.py", "vectors"), ("pages/compare.py", "compare"),
                ("pages/step_by_step.py", "step-by-step")]
    assert [(f, u) for f, _, u, _ in _pages_table()] == expected


def test_every_listed_page_exists_and_opens_in_the_frame():
    at = app()
    no_exception(at)
    for file, title, _, _ in _pages_table():
        assert (ROOT / file).is_file(), file
        at.switch_page(file).run()
        no_exception(at)
        assert at.title, f"{file} ({title}) drew no title"


def test_a_missing_page_file_is_an_error(tmp_path):
    # the frame alone, without its pages/ folder: the navigation must refuse, not drop the pages
    (tmp_path / "app.py").write_text(Path(APP).read_text(encoding="utf-8"), encoding="utf-8")
    at = AppTest.from_file(str(tmp_path / "app.py"), default_timeout=60).run()
    assert at.exception and "pages/home.py" in at.exception[0].value


def test_navigation_registers_every_page_with_its_url_path(monkeypatch):
    """What app.py hands to st.navigation, seen through public API only: st.Page and
    st.navigation are wrapped to record each page's file, title and url_path."""
    import streamlit as st

    real_page, real_navigation = st.Page, st.navigation
    files: dict[int, str] = {}
    registered: list[tuple[str, str, str]] = []

    def page(file, *args, **kwargs):
        made = real_page(file, *args, **kwargs)
        files[id(made)] = str(file)
        return made

    def navigation(pages, *args, **kwargs):
        registered[:] = [(files[id(p)], p.title, p.url_path) for p in pages]
        return real_navigation(pages, *args, **kwargs)

    monkeypatch.setattr(st, "Page", page)
    monkeypatch.setattr(st, "navigation", navigation)
    at = app()
    no_exception(at)
    expected = [(file, title, url) for file, title, url, _ in _pages_table()]
    assert registered == expected


@pytest.mark.parametrize("page", MY_PAGES)
def test_page_renders_without_a_run(page):
    at = app(page=None if page == "pages/home.py" else page)
    no_exception(at)
    assert not errors(at)
    if page != "pages/home.py":
        assert at.info, "a page without a run says what to do"


@pytest.mark.parametrize("page", MY_PAGES)
def test_page_renders_with_a_run(page, run):
    at = app({"corpus": small_corpus(), "runs": [run]}, None if page == "pages/home.py" else page)
    no_exception(at)
    assert not errors(at), errors(at)
    assert charts(at), "the page's main figure is missing"


def _font_size(chart) -> int:
    return json.loads(chart.proto.spec)["layout"]["font"]["size"]


def test_sidebar_shows_run_and_large_text_changes_fonts(run):
    # AppTest keeps the frame's sidebar only on the first page it renders (after switch_page the
    # elements drawn before navigation.run() are not in its tree), so the sidebar is checked on Home.
    at = app({"corpus": small_corpus(), "runs": [run]})
    assert any("done" in p.proto.text for p in at.sidebar.get("progress"))
    assert "tiny test text" in at.sidebar.caption[0].value
    normal = _font_size(charts(at)[0])
    at.sidebar.toggle[0].set_value(True).run()
    no_exception(at)
    assert at.session_state["large_text"] is True
    assert _font_size(charts(at)[0]) > normal
    at.switch_page("pages/train.py").run()  # the preference survives leaving the page
    assert at.session_state["large_text"] is True
    assert _font_size(charts(at)[0]) > normal


# -- Home ---------------------------------------------------------------------------------------------------
def test_home_loads_a_sample_corpus():
    at = app()
    at.selectbox(key="home_sample").set_value("tiny").run()
    at.button(key="home_load_sample").click().run()
    no_exception(at)
    loaded = at.session_state["corpus"]
    assert loaded.name.startswith("tiny") and len(loaded.corpus) > 0
    assert at.session_state["train_params"]["min_count"] == 1
    assert charts(at), "Zipf plot"
    assert any(m.label == "Vocabulary" for m in at.metric)


def _upload(at: AppTest, name: str, data: bytes, mime: str = "text/plain") -> AppTest:
    at.segmented_control(key="home_source").set_value("Upload a file").run()
    at.file_uploader(key="home_upload").set_value((name, data, mime)).run()
    at.button(key="home_load_upload").click().run()
    return at


@pytest.mark.parametrize("name,data,message", [
    ("empty.txt", b"", "is empty"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "binary"),
    ("latin1.txt", "caf\xe9 au lait ".encode("latin-1") * 50, "not UTF-8"),
    ("broken.gz", b"\x1f\x8b\x08\x00garbage", "gzip"),
    ("spaces.txt", b"   \n\n  ", "whitespace"),
])
def test_home_bad_uploads_give_one_error(name, data, message):
    at = _upload(app(), name, data)
    no_exception(at)
    assert any(message in e for e in errors(at)), errors(at)
    assert "corpus" not in at.session_state


def test_home_oversize_upload_is_refused(monkeypatch):
    monkeypatch.setattr(corpora, "MAX_UPLOAD_BYTES", 1000)
    at = _upload(app(), "big.txt", b"word " * 500)
    no_exception(at)
    assert any("limit" in e for e in errors(at)), errors(at)


def test_home_good_gz_upload_and_rare_words():
    text = ("the cat sat on the mat with the dog\n" * 50).encode()
    at = _upload(app(), "cats.txt.gz", gzip.compress(text), "application/gzip")
    no_exception(at)
    assert not errors(at)
    assert at.session_state["corpus"].name.startswith("cats.txt.gz")
    # a corpus whose words are all rarer than min count is a clear error, not an exception
    at = _upload(app(), "rare.txt", b"alpha beta gamma delta\n")
    assert any("min_count" in e for e in errors(at)), errors(at)


def test_home_path_is_hidden_when_hosted(monkeypatch, tmp_path):
    monkeypatch.setenv("W2V_HOSTED", "1")
    at = app()
    assert "File on this computer" not in at.segmented_control(key="home_source").options
    with pytest.raises(corpora.CorpusError, match="disabled"):
        corpora.load_path(str(tmp_path / "x.txt"))


def test_home_local_path(tmp_path):
    f = tmp_path / "c.txt"
    f.write_text("one two three two three three\n" * 10, encoding="utf-8")
    at = app()
    at.segmented_control(key="home_source").set_value("File on this computer").run()
    at.text_input(key="home_path").set_value(str(tmp_path / "missing.txt")).run()
    at.button(key="home_load_path").click().run()
    assert any("no such file" in e for e in errors(at))
    at.text_input(key="home_path").set_value(str(f)).run()
    at.number_input(key="home_min_count").set_value(1).run()
    at.button(key="home_load_path").click().run()
    no_exception(at)
    assert len(at.session_state["corpus"].corpus.vocab) == 3


# -- Train ----------------------------------------------------------------------------------------------------
def test_train_rejected_parameters_show_one_line_and_disable_start():
    at = app({"corpus": small_corpus()}, "pages/train.py")
    at.number_input(key="train_negative").set_value(0).run()
    no_exception(at)
    assert any("needs negative >= 1" in e for e in errors(at)), errors(at)
    assert at.button(key="train_start").disabled
    at.number_input(key="train_negative").set_value(5).run()
    at.text_input(key="train_alpha").set_value("fast").run()
    assert any("invalid parameter" in e for e in errors(at)), errors(at)
    at.text_input(key="train_alpha").set_value("").run()
    assert not errors(at) and not at.button(key="train_start").disabled


def test_train_params_survive_leaving_the_page():
    at = app({"corpus": small_corpus()}, "pages/train.py")
    at.number_input(key="train_size").set_value(42).run()
    at.switch_page("pages/home.py").run()
    at.switch_page("pages/train.py").run()
    assert at.number_input(key="train_size").value == 42
    assert at.session_state["train_params"]["size"] == 42


def test_train_preset_fills_parameters():
    at = app(None, "pages/train.py")
    at.selectbox(key="train_preset_pick").set_value("race").run()
    at.button(key="train_apply_preset").click().run()
    no_exception(at)
    p = at.session_state["train_params"]
    assert p["race"] is True and p["size"] == 50
    assert at.session_state["corpus"].name.startswith("small_world (first 40,000")
    assert at.checkbox(key="train_race").value is True
    at.number_input(key="train_epochs").set_value(1).run()  # the user may change a preset's values
    assert at.session_state["train_params"]["epochs"] == 1


# -- Vectors -------------------------------------------------------------------------------------------------
def test_vectors_neighbours_unknown_word_and_export(run):
    at = app({"corpus": small_corpus(), "runs": [run]}, "pages/vectors.py")
    assert at.dataframe, "neighbour table"
    at.text_input(key="vectors_word").set_value("zebra").run()
    no_exception(at)
    assert any("not in the vocabulary" in e for e in errors(at))
    at.text_input(key="vectors_word").set_value("King").run()  # case-insensitive fallback
    assert not errors(at)
    assert len(at.get("download_button")) == 5


def test_vectors_upload_good_and_malformed(run):
    from core.vectors import vector_io

    good = vector_io.to_word2vec_bytes(run.vectors, True)
    at = app({}, "pages/vectors.py")
    at.file_uploader(key="vectors_upload").set_value(("v.bin", good, "application/octet-stream")).run()
    at.button(key="vectors_load").click().run()
    no_exception(at)
    assert at.success and not errors(at)
    # the message is outside the load expander, which the rerun draws collapsed (a set is in focus now)
    assert not at.expander[0].proto.expanded and not at.expander[0].success
    assert at.success[0].value.startswith(f"Loaded {len(run.vectors):,} words")
    assert at.dataframe, "neighbours of the loaded file"
    for bad in (b"3 4\nking 0.1 0.2\n", good[: len(good) // 2], b"PK\x03\x04 not a zip", b""):
        at = app({}, "pages/vectors.py")
        at.file_uploader(key="vectors_upload").set_value(("bad.bin", bad, "application/octet-stream")).run()
        at.button(key="vectors_load").click().run()
        no_exception(at)
        assert any("Could not load" in e for e in errors(at)), (bad[:20], errors(at))


# -- Objectives ------------------------------------------------------------------------------------------------
def test_objectives_update_demo_for_every_loss(run):
    at = app({"corpus": small_corpus(), "runs": [run]}, "pages/objectives.py")
    for loss in ("ns", "hs", "softmax", "nce"):
        at.segmented_control(key="obj_loss").set_value(loss).run()
        no_exception(at)
        assert not errors(at)
        changed = next(m for m in at.metric if m.label == "W_in rows changed").value
        assert changed.startswith("1 of"), changed


# -- pure pieces -------------------------------------------------------------------------------------------------
def test_rows_touched_matches_the_tables():
    counts = np.array([50, 20, 10, 10, 5, 3, 1, 1], dtype=np.int64)
    rt = objectives.rows_touched(counts, negative=5)
    from core.huffman import build_huffman

    lengths = build_huffman(counts).lengths
    assert rt.softmax == 8 and rt.ns == rt.nce == 6
    assert rt.hs == pytest.approx((lengths * counts).sum() / counts.sum())
    assert rt.hs_min == lengths.min() and rt.hs < rt.log2_v + 1


@pytest.mark.parametrize("loss", list(Loss))
def test_rows_moved_reports_exactly_the_changed_rows(loss):
    corpus = small_corpus().corpus
    counts = corpus.vocab.counts
    w_in, w_out = objectives.demo_matrices(len(counts), 16, loss, seed=3)
    keep_in, keep_out = w_in.copy(), w_out.copy()
    m = objectives.rows_moved(counts, w_in, w_out, loss, centre=2, context=5, negative=4)
    assert np.array_equal(w_in, keep_in) and np.array_equal(w_out, keep_out), "originals untouched"
    assert m.changed_in.tolist() == [5]
    if loss == Loss.SOFTMAX:
        assert len(m.changed_out) == len(counts)
    elif loss == Loss.HS:
        assert set(m.changed_out.tolist()) == set(m.out_rows.tolist())
    else:
        assert 2 in m.changed_out and set(m.changed_out.tolist()) == set(m.out_rows.tolist())
        assert len(m.changed_out) <= 5
    assert m.loss_after < m.loss_before


def test_figures_are_pure_and_complete(run):
    s = figures.loss_series(run)
    assert s.epoch_x == [1.0, 2.0] and len(s.epoch_y) == 2
    fig = figures.loss_figure(s, [s])
    assert len(fig.data) == 3  # the other run (epoch means joined), the current ticks, its epoch means
    assert fig.data[-1].mode == "lines+markers" and list(fig.data[-1].y) == s.epoch_y  # no ticks: join epochs
    assert len(figures.loss_figure(None, []).layout.annotations) == 1
    lr = figures.lr_figure(0.025, 2.5e-6, 2, s)
    assert lr.data[0].y == (0.025, 2.5e-6)
    z = figures.zipf_figure(np.array([100, 50, 33, 25, 20]))
    assert z.layout.xaxis.type == "log" and list(z.data[0].x) == [1, 2, 3, 4, 5]
    rt = objectives.rows_touched(run.trainer.vocab.counts)
    assert list(figures.rows_touched_figure(rt).data[0].y) == [rt.softmax, rt.hs, rt.ns, rt.nce]
    assert figures.epoch_time_figure([("a", Loss.NS, 0.1), ("b", Loss.SOFTMAX, 3.0)]).layout.yaxis.type == "log"
    v = len(run.trainer.vocab)
    m = objectives.rows_moved(run.trainer.vocab.counts, run.trainer.W_in, run.trainer.W_out, Loss.NS, 1, 2)
    fig = figures.rows_moved_figure(m, run.trainer.vocab.words)
    lit = np.nansum(np.asarray(fig.data[0].z) > 0)
    assert lit == 1 and f"of {v:,} rows" in fig.layout.annotations[0].text


def test_presets_to_config_and_errors():
    p = presets.preset_params(presets.PRESETS["demo"])
    cfg = presets.to_config(p)
    assert cfg.size == 100 and cfg.loss == Loss.NS and cfg.alpha is None
    assert presets.params_from_config(cfg)["loss"] == "ns"
    with pytest.raises(ConfigError, match="window"):
        presets.to_config({**p, "window": 0})
    with pytest.raises(ConfigError, match="invalid parameter"):
        presets.to_config({**p, "sample": "lots"})
    race = presets.configs_for({**p, "race": True})
    assert [c.loss for c in race] == [Loss.NS, Loss.HS, Loss.SOFTMAX, Loss.NCE]
    assert "text8" not in [x.key for x in presets.available_presets()] or corpora.text8_path() is not None


def test_softmax_on_a_huge_vocabulary_is_rejected_before_starting(monkeypatch):
    import core.train.trainer

    monkeypatch.setattr(core.train.trainer, "SOFTMAX_MAX_VOCAB", 3)
    loaded = small_corpus()
    with pytest.raises(ConfigError, match="full softmax"):
        presets.start(loaded, {**DEFAULT_PARAMS, "loss": "softmax", "min_count": 2})


def test_check_upload_cases():
    corpora.check_upload("ok.txt", "héllo wörld\n".encode())
    corpora.check_upload("ok.gz", gzip.compress(b"hello world\n"))
    cut = "é".encode() * (1 << 19)  # a 2-byte character cut at the 1 MB boundary is fine
    corpora.check_upload("cut.txt", cut + b"x")
    for data in (b"", b"a\x00b", b"\xff\xfe\xfa bad", b"\x1f\x8bjunk"):
        with pytest.raises(corpora.UploadError):
            corpora.check_upload("x", data)


def test_session_guard_stops_running_runs_on_release():
    loaded = small_corpus()
    from core.config import TrainConfig

    r = start_run(loaded.corpus, TrainConfig(size=10, epochs=10_000, threads=1, min_count=2), "long")
    jobs = ui_session.SessionJobs()
    jobs.add(r)
    ui_session._release(jobs)  # what Streamlit calls when the session disconnects
    r.join(60)  # a bound on a hang, not a measurement (bench/bench_latency.py times it)
    assert r.stop_requested and r.status == "stopped" and not r.thread.is_alive()
    assert len(r.epochs) < 10_000


def test_upload_is_stored_by_content_hash():
    data = b"some words here\n"
    p1 = corpora.save_upload("a.txt", data)
    p2 = corpora.save_upload("b.txt", data)
    assert p1 == p2 and p1.read_bytes() == data


def test_rows_moved_figure_stays_light_for_a_big_vocabulary():
    v = 50_000
    delta_in = np.zeros(v)
    delta_in[[3, 40_000]] = [0.1, 0.2]
    delta_out = np.zeros(v - 1)
    delta_out[[v - 2, 100]] = 0.05
    m = objectives.RowsMoved(Loss.HS, 1, 3, delta_in, delta_out, np.array([v - 2, 100]), 1.0, 0.9)
    fig = figures.rows_moved_figure(m, [f"w{i}" for i in range(v)])
    for trace in fig.data:
        z = np.asarray(trace.z, dtype=float)
        assert np.isfinite(z).sum() <= figures.MAX_CELLS
        assert (z > 0).sum() == 2  # each changed row still lights its cell
    assert "2 of 50,000 rows" in fig.layout.annotations[0].text


def test_phrases_and_text8_presets(tmp_path, monkeypatch):
    loaded = presets.preset_corpus(presets.PRESETS["phrases"])
    assert "phrases" in loaded.name and "new_york" in loaded.corpus.vocab
    fake = tmp_path / "text8"
    fake.write_bytes(b"anarchism originated as a term of abuse " * 30_000)
    monkeypatch.setenv("W2V_TEXT8", str(fake))
    assert corpora.text8_path() == fake
    assert "text8" in [p.key for p in presets.available_presets()]
