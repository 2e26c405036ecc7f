"""Training through the UI with AppTest: parameters set by widgets, Start, polling until done,
Stop that ends the run within the click, training that goes on while the user changes pages,
two sessions training at once, and (slow) the Demo and Objectives-race presets end to end.

AppTest does not tick `st.fragment(run_every=...)` by itself, so the tests call `at.run()` in a
loop with short sleeps, as a browser's fragment timer would. No assertion reads the clock (the
deadlines only bound a hang); bench/bench_latency.py measures how long Stop takes.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.config import TrainConfig
from tests.app_fixtures import small_corpus
from ui import runs as ui_runs

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def train_page(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["corpus"] = small_corpus()
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    at.switch_page("pages/train.py").run()
    return at


def set_params(at: AppTest, **values) -> None:
    for field, value in values.items():
        at.number_input(key=f"train_{field}").set_value(value)
    at.run()


def runs(at: AppTest) -> list:
    return at.session_state["runs"] if "runs" in at.session_state else []


def poll_until_done(at: AppTest, timeout: float = 60.0) -> list[str]:
    """Re-run the page (as the fragment timer would) until no run is active; returns the progress texts seen."""
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        seen += [p.proto.text for p in at.get("progress")]
        if runs(at) and not any(r.running for r in runs(at)):
            at.run()
            return seen
        time.sleep(0.3)
    raise AssertionError("training did not finish in time")


def test_train_through_the_ui_end_to_end():
    at = train_page()
    set_params(at, size=20, epochs=60, threads=1, min_count=2, snapshot_topn=20)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(runs(at)) == 1
    seen = poll_until_done(at)
    run = runs(at)[0]
    assert run.status == "done", run.error
    assert run.config.size == 20 and run.config.epochs == 60 and len(run.epochs) == 60
    assert any("epoch" in t and "words/s" in t for t in seen), "live progress was shown while training"
    final = at.get("progress")[0].proto.text
    assert "done: 60 epoch(s)" in final
    assert len(at.get("plotly_chart")) >= 2, "loss curve and learning-rate schedule"
    assert run.epochs[-1].loss < run.epochs[0].loss
    assert len(run.snapshots) == 61


def test_stop_ends_the_run_within_the_click_and_a_stopped_run_stays_listed():
    at = train_page()
    set_params(at, size=100, epochs=1000, threads=1, min_count=2)
    at.button(key="train_start").click().run()
    run = runs(at)[0]
    deadline = time.monotonic() + 20
    while not run.epochs and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.running and run.epochs, "training had started"
    at.button(key="train_stop").click().run()
    # the click's own script run stopped and joined the thread: nothing is left to wait for
    assert run.status == "stopped", run.status
    assert not run.thread.is_alive() and len(run.epochs) < 1000
    assert runs(at) == [run] and not at.exception
    assert "stopped" in at.get("progress")[0].proto.text
    assert not at.button(key="train_start").disabled


def test_training_continues_while_the_user_changes_pages(monkeypatch):
    """The run trains in its own thread, not in the Train page's reruns: started from Train, it
    does all of its training while the user is on other pages and Train is never re-run, and
    Train shows the finished run on return. A held slot of the training queue (one training at
    a time, as a hosted server may allow) keeps the run waiting until the user has left."""
    monkeypatch.setenv("W2V_MAX_TRAININGS", "1")
    holder = ui_runs.Run("slot holder", "", TrainConfig())
    ui_runs.QUEUE.set_limit(1)
    assert ui_runs.QUEUE.acquire(holder)
    # a deadline, not a measurement: should Start ever train on the page's own thread, it would
    # wait for this slot forever; freeing it after 45 s turns that hang into a failed assertion
    unblock = threading.Timer(45, ui_runs.QUEUE.release, [holder])
    unblock.start()
    try:
        at = train_page()
        set_params(at, size=20, epochs=20, threads=1, min_count=2)
        at.button(key="train_start").click().run()
        run = runs(at)[0]
        assert run.status == "queued" and not run.epochs
        for page in ("pages/home.py", "pages/objectives.py", "pages/vectors.py"):
            at.switch_page(page).run()
            assert not at.exception, (page, [e.value for e in at.exception])
        ui_runs.QUEUE.release(holder)  # the user is on Vectors now
        run.join(120)  # nothing re-runs a page meanwhile
    finally:
        unblock.cancel()
        ui_runs.QUEUE.release(holder)
        ui_runs.QUEUE.set_limit(None)
    assert run.status == "done", (run.status, run.error)
    assert len(run.epochs) == 20, "every epoch was trained and recorded while the user was away"
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "done: 20 epoch(s)" in at.get("progress")[0].proto.text


def test_two_sessions_train_at_once_and_both_finish(monkeypatch):
    """Each run waits at the end of its first epoch until the other one gets there too: if the
    second could not train before the first ended (one training slot, a lock, training on the
    page's thread), the barrier breaks and both runs end in error."""
    both_training = threading.Barrier(2, timeout=30)
    record_epoch = ui_runs._Recorder.on_epoch_end

    def meet_after_first_epoch(recorder, event):
        if event.epoch == 0:
            both_training.wait()
        record_epoch(recorder, event)

    monkeypatch.setattr(ui_runs._Recorder, "on_epoch_end", meet_after_first_epoch)
    a, b = train_page(), train_page()
    for at in (a, b):
        set_params(at, size=20, epochs=120, threads=1, min_count=2)
    a.button(key="train_start").click().run()
    b.button(key="train_start").click().run()
    ra, rb = runs(a)[0], runs(b)[0]
    assert ra is not rb and runs(a) == [ra] and runs(b) == [rb], "each session sees only its own run"
    deadline = time.monotonic() + 90
    while (ra.running or rb.running) and time.monotonic() < deadline:
        a.run()
        b.run()
        time.sleep(0.3)
    assert ra.status == "done" and rb.status == "done", (ra.error, rb.error)
    assert len(ra.epochs) == len(rb.epochs) == 120 and not both_training.broken
    assert not a.exception and not b.exception


@pytest.mark.slow
def test_demo_preset_from_home_reaches_70_percent_analogies():
    from core.vectors.evaluate import evaluate_analogies

    at = AppTest.from_file(APP, default_timeout=60).run()
    t0 = time.monotonic()
    at.button(key="home_demo").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Train", "the demo switches to the Train page"
    poll_until_done(at, timeout=180)
    wall = time.monotonic() - t0
    run = runs(at)[0]
    assert run.status == "done", run.error
    assert at.session_state["train_preset"] == "demo"
    result = evaluate_analogies(run.vectors, ROOT / "sample_corpora" / "small_world_analogies.txt")
    print(f"demo preset: {wall:.1f} s wall ({run.result.seconds:.1f} s training), "
          f"analogy accuracy {100 * result.total:.1f}% (3CosAdd)")
    assert result.total >= 0.70


@pytest.mark.slow
def test_objectives_race_runs_four_objectives_one_after_another():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("pages/objectives.py").run()
    at.button(key="obj_race").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    race = runs(at)
    assert [r.config.loss.name for r in race] == ["NS", "HS", "SOFTMAX", "NCE"]
    assert sum(r.status == "running" for r in race) <= 1, "one at a time"
    poll_until_done(at, timeout=240)
    assert all(r.status == "done" for r in race), [r.error for r in race]
    per_epoch = {r.config.loss.name: min(e.seconds for e in r.epochs) for r in race}
    print("seconds per epoch:", {k: round(v, 3) for k, v in per_epoch.items()})
    assert per_epoch["SOFTMAX"] > 5 * per_epoch["NS"]
    assert at.dataframe and len(at.get("plotly_chart")) >= 3


def test_a_new_min_count_re_reads_the_vocabulary_before_training():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button(key="home_load_sample").click().run()  # small_world, min count 5
    v5 = len(at.session_state["corpus"].corpus.vocab)
    at.switch_page("pages/train.py").run()
    set_params(at, min_count=50, epochs=30, size=10)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    loaded = at.session_state["corpus"]
    assert loaded.min_count == 50 and len(loaded.corpus.vocab) < v5
    run = runs(at)[0]
    assert len(run.trainer.vocab) == len(loaded.corpus.vocab)
    at.button(key="train_stop").click().run()
    assert not run.running


def _path_of(block, key: str, path: tuple[int, ...] = ()) -> tuple[int, ...] | None:
    """The delta path (child indices from the page's main block) of the widget with `key`."""
    for i, child in getattr(block, "children", {}).items():
        if getattr(child, "key", None) == key:
            return (*path, i)
        found = _path_of(child, key, (*path, i))
        if found is not None:
            return found
    return None


def test_start_keeps_its_place_whatever_notes_show_above_it():
    """Regression (tests/test_load.py, a strict-mode failure: two "Start training" buttons, one
    enabled): the notes above Start (no corpus yet, lowered parameters, an error) came and went
    before its row, so Start moved to another delta path when a corpus was loaded, and Streamlit
    kept the old copy on screen until the re-run ended. Start must sit at one path either way."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/train.py").run()
    without = _path_of(at.main, "train_start")
    at = train_page()
    with_corpus = _path_of(at.main, "train_start")
    at.text_input(key="train_sample").set_value("often").run()  # not a number: the page says why it cannot train
    assert at.error, "the page says why it cannot train"
    with_error = _path_of(at.main, "train_start")
    assert without is not None and without == with_corpus == with_error, (without, with_corpus, with_error)
