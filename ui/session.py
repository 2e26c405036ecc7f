"""Per-browser-session state: the chosen corpus, this session's runs, the selected run, the
Train page's parameters, display preferences, and the guard that stops training on disconnect.

Does: typed accessors over `st.session_state` so pages never spell keys by hand. Tests inject
state by setting the same keys: `corpus` (LoadedCorpus), `runs` (list[Run]), `current_run_id`,
`train_params` (dict of TrainConfig fields), `large_text` (bool).
Registers every run with a session-scoped resource (`st.cache_resource(scope="session")`) whose
`on_release` stops the session's running runs when the browser tab closes (Streamlit clears
session-scoped caches when the websocket disconnects).
Does not: train (ui/runs.py), load files (ui/corpora.py) or draw widgets (ui/widgets.py).
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st
from streamlit.logger import get_logger

from .corpora import LoadedCorpus
from .params import DEFAULT_PARAMS
from .runs import Run

CORPUS_KEY = "corpus"
RUNS_KEY = "runs"
CURRENT_KEY = "current_run_id"
PARAMS_KEY = "train_params"
LARGE_TEXT_KEY = "large_text"
PRESET_KEY = "train_preset"  # name of the preset that last filled the parameters
FOCUS_KEY = "focus"  # the vectors in focus (ui/focus.py): a run's id as digits, or a loaded set's name

_log = get_logger("w2v.session")


def current_corpus() -> LoadedCorpus | None:
    return st.session_state.get(CORPUS_KEY)


def set_corpus(loaded: LoadedCorpus) -> None:
    st.session_state[CORPUS_KEY] = loaded


def runs() -> list[Run]:
    return st.session_state.setdefault(RUNS_KEY, [])


def add_run(run: Run) -> None:
    runs().append(run)
    st.session_state[CURRENT_KEY] = run.id
    st.session_state[FOCUS_KEY] = str(run.id)  # a new run comes into focus
    _guard_register(run)


def current_run() -> Run | None:
    """The selected run (default: the newest), or None when the session has none."""
    all_runs = runs()
    if not all_runs:
        return None
    wanted = st.session_state.get(CURRENT_KEY)
    for r in all_runs:
        if r.id == wanted:
            return r
    return all_runs[-1]


def select_run(run_id: int) -> None:
    st.session_state[CURRENT_KEY] = run_id


def run_by_id(run_id: int) -> Run | None:
    for r in runs():
        if r.id == run_id:
            return r
    return None


def running_runs() -> list[Run]:
    """This session's runs that are queued or training."""
    return [r for r in runs() if r.running]


def stop_all() -> int:
    """Ask every running run of this session to stop; returns how many were running."""
    active = running_runs()
    for r in active:
        r.stop()
    return len(active)


# -- the Train page's parameters (kept here because widget values vanish when a page is left) ----
def train_params() -> dict[str, Any]:
    """The Train page's parameter values (TrainConfig field names; alpha/threads may be None)."""
    params = st.session_state.get(PARAMS_KEY)
    if params is None:
        params = dict(DEFAULT_PARAMS)
        st.session_state[PARAMS_KEY] = params
    return params


def set_train_params(values: dict[str, Any], preset: str | None = None) -> None:
    params = train_params()
    params.update(values)
    st.session_state[PRESET_KEY] = preset


def current_preset() -> str | None:
    return st.session_state.get(PRESET_KEY)


def large_text() -> bool:
    return bool(st.session_state.get(LARGE_TEXT_KEY, False))


def set_large_text(value: bool) -> None:
    st.session_state[LARGE_TEXT_KEY] = bool(value)


# -- stop this session's training when its browser tab goes away ------------------------------
class SessionJobs:
    """The runs one browser session started; `stop_all` is called when the session disconnects."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.runs: list[Run] = []

    def add(self, run: Run) -> None:
        with self._lock:
            self.runs = [r for r in self.runs if r.running] + [run]

    def stop_all(self) -> int:
        with self._lock:
            active = [r for r in self.runs if r.running]
        for r in active:
            r.stop()
        return len(active)


def _release(jobs: SessionJobs) -> None:
    n = jobs.stop_all()
    if n:
        _log.info("w2v-explorer: session closed, stopped %d running run(s)", n)


def _new_jobs() -> SessionJobs:
    return SessionJobs()


try:  # Streamlit with session-scoped resources (scope= and on_release= of st.cache_resource)
    session_jobs = st.cache_resource(scope="session", on_release=_release, show_spinner=False)(_new_jobs)
except TypeError:  # older Streamlit: keep the list in session state; closing the tab then does not stop runs
    _log.warning("this Streamlit has no session-scoped cache_resource: closing a tab will not stop its training")

    def session_jobs() -> SessionJobs:  # type: ignore[misc]
        return st.session_state.setdefault("_session_jobs", SessionJobs())
session_jobs.__doc__ = "This session's job list (a session-scoped resource, released when the tab disconnects)."


def _guard_register(run: Run) -> None:
    try:
        session_jobs().add(run)
    except Exception as e:  # noqa: BLE001 - outside a session (bare script) there is nothing to guard
        _log.debug("no session to guard run %s: %s", run.id, e)
