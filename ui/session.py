"""Per-browser-session state: the chosen corpus, this session's runs, the selected run.

Does: typed accessors over `st.session_state` so pages never spell keys by hand. Tests inject
state by setting the same keys: `corpus` (LoadedCorpus), `runs` (list[Run]), `current_run_id`.
Does not: train (ui/runs.py) or load files (ui/corpora.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.corpus import Corpus

from .runs import Run

CORPUS_KEY = "corpus"
RUNS_KEY = "runs"
CURRENT_KEY = "current_run_id"


@dataclass
class LoadedCorpus:
    """A corpus the session is working with."""

    name: str  # shown in the sidebar, e.g. "small_world (sample)"
    corpus: Corpus
    source: str  # "sample:<file>", "upload:<name>" or "path:<path>"


def current_corpus() -> LoadedCorpus | None:
    return st.session_state.get(CORPUS_KEY)


def set_corpus(loaded: LoadedCorpus) -> None:
    st.session_state[CORPUS_KEY] = loaded


def runs() -> list[Run]:
    return st.session_state.setdefault(RUNS_KEY, [])


def add_run(run: Run) -> None:
    runs().append(run)
    st.session_state[CURRENT_KEY] = run.id


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
